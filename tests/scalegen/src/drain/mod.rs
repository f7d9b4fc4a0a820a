//! The `drainplan` preset: a 1,000-node / 30,000-pod cluster shaped for
//! drain planning (node pools, GPU nodes with taints, cordoned nodes,
//! Deployments, StatefulSets and DaemonSets with PDBs and anti-affinity),
//! decided once from the seed as plain values; `render` writes the YAML.

pub mod render;

use crate::model::{NS_NAMES, ROLES, SERVICES, ZONES};
use crate::rng::Rng;
use std::collections::HashSet;

/// What to generate; the defaults are drainplan's benchmark cluster.
#[derive(Debug, Clone)]
pub struct DrainConfig {
    pub seed: u64,
    pub nodes: usize,
    pub pods: usize,
    pub namespaces: usize,
}

impl Default for DrainConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            nodes: 1000,
            pods: 30_000,
            namespaces: 20,
        }
    }
}

/// Every node: 16 cores, 64 GiB (m5.4xlarge), 110 pods; GPU nodes add four
/// A100s. Allocatable leaves the kubelet's usual reservations out.
pub const NODE_CPU_M: u64 = 15_890;
pub const NODE_MEM_MI: u64 = 62_240;
pub const NODE_PODS: u64 = 110;
pub const GPUS_PER_NODE: u64 = 4;
/// Every 25th node is a GPU node; every 200th (offset) is cordoned.
const GPU_EVERY: usize = 25;
const CORDON_EVERY: usize = 200;

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub uid: String,
    pub pool: &'static str,
    pub zone: &'static str,
    pub ip: String,
    pub pod_cidr_base: u32,
    pub gpus: u64,
    pub cordoned: bool,
    pub age_days: u64,
    pub used_cpu_m: u64,
    pub used_mem_mi: u64,
    pub used_pods: u64,
    pub used_gpus: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    /// A pod without a controller (someone's debug shell).
    Bare,
}

/// A PodDisruptionBudget's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    MaxUnavailable(u64),
    MinAvailable(u64),
    MinAvailablePercent(u64),
}

#[derive(Debug, Clone)]
pub struct Pod {
    pub name: String,
    pub uid: String,
    pub node: Option<usize>,
    pub ip: Option<String>,
    pub ready: bool,
    pub age_min: u64,
}

/// A workload and its pods.
#[derive(Debug, Clone)]
pub struct App {
    pub kind: Kind,
    pub name: String,
    pub uid: String,
    /// ReplicaSet uid (Deployments) or ControllerRevision uid (sets).
    pub child_uid: String,
    /// pod-template-hash (Deployments) or controller-revision-hash.
    pub hash: String,
    pub version: String,
    pub cpu_m: u64,
    pub mem_mi: u64,
    pub gpus: u64,
    pub pool: Option<&'static str>,
    pub anti_affinity: bool,
    pub safe_to_evict_false: bool,
    pub empty_dir: bool,
    pub pdb: Option<Budget>,
    pub age_days: u64,
    pub pods: Vec<Pod>,
}

impl App {
    pub fn ready_pods(&self) -> u64 {
        self.pods.iter().filter(|p| p.ready).count() as u64
    }
}

#[derive(Debug, Clone)]
pub struct Namespace {
    pub name: String,
    pub apps: Vec<App>,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub namespaces: Vec<Namespace>,
    /// DaemonSets live in kube-system.
    pub daemonsets: Vec<App>,
}

/// Counts written to `scale.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub nodes: usize,
    pub gpu_nodes: usize,
    pub cordoned: usize,
    pub pods: usize,
    pub pending: usize,
    pub deployments: usize,
    pub statefulsets: usize,
    pub daemonsets: usize,
    pub bare_pods: usize,
    pub pdbs: usize,
    pub anti_affinity_apps: usize,
}

impl Cluster {
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            nodes: self.nodes.len(),
            gpu_nodes: self.nodes.iter().filter(|n| n.gpus > 0).count(),
            cordoned: self.nodes.iter().filter(|n| n.cordoned).count(),
            daemonsets: self.daemonsets.len(),
            ..Counts::default()
        };
        let apps = self
            .namespaces
            .iter()
            .flat_map(|ns| &ns.apps)
            .chain(&self.daemonsets);
        for a in apps {
            match a.kind {
                Kind::Deployment => c.deployments += 1,
                Kind::StatefulSet => c.statefulsets += 1,
                Kind::Bare => c.bare_pods += 1,
                Kind::DaemonSet => {}
            }
            c.pdbs += usize::from(a.pdb.is_some());
            c.anti_affinity_apps += usize::from(a.anti_affinity);
            c.pods += a.pods.len();
            c.pending += a.pods.iter().filter(|p| p.node.is_none()).count();
        }
        c
    }
}

