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
    /// Triage every context of the kubeconfig, in parallel (see also --context a,b,c).
    #[arg(long)]
    pub all_contexts: bool,
}

impl Args {
    /// The contexts of a multi-context run (`--context a,b`, `--all-contexts`),
    /// or `None` for the usual single context.
    pub fn contexts(&self) -> common::Result<Option<Vec<String>>> {
        let flag = self.conn.context.as_deref();
        if self.all_contexts {
            if flag.is_some() {
                return Err(common::Error::usage(
                    "--all-contexts and --context cannot be used together",
                ));
            }
            let names: Vec<String> = kubeconfig(&self.conn)?
                .contexts
                .into_iter()
                .map(|c| c.name)
                .collect();
            if names.is_empty() {
                return Err(common::Error::usage("the kubeconfig has no contexts"));
            }
            return Ok(Some(names));
        }
        let Some(flag) = flag.filter(|f| f.contains(',')) else {
            return Ok(None);
        };
        // A context may itself be named "a,b": then it is one context.
        let config = kubeconfig(&self.conn)?;
        if config.contexts.iter().any(|c| c.name == flag) {
            return Ok(None);
        }
        let mut names: Vec<String> = Vec::new();
        for n in flag.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
        Ok(Some(names))
    }
}

/// The kubeconfig kubectl would read: `--kubeconfig`, else `KUBECONFIG` (merged),
/// else `~/.kube/config` (kube-rs reads it the same way).
fn kubeconfig(conn: &common::cli::ConnectionArgs) -> common::Result<kube::config::Kubeconfig> {
    let read = match &conn.kubeconfig {
        Some(path) => kube::config::Kubeconfig::read_from(path),
        None => kube::config::Kubeconfig::read(),
    };
    read.map_err(|e| {
        common::Error::usage(format!("cannot read kubeconfig: {e}"))
            .with_hint("pass --kubeconfig PATH or set KUBECONFIG")
    })
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
    fn several_contexts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kc = dir.path().join("config");
        std::fs::write(
            &kc,
            "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters: []\nusers: []\ncontexts:\n- {name: a, context: {cluster: c}}\n- {name: b, context: {cluster: c}}\n- {name: 'x,y', context: {cluster: c}}\n",
        )
        .expect("write");
        let kc = kc.to_string_lossy().to_string();
        let parse = |extra: &[&str]| {
            let mut v = vec!["t", "--kubeconfig", kc.as_str()];
            v.extend(extra);
            Args::try_parse_from(v)
                .expect("flags")
                .contexts()
                .expect("contexts")
        };
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&["--context", "a"]), None);
        assert_eq!(
            parse(&["--context", "b,a,b"]),
            Some(vec!["b".to_string(), "a".to_string()])
        );
        assert_eq!(parse(&["--context", "x,y"]), None);
        assert_eq!(
            parse(&["--all-contexts"]),
            Some(vec!["a".to_string(), "b".to_string(), "x,y".to_string()])
        );
        let both = Args::try_parse_from(["t", "--all-contexts", "--context", "a"])
            .expect("flags")
            .contexts();
        assert!(both.is_err());
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
