//! Command-line flags of `kubectl triage` (connection and output flags come
//! from common so every plugin spells them the same way).

use clap::{Parser, ValueEnum};
use common::cli::ConnectionArgs;
use common::output::OutputArgs;

use crate::report::{Reason, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    Warning,
    Info,
    Never,
}

impl FailOn {
    /// Whether a finding of this severity makes the run exit 1.
    pub fn trips(self, s: Severity) -> bool {
        match self {
            FailOn::Critical => s <= Severity::Critical,
            FailOn::Warning => s <= Severity::Warning,
            FailOn::Info => true,
            FailOn::Never => false,
        }
    }
}

/// What is broken in a namespace, why, the evidence, and the command that fixes it.
#[derive(Debug, Clone, Parser)]
#[command(name = "kubectl triage", bin_name = "kubectl triage", version = common::VERSION)]
pub struct Args {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Look at every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only pods and workloads matching this label selector (e.g. app=api).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Window for restarts, rollouts and events (e.g. 30m, 1h, 2d).
    #[arg(long, default_value = "1h", value_parser = parse_since)]
    pub since: jiff::SignedDuration,
    /// Exit 1 when a finding at or above this severity is found.
    #[arg(long, value_enum, default_value_t = FailOn::Critical)]
    pub fail_on: FailOn,
    /// Reasons to leave out, comma-separated (e.g. HighRestarts,WarningEvents).
    #[arg(long, value_delimiter = ',', value_parser = parse_reason, value_name = "REASON,...")]
    pub ignore: Vec<Reason>,
    /// Lines of the previous container log to show for crashing containers.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub logs: usize,
}

fn parse_since(s: &str) -> Result<jiff::SignedDuration, String> {
    let d = common::duration::parse_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("must be greater than 0".into());
    }
    jiff::SignedDuration::try_from(d).map_err(|e| e.to_string())
}

fn parse_reason(s: &str) -> Result<Reason, String> {
    Reason::parse(s).ok_or_else(|| {
        let all: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown reason {s:?}; known reasons: {}", all.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_flags() {
        let a = Args::try_parse_from([
            "kubectl-triage",
            "-n",
            "hypersdk",
            "--since",
            "30m",
            "--fail-on",
            "warning",
            "--ignore",
            "HighRestarts,WarningEvents",
            "-o",
            "json",
            "--logs",
            "5",
        ])
        .expect("valid flags");
        assert_eq!(a.conn.namespace.as_deref(), Some("hypersdk"));
        assert_eq!(a.since.as_secs(), 1800);
        assert_eq!(a.ignore, vec![Reason::HighRestarts, Reason::WarningEvents]);
        assert_eq!(a.logs, 5);
    }

    #[test]
    fn rejects_unknown_reason_and_bad_since() {
        assert!(Args::try_parse_from(["t", "--ignore", "NoSuchReason"]).is_err());
        assert!(Args::try_parse_from(["t", "--since", "banana"]).is_err());
    }

    #[test]
    fn fail_on_thresholds() {
        assert!(FailOn::Critical.trips(Severity::Critical));
        assert!(!FailOn::Critical.trips(Severity::Warning));
        assert!(FailOn::Warning.trips(Severity::Warning));
        assert!(!FailOn::Warning.trips(Severity::Info));
        assert!(FailOn::Info.trips(Severity::Info));
        assert!(!FailOn::Never.trips(Severity::Critical));
    }
}