const CPU_M: [u64; 6] = [50, 100, 100, 200, 250, 500];
const MEM_MI: [u64; 6] = [64, 128, 256, 256, 512, 1024];

fn nodes(rng: &mut Rng, n: usize) -> Vec<Node> {
    (0..n)
        .map(|i| {
            let pool = if i % 2 == 0 { "old" } else { "new" };
            Node {
                name: format!("node-{:04}", i + 1),
                uid: rng.uuid(),
                pool,
                zone: ZONES[i % ZONES.len()],
                ip: format!("10.{}.{}.{}", 1 + i / 50_000, (i / 200) % 250, 10 + i % 200),
                // 10.128.0.0/9, one /24 per node.
                pod_cidr_base: (10u32 << 24) | (128u32 << 16) | ((i as u32) << 8),
                gpus: if i % GPU_EVERY == GPU_EVERY - 1 {
                    GPUS_PER_NODE
                } else {
                    0
                },
                cordoned: i % CORDON_EVERY == 7,
                age_days: if pool == "old" {
                    rng.range(120, 400)
                } else {
                    rng.range(1, 30)
                },
                used_cpu_m: 0,
                used_mem_mi: 0,
                used_pods: 0,
                used_gpus: 0,
            }
        })
        .collect()
}

/// Can `app`'s next pod go on `node` (its filters and the room left)?
fn fits(app: &App, node: &Node, taken: &HashSet<usize>, i: usize) -> bool {
    let gpu_ok = if app.gpus > 0 {
        node.gpus >= node.used_gpus + app.gpus
    } else {
        // Only GPU workloads tolerate the GPU taint.
        node.gpus == 0
    };
    gpu_ok
        && app.pool.is_none_or(|p| p == node.pool)
        && !(app.anti_affinity && taken.contains(&i))
        && node.used_pods < NODE_PODS
        && node.used_cpu_m + app.cpu_m <= NODE_CPU_M
        && node.used_mem_mi + app.mem_mi <= NODE_MEM_MI
}

/// Places every pod of `app`: a few random tries, then a scan, as a
/// scheduler spreading load would. Cordoned nodes take pods too: they were
/// placed before the cordon (a node cordoned for a drain still runs them).
fn place(rng: &mut Rng, nodes: &mut [Node], app: &mut App) {
    let mut taken: HashSet<usize> = HashSet::new();
    let n = nodes.len();
    let mut pods = std::mem::take(&mut app.pods);
    for p in &mut pods {
        let mut chosen = None;
        for _ in 0..8 {
            let i = rng.below(n as u64) as usize;
            if fits(app, &nodes[i], &taken, i) {
                chosen = Some(i);
                break;
            }
        }
        if chosen.is_none() {
            let start = rng.below(n as u64) as usize;
            chosen = (0..n)
                .map(|k| (start + k) % n)
                .find(|&i| fits(app, &nodes[i], &taken, i));
        }
        if let Some(i) = chosen {
            bind(nodes, i, app.cpu_m, app.mem_mi, app.gpus, p);
            taken.insert(i);
        }
    }
    app.pods = pods;
}

fn bind(nodes: &mut [Node], i: usize, cpu: u64, mem: u64, gpus: u64, p: &mut Pod) {
    let node = &mut nodes[i];
    node.used_cpu_m += cpu;
    node.used_mem_mi += mem;
    node.used_pods += 1;
    node.used_gpus += gpus;
    let addr = node.pod_cidr_base + 1 + node.used_pods as u32;
    p.ip = Some(format!(
        "{}.{}.{}.{}",
        addr >> 24,
        (addr >> 16) & 0xff,
        (addr >> 8) & 0xff,
        addr & 0xff
    ));
    p.node = Some(i);
}

#[allow(clippy::too_many_arguments)] // one row of the workload table
fn app(
    rng: &mut Rng,
    kind: Kind,
    name: String,
    replicas: usize,
    gpus: u64,
    pool: Option<&'static str>,
    anti_affinity: bool,
    pdb: Option<Budget>,
) -> App {
    let hash = rng.name_suffix(10);
    let age_days = rng.range(10, 400);
    let rs_age_min = rng.range(60, age_days * 24 * 60);
    let pods = (0..replicas)
        .map(|i| Pod {
            name: match kind {
                Kind::StatefulSet => format!("{name}-{i}"),
                Kind::Bare => name.clone(),
                _ => format!("{name}-{hash}-{}", rng.name_suffix(5)),
            },
            uid: rng.uuid(),
            node: None,
            ip: None,
            ready: !rng.chance(5),
            age_min: if rng.chance(100) {
                rng.range(5, rs_age_min)
            } else {
                rs_age_min
            },
        })
        .collect();
    App {
        kind,
        uid: rng.uuid(),
        child_uid: rng.uuid(),
        hash,
        version: format!(
            "{}.{}.{}",
            rng.range(1, 4),
            rng.range(0, 30),
            rng.range(0, 12)
        ),
        cpu_m: *rng.pick(&CPU_M),
        mem_mi: *rng.pick(&MEM_MI),
        gpus,
        pool,
        anti_affinity,
        safe_to_evict_false: kind == Kind::Deployment && rng.chance(10),
        empty_dir: kind == Kind::Deployment && rng.chance(100),
        pdb,
        age_days,
        pods,
        name,
    }
}

