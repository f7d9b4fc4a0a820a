//! Reading a plan back for `--execute --plan FILE|-`: a DrainPlan of our apiVersion, exactly
//! our schema, unedited (its fingerprint matches its content), made on the cluster as it is
//! now (a fresh plan has the same fingerprint). Anything else is exit 2, nothing changed.

use std::collections::HashMap;

use common::{Error, Result};

use crate::args::Args;
use crate::plan;
use crate::report::{DrainPlan, KIND_PLAN, PlanSpec, api_version};

/// How to make a fresh plan, for hints.
fn remake_hint() -> &'static str {
    "make a new plan (kubectl drainplan NODE... -o json > plan.json) and execute that"
}

/// Parse `text` (JSON or YAML) as a DrainPlan of this version, strictly.
pub fn parse(source: &str, text: &str) -> Result<DrainPlan> {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(json_err) => serde_saphyr::from_str(text).map_err(|yaml_err| {
            Error::usage(format!(
                "{source} is neither JSON ({json_err}) nor YAML ({yaml_err})"
            ))
        })?,
    };
    let api = value
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let kind = value.get("kind").and_then(|v| v.as_str()).unwrap_or("");
    if kind != KIND_PLAN || api != api_version() {
        return Err(Error::usage(format!(
            "{source} is not a {KIND_PLAN} of {} (it says apiVersion {api:?}, kind {kind:?})",
            api_version()
        ))
        .with_hint(remake_hint()));
    }
    serde_json::from_value(value).map_err(|e| {
        Error::usage(format!(
            "{source} does not match the {KIND_PLAN} schema: {e}"
        ))
        .with_hint(remake_hint())
    })
}

/// Read and parse the plan at `path` (`-`: stdin), and check it was not edited.
pub fn load(path: &str) -> Result<DrainPlan> {
    let bytes = common::files::read_input(path)?;
    let source = if path == "-" {
        "the plan on stdin"
    } else {
        path
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::usage(format!("{source} is not UTF-8 text")))?;
    let plan = parse(source, &text)?;
    if plan::fingerprint(&plan) != plan.fingerprint {
        return Err(Error::usage(format!(
            "{source} was changed after it was made: its content does not match its fingerprint"
        ))
        .with_hint(remake_hint()));
    }
    Ok(plan)
}

/// Flags given with `--plan` must agree with the plan's own: the plan decides.
pub fn check_flags(args: &Args, spec: &PlanSpec) -> Result<()> {
    if !args.nodes.is_empty() {
        let mut given = args.nodes.clone();
        let mut planned = spec.nodes.clone();
        given.sort();
        planned.sort();
        if given != planned {
            return Err(Error::usage(format!(
                "the plan drains {}, not {}",
                spec.nodes.join(" "),
                args.nodes.join(" ")
            )));
        }
    }
    if args.selector.is_some() && args.selector != spec.selector {
        return Err(Error::usage(format!(
            "the plan was made for {}, not -l {}",
            spec.selector
                .as_deref()
                .map(|s| format!("-l {s}"))
                .unwrap_or_else(|| "named nodes".to_string()),
            args.selector.as_deref().unwrap_or("")
        )));
    }
    for (given, planned, flag) in [
        (args.force, spec.force, "--force"),
        (
            args.delete_emptydir_data,
            spec.delete_emptydir_data,
            "--delete-emptydir-data",
        ),
        (
            args.ignore_daemonsets,
            spec.ignore_daemonsets,
            "--ignore-daemonsets",
        ),
    ] {
        if given && !planned {
            return Err(
                Error::usage(format!("the plan was made without {flag}")).with_hint(remake_hint())
            );
        }
    }
    Ok(())
}

