//! Shell completion the kubectl way: each plugin answers cobra's `__complete` protocol
//! (candidates one per line, then `:<directive>`), which kubectl calls through the
//! `kubectl_complete-<plugin>` shim, so `kubectl triage -n <TAB>` completes like kubectl;
//! plus `completion bash|zsh|fish|powershell` scripts (clap_complete) for direct use.
//!
//! What a value completes to is decided by the argument's `value_name`, one convention
//! for the suite: `NAMESPACE`, `NODE`, `SECRET`, `CONFIGMAP` come from the live cluster
//! (short timeout), `CONTEXT`, `CLUSTER`, `USER` from the kubeconfig, `FILE`, `PATH`,
//! `ARCHIVE`, `DIR` from the file system; enums complete to their values.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Arg, Command, CommandFactory};

/// cobra's `ShellCompDirectiveNoFileComp`: do not fall back to file names.
pub const NO_FILE_COMP: u32 = 4;
/// cobra's `ShellCompDirectiveDefault`: the shell may complete file names.
pub const DEFAULT: u32 = 0;

/// How long a completion may wait for the cluster before giving up quietly.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Handle `__complete`, `__completeNoDesc`, `completion SHELL` and the hidden
/// `__manpages DIR` before normal argument parsing; returns the exit code when it did. Call first thing in `main`:
///
/// ```no_run
/// # #[derive(clap::Parser)] struct Args {}
/// fn main() -> std::process::ExitCode {
///     if let Some(code) = common::complete::intercept::<Args>() {
///         return code;
///     }
///     // ... Args::parse(), run ...
/// #   std::process::ExitCode::SUCCESS
/// }
/// ```
pub fn intercept<A: CommandFactory>() -> Option<ExitCode> {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let first = args.first()?.as_str();
    match first {
        "__complete" | "__completeNoDesc" => {
            let with_descriptions = first == "__complete";
            let mut cmd = A::command();
            let out = complete_live(&mut cmd, &args[1..], with_descriptions);
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            Some(ExitCode::SUCCESS)
        }
        "__manpages" if args.len() == 2 => {
            let cmd = A::command();
            match crate::manpage::write_all(&cmd, std::path::Path::new(&args[1])) {
                Ok(files) => {
                    for f in files {
                        println!("{}", f.display());
                    }
                    Some(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: cannot write man pages to {}: {e}", args[1]);
                    Some(ExitCode::from(crate::Exit::NotFine.code()))
                }
            }
        }
        "completion" if args.len() == 2 => {
            let shell = args[1].parse::<clap_complete::Shell>().ok();
            let Some(shell) = shell else {
                eprintln!(
                    "error: unknown shell {:?}\nhint: one of bash, zsh, fish, powershell, elvish",
                    args[1]
                );
                return Some(ExitCode::from(crate::Exit::Usage.code()));
            };
            let mut cmd = A::command();
            let bin = binary_name(&cmd);
            clap_complete::generate(shell, &mut cmd, bin, &mut std::io::stdout());
            Some(ExitCode::SUCCESS)
        }
        _ => None,
    }
}

/// `kubectl-triage` for a command named `kubectl triage`.
pub fn binary_name(cmd: &Command) -> String {
    cmd.get_bin_name()
        .unwrap_or(cmd.get_name())
        .replace(' ', "-")
}

/// Where a value's candidates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Fixed values (enums), with descriptions.
    Values(Vec<(String, String)>),
    /// Object names of a kind from the live cluster (`namespaces`, `nodes`, `secrets`,
    /// `configmaps`).
    Cluster(&'static str),
    /// Names from the kubeconfig (`contexts`, `clusters`, `users`).
    Kubeconfig(&'static str),
    /// File names: left to the shell.
    Files,
    /// Free text (durations, selectors): nothing to offer.
    Nothing,
}

/// What to answer, before any cluster lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Candidates known without the cluster: `(value, description)`.
    pub candidates: Vec<(String, String)>,
    /// A lookup still to do, and the prefix its results get (`--namespace=`).
    pub lookup: Option<(Source, String)>,
    /// The cobra directive.
    pub directive: u32,
    /// The word being completed.
    pub current: String,
}

/// The value source of an argument, by the suite's `value_name` convention.
pub fn source_of(arg: &Arg) -> Source {
    let values: Vec<(String, String)> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| {
            (
                v.get_name().to_string(),
                v.get_help().map(|h| h.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    if !values.is_empty() {
        return Source::Values(values);
    }
    let name = arg
        .get_value_names()
        .and_then(|n| n.first())
        .map(|n| n.to_string())
        .unwrap_or_default();
    match name.as_str() {
        "NAMESPACE" => Source::Cluster("namespaces"),
        "NODE" => Source::Cluster("nodes"),
        "SECRET" => Source::Cluster("secrets"),
        "CONFIGMAP" => Source::Cluster("configmaps"),
        "CONTEXT" => Source::Kubeconfig("contexts"),
        "CLUSTER" => Source::Kubeconfig("clusters"),
        "USER" => Source::Kubeconfig("users"),
        "FILE" | "PATH" | "ARCHIVE" | "DIR" => Source::Files,
        _ => Source::Nothing,
    }
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values()) && !arg.is_positional()
}

fn find_long<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
    })
}

