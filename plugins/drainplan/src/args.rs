//! Command-line flags of `kubectl drainplan` (connection, output, --dry-run and --yes come
//! from common so every plugin spells them the same way).

use std::time::Duration;

use clap::{Parser, Subcommand};
use common::cli::ConnectionArgs;
use common::output::OutputArgs;
use common::prompt::ConfirmArgs;
use common::write::DryRunArgs;

/// Know before a maintenance drain what will move, what blocks, where it lands and in which
/// waves, then execute exactly that plan.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kubectl drainplan",
    bin_name = "kubectl drainplan",
    version = common::VERSION,
    after_help = "Examples:\n  kubectl drainplan node-1 node-2 --ignore-daemonsets\n  kubectl drainplan -l pool=old -o json > plan.json\n  kubectl drainplan --execute --plan plan.json --yes\n  kubectl drainplan uncordon node-1 node-2"
)]
pub struct Args {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Nodes to drain (or -l).
    #[arg(value_name = "NODE")]
    pub nodes: Vec<String>,
    /// Drain the nodes matching this label selector (e.g. pool=old).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// As kubectl drain --force: pods without a controller are deleted for good.
    #[arg(long)]
    pub force: bool,
    /// As kubectl drain --delete-emptydir-data: pods with emptyDir volumes go, their data is lost.
    #[arg(long)]
    pub delete_emptydir_data: bool,
    /// As kubectl drain --ignore-daemonsets: DaemonSet pods stay instead of blocking.
    #[arg(long)]
    pub ignore_daemonsets: bool,
    /// Drain: cordon and evict wave by wave (only a safe plan).
    #[arg(long)]
    pub execute: bool,
    /// With --execute: the plan file to execute (- for stdin); refused if the cluster changed.
    #[arg(long, value_name = "FILE", requires = "execute")]
    pub plan: Option<String>,
    /// With --execute: give up (stop evicting, report, exit 1) after this long in all.
    #[arg(long, default_value = "10m", value_parser = parse_positive, requires = "execute")]
    pub timeout: Duration,
    /// With --execute: give up when one pod is not evicted and replaced within this long.
    #[arg(long, default_value = "2m", value_parser = parse_positive, requires = "execute")]
    pub pod_timeout: Duration,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Undo the cordons drainplan made; nodes cordoned by anyone else stay cordoned.
    Uncordon(UncordonArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct UncordonArgs {
    /// Nodes to uncordon (or -l).
    #[arg(value_name = "NODE")]
    pub nodes: Vec<String>,
    /// Uncordon the nodes matching this label selector.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

fn parse_positive(s: &str) -> Result<Duration, String> {
    let d = common::duration::parse_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("must be greater than 0".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::write::DryRun;

    #[test]
    fn plan_and_execute_flags() {
        let a = Args::try_parse_from([
            "x",
            "n1",
            "n2",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "-o",
            "json",
        ])
        .expect("valid");
        assert_eq!(a.nodes, ["n1", "n2"]);
        assert!(a.ignore_daemonsets && a.delete_emptydir_data && !a.force && !a.execute);
        let a = Args::try_parse_from([
            "x",
            "--execute",
            "--plan",
            "-",
            "--timeout",
            "30s",
            "--dry-run=server",
            "--yes",
        ])
        .expect("valid");
        assert_eq!(a.plan.as_deref(), Some("-"));
        assert_eq!(a.timeout, Duration::from_secs(30));
        assert_eq!(a.pod_timeout, Duration::from_secs(120));
        assert_eq!(a.dry_run.dry_run, DryRun::Server);
        assert!(a.confirm.yes);
    }

    #[test]
    fn execute_only_flags_need_execute() {
        assert!(Args::try_parse_from(["x", "n1", "--plan", "p.json"]).is_err());
        assert!(Args::try_parse_from(["x", "n1", "--timeout", "5m"]).is_err());
        assert!(Args::try_parse_from(["x", "n1", "--execute", "--timeout", "0"]).is_err());
    }

    #[test]
    fn uncordon_subcommand() {
        let a = Args::try_parse_from(["x", "uncordon", "n1", "n2", "--dry-run", "-o", "json"])
            .expect("valid");
        match a.command {
            Some(Command::Uncordon(u)) => {
                assert_eq!(u.nodes, ["n1", "n2"]);
                assert_eq!(u.dry_run.dry_run, DryRun::Client);
            }
            None => panic!("uncordon expected"),
        }
        assert!(a.out.output.is_document());
        // Connection and output flags may come first (kubectl passes them through).
        let a = Args::try_parse_from(["x", "--kubeconfig", "k", "uncordon", "n1"]).expect("valid");
        assert!(a.command.is_some() && a.nodes.is_empty());
        assert!(Args::try_parse_from(["x", "uncordon", "n1", "--force"]).is_err());
    }
}
