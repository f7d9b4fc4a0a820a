//! `sandbox-scale`: write a large generated cluster as fixture YAML.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use sandbox_scale::drain::DrainConfig;
use sandbox_scale::{Config, write, write_drainplan};

/// Cluster shapes with their own generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// drainplan's benchmark: 1,000 nodes (pools old/new, GPU nodes with
    /// taints, a few cordoned), 30,000 pods from Deployments, StatefulSets
    /// and DaemonSets with PDBs and anti-affinity.
    Drainplan,
}

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
    /// Generate a preset cluster shape instead of the default one.
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// Number of nodes (at most 4096) [default: 30; drainplan: 1000].
    #[arg(long)]
    nodes: Option<usize>,
    /// Number of namespaces the pods are spread over [default: 10; drainplan: 20].
    #[arg(long)]
    namespaces: Option<usize>,
    /// Total number of pods [default: 5000; drainplan: 30000].
    #[arg(long)]
    pods: Option<usize>,
    /// Total number of Deployments [default: pods / 10].
    #[arg(long, conflicts_with = "preset")]
    deployments: Option<usize>,
    /// Total number of core/v1 Events [default: one per pod].
    #[arg(long, conflicts_with = "preset")]
    events: Option<usize>,
    /// Put everything in one namespace of this name (overrides --namespaces).
    #[arg(long, value_name = "NAME", conflicts_with = "preset")]
    single_namespace: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.preset == Some(Preset::Drainplan) {
        return drainplan(&args);
    }
    let cfg = Config {
        seed: args.seed,
        nodes: args.nodes.unwrap_or(30),
        namespaces: args.namespaces.unwrap_or(10),
        pods: args.pods.unwrap_or(5000),
        deployments: args.deployments,
        events: args.events,
        single_namespace: args.single_namespace,
    };
    let started = Instant::now();
    match write(&cfg, &args.out) {
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

fn drainplan(args: &Args) -> ExitCode {
    let defaults = DrainConfig::default();
    let cfg = DrainConfig {
        seed: args.seed,
        nodes: args.nodes.unwrap_or(defaults.nodes),
        pods: args.pods.unwrap_or(defaults.pods),
        namespaces: args.namespaces.unwrap_or(defaults.namespaces),
    };
    let started = Instant::now();
    match write_drainplan(&cfg, &args.out) {
        Ok(c) => {
            eprintln!(
                "wrote {}: {} nodes ({} with GPUs, {} cordoned), {} pods ({} pending) from {} deployments, {} statefulsets, {} daemonsets and {} bare pods, {} PDBs, {} apps with anti-affinity in {:.2}s",
                args.out.display(),
                c.nodes,
                c.gpu_nodes,
                c.cordoned,
                c.pods,
                c.pending,
                c.deployments,
                c.statefulsets,
                c.daemonsets,
                c.bare_pods,
                c.pdbs,
                c.anti_affinity_apps,
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
