//! sandbox-scale: writes a large, realistic cluster as kube-sandbox fixture
//! YAML, deterministically from a seed, for benchmarks and scale tests.

/// Appends formatted text to a String (which cannot fail).
macro_rules! w {
    ($buf:expr, $($arg:tt)*) => {{
        let _ = write!($buf, $($arg)*);
    }};
}

pub mod drain;
pub mod model;
pub mod render;
pub mod rng;

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

pub use model::{Cluster, Config, Counts, plan};
pub use render::{FixtureFile, render};

/// The marker file that says a directory holds our output (and may be
/// overwritten); it also carries the counts for the bench harness.
pub const MARKER: &str = "scale.json";

/// Plan and render the fixture files for `cfg`, in memory.
pub fn generate(cfg: &Config) -> (Counts, Vec<FixtureFile>) {
    let cluster = plan(cfg);
    (cluster.counts(), render(&cluster))
}

/// The counts and per-namespace figures as JSON (written to `scale.json`).
pub fn summary(cfg: &Config, cluster: &Cluster) -> serde_json::Value {
    let c = cluster.counts();
    let namespaces: Vec<serde_json::Value> = cluster
        .namespaces
        .iter()
        .map(|ns| {
            let pods: Vec<_> = ns.deployments.iter().flat_map(|d| &d.pods).collect();
            let crash = pods
                .iter()
                .filter(|p| matches!(p.state, model::PodState::CrashLoop { .. }))
                .count();
            serde_json::json!({
                "name": ns.name,
                "deployments": ns.deployments.len(),
                "pods": pods.len(),
                "crashloop": crash,
                "events": ns.events.len(),
            })
        })
        .collect();
    serde_json::json!({
        "generator": "sandbox-scale",
        "seed": cfg.seed,
        "nodes": c.nodes,
        "namespaces": c.namespaces,
        "deployments": c.deployments,
        "pods": c.pods,
        "running": c.running,
        "crashloop": c.crashloop,
        "pending": c.pending,
        "oomkilled": c.oomkilled,
        "events": c.events,
        "pvcs": c.pvcs,
        "pdbs": c.pdbs,
        "hpas": c.hpas,
        "per_namespace": namespaces,
    })
}

/// Generate into `out`. A directory that exists must be empty or hold a
/// previous run (our marker file), whose files are replaced.
pub fn write(cfg: &Config, out: &Path) -> Result<Counts> {
    prepare_dir(out)?;
    let cluster = plan(cfg);
    write_files(out, &render(&cluster), summary(cfg, &cluster))?;
    Ok(cluster.counts())
}

/// The `drainplan` preset into `out` (same directory rules as [`write`]).
pub fn write_drainplan(cfg: &drain::DrainConfig, out: &Path) -> Result<drain::Counts> {
    prepare_dir(out)?;
    let cluster = drain::plan(cfg);
    let files = drain::render::render(&cluster);
    let c = cluster.counts();
    let summary = serde_json::json!({
        "generator": "sandbox-scale",
        "preset": "drainplan",
        "seed": cfg.seed,
        "nodes": c.nodes,
        "gpu_nodes": c.gpu_nodes,
        "cordoned": c.cordoned,
        "pods": c.pods,
        "pending": c.pending,
        "deployments": c.deployments,
        "statefulsets": c.statefulsets,
        "daemonsets": c.daemonsets,
        "bare_pods": c.bare_pods,
        "pdbs": c.pdbs,
        "anti_affinity_apps": c.anti_affinity_apps,
        "files": files.len(),
        "bytes": files.iter().map(|f| f.text.len()).sum::<usize>(),
    });
    write_files(out, &files, summary)?;
    Ok(c)
}

