//! Command-line flags of `kubectl backup` and its five commands; connection and output
//! flags come from common so every plugin spells them the same way.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use common::cli::ConnectionArgs;
use common::output::OutputArgs;
use common::prompt::ConfirmArgs;
use common::write::DryRunArgs;

/// Verifiable, restorable, encrypted backups of namespaces in one file.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kubectl backup",
    bin_name = "kubectl backup",
    version = common::VERSION,
    about = "Verifiable, restorable, encrypted backups of namespaces in one file",
    long_about = "Verifiable, restorable, encrypted backups of namespaces in one file: objects, \
secrets (age-encrypted), volume snapshots and database dumps, with offline verify, a diff \
against the live cluster and a dry-run restore. No in-cluster server."
)]
pub struct Args {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The five commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Back up namespaces (-n NS[,NS...] or -A) into one archive file.
    Create(CreateArgs),
    /// Show what an archive holds: counts, sizes, source, encryption, dumps, snapshots.
    Inspect(FileArg),
    /// Check an archive offline: every entry against its sha256, nothing missing or extra.
    Verify(FileArg),
    /// Compare an archive with the live cluster (exit 1 when they differ).
    Diff(DiffArgs),
    /// Restore objects (and with --dumps, database dumps) from an archive.
    Restore(RestoreArgs),
}

/// The archive argument of inspect and verify.
#[derive(Debug, Clone, clap::Args)]
pub struct FileArg {
    /// The archive (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: String,
}

/// How to open encrypted entries.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KeyArgs {
    /// An age identity file (AGE-SECRET-KEY-1... lines) matching a --recipient of the backup.
    #[arg(long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// Name of an environment variable holding the backup's passphrase.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

/// `kubectl backup create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// Back up every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only objects matching this label selector (e.g. app=api).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Only these resources (plural, plural.group or kind; `*` = all); naming a resource
    /// also lifts its default exclusions (e.g. events).
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE,...")]
    pub include_resources: Vec<String>,
    /// Leave these resources out (e.g. secrets).
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE,...")]
    pub exclude_resources: Vec<String>,
    /// Also back up the cluster objects the namespaces reference (StorageClasses,
    /// PriorityClasses, IngressClasses, RuntimeClasses, ClusterRoles and the
    /// ClusterRoleBindings of their service accounts).
    #[arg(long)]
    pub include_cluster_resources: bool,
    /// Encrypt Secrets (and with --encrypt-dumps, dumps) to this age X25519 public key
    /// (age1...); repeat for several.
    #[arg(long, value_name = "AGE_PUBKEY")]
    pub recipient: Vec<String>,
    /// Encrypt Secrets with the passphrase in this environment variable (age scrypt).
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// Store Secrets in plaintext (an explicit choice; the archive is mode 0600).
    #[arg(long, conflicts_with_all = ["recipient", "passphrase_env"])]
    pub plaintext_secrets: bool,
    /// Encrypt database dumps too (needs --recipient or --passphrase-env).
    #[arg(long)]
    pub encrypt_dumps: bool,
    /// Take a VolumeSnapshot of every PersistentVolumeClaim in scope.
    #[arg(long)]
    pub snapshot_volumes: bool,
    /// The VolumeSnapshotClass (default: the default class for each claim's CSI driver).
    #[arg(long, value_name = "CLASS", requires = "snapshot_volumes")]
    pub snapshot_class: Option<String>,
    /// How long to wait for each snapshot to become ready to use.
    #[arg(long, default_value = "10m", value_parser = common::duration::parse_duration, value_name = "DURATION")]
    pub snapshot_timeout: Duration,
    /// A database dump through exec: postgres:POD[/CONTAINER]:DB,
    /// sqlite:POD[/CONTAINER]:PATH or exec:NAME:POD[/CONTAINER]:CMD; repeatable.
    #[arg(long, value_name = "SPEC")]
    pub dump: Vec<String>,
    /// The archive to write (`-` for stdout) [default: CONTEXT-NAMESPACE-TIMESTAMP.tar.zst].
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: Option<String>,
}

