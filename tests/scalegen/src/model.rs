//! The generated cluster as plain values: nodes, namespaces, workloads, pods
//! and events, decided once from the seed. Rendering to YAML is elsewhere.

use crate::rng::Rng;

/// What to generate. `deployments`/`events` default from `pods`.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub nodes: usize,
    pub namespaces: usize,
    pub pods: usize,
    pub deployments: Option<usize>,
    pub events: Option<usize>,
    pub single_namespace: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            seed: 42,
            nodes: 30,
            namespaces: 10,
            pods: 5000,
            deployments: None,
            events: None,
            single_namespace: None,
        }
    }
}

pub const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub uid: String,
    pub zone: &'static str,
    pub instance_type: &'static str,
    pub cores: u64,
    pub memory_mi: u64,
    pub alloc_cpu_m: u64,
    pub alloc_mem_mi: u64,
    pub alloc_pods: u64,
    pub ip: String,
    /// First pod IP of the node's /21, as a u32.
    pub pod_cidr_base: u32,
    pub age_days: u64,
    // Scheduler bookkeeping.
    pub used_cpu_m: u64,
    pub used_mem_mi: u64,
    pub used_pods: u64,
}

/// Why a crashing container exits; each has its own log and exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashCause {
    DatabaseRefused,
    MissingEnv,
    BadConfig,
    NilPointer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodState {
    /// Running and Ready.
    Running,
    /// Waiting in CrashLoopBackOff; the last run ended with an error.
    CrashLoop { restarts: u64, cause: CrashCause },
    /// Pending, PodScheduled=False/Unschedulable.
    Pending,
    /// Running and Ready again, but the last run was OOMKilled (exit 137).
    OomKilled { restarts: u64 },
}

#[derive(Debug, Clone)]
pub struct Pod {
    pub name: String,
    pub uid: String,
    pub node: Option<usize>,
    pub ip: Option<String>,
    pub state: PodState,
    pub age_min: u64,
    pub container_id: String,
}

impl Pod {
    pub fn ready(&self) -> bool {
        matches!(self.state, PodState::Running | PodState::OomKilled { .. })
    }
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub name: String,
    pub uid: String,
    pub rs_hash: String,
    pub rs_uid: String,
    pub svc_uid: String,
    pub svc_ip: String,
    pub image: String,
    pub image_digest: String,
    pub version: String,
    pub revision: u64,
    pub cpu_m: u64,
    pub mem_mi: u64,
    pub port: u16,
    pub age_days: u64,
    pub rs_age_min: u64,
    pub pods: Vec<Pod>,
    /// PVC uid and size in Gi, when the workload has one.
    pub pvc: Option<(String, u64)>,
    /// PodDisruptionBudget minAvailable, when it has one.
    pub pdb_min_available: Option<u64>,
    /// HorizontalPodAutoscaler maxReplicas, when it has one.
    pub hpa_max: Option<u64>,
}

impl Deployment {
    pub fn ready_replicas(&self) -> u64 {
        self.pods.iter().filter(|p| p.ready()).count() as u64
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub kind: &'static str,
    pub api_version: &'static str,
    pub object: String,
    pub object_uid: String,
    pub field_path: bool,
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
    pub first_min: u64,
    pub last_min: u64,
    pub count: u64,
    pub component: &'static str,
    pub host: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Namespace {
    pub name: String,
    pub age_days: u64,
    pub deployments: Vec<Deployment>,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub seed: u64,
    pub nodes: Vec<Node>,
    pub namespaces: Vec<Namespace>,
}

/// Counts the bench harness and the tests read back (also written as
/// `scale.json` beside the fixtures).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub nodes: usize,
    pub namespaces: usize,
    pub deployments: usize,
    pub pods: usize,
    pub running: usize,
    pub crashloop: usize,
    pub pending: usize,
    pub oomkilled: usize,
    pub events: usize,
    pub pvcs: usize,
    pub pdbs: usize,
    pub hpas: usize,
}

impl Cluster {
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            nodes: self.nodes.len(),
            namespaces: self.namespaces.len(),
            ..Counts::default()
        };
        for ns in &self.namespaces {
            c.events += ns.events.len();
            for d in &ns.deployments {
                c.deployments += 1;
                c.pvcs += usize::from(d.pvc.is_some());
                c.pdbs += usize::from(d.pdb_min_available.is_some());
                c.hpas += usize::from(d.hpa_max.is_some());
                for p in &d.pods {
                    c.pods += 1;
                    match p.state {
                        PodState::Running => c.running += 1,
                        PodState::CrashLoop { .. } => c.crashloop += 1,
                        PodState::Pending => c.pending += 1,
                        PodState::OomKilled { .. } => c.oomkilled += 1,
                    }
                }
            }
        }
        c
    }
}