fn budget(rng: &mut Rng, replicas: usize) -> Option<Budget> {
    if replicas < 2 || !rng.chance(600) {
        return None;
    }
    let r = replicas as u64;
    Some(match rng.below(100) {
        0..40 => Budget::MaxUnavailable(1),
        40..70 => Budget::MinAvailablePercent(50),
        70..95 => Budget::MinAvailable(r - 1),
        // A budget that never allows a disruption: drains are blocked.
        _ => Budget::MaxUnavailable(0),
    })
}

/// Decides the whole cluster from `cfg`.
pub fn plan(cfg: &DrainConfig) -> Cluster {
    let mut rng = Rng::new(cfg.seed);
    let mut nodes = nodes(&mut rng, cfg.nodes.max(1));
    // Two DaemonSets: one pod on every node (they tolerate everything).
    let mut daemonsets = Vec::new();
    for name in ["log-agent", "node-exporter"] {
        let mut ds = app(
            &mut rng,
            Kind::DaemonSet,
            name.to_string(),
            nodes.len(),
            0,
            None,
            false,
            None,
        );
        ds.cpu_m = 50;
        ds.mem_mi = 64;
        for (i, p) in ds.pods.iter_mut().enumerate() {
            bind(&mut nodes, i, 50, 64, 0, p);
        }
        daemonsets.push(ds);
    }
    let ns_count = cfg.namespaces.max(1);
    let bare = ns_count;
    let remaining = cfg.pods.saturating_sub(2 * nodes.len() + bare);
    let sts_pods = remaining / 10;
    let deploy_pods = remaining - sts_pods;
    let mut namespaces: Vec<Namespace> = (0..ns_count)
        .map(|i| Namespace {
            name: if i < NS_NAMES.len() {
                NS_NAMES[i].to_string()
            } else {
                format!(
                    "{}-{}",
                    NS_NAMES[i % NS_NAMES.len()],
                    i / NS_NAMES.len() + 1
                )
            },
            apps: Vec::new(),
        })
        .collect();
    let gpu_slots = nodes.iter().map(|n| n.gpus).sum::<u64>();
    let mut gpu_left = gpu_slots * 3 / 4;
    // Deployments: ~10 pods each on average, spread over the namespaces.
    let mut left = deploy_pods;
    let mut index = 0usize;
    while left > 0 {
        let ns = index % ns_count;
        let replicas = (rng.range(1, 19) as usize).min(left);
        left -= replicas;
        let name = workload_name(index / ns_count);
        let gpus = u64::from(gpu_left >= replicas as u64 && replicas <= 8 && rng.chance(15));
        gpu_left = gpu_left.saturating_sub(gpus * replicas as u64);
        let pool = match rng.below(10) {
            0 | 1 => Some("new"),
            2 => Some("old"),
            _ => None,
        };
        let anti = (2..=40).contains(&replicas) && rng.chance(120);
        let pdb = budget(&mut rng, replicas);
        let mut a = app(
            &mut rng,
            Kind::Deployment,
            name,
            replicas,
            gpus,
            pool,
            anti,
            pdb,
        );
        place(&mut rng, &mut nodes, &mut a);
        namespaces[ns].apps.push(a);
        index += 1;
    }
    // StatefulSets: 3-7 replicas, spread by hostname, budget of one.
    let mut left = sts_pods;
    let mut index = 0usize;
    while left > 0 {
        let ns = index % ns_count;
        let replicas = (rng.range(3, 7) as usize).min(left);
        left -= replicas;
        let name = format!("{}-db", SERVICES[(index / ns_count) % SERVICES.len()]);
        let name = if index / ns_count >= SERVICES.len() {
            format!("{name}-{}", index / ns_count / SERVICES.len() + 1)
        } else {
            name
        };
        let pdb = (replicas >= 2).then_some(Budget::MaxUnavailable(1));
        let mut a = app(
            &mut rng,
            Kind::StatefulSet,
            name,
            replicas,
            0,
            None,
            true,
            pdb,
        );
        place(&mut rng, &mut nodes, &mut a);
        namespaces[ns].apps.push(a);
        index += 1;
    }
    for ns in &mut namespaces {
        let name = format!("debug-shell-{}", rng.name_suffix(5));
        let mut a = app(&mut rng, Kind::Bare, name, 1, 0, None, false, None);
        a.cpu_m = 10;
        a.mem_mi = 32;
        place(&mut rng, &mut nodes, &mut a);
        ns.apps.push(a);
    }
    Cluster {
        nodes,
        namespaces,
        daemonsets,
    }
}