/// `kubectl backup diff`.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// The archive (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Compare the archive's namespace OLD with the live namespace NEW; repeatable.
    #[arg(long, value_name = "OLD=NEW", value_parser = parse_mapping)]
    pub namespace_map: Vec<(String, String)>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// What restore does with an object that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Existing {
    /// Leave it as it is and list it as skipped (the default).
    #[default]
    Skip,
    /// Replace it with the archived object (asks for confirmation).
    Update,
    /// List it as a failure (exit 4); the rest is restored.
    Fail,
}

/// `kubectl backup restore`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// The archive (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Restore namespace OLD as NEW (rewriting namespaced references); repeatable.
    #[arg(long, value_name = "OLD=NEW", value_parser = parse_mapping)]
    pub namespace_map: Vec<(String, String)>,
    /// Only these resources (plural, plural.group or kind).
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE,...")]
    pub include_resources: Vec<String>,
    /// Leave these resources out.
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE,...")]
    pub exclude_resources: Vec<String>,
    /// What to do with objects that already exist.
    #[arg(long, value_enum, default_value_t = Existing::Skip)]
    pub existing: Existing,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Also feed each database dump back through exec once its pod is Ready.
    #[arg(long)]
    pub dumps: bool,
    /// The restore command for an exec: dump, NAME=CMD (run with sh -c); repeatable.
    #[arg(long, value_name = "NAME=CMD", value_parser = parse_mapping)]
    pub dump_command: Vec<(String, String)>,
    /// How long to wait for CRDs, snapshots and dump pods.
    #[arg(long, default_value = "5m", value_parser = common::duration::parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

fn parse_mapping(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
        _ => Err(format!("expected OLD=NEW, got {s:?}")),
    }
}

/// The namespaces named with `-n` (a comma-separated list), in order, without repeats.
pub fn namespace_list(flag: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in flag.unwrap_or("").split(',').map(str::trim) {
        if !n.is_empty() && !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        let mut v = vec!["kubectl-backup"];
        v.extend_from_slice(args);
        Args::try_parse_from(v)
    }

    #[test]
    fn create_flags() {
        let a = parse(&[
            "create",
            "-n",
            "a,b",
            "--recipient",
            "age1x",
            "--dump",
            "sqlite:web-0/app:/data/app.db",
            "--include-resources",
            "deployments,secrets",
            "-f",
            "-",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let Command::Create(c) = a.command else {
            panic!("create")
        };
        assert_eq!(namespace_list(a.conn.namespace.as_deref()), ["a", "b"]);
        assert_eq!(c.recipient, ["age1x"]);
        assert_eq!(c.include_resources, ["deployments", "secrets"]);
        assert_eq!(c.file.as_deref(), Some("-"));
        assert_eq!(c.snapshot_timeout, Duration::from_secs(600));
        assert!(parse(&["create", "--plaintext-secrets", "--recipient", "age1x"]).is_err());
        assert!(parse(&["create", "--snapshot-class", "x"]).is_err());
    }

    #[test]
    fn restore_flags() {
        let a = parse(&[
            "restore",
            "b.tar.zst",
            "--namespace-map",
            "hypersdk=hypersdk-restore",
            "--dry-run=server",
            "--existing",
            "update",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let Command::Restore(r) = a.command else {
            panic!("restore")
        };
        assert_eq!(
            r.namespace_map,
            [("hypersdk".to_string(), "hypersdk-restore".to_string())]
        );
        assert_eq!(r.dry_run.dry_run, common::write::DryRun::Server);
        assert_eq!(r.existing, Existing::Update);
        assert!(parse(&["restore", "x", "--namespace-map", "nope"]).is_err());
        assert!(parse(&["restore"]).is_err(), "the file is required");
    }

    #[test]
    fn namespace_lists() {
        assert_eq!(namespace_list(Some(" a, b,a,,c")), ["a", "b", "c"]);
        assert!(namespace_list(None).is_empty());
    }
}