pub(crate) const NS_NAMES: [&str; 16] = [
    "payments",
    "checkout",
    "search",
    "platform",
    "data",
    "identity",
    "web",
    "mobile-api",
    "observability",
    "ml-serving",
    "billing",
    "inventory",
    "messaging",
    "media",
    "partners",
    "reporting",
];
pub(crate) const SERVICES: [&str; 20] = [
    "api",
    "orders",
    "ledger",
    "catalog",
    "pricing",
    "auth",
    "sessions",
    "notifications",
    "shipping",
    "ingest",
    "export",
    "users",
    "recommend",
    "gateway",
    "invoices",
    "thumbnails",
    "indexer",
    "audit",
    "quotes",
    "webhooks",
];
pub(crate) const ROLES: [&str; 10] = [
    "server",
    "worker",
    "frontend",
    "consumer",
    "sync",
    "cache",
    "scheduler",
    "proxy",
    "exporter",
    "grpc",
];
const CPU_M: [u64; 4] = [10, 25, 50, 100];
const MEM_MI: [u64; 4] = [32, 64, 128, 256];
/// (cores, instance type); memory is 4 GiB per core as on m5.
const SIZES: [(u64, &str); 7] = [
    (8, "m5.2xlarge"),
    (16, "m5.4xlarge"),
    (32, "m5.8xlarge"),
    (48, "m5.12xlarge"),
    (64, "m5.16xlarge"),
    (96, "m5.24xlarge"),
    (192, "m7i.48xlarge"),
];
/// Largest node count whose /21 pod ranges fit in 10.128.0.0/9.
pub const MAX_NODES: usize = 4096;

/// Decide the whole cluster from `cfg`.
pub fn plan(cfg: &Config) -> Cluster {
    let mut rng = Rng::new(cfg.seed);
    let nodes_n = cfg.nodes.clamp(1, MAX_NODES);
    let ns_names = namespace_names(cfg);
    let mut nodes = plan_nodes(&mut rng, nodes_n, cfg.pods);

    let deployments_total = cfg
        .deployments
        .unwrap_or_else(|| cfg.pods.div_ceil(10))
        .clamp(usize::from(cfg.pods > 0), cfg.pods.max(1));
    let pods_per_ns = split_evenly(cfg.pods, ns_names.len());
    let deps_per_ns = split_evenly(deployments_total, ns_names.len());

    let mut namespaces = Vec::with_capacity(ns_names.len());
    let mut svc_counter: u32 = 0;
    for (i, name) in ns_names.into_iter().enumerate() {
        // A namespace with pods needs at least one deployment to own them.
        let deps = if pods_per_ns[i] > 0 {
            deps_per_ns[i].clamp(1, pods_per_ns[i])
        } else {
            0
        };
        let replicas = random_split(&mut rng, pods_per_ns[i], deps);
        let mut deployments = Vec::with_capacity(deps);
        for (j, r) in replicas.into_iter().enumerate() {
            deployments.push(plan_deployment(
                &mut rng,
                &mut nodes,
                j,
                r,
                &mut svc_counter,
            ));
        }
        namespaces.push(Namespace {
            name,
            age_days: rng.range(60, 400),
            deployments,
            events: Vec::new(),
        });
    }
    let mut cluster = Cluster {
        seed: cfg.seed,
        nodes,
        namespaces,
    };
    plan_events(&mut rng, &mut cluster, cfg.events.unwrap_or(cfg.pods));
    cluster
}

fn namespace_names(cfg: &Config) -> Vec<String> {
    if let Some(name) = &cfg.single_namespace {
        return vec![name.clone()];
    }
    let n = cfg.namespaces.max(1);
    (0..n)
        .map(|i| {
            let base = NS_NAMES[i % NS_NAMES.len()];
            if i < NS_NAMES.len() {
                base.to_string()
            } else {
                format!("{base}-{}", i / NS_NAMES.len() + 1)
            }
        })
        .collect()
}