/// What changed between the plan in the file and a fresh plan of the same request.
pub fn differences(given: &DrainPlan, fresh: &DrainPlan) -> Vec<String> {
    let mut out = Vec::new();
    let fresh_nodes: HashMap<&str, _> = fresh.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    for n in &given.nodes {
        match fresh_nodes.get(n.name.as_str()) {
            Some(f) if f.uid != n.uid => out.push(format!("node {} was replaced", n.name)),
            Some(f) if f.resource_version != n.resource_version => out.push(format!(
                "node {} changed (resourceVersion {} → {})",
                n.name, n.resource_version, f.resource_version
            )),
            Some(_) => {}
            None => out.push(format!("node {} is gone", n.name)),
        }
    }
    let fresh_pods: HashMap<&str, _> = fresh.pods.iter().map(|p| (p.uid.as_str(), p)).collect();
    let given_pods: HashMap<&str, _> = given.pods.iter().map(|p| (p.uid.as_str(), p)).collect();
    for p in &given.pods {
        match fresh_pods.get(p.uid.as_str()) {
            None => out.push(format!(
                "pod {}/{} is gone from {}",
                p.namespace, p.name, p.node
            )),
            Some(f) if f.resource_version != p.resource_version => out.push(format!(
                "pod {}/{} changed (resourceVersion {} → {})",
                p.namespace, p.name, p.resource_version, f.resource_version
            )),
            Some(f) if (f.action, f.reason) != (p.action, p.reason) => out.push(format!(
                "pod {}/{}: now {} ({}), planned {} ({})",
                p.namespace,
                p.name,
                f.action.as_str(),
                f.reason,
                p.action.as_str(),
                p.reason
            )),
            Some(_) => {}
        }
    }
    for f in &fresh.pods {
        if !given_pods.contains_key(f.uid.as_str()) {
            out.push(format!(
                "pod {}/{} is new on {}",
                f.namespace, f.name, f.node
            ));
        }
    }
    let fresh_pdbs: HashMap<(&str, &str), _> = fresh
        .pdbs
        .iter()
        .map(|b| ((b.namespace.as_str(), b.name.as_str()), b))
        .collect();
    for b in &given.pdbs {
        match fresh_pdbs.get(&(b.namespace.as_str(), b.name.as_str())) {
            None => out.push(format!("PDB {}/{} no longer applies", b.namespace, b.name)),
            Some(f)
                if (f.allowed, f.needed, f.healthy, f.expected)
                    != (b.allowed, b.needed, b.healthy, b.expected) =>
            {
                out.push(format!(
                    "PDB {}/{} changed (allowed {} → {}, healthy {} → {})",
                    b.namespace, b.name, b.allowed, f.allowed, b.healthy, f.healthy
                ));
            }
            Some(_) => {}
        }
    }
    if given.verdict != fresh.verdict {
        out.push(format!(
            "the verdict is now {} (planned {})",
            fresh.verdict.as_str(),
            given.verdict.as_str()
        ));
    }
    out
}

/// Refuse a plan the cluster no longer matches (exit 2, nothing changed).
pub fn verify(source: &str, given: &DrainPlan, fresh: &DrainPlan) -> Result<()> {
    if given.fingerprint == fresh.fingerprint {
        return Ok(());
    }
    let diffs = differences(given, fresh);
    let shown = match diffs.len() {
        0 => "the waves or decisions differ".to_string(),
        n if n > 5 => format!("{} and {} more", diffs[..5].join("; "), n - 5),
        _ => diffs.join("; "),
    };
    let source = if source == "-" { "the plan" } else { source };
    Err(Error::usage(format!(
        "{source} is stale: the cluster changed since it was made ({shown}); nothing was changed"
    ))
    .with_hint(remake_hint()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::test_support::{node, pod};

    fn sample() -> DrainPlan {
        crate::plan::test_support::plan_of(
            &[
                node("a", "4", "8Gi", 110),
                node("t", "4", "8Gi", 110),
                pod("x", "web-1", "t", "web", "1", "1Gi"),
            ],
            &["t"],
            true,
        )
    }

    #[test]
    fn round_trips_as_json_and_yaml() {
        let p = sample();
        let json = serde_json::to_string_pretty(&p).expect("json");
        assert_eq!(parse("p.json", &json).expect("parse"), p);
        let mut yaml = Vec::new();
        common::output::print_document(&mut yaml, common::output::OutputFormat::Yaml, &p)
            .expect("yaml");
        let yaml = String::from_utf8(yaml).expect("utf8");
        assert_eq!(parse("p.yaml", &yaml).expect("parse yaml"), p);
    }

    #[test]
    fn wrong_kind_version_and_schema_are_usage_errors() {
        let p = sample();
        let mut v = serde_json::to_value(&p).expect("value");
        v["apiVersion"] = "drainplan.kubectl-plugins.dev/v2".into();
        let e = parse("p.json", &v.to_string()).expect_err("refused");
        assert_eq!(e.exit(), common::Exit::Usage);
        assert!(e.to_string().contains("not a DrainPlan"), "{e}");
        let mut v = serde_json::to_value(&p).expect("value");
        v["surprise"] = true.into();
        let e = parse("p.json", &v.to_string()).expect_err("refused");
        assert!(e.to_string().contains("schema"), "{e}");
        assert!(parse("p.json", "{{{").is_err());
    }

    #[test]
    fn edits_and_staleness_are_caught() {
        let p = sample();
        // An edited decision no longer matches the fingerprint.
        let mut edited = p.clone();
        edited.pods[0].action = crate::report::Action::Stay;
        assert_ne!(plan::fingerprint(&edited), edited.fingerprint);
        // A changed pod makes a fresh plan differ, and says how.
        let mut fresh = p.clone();
        fresh.pods[0].resource_version = "9".into();
        fresh.fingerprint = plan::fingerprint(&fresh);
        let e = verify("plan.json", &p, &fresh).expect_err("stale");
        assert_eq!(e.exit(), common::Exit::Usage);
        assert!(
            e.to_string()
                .contains("pod x/web-1 changed (resourceVersion 1 → 9)"),
            "{e}"
        );
        assert!(verify("plan.json", &p, &p).is_ok());
    }
}
