//! Command line of `kubectl rotate` and its five subcommands (connection and output flags
//! come from common, so every plugin spells them the same way).

use std::time::Duration;

use clap::{Args as ClapArgs, Parser, Subcommand};
use common::cli::ConnectionArgs;
use common::output::OutputArgs;
use common::prompt::ConfirmArgs;
use common::write::DryRunArgs;

use crate::data::DataFlags;

/// Rotate a credential with consumer discovery, validation, health-checked rollout and
/// automatic rollback; restart consumers; report certificate expiry.
#[derive(Debug, Clone, Parser)]
#[command(name = "kubectl rotate", bin_name = "kubectl rotate", version = common::VERSION)]
pub struct Args {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Create a new immutable version of a Secret, repoint every consumer, wait for health, roll back on failure.
    Secret(SecretArgs),
    /// Delete superseded versions of a Secret that nothing references any more.
    Cleanup(CleanupArgs),
    /// Show a Secret's versions, which consumers and running pods use which, and stale pods.
    Status(StatusArgs),
    /// Restart every consumer of a Secret or ConfigMap (kubectl rollout restart) and wait for health.
    Restart(RestartArgs),
    /// Report every PEM certificate in Secrets: expiry, SANs, key match, chain order, consumers.
    Certs(CertsArgs),
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = common::duration::parse_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("must be more than 0".to_string());
    }
    Ok(d)
}

fn parse_span(s: &str) -> Result<Duration, String> {
    common::duration::parse_duration(s).map_err(|e| e.to_string())
}

/// `kubectl rotate secret NAME ...`
#[derive(Debug, Clone, ClapArgs)]
pub struct SecretArgs {
    /// The Secret to rotate: its base name, or any of its versions.
    #[arg(value_name = "SECRET")]
    pub name: String,
    /// A key and literal value for the new version (KEY=VALUE); repeatable.
    #[arg(long = "from-literal", value_name = "KEY=VALUE")]
    pub from_literal: Vec<String>,
    /// A key from a file ([KEY=]PATH; the file name is the key when KEY is omitted; - reads stdin); repeatable.
    #[arg(long = "from-file", value_name = "[KEY=]PATH")]
    pub from_file: Vec<String>,
    /// Keys from a KEY=VALUE file (one per line, # comments); repeatable.
    #[arg(long = "from-env-file", value_name = "FILE")]
    pub from_env_file: Vec<String>,
    /// A key with a random alphanumeric value (default length 32); repeatable.
    #[arg(long, value_name = "KEY[:LENGTH]")]
    pub generate: Vec<String>,
    /// A key copied unchanged from the current version; repeatable.
    #[arg(long, value_name = "KEY")]
    pub keep: Vec<String>,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    /// How long each consumer may take to become healthy (and each rollback).
    #[arg(long, default_value = "5m", value_parser = parse_timeout, value_name = "DURATION")]
    pub timeout: Duration,
    /// On failure, leave the consumers on the new version instead of rolling back.
    #[arg(long)]
    pub no_rollback: bool,
}

impl SecretArgs {
    /// The data flags, as the `data` stage takes them.
    pub fn data(&self) -> DataFlags {
        DataFlags {
            literals: self.from_literal.clone(),
            files: self.from_file.clone(),
            env_files: self.from_env_file.clone(),
            generate: self.generate.clone(),
            keep: self.keep.clone(),
        }
    }
}

/// `kubectl rotate cleanup NAME ...`
#[derive(Debug, Clone, ClapArgs)]
pub struct CleanupArgs {
    /// The Secret whose superseded versions to delete (base name or any version).
    #[arg(value_name = "SECRET")]
    pub name: String,
    /// Only versions superseded at least this long ago (e.g. 24h, 7d) [default: any].
    #[arg(long, value_parser = parse_span, value_name = "DURATION")]
    pub older_than: Option<Duration>,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

/// `kubectl rotate status NAME`
#[derive(Debug, Clone, ClapArgs)]
pub struct StatusArgs {
    /// The Secret (base name or any version).
    #[arg(value_name = "SECRET")]
    pub name: String,
}

/// `kubectl rotate restart (--secret NAME | --configmap NAME)`
#[derive(Debug, Clone, ClapArgs)]
#[group(id = "target", required = true, multiple = false, args = ["secret", "configmap"])]
pub struct RestartArgs {
    /// Restart the consumers of this Secret.
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
    /// Restart the consumers of this ConfigMap.
    #[arg(long, value_name = "CONFIGMAP")]
    pub configmap: Option<String>,
    /// How long each consumer may take to become healthy.
    #[arg(long, default_value = "5m", value_parser = parse_timeout, value_name = "DURATION")]
    pub timeout: Duration,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

/// `kubectl rotate certs [-n NS | -A]`
#[derive(Debug, Clone, ClapArgs)]
pub struct CertsArgs {
    /// Look at Secrets in every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Certificates expiring within this are a warning.
    #[arg(long, default_value = "30d", value_parser = parse_span, value_name = "DURATION")]
    pub warn: Duration,
    /// Certificates expiring within this are critical (exit 1), like expired ones.
    #[arg(long, default_value = "7d", value_parser = parse_span, value_name = "DURATION")]
    pub critical: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("kubectl-rotate").chain(args.iter().copied()))
    }

    #[test]
    fn subcommands_and_flags() {
        let a = parse(&[
            "secret",
            "db",
            "-n",
            "shop",
            "--from-literal",
            "password=x",
            "--keep",
            "user",
            "--dry-run",
            "--timeout",
            "90s",
            "-o",
            "json",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.conn.namespace.as_deref(), Some("shop"));
        let Command::Secret(s) = a.command else {
            panic!("secret")
        };
        assert_eq!(s.dry_run.dry_run, common::write::DryRun::Client);
        assert_eq!(s.timeout, Duration::from_secs(90));
        assert_eq!(s.data().keep, ["user"]);
        assert!(
            parse(&["restart"]).is_err(),
            "restart needs --secret or --configmap"
        );
        assert!(parse(&["restart", "--secret", "a", "--configmap", "b"]).is_err());
        let c = parse(&["certs", "-A", "--critical", "14d"]).unwrap_or_else(|e| panic!("{e}"));
        let Command::Certs(c) = c.command else {
            panic!("certs")
        };
        assert!(c.all_namespaces);
        assert_eq!(c.critical, Duration::from_secs(14 * 86400));
        assert!(parse(&["secret", "db", "--timeout", "0"]).is_err());
        assert!(parse(&["cleanup", "db", "--older-than", "soon"]).is_err());
        assert!(parse(&[]).is_err());
    }
}