/// `total` split into `parts` near-equal shares (the first ones larger).
fn split_evenly(total: usize, parts: usize) -> Vec<usize> {
    let parts = parts.max(1);
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

/// `total` split into `parts` shares of at least 1 each, the rest spread at
/// random, so replica counts vary like in a real namespace.
fn random_split(rng: &mut Rng, total: usize, parts: usize) -> Vec<usize> {
    if parts == 0 {
        return Vec::new();
    }
    let mut shares = vec![1usize; parts];
    for _ in parts..total {
        shares[rng.below(parts as u64) as usize] += 1;
    }
    shares
}

fn plan_nodes(rng: &mut Rng, n: usize, pods: usize) -> Vec<Node> {
    // Room for every pod with 30% headroom; the default 110 below that.
    let per_node = ((pods as u64 * 13).div_ceil(n as u64 * 10)).max(110);
    let alloc_pods = per_node.div_ceil(10) * 10;
    // Sized for the largest request (100m, 256Mi) so bin-packing never fails.
    let need_cores = (alloc_pods * 110).div_ceil(1000);
    let (cores, instance_type) = SIZES
        .iter()
        .copied()
        .find(|(c, _)| *c >= need_cores)
        .unwrap_or(SIZES[SIZES.len() - 1]);
    let memory_mi = cores * 4 * 1024 - 512;
    (0..n)
        .map(|i| {
            let zone = ZONES[i % ZONES.len()];
            // 10.128.0.0/9, one /21 (2048 addresses) per node.
            let pod_cidr_base = (10u32 << 24) | (128u32 << 16) | ((i as u32) << 11);
            Node {
                name: format!("node-{:03}", i + 1),
                uid: rng.uuid(),
                zone,
                instance_type,
                cores,
                memory_mi,
                alloc_cpu_m: cores * 1000 - 90 - cores * 5,
                alloc_mem_mi: memory_mi * 96 / 100,
                alloc_pods,
                ip: format!("10.0.{}.{}", (i % ZONES.len()) + 1, 10 + i / ZONES.len()),
                pod_cidr_base,
                age_days: rng.range(3, 90),
                used_cpu_m: 0,
                used_mem_mi: 0,
                used_pods: 0,
            }
        })
        .collect()
}

fn fits(n: &Node, cpu: u64, mem: u64) -> bool {
    n.used_pods < n.alloc_pods
        && n.used_cpu_m + cpu <= n.alloc_cpu_m
        && n.used_mem_mi + mem <= n.alloc_mem_mi
}

/// A node with room for the pod: a few random tries, then a scan.
fn schedule(rng: &mut Rng, nodes: &mut [Node], cpu: u64, mem: u64) -> Option<usize> {
    let n = nodes.len();
    for _ in 0..8 {
        let i = rng.below(n as u64) as usize;
        if fits(&nodes[i], cpu, mem) {
            return Some(i);
        }
    }
    let start = rng.below(n as u64) as usize;
    (0..n)
        .map(|k| (start + k) % n)
        .find(|&i| fits(&nodes[i], cpu, mem))
}

fn plan_deployment(
    rng: &mut Rng,
    nodes: &mut [Node],
    index: usize,
    replicas: usize,
    svc_counter: &mut u32,
) -> Deployment {
    let base = format!(
        "{}-{}",
        SERVICES[index % SERVICES.len()],
        ROLES[(index / SERVICES.len()) % ROLES.len()]
    );
    let round = index / (SERVICES.len() * ROLES.len());
    let name = if round == 0 {
        base
    } else {
        format!("{base}-{}", round + 1)
    };
    let hash_len = 9 + rng.below(2) as usize;
    let rs_hash = rng.name_suffix(hash_len);
    let cpu_m = *rng.pick(&CPU_M);
    let mem_mi = *rng.pick(&MEM_MI);
    let version = format!(
        "{}.{}.{}",
        rng.range(1, 4),
        rng.range(0, 30),
        rng.range(0, 12)
    );
    let image = format!("registry.example.com/{name}:{version}");
    let rs_age_min = rng.range(90, 60 * 24 * 30);
    *svc_counter += 1;
    let svc_ip = format!(
        "10.100.{}.{}",
        1 + *svc_counter / 250,
        1 + *svc_counter % 250
    );

    let mut pods = Vec::with_capacity(replicas);
    let mut used_suffixes = std::collections::HashSet::new();
    for _ in 0..replicas {
        let mut suffix = rng.name_suffix(5);
        while !used_suffixes.insert(suffix.clone()) {
            suffix = rng.name_suffix(5);
        }
        // ~2% crashing, ~1% unschedulable, ~0.5% recovering from an OOM kill.
        let roll = rng.below(1000);
        let mut state = match roll {
            0..20 => PodState::CrashLoop {
                restarts: rng.range(3, 80),
                cause: *rng.pick(&[
                    CrashCause::DatabaseRefused,
                    CrashCause::MissingEnv,
                    CrashCause::BadConfig,
                    CrashCause::NilPointer,
                ]),
            },
            20..30 => PodState::Pending,
            30..35 => PodState::OomKilled {
                restarts: rng.range(1, 6),
            },
            _ => PodState::Running,
        };
        let node = if state == PodState::Pending {
            None
        } else {
            let picked = schedule(rng, nodes, cpu_m, mem_mi);
            if picked.is_none() {
                state = PodState::Pending;
            }
            picked
        };
        let ip = node.map(|i| {
            let n = &mut nodes[i];
            n.used_cpu_m += cpu_m;
            n.used_mem_mi += mem_mi;
            n.used_pods += 1;
            let addr = n.pod_cidr_base + 1 + n.used_pods as u32;
            format!(
                "{}.{}.{}.{}",
                addr >> 24,
                (addr >> 16) & 0xff,
                (addr >> 8) & 0xff,
                addr & 0xff
            )
        });
        // Most pods are as old as their ReplicaSet; some are replacements.
        let age_min = if rng.chance(150) {
            rng.range(5, rs_age_min)
        } else {
            rs_age_min
        };
        pods.push(Pod {
            name: format!("{name}-{rs_hash}-{suffix}"),
            uid: rng.uuid(),
            node,
            ip,
            state,
            age_min,
            container_id: rng.hex(64),
        });
    }
    let pvc = rng
        .chance(100)
        .then(|| (rng.uuid(), *rng.pick(&[10u64, 20, 50, 100])));
    let pdb_min_available =
        (replicas >= 2 && rng.chance(300)).then(|| (replicas as u64).div_ceil(2));
    let hpa_max = rng.chance(200).then(|| replicas as u64 * 2 + 1);
    Deployment {
        uid: rng.uuid(),
        rs_uid: rng.uuid(),
        svc_uid: rng.uuid(),
        svc_ip,
        image,
        image_digest: rng.hex(64),
        version,
        revision: rng.range(1, 40),
        cpu_m,
        mem_mi,
        port: *rng.pick(&[8080u16, 8000, 3000, 9000, 50051]),
        age_days: rng.range(30, 400),
        rs_age_min,
        pods,
        pvc,
        pdb_min_available,
        hpa_max,
        name,
        rs_hash,
    }
}

/// Exactly `target` events (or as many as the objects can plausibly have):
/// every pod's most telling event first (BackOff for a crasher,
/// FailedScheduling for a pending pod, Scheduled for the rest), then the
/// next most telling one, and so on.
fn plan_events(rng: &mut Rng, cluster: &mut Cluster, target: usize) {
    let node_names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    let nodes_total = node_names.len();
    const LEVELS: usize = 6;
    let mut made = 0usize;
    for level in 0..LEVELS {
        for ns in &mut cluster.namespaces {
            for d in &ns.deployments {
                if made >= target {
                    return;
                }
                if level == 1 {
                    ns.events.push(deployment_event(rng, d));
                    made += 1;
                }
                for p in &d.pods {
                    if made >= target {
                        return;
                    }
                    let host = p.node.map(|i| node_names[i].clone());
                    if let Some(e) = pod_event(rng, &ns.name, d, p, host, nodes_total, level) {
                        ns.events.push(e);
                        made += 1;
                    }
                }
            }
        }
    }
}

fn event_name(rng: &mut Rng, object: &str) -> String {
    format!(
        "{object}.{:016x}",
        0x1800_0000_0000_0000u64 | (rng.next_u64() >> 8)
    )
}

fn deployment_event(rng: &mut Rng, d: &Deployment) -> Event {
    Event {
        name: event_name(rng, &d.name),
        kind: "Deployment",
        api_version: "apps/v1",
        object: d.name.clone(),
        object_uid: d.uid.clone(),
        field_path: false,
        warning: false,
        reason: "ScalingReplicaSet",
        message: format!(
            "Scaled up replica set {}-{} from 0 to {}",
            d.name,
            d.rs_hash,
            d.pods.len()
        ),
        first_min: d.rs_age_min,
        last_min: d.rs_age_min,
        count: 1,
        component: "deployment-controller",
        host: None,
    }
}

fn pod_event(
    rng: &mut Rng,
    ns: &str,
    d: &Deployment,
    p: &Pod,
    host: Option<String>,
    nodes_total: usize,
    level: usize,
) -> Option<Event> {
    let kubelet = |reason, message: String, warning, first, last, count| Event {
        name: String::new(),
        kind: "Pod",
        api_version: "v1",
        object: p.name.clone(),
        object_uid: p.uid.clone(),
        field_path: true,
        warning,
        reason,
        message,
        first_min: first,
        last_min: last,
        count,
        component: "kubelet",
        host: host.clone(),
    };
    let scheduled = || Event {
        field_path: false,
        component: "default-scheduler",
        host: None,
        ..kubelet(
            "Scheduled",
            format!(
                "Successfully assigned {ns}/{} to {}",
                p.name,
                host.clone().unwrap_or_default()
            ),
            false,
            p.age_min,
            p.age_min,
            1,
        )
    };
    let c = &d.name;
    let img = &d.image;
    let mut e = match (&p.state, level) {
        (PodState::CrashLoop { restarts, .. }, 0) => kubelet(
            "BackOff",
            format!(
                "Back-off restarting failed container {c} in pod {}_{ns}({})",
                p.name, p.uid
            ),
            true,
            p.age_min.saturating_sub(1).max(1),
            1 + rng.below(4),
            *restarts,
        ),
        (PodState::CrashLoop { restarts, .. }, 2) => kubelet(
            "Unhealthy",
            format!(
                "Readiness probe failed: Get \"http://{}:{}/readyz\": dial tcp {}:{}: connect: connection refused",
                p.ip.as_deref().unwrap_or_default(),
                d.port,
                p.ip.as_deref().unwrap_or_default(),
                d.port
            ),
            true,
            p.age_min,
            2,
            restarts * 2,
        ),
        (PodState::CrashLoop { restarts, .. }, 3) => kubelet(
            "Pulled",
            format!("Container image \"{img}\" already present on machine"),
            false,
            p.age_min,
            2,
            *restarts,
        ),
        (PodState::CrashLoop { restarts, .. }, 4) => kubelet(
            "Started",
            format!("Started container {c}"),
            false,
            p.age_min,
            2,
            restarts + 1,
        ),
        (PodState::CrashLoop { .. }, 5) => scheduled(),
        (PodState::Pending, 0) => Event {
            field_path: false,
            component: "default-scheduler",
            host: None,
            ..kubelet(
                "FailedScheduling",
                format!(
                    "0/{nodes_total} nodes are available: {nodes_total} Insufficient memory. preemption: 0/{nodes_total} nodes are available: {nodes_total} No preemption victims found for incoming pod."
                ),
                true,
                p.age_min,
                rng.range(1, 5),
                rng.range(2, 40),
            )
        },
        (PodState::Running | PodState::OomKilled { .. }, 0) => scheduled(),
        (PodState::Running | PodState::OomKilled { .. }, 2) => kubelet(
            "Pulled",
            format!("Container image \"{img}\" already present on machine"),
            false,
            p.age_min,
            p.age_min,
            1,
        ),
        (PodState::Running | PodState::OomKilled { .. }, 3) => kubelet(
            "Created",
            format!("Created container: {c}"),
            false,
            p.age_min,
            p.age_min,
            1,
        ),
        (PodState::Running | PodState::OomKilled { .. }, 4) => kubelet(
            "Started",
            format!("Started container {c}"),
            false,
            p.age_min,
            p.age_min,
            1,
        ),
        _ => return None,
    };
    e.name = event_name(rng, &p.name);
    Some(e)
}