fn find_short(cmd: &Command, c: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| a.get_short() == Some(c))
}

/// Decide the completion of `words` (the arguments after the plugin name; the last one is
/// being completed) against `cmd`. Pure: no cluster access.
pub fn plan(cmd: &mut Command, words: &[String]) -> Plan {
    cmd.build();
    let (current, before) = match words.split_last() {
        Some((last, rest)) => (last.clone(), rest),
        None => (String::new(), &[][..]),
    };
    let mut node: &Command = cmd;
    let mut pending: Option<&Arg> = None;
    let mut positionals = 0usize;
    let mut only_positionals = false;
    for word in before {
        if pending.take().is_some() {
            continue; // `word` is that flag's value
        }
        if only_positionals {
            positionals += 1;
            continue;
        }
        if word == "--" {
            only_positionals = true;
        } else if let Some(long) = word.strip_prefix("--") {
            if let Some(arg) = find_long(node, long)
                && takes_value(arg)
                && !long.contains('=')
                && !arg.is_require_equals_set()
            {
                pending = Some(arg);
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-n`, `-n value`, `-nvalue`, `-vv`: a value-taking short ends the cluster.
            for (i, c) in shorts.char_indices() {
                if let Some(arg) = find_short(node, c)
                    && takes_value(arg)
                {
                    if i + c.len_utf8() == shorts.len() {
                        pending = Some(arg);
                    }
                    break;
                }
            }
        } else if positionals == 0
            && let Some(sub) = node
                .get_subcommands()
                .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
        {
            node = sub;
        } else {
            positionals += 1;
        }
    }
    let value_plan = |arg: &Arg, prefix: &str, current: &str| -> Plan {
        let source = source_of(arg);
        let directive = if source == Source::Files {
            DEFAULT
        } else {
            NO_FILE_COMP
        };
        let (candidates, lookup) = match source {
            Source::Values(v) => (
                v.into_iter()
                    .map(|(name, help)| (format!("{prefix}{name}"), help))
                    .collect(),
                None,
            ),
            Source::Files | Source::Nothing => (Vec::new(), None),
            other => (Vec::new(), Some((other, prefix.to_string()))),
        };
        Plan {
            candidates,
            lookup,
            directive,
            current: current.to_string(),
        }
    };
    if let Some(arg) = pending {
        return value_plan(arg, "", &current);
    }
    if !only_positionals {
        if let Some((flag, _)) = current.strip_prefix("--").and_then(|c| c.split_once('='))
            && let Some(arg) = find_long(node, flag)
        {
            return value_plan(arg, &format!("--{flag}="), &current);
        }
        if current.starts_with('-') {
            let mut candidates = Vec::new();
            for a in node.get_arguments().filter(|a| !a.is_hide_set()) {
                let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
                let help = help.lines().next().unwrap_or("").to_string();
                if let Some(long) = a.get_long() {
                    candidates.push((format!("--{long}"), help.clone()));
                }
                if current.len() <= 2
                    && let Some(short) = a.get_short()
                {
                    candidates.push((format!("-{short}"), help));
                }
            }
            return Plan {
                candidates,
                lookup: None,
                directive: NO_FILE_COMP,
                current,
            };
        }
    }
    let subcommands: Vec<(String, String)> = node
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| {
            (
                s.get_name().to_string(),
                s.get_about().map(|a| a.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let first_positional = node.get_positionals().find(|a| !a.is_hide_set());
    if positionals == 0 && !subcommands.is_empty() {
        // A command with both subcommands and its own positionals (`kubectl drainplan
        // NODE...` beside `kubectl drainplan uncordon`) offers both.
        let mut plan = match first_positional {
            Some(arg) => value_plan(arg, "", &current),
            None => Plan {
                candidates: Vec::new(),
                lookup: None,
                directive: NO_FILE_COMP,
                current,
            },
        };
        plan.candidates.splice(0..0, subcommands);
        return plan;
    }
    let positional = node
        .get_positionals()
        .filter(|a| !a.is_hide_set())
        .enumerate()
        .find(|(i, a)| {
            *i == positionals
                || (*i <= positionals && a.get_num_args().is_some_and(|n| n.max_values() > 1))
        })
        .map(|(_, a)| a);
    match positional {
        Some(arg) => value_plan(arg, "", &current),
        None => Plan {
            candidates: Vec::new(),
            lookup: None,
            directive: NO_FILE_COMP,
            current,
        },
    }
}

/// cobra's output: matching candidates (with a tab and description unless disabled), then
/// `:<directive>`.
pub fn render(
    candidates: &[(String, String)],
    current: &str,
    directive: u32,
    descriptions: bool,
) -> String {
    let mut out = String::new();
    for (value, help) in candidates.iter().filter(|(v, _)| v.starts_with(current)) {
        out.push_str(value);
        if descriptions && !help.is_empty() {
            out.push('\t');
            out.push_str(help);
        }
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

/// Plan, look up cluster or kubeconfig names if needed, and render.
fn complete_live(cmd: &mut Command, words: &[String], descriptions: bool) -> String {
    let mut plan = plan(cmd, words);
    if let Some((source, prefix)) = plan.lookup.take() {
        let names = lookup(&source, words).unwrap_or_default();
        plan.candidates.extend(
            names
                .into_iter()
                .map(|n| (format!("{prefix}{n}"), String::new())),
        );
    }
    render(
        &plan.candidates,
        &plan.current,
        plan.directive,
        descriptions,
    )
}

/// The connection flags typed so far (`--kubeconfig`, `--context`, `-n`, ...), read
/// leniently: completion must work on half-typed command lines.
fn connection_from(words: &[String]) -> crate::cli::ConnectionArgs {
    let mut args = crate::cli::ConnectionArgs {
        request_timeout: Some(LOOKUP_TIMEOUT),
        ..Default::default()
    };
    let mut it = words.iter().peekable();
    while let Some(w) = it.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (w.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.peek().map(|v| v.to_string()));
        match flag {
            "--kubeconfig" => args.kubeconfig = value().map(Into::into),
            "--context" => args.context = value(),
            "--cluster" => args.cluster = value(),
            "--user" => args.user = value(),
            "-n" | "--namespace" => args.namespace = value(),
            "--as" => args.as_user = value(),
            _ => {}
        }
    }
    args
}

fn lookup(source: &Source, words: &[String]) -> Option<Vec<String>> {
    let conn_args = connection_from(words);
    match source {
        Source::Kubeconfig(what) => kubeconfig_names(&conn_args, what),
        Source::Cluster(plural) => {
            let runtime = crate::run::runtime().ok()?;
            let plural = *plural;
            runtime.block_on(async move {
                let fut = cluster_names(conn_args, plural);
                tokio::time::timeout(LOOKUP_TIMEOUT, fut)
                    .await
                    .ok()
                    .flatten()
            })
        }
        _ => None,
    }
}

fn kubeconfig_names(args: &crate::cli::ConnectionArgs, what: &str) -> Option<Vec<String>> {
    let env = std::env::var_os("KUBECONFIG");
    let paths: Vec<std::path::PathBuf> = match (&args.kubeconfig, env) {
        (Some(p), _) => vec![p.clone()],
        (None, Some(list)) => std::env::split_paths(&list).collect(),
        (None, None) => vec![std::env::home_dir()?.join(".kube").join("config")],
    };
    let mut names = Vec::new();
    for p in paths.iter().filter(|p| p.exists()) {
        let Ok(k) = kube::config::Kubeconfig::read_from(p) else {
            continue;
        };
        match what {
            "contexts" => names.extend(k.contexts.into_iter().map(|c| c.name)),
            "clusters" => names.extend(k.clusters.into_iter().map(|c| c.name)),
            "users" => names.extend(k.auth_infos.into_iter().map(|u| u.name)),
            _ => {}
        }
    }
    names.sort();
    names.dedup();
    Some(names)
}

async fn cluster_names(args: crate::cli::ConnectionArgs, plural: &str) -> Option<Vec<String>> {
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Secret};
    use kube::api::ListParams;
    let conn = args.connect().await.ok()?;
    let lp = ListParams::default();
    fn names<K: kube::Resource>(items: Vec<K>) -> Vec<String> {
        items.iter().filter_map(|o| o.meta().name.clone()).collect()
    }
    let out = match plural {
        "namespaces" => names(
            crate::list::list_all(&conn.cluster_api::<Namespace>(), &lp)
                .await
                .ok()?,
        ),
        "nodes" => names(
            crate::list::list_all(&conn.cluster_api::<Node>(), &lp)
                .await
                .ok()?,
        ),
        "secrets" => names(
            crate::list::list_all(&conn.namespaced_api::<Secret>(false), &lp)
                .await
                .ok()?,
        ),
        "configmaps" => names(
            crate::list::list_all(&conn.namespaced_api::<ConfigMap>(false), &lp)
                .await
                .ok()?,
        ),
        _ => return None,
    };
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Parser, Subcommand};

    #[derive(Parser)]
    #[command(name = "kubectl demo", bin_name = "kubectl demo")]
    struct Cli {
        #[command(flatten)]
        conn: crate::cli::ConnectionArgs,
        #[command(flatten)]
        out: crate::output::OutputArgs,
        #[command(subcommand)]
        cmd: Sub,
    }

    #[derive(Subcommand)]
    enum Sub {
        /// Drain nodes.
        Drain {
            /// Nodes to drain.
            #[arg(value_name = "NODE", num_args = 1..)]
            nodes: Vec<String>,
            /// A plan file.
            #[arg(long, value_name = "FILE")]
            plan: Option<String>,
        },
        /// Rotate a secret.
        Secret {
            #[arg(value_name = "SECRET")]
            name: String,
        },
    }

    #[derive(Parser)]
    #[command(name = "kubectl both", args_conflicts_with_subcommands = true)]
    struct Both {
        #[arg(value_name = "NODE")]
        nodes: Vec<String>,
        #[command(subcommand)]
        cmd: Option<BothSub>,
    }

    #[derive(Subcommand)]
    enum BothSub {
        /// Undo.
        Uncordon {
            #[arg(value_name = "NODE")]
            nodes: Vec<String>,
        },
    }

    fn words(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    fn p(args: &[&str]) -> Plan {
        plan(&mut Cli::command(), &words(args))
    }

    #[test]
    fn subcommands_then_positionals() {
        let top = p(&[""]);
        let names: Vec<&str> = top.candidates.iter().map(|(v, _)| v.as_str()).collect();
        assert!(
            names.contains(&"drain") && names.contains(&"secret"),
            "{names:?}"
        );
        assert_eq!(top.directive, NO_FILE_COMP);
        assert_eq!(
            p(&["drain", ""]).lookup,
            Some((Source::Cluster("nodes"), String::new()))
        );
        assert_eq!(
            p(&["drain", "n1", "n"]).lookup,
            Some((Source::Cluster("nodes"), String::new())),
            "a multi-valued positional keeps completing"
        );
        assert_eq!(
            p(&["secret", ""]).lookup,
            Some((Source::Cluster("secrets"), String::new()))
        );
    }

    #[test]
    fn subcommands_beside_positionals() {
        let top = plan(&mut Both::command(), &words(&[""]));
        assert_eq!(
            top.candidates.first().map(|(v, _)| v.as_str()),
            Some("uncordon")
        );
        assert_eq!(top.lookup, Some((Source::Cluster("nodes"), String::new())));
        let sub = plan(&mut Both::command(), &words(&["uncordon", ""]));
        assert_eq!(sub.lookup, Some((Source::Cluster("nodes"), String::new())));
    }

    #[test]
    fn flag_values() {
        assert_eq!(
            p(&["-n", ""]).lookup,
            Some((Source::Cluster("namespaces"), String::new()))
        );
        assert_eq!(
            p(&["drain", "--namespace", "ku"]).lookup,
            Some((Source::Cluster("namespaces"), String::new())),
            "global flags after a subcommand"
        );
        assert_eq!(
            p(&["--namespace=ku"]).lookup,
            Some((Source::Cluster("namespaces"), "--namespace=".into()))
        );
        assert_eq!(
            p(&["--context", ""]).lookup,
            Some((Source::Kubeconfig("contexts"), String::new()))
        );
        let out = p(&["-o", ""]);
        let values: Vec<&str> = out.candidates.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(values, ["table", "wide", "json", "yaml", "name"]);
        let files = p(&["drain", "--plan", ""]);
        assert_eq!((files.directive, files.lookup), (DEFAULT, None));
        // A flag's value is not a positional: `-n x` then the subcommand list.
        let after = p(&["-n", "x", ""]);
        assert!(after.candidates.iter().any(|(v, _)| v == "drain"));
    }

    #[test]
    fn flag_names() {
        let flags = p(&["--na"]);
        let names: Vec<&str> = flags.candidates.iter().map(|(v, _)| v.as_str()).collect();
        assert!(
            names.contains(&"--namespace") && names.contains(&"--output"),
            "{names:?}"
        );
        let out = render(&flags.candidates, &flags.current, flags.directive, false);
        assert!(out.starts_with("--namespace\n"), "{out}");
        assert!(out.ends_with(":4\n"));
    }

    #[test]
    fn rendering_filters_and_describes() {
        let c = vec![
            ("json".to_string(), "JSON".to_string()),
            ("yaml".to_string(), String::new()),
        ];
        assert_eq!(render(&c, "j", 4, true), "json\tJSON\n:4\n");
        assert_eq!(render(&c, "", 4, false), "json\nyaml\n:4\n");
    }

    #[test]
    fn connection_flags_are_read_leniently() {
        let a = connection_from(&words(&[
            "--kubeconfig",
            "/k",
            "--context=prod",
            "-n",
            "shop",
            "drain",
            "",
        ]));
        assert_eq!(a.kubeconfig.as_deref(), Some(std::path::Path::new("/k")));
        assert_eq!(a.context.as_deref(), Some("prod"));
        assert_eq!(a.namespace.as_deref(), Some("shop"));
    }
}