fn write_files(out: &Path, files: &[FixtureFile], summary: serde_json::Value) -> Result<()> {
    for f in files {
        let path = out.join(&f.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, &f.text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let summary = serde_json::to_string_pretty(&summary)?;
    fs::write(out.join(MARKER), summary + "\n")
        .with_context(|| format!("cannot write {}", out.join(MARKER).display()))?;
    Ok(())
}

fn prepare_dir(out: &Path) -> Result<()> {
    if !out.exists() {
        return fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()));
    }
    if !out.is_dir() {
        bail!("{} exists and is not a directory", out.display());
    }
    let mut entries =
        fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
    if entries.next().is_none() {
        return Ok(());
    }
    if !out.join(MARKER).is_file() {
        bail!(
            "{} is not empty and was not written by sandbox-scale (no {MARKER}); choose an empty or new directory",
            out.display()
        );
    }
    for entry in fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))? {
        let p = entry?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name == MARKER || (name.starts_with("cluster-") && name.ends_with(".yaml")) {
            fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    let ns_dir = out.join("namespaces");
    if ns_dir.exists() {
        fs::remove_dir_all(&ns_dir)
            .with_context(|| format!("cannot remove {}", ns_dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use serde_json::Value;

    use super::*;

    fn small() -> Config {
        Config {
            seed: 7,
            nodes: 6,
            namespaces: 3,
            pods: 1200,
            deployments: None,
            events: Some(1500),
            single_namespace: None,
        }
    }

    /// Every document of every file, parsed with serde-saphyr's default
    /// budget (what the sandbox uses unless it raises it).
    fn parse_all(files: &[FixtureFile]) -> Vec<Value> {
        let mut docs = Vec::new();
        for f in files {
            let parsed: Vec<Value> = serde_saphyr::from_multiple(&f.text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", f.path));
            assert!(parsed.len() <= render::MAX_DOCS_PER_FILE, "{}", f.path);
            docs.extend(parsed);
        }
        docs
    }

    fn kinds(docs: &[Value]) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for d in docs {
            *m.entry(d["kind"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
        }
        m
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (_, a) = generate(&small());
        let (_, b) = generate(&small());
        assert_eq!(a, b);
        let (_, c) = generate(&Config { seed: 8, ..small() });
        assert_ne!(a, c);
    }

    #[test]
    fn counts_match_the_request_and_the_documents() {
        let (counts, files) = generate(&small());
        assert_eq!(counts.pods, 1200);
        assert_eq!(counts.deployments, 120);
        assert_eq!(counts.events, 1500);
        assert_eq!(counts.namespaces, 3);
        assert_eq!(
            counts.running + counts.crashloop + counts.pending + counts.oomkilled,
            1200
        );
        // ~2% / ~1% / ~0.5% of 1,200.
        assert!((10..=45).contains(&counts.crashloop), "{counts:?}");
        assert!((3..=30).contains(&counts.pending), "{counts:?}");
        assert!(counts.oomkilled <= 20, "{counts:?}");

        let docs = parse_all(&files);
        let k = kinds(&docs);
        assert_eq!(k["Pod"], 1200);
        assert_eq!(k["Deployment"], 120);
        assert_eq!(k["ReplicaSet"], 120);
        assert_eq!(k["Service"], 120);
        assert_eq!(k["EndpointSlice"], 120);
        assert_eq!(k["Event"], 1500);
        assert_eq!(k["Node"], 6);
        assert_eq!(k["Namespace"], 3);
        assert_eq!(k["PodLogs"], counts.crashloop);
        let crashing = docs
            .iter()
            .filter(|d| {
                d["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                    == "CrashLoopBackOff"
            })
            .count();
        assert_eq!(crashing, counts.crashloop);
    }

    #[test]
    fn every_owner_reference_resolves() {
        let (_, files) = generate(&small());
        let docs = parse_all(&files);
        let by_uid: HashMap<&str, (&str, &str)> = docs
            .iter()
            .filter_map(|d| {
                Some((
                    d["metadata"]["uid"].as_str()?,
                    (d["kind"].as_str()?, d["metadata"]["name"].as_str()?),
                ))
            })
            .collect();
        let mut checked = 0;
        for d in &docs {
            let Some(refs) = d["metadata"]["ownerReferences"].as_array() else {
                continue;
            };
            for r in refs {
                let uid = r["uid"].as_str().unwrap_or_default();
                let owner = by_uid.get(uid);
                assert_eq!(
                    owner,
                    Some(&(
                        r["kind"].as_str().unwrap_or_default(),
                        r["name"].as_str().unwrap_or_default()
                    )),
                    "{} {} has a dangling owner",
                    d["kind"],
                    d["metadata"]["name"]
                );
                checked += 1;
            }
        }
        // Every pod, ReplicaSet and EndpointSlice has one.
        assert_eq!(checked, 1200 + 120 + 120);
    }

    #[test]
    fn pods_fit_their_nodes_and_names_are_unique() {
        let cluster = plan(&small());
        for n in &cluster.nodes {
            assert!(n.used_pods <= n.alloc_pods);
            assert!(n.used_cpu_m <= n.alloc_cpu_m);
            assert!(n.used_mem_mi <= n.alloc_mem_mi);
        }
        let mut names = HashSet::new();
        let mut ips = HashSet::new();
        for ns in &cluster.namespaces {
            for d in &ns.deployments {
                for p in &d.pods {
                    assert!(names.insert(format!("{}/{}", ns.name, p.name)));
                    if let Some(ip) = &p.ip {
                        assert!(ips.insert(ip.clone()), "duplicate pod IP {ip}");
                    }
                }
            }
        }
    }

    #[test]
    fn triage_scale_mode_is_one_namespace() {
        let cfg = Config {
            seed: 42,
            pods: 5000,
            deployments: Some(500),
            events: Some(5000),
            single_namespace: Some("triage-scale".into()),
            ..Config::default()
        };
        let cluster = plan(&cfg);
        let c = cluster.counts();
        assert_eq!(
            (c.namespaces, c.deployments, c.pods, c.events),
            (1, 500, 5000, 5000)
        );
        assert_eq!(cluster.namespaces[0].name, "triage-scale");
        // Every crasher's BackOff event is among the 5,000.
        let backoffs = cluster.namespaces[0]
            .events
            .iter()
            .filter(|e| e.reason == "BackOff")
            .count();
        assert_eq!(backoffs, c.crashloop);
    }

    #[test]
    fn write_refuses_a_foreign_directory_and_replaces_its_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("notes.txt"), "mine").expect("write");
        assert!(write(&small(), dir.path()).is_err());

        let out = dir.path().join("gen");
        let cfg = Config {
            pods: 50,
            ..small()
        };
        write(&cfg, &out).expect("first write");
        write(&cfg, &out).expect("second write over our own output");
        assert!(out.join(MARKER).is_file());
        assert!(out.join("cluster-000.yaml").is_file());
    }
}
