//! `sandbox-scale`: write a large generated cluster as fixture YAML.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use sandbox_scale::{Config, write};

/// Generate a realistic cluster (nodes, Deployments → ReplicaSets → Pods,
/// Services, EndpointSlices, ConfigMaps, Secrets, PVCs, PDBs, HPAs, events
/// and crash logs) as kube-sandbox fixtures, deterministically from a seed.
#[derive(Debug, Parser)]
#[command(name = "sandbox-scale", version)]
struct Args {
    /// Output directory (created; must be empty or a previous output).
    #[arg(long)]
    out: PathBuf,
    /// PRNG seed: the same seed and flags give the same bytes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of nodes (at most 4096).
    #[arg(long, default_value_t = 30)]
    nodes: usize,
    /// Number of namespaces the pods are spread over.
    #[arg(long, default_value_t = 10)]
    namespaces: usize,
    /// Total number of pods.
    #[arg(long, default_value_t = 5000)]
    pods: usize,
    /// Total number of Deployments [default: pods / 10].
    #[arg(long)]
    deployments: Option<usize>,
    /// Total number of core/v1 Events [default: one per pod].
    #[arg(long)]
    events: Option<usize>,
    /// Put everything in one namespace of this name (overrides --namespaces).
    #[arg(long, value_name = "NAME")]
    single_namespace: Option<String>,
    /// Also a CRD (exportprofiles.bench.example.com) and this many of its custom
    /// resources, spread over the namespaces (backup benchmarks).
    #[arg(long, default_value_t = 0, value_name = "N")]
    custom_resources: usize,
}

/// The custom resources of `--custom-resources`, into the namespaces just written.
fn write_custom(out: &std::path::Path, count: usize) -> anyhow::Result<()> {
    let mut namespaces: Vec<String> = std::fs::read_dir(out.join("namespaces"))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    namespaces.sort();
    for f in sandbox_scale::custom::render_custom(&namespaces, count) {
        let path = out.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &f.text)?;
    }
    eprintln!("wrote {count} custom resources (exportprofiles.bench.example.com)");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = Config {
        seed: args.seed,
        nodes: args.nodes,
        namespaces: args.namespaces,
        pods: args.pods,
        deployments: args.deployments,
        events: args.events,
        single_namespace: args.single_namespace,
    };
    let started = Instant::now();
    let written = write(&cfg, &args.out).and_then(|c| {
        if args.custom_resources > 0 {
            write_custom(&args.out, args.custom_resources)?;
        }
        Ok(c)
    });
    match written {
        Ok(c) => {
            eprintln!(
                "wrote {}: {} nodes, {} namespaces, {} deployments, {} pods ({} CrashLoopBackOff, {} Pending, {} OOMKilled), {} events in {:.2}s",
                args.out.display(),
                c.nodes,
                c.namespaces,
                c.deployments,
                c.pods,
                c.crashloop,
                c.pending,
                c.oomkilled,
                c.events,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