fn workload_name(round_index: usize) -> String {
    let base = format!(
        "{}-{}",
        SERVICES[round_index % SERVICES.len()],
        ROLES[(round_index / SERVICES.len()) % ROLES.len()]
    );
    let round = round_index / (SERVICES.len() * ROLES.len());
    if round == 0 {
        base
    } else {
        format!("{base}-{}", round + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> DrainConfig {
        DrainConfig {
            seed: 9,
            nodes: 60,
            pods: 1500,
            namespaces: 4,
        }
    }

    #[test]
    fn counts_and_placement_rules() {
        let c = plan(&small());
        let counts = c.counts();
        assert_eq!(counts.pods, 1500);
        assert_eq!(counts.nodes, 60);
        assert_eq!(counts.gpu_nodes, 2);
        assert!(counts.cordoned >= 1);
        assert_eq!(counts.daemonsets, 2);
        assert_eq!(counts.bare_pods, 4);
        assert!(counts.statefulsets > 0 && counts.deployments > 0 && counts.pdbs > 0);
        for n in &c.nodes {
            assert!(n.used_pods <= NODE_PODS && n.used_cpu_m <= NODE_CPU_M);
            assert!(n.used_mem_mi <= NODE_MEM_MI && n.used_gpus <= n.gpus);
        }
        for a in c.namespaces.iter().flat_map(|ns| &ns.apps) {
            let placed: Vec<usize> = a.pods.iter().filter_map(|p| p.node).collect();
            for &i in &placed {
                let n = &c.nodes[i];
                assert_eq!(n.gpus > 0, a.gpus > 0, "{} on {}", a.name, n.name);
                assert!(a.pool.is_none_or(|p| p == n.pool));
            }
            if a.anti_affinity {
                let distinct: HashSet<usize> = placed.iter().copied().collect();
                assert_eq!(distinct.len(), placed.len(), "{} shares a node", a.name);
            }
        }
    }

    #[test]
    fn renders_parseable_consistent_documents() {
        use serde_json::Value;
        use std::collections::HashMap;
        let c = plan(&small());
        let files = render::render(&c);
        let mut docs: Vec<Value> = Vec::new();
        for f in &files {
            let parsed: Vec<Value> = serde_saphyr::from_multiple(&f.text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", f.path));
            assert!(parsed.len() <= crate::render::MAX_DOCS_PER_FILE);
            docs.extend(parsed);
        }
        let mut kinds: HashMap<String, usize> = HashMap::new();
        for d in &docs {
            *kinds
                .entry(d["kind"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
        }
        let counts = c.counts();
        assert_eq!(kinds["Pod"], counts.pods);
        assert_eq!(kinds["Node"], counts.nodes);
        assert_eq!(kinds["Deployment"], counts.deployments);
        assert_eq!(kinds["ReplicaSet"], counts.deployments);
        assert_eq!(kinds["StatefulSet"], counts.statefulsets);
        assert_eq!(kinds["DaemonSet"], 2);
        assert_eq!(kinds["ControllerRevision"], counts.statefulsets + 2);
        assert_eq!(kinds["PodDisruptionBudget"], counts.pdbs);
        let uids: HashMap<&str, &str> = docs
            .iter()
            .filter_map(|d| Some((d["metadata"]["uid"].as_str()?, d["kind"].as_str()?)))
            .collect();
        let node_names: HashSet<&str> = c.nodes.iter().map(|n| n.name.as_str()).collect();
        for d in docs.iter().filter(|d| d["kind"] == "Pod") {
            for r in d["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
            {
                assert_eq!(
                    uids.get(r["uid"].as_str().unwrap_or("")),
                    r["kind"].as_str().as_ref()
                );
            }
            let node = d["spec"]["nodeName"].as_str().expect("every pod placed");
            assert!(node_names.contains(node));
        }
        let cordoned = docs
            .iter()
            .filter(|d| d["kind"] == "Node" && d["spec"]["unschedulable"] == true)
            .count();
        assert_eq!(cordoned, counts.cordoned);
    }

    #[test]
    fn deterministic() {
        let a = plan(&small());
        let b = plan(&small());
        assert_eq!(a.counts(), b.counts());
        assert_eq!(
            render::render(&a)
                .into_iter()
                .map(|f| f.text)
                .collect::<Vec<_>>(),
            render::render(&b)
                .into_iter()
                .map(|f| f.text)
                .collect::<Vec<_>>()
        );
    }
}
