//! The drainplan cluster as fixture YAML (hand-rolled formatting, as in
//! `crate::render`): nodes with pools, GPUs, taints and cordons; workloads
//! with their ReplicaSets/ControllerRevisions, pods and PDBs with status.

use std::fmt::Write as _;

use super::{
    App, Budget, Cluster, GPUS_PER_NODE, Kind, NODE_CPU_M, NODE_MEM_MI, NODE_PODS, Node, Pod,
};
use crate::render::{Chunked, FixtureFile, indent, node_conditions, q};

/// Every fixture file: cluster-scoped objects first, then per namespace.
pub fn render(c: &Cluster) -> Vec<FixtureFile> {
    let mut files = Vec::new();
    {
        let mut out = Chunked::new(&mut files, "cluster".into());
        for ns in c
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .chain(["kube-system"])
        {
            let b = out.doc();
            w!(
                b,
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  creationTimestamp: now-400d\n  labels:\n    kubernetes.io/metadata.name: {ns}\nspec:\n  finalizers:\n  - kubernetes\nstatus:\n  phase: Active\n"
            );
        }
        for n in &c.nodes {
            render_node(out.doc(), n);
        }
    }
    {
        let mut out = Chunked::new(&mut files, "namespaces/kube-system/workloads".into());
        for ds in &c.daemonsets {
            render_app(&mut out, c, "kube-system", ds);
        }
    }
    for ns in &c.namespaces {
        let mut out = Chunked::new(&mut files, format!("namespaces/{}/workloads", ns.name));
        for a in &ns.apps {
            render_app(&mut out, c, &ns.name, a);
        }
        drop(out);
        let mut out = Chunked::new(&mut files, format!("namespaces/{}/policy", ns.name));
        for a in &ns.apps {
            render_pdb(&mut out, &ns.name, a);
        }
    }
    files
}

fn render_node(b: &mut String, n: &Node) {
    let cidr = format!(
        "{}.{}.{}.0/24",
        n.pod_cidr_base >> 24,
        (n.pod_cidr_base >> 16) & 0xff,
        (n.pod_cidr_base >> 8) & 0xff
    );
    let instance = if n.gpus > 0 {
        "p4d.24xlarge"
    } else {
        "m5.4xlarge"
    };
    w!(
        b,
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  uid: {uid}\n  creationTimestamp: now-{age}d\n  labels:\n    kubernetes.io/arch: amd64\n    kubernetes.io/hostname: {name}\n    kubernetes.io/os: linux\n    node.kubernetes.io/instance-type: {instance}\n    pool: {pool}\n    topology.kubernetes.io/region: us-east-1\n    topology.kubernetes.io/zone: {zone}\n",
        name = n.name,
        uid = n.uid,
        age = n.age_days,
        pool = n.pool,
        zone = n.zone,
    );
    if n.gpus > 0 {
        b.push_str("    accelerator: nvidia-a100\n");
    }
    w!(b, "spec:\n  podCIDR: {cidr}\n  podCIDRs:\n  - {cidr}\n");
    let mut taints = Vec::new();
    if n.gpus > 0 {
        taints.push(
            "  - key: nvidia.com/gpu\n    value: present\n    effect: NoSchedule\n".to_string(),
        );
    }
    if n.cordoned {
        b.push_str("  unschedulable: true\n");
        taints.push(
            "  - key: node.kubernetes.io/unschedulable\n    effect: NoSchedule\n    timeAdded: now-2h\n"
                .to_string(),
        );
    }
    if !taints.is_empty() {
        b.push_str("  taints:\n");
        for t in taints {
            b.push_str(&t);
        }
    }
    let gpu = if n.gpus > 0 {
        format!("    nvidia.com/gpu: \"{}\"\n", GPUS_PER_NODE)
    } else {
        String::new()
    };
    w!(
        b,
        "status:\n  addresses:\n  - address: {ip}\n    type: InternalIP\n  - address: {name}\n    type: Hostname\n  allocatable:\n    cpu: {cpu}m\n    ephemeral-storage: \"95491281146\"\n    memory: {mem}Mi\n{gpu}    pods: \"{pods}\"\n  capacity:\n    cpu: \"16\"\n    ephemeral-storage: 104845292Ki\n    memory: 64Gi\n{gpu}    pods: \"{pods}\"\n{conditions}  nodeInfo:\n    architecture: amd64\n    containerRuntimeVersion: containerd://2.0.5\n    kernelVersion: 6.8.0-1029-aws\n    kubeletVersion: v1.33.2\n    operatingSystem: linux\n    osImage: Ubuntu 24.04.2 LTS\n",
        ip = n.ip,
        name = n.name,
        cpu = NODE_CPU_M,
        mem = NODE_MEM_MI,
        pods = NODE_PODS,
        conditions = node_conditions(&format!("{}d", n.age_days)),
    );
}

/// The pod template spec (indent 0), shared by the workload, its
/// ReplicaSet/ControllerRevision and its pods.
fn pod_spec(a: &App) -> String {
    let mut b = String::new();
    let gpu = if a.gpus > 0 {
        format!("      nvidia.com/gpu: \"{}\"\n", a.gpus)
    } else {
        String::new()
    };
    w!(
        b,
        "containers:\n- name: {n}\n  image: registry.example.com/{n}:{v}\n  imagePullPolicy: IfNotPresent\n  resources:\n    requests:\n      cpu: {cpu}m\n      memory: {mem}Mi\n{gpu}    limits:\n      memory: {lim}Mi\n{gpu}  terminationMessagePath: /dev/termination-log\n  terminationMessagePolicy: File\n",
        n = a.name,
        v = a.version,
        cpu = a.cpu_m,
        mem = a.mem_mi,
        lim = a.mem_mi * 2,
    );
    if a.empty_dir {
        w!(
            b,
            "  volumeMounts:\n  - name: cache\n    mountPath: /var/cache/{n}\nvolumes:\n- name: cache\n  emptyDir: {{}}\n",
            n = a.name
        );
    }
    if let Some(pool) = a.pool {
        w!(b, "nodeSelector:\n  pool: {pool}\n");
    }
    if a.gpus > 0 {
        b.push_str("affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n      - matchExpressions:\n        - key: accelerator\n          operator: In\n          values:\n          - nvidia-a100\n");
    }
    if a.anti_affinity {
        if a.gpus == 0 {
            b.push_str("affinity:\n");
        }
        w!(
            b,
            "  podAntiAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n    - labelSelector:\n        matchLabels:\n          app: {n}\n      topologyKey: kubernetes.io/hostname\n",
            n = a.name
        );
    }
    match a.kind {
        Kind::DaemonSet => b.push_str("tolerations:\n- operator: Exists\n"),
        _ if a.gpus > 0 => b.push_str("tolerations:\n- key: nvidia.com/gpu\n  operator: Equal\n  value: present\n  effect: NoSchedule\n"),
        _ => {}
    }
    b.push_str("dnsPolicy: ClusterFirst\nrestartPolicy: Always\nschedulerName: default-scheduler\nserviceAccountName: default\nterminationGracePeriodSeconds: 30\n");
    b
}

fn labels(a: &App, indent_by: &str) -> String {
    let mut s = format!("{indent_by}app: {}\n", a.name);
    match a.kind {
        Kind::Deployment => w!(s, "{indent_by}pod-template-hash: {}\n", a.hash),
        Kind::StatefulSet | Kind::DaemonSet => {
            w!(s, "{indent_by}controller-revision-hash: {}\n", a.hash)
        }
        Kind::Bare => {}
    }
    s
}

fn render_app(out: &mut Chunked, c: &Cluster, ns: &str, a: &App) {
    let spec = pod_spec(a);
    let replicas = a.pods.len();
    let ready = a.ready_pods();
    let h = a.age_days * 24;
    match a.kind {
        Kind::Deployment => {
            let tmpl = indent(&spec, "      ");
            let b = out.doc();
            w!(
                b,
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {n}\n  namespace: {ns}\n  uid: {uid}\n  creationTimestamp: now-{h}h\n  generation: 1\n  annotations:\n    deployment.kubernetes.io/revision: \"1\"\n  labels:\n    app: {n}\nspec:\n  progressDeadlineSeconds: 600\n  replicas: {replicas}\n  revisionHistoryLimit: 10\n  selector:\n    matchLabels:\n      app: {n}\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 25%\n  template:\n    metadata:\n      labels:\n        app: {n}\n{ann}    spec:\n{tmpl}status:\n  observedGeneration: 1\n  replicas: {replicas}\n  updatedReplicas: {replicas}\n  readyReplicas: {ready}\n  availableReplicas: {ready}\n  conditions:\n  - type: Available\n    status: \"True\"\n    lastUpdateTime: now-{h}h\n    lastTransitionTime: now-{h}h\n    reason: MinimumReplicasAvailable\n    message: Deployment has minimum availability.\n  - type: Progressing\n    status: \"True\"\n    lastUpdateTime: now-{h}h\n    lastTransitionTime: now-{h}h\n    reason: NewReplicaSetAvailable\n    message: {pm}\n",
                n = a.name,
                uid = a.uid,
                ann = template_annotations(a, "      "),
                pm = q(&format!(
                    "ReplicaSet \"{}-{}\" has successfully progressed.",
                    a.name, a.hash
                )),
            );
            let b = out.doc();
            w!(
                b,
                "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: {n}-{hash}\n  namespace: {ns}\n  uid: {rsuid}\n  creationTimestamp: now-{h}h\n  generation: 1\n  annotations:\n    deployment.kubernetes.io/desired-replicas: \"{replicas}\"\n    deployment.kubernetes.io/max-replicas: \"{maxr}\"\n    deployment.kubernetes.io/revision: \"1\"\n  labels:\n{lbl}  ownerReferences:\n  - apiVersion: apps/v1\n    kind: Deployment\n    name: {n}\n    uid: {uid}\n    controller: true\n    blockOwnerDeletion: true\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n{lbl2}  template:\n    metadata:\n      labels:\n{lbl3}{ann}    spec:\n{tmpl}status:\n  observedGeneration: 1\n  replicas: {replicas}\n  fullyLabeledReplicas: {replicas}\n  readyReplicas: {ready}\n  availableReplicas: {ready}\n",
                n = a.name,
                hash = a.hash,
                rsuid = a.child_uid,
                uid = a.uid,
                maxr = replicas + replicas.div_ceil(4),
                lbl = labels(a, "    "),
                lbl2 = labels(a, "      "),
                lbl3 = labels(a, "        "),
                ann = template_annotations(a, "      "),
            );
        }
        Kind::StatefulSet | Kind::DaemonSet => {
            let kind = if a.kind == Kind::StatefulSet {
                "StatefulSet"
            } else {
                "DaemonSet"
            };
            let tmpl = indent(&spec, "      ");
            let b = out.doc();
            w!(
                b,
                "apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {n}\n  namespace: {ns}\n  uid: {uid}\n  creationTimestamp: now-{h}h\n  generation: 1\n  labels:\n    app: {n}\nspec:\n",
                n = a.name,
                uid = a.uid,
            );
            if a.kind == Kind::StatefulSet {
                w!(
                    b,
                    "  replicas: {replicas}\n  serviceName: {n}\n  podManagementPolicy: OrderedReady\n  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      partition: 0\n",
                    n = a.name
                );
            } else {
                b.push_str("  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 0\n      maxUnavailable: 1\n");
            }
            w!(
                b,
                "  revisionHistoryLimit: 10\n  selector:\n    matchLabels:\n      app: {n}\n  template:\n    metadata:\n      labels:\n        app: {n}\n    spec:\n{tmpl}status:\n  observedGeneration: 1\n",
                n = a.name
            );
            if a.kind == Kind::StatefulSet {
                w!(
                    b,
                    "  replicas: {replicas}\n  readyReplicas: {ready}\n  availableReplicas: {ready}\n  currentReplicas: {replicas}\n  updatedReplicas: {replicas}\n  currentRevision: {n}-{hash}\n  updateRevision: {n}-{hash}\n  collisionCount: 0\n",
                    n = a.name,
                    hash = a.hash
                );
            } else {
                w!(
                    b,
                    "  currentNumberScheduled: {replicas}\n  desiredNumberScheduled: {replicas}\n  numberMisscheduled: 0\n  numberReady: {ready}\n  numberAvailable: {ready}\n  updatedNumberScheduled: {replicas}\n"
                );
                if ready < replicas as u64 {
                    w!(b, "  numberUnavailable: {}\n", replicas as u64 - ready);
                }
            }
            let b = out.doc();
            w!(
                b,
                "apiVersion: apps/v1\nkind: ControllerRevision\nmetadata:\n  name: {n}-{hash}\n  namespace: {ns}\n  uid: {cuid}\n  creationTimestamp: now-{h}h\n  labels:\n    app: {n}\n    controller-revision-hash: {hash}\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: {kind}\n    name: {n}\n    uid: {uid}\n    controller: true\n    blockOwnerDeletion: true\nrevision: 1\ndata:\n  spec:\n    template:\n      $patch: replace\n      metadata:\n        labels:\n          app: {n}\n      spec:\n{tmpl2}",
                n = a.name,
                hash = a.hash,
                cuid = a.child_uid,
                uid = a.uid,
                tmpl2 = indent(&spec, "        "),
            );
        }
        Kind::Bare => {}
    }
    let pod_spec_text = indent(&spec, "  ");
    for (i, p) in a.pods.iter().enumerate() {
        render_pod(out.doc(), c, ns, a, i, p, &pod_spec_text);
    }
}

fn template_annotations(a: &App, indent_by: &str) -> String {
    if a.safe_to_evict_false {
        format!(
            "{indent_by}annotations:\n{indent_by}  cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"\n"
        )
    } else {
        String::new()
    }
}

fn render_pod(b: &mut String, c: &Cluster, ns: &str, a: &App, ordinal: usize, p: &Pod, spec: &str) {
    w!(
        b,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {pn}\n  namespace: {ns}\n  uid: {uid}\n  creationTimestamp: now-{age}m\n  labels:\n{lbl}",
        pn = p.name,
        uid = p.uid,
        age = p.age_min,
        lbl = labels(a, "    "),
    );
    if a.kind == Kind::StatefulSet {
        w!(
            b,
            "    statefulset.kubernetes.io/pod-name: {pn}\n    apps.kubernetes.io/pod-index: \"{ordinal}\"\n",
            pn = p.name
        );
    }
    if a.kind == Kind::DaemonSet {
        b.push_str("    pod-template-generation: \"1\"\n");
    }
    if a.safe_to_evict_false {
        b.push_str(
            "  annotations:\n    cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"\n",
        );
    }
    let owner = match a.kind {
        Kind::Deployment => Some(("ReplicaSet", format!("{}-{}", a.name, a.hash), &a.child_uid)),
        Kind::StatefulSet => Some(("StatefulSet", a.name.clone(), &a.uid)),
        Kind::DaemonSet => Some(("DaemonSet", a.name.clone(), &a.uid)),
        Kind::Bare => None,
    };
    if let Some((kind, name, uid)) = owner {
        w!(
            b,
            "  ownerReferences:\n  - apiVersion: apps/v1\n    kind: {kind}\n    name: {name}\n    uid: {uid}\n    controller: true\n    blockOwnerDeletion: true\n"
        );
    }
    b.push_str("spec:\n");
    let node = p.node.map(|i| &c.nodes[i]);
    if let Some(n) = node {
        w!(b, "  nodeName: {}\n", n.name);
    }
    if a.kind == Kind::StatefulSet {
        w!(b, "  hostname: {}\n  subdomain: {}\n", p.name, a.name);
    }
    b.push_str(spec);
    let (Some(node), Some(ip)) = (node, p.ip.as_deref()) else {
        w!(
            b,
            "status:\n  phase: Pending\n  qosClass: Burstable\n  conditions:\n  - type: PodScheduled\n    status: \"False\"\n    lastProbeTime: null\n    lastTransitionTime: now-{age}m\n    reason: Unschedulable\n    message: {msg}\n",
            age = p.age_min,
            msg = q(&format!(
                "0/{n} nodes are available: {n} Insufficient cpu. preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod.",
                n = c.nodes.len()
            ))
        );
        return;
    };
    let ready = if p.ready { "True" } else { "False" };
    w!(
        b,
        "status:\n  phase: Running\n  qosClass: Burstable\n  hostIP: {hip}\n  podIP: {ip}\n  podIPs:\n  - ip: {ip}\n  startTime: now-{age}m\n  conditions:\n  - type: Initialized\n    status: \"True\"\n    lastTransitionTime: now-{age}m\n  - type: Ready\n    status: \"{ready}\"\n    lastTransitionTime: now-{age}m\n  - type: ContainersReady\n    status: \"{ready}\"\n    lastTransitionTime: now-{age}m\n  - type: PodScheduled\n    status: \"True\"\n    lastTransitionTime: now-{age}m\n  containerStatuses:\n  - name: {n}\n    image: registry.example.com/{n}:{v}\n    imageID: \"\"\n    ready: {r}\n    started: true\n    restartCount: 0\n    state:\n      running:\n        startedAt: now-{age}m\n",
        hip = node.ip,
        age = p.age_min,
        n = a.name,
        v = a.version,
        r = p.ready,
    );
}

fn render_pdb(out: &mut Chunked, ns: &str, a: &App) {
    let Some(budget) = a.pdb else {
        return;
    };
    let expected = a.pods.len() as u64;
    let healthy = a.ready_pods();
    let (rule, desired) = match budget {
        Budget::MaxUnavailable(m) => (format!("maxUnavailable: {m}"), expected.saturating_sub(m)),
        Budget::MinAvailable(m) => (format!("minAvailable: {m}"), m),
        Budget::MinAvailablePercent(p) => {
            (format!("minAvailable: {p}%"), (expected * p).div_ceil(100))
        }
    };
    let allowed = healthy.saturating_sub(desired);
    let b = out.doc();
    w!(
        b,
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {n}\n  namespace: {ns}\n  creationTimestamp: now-{h}h\n  generation: 1\n  labels:\n    app: {n}\nspec:\n  {rule}\n  selector:\n    matchLabels:\n      app: {n}\nstatus:\n  observedGeneration: 1\n  currentHealthy: {healthy}\n  desiredHealthy: {desired}\n  disruptionsAllowed: {allowed}\n  expectedPods: {expected}\n  conditions:\n  - type: DisruptionAllowed\n    status: \"{st}\"\n    lastTransitionTime: now-{h}h\n    observedGeneration: 1\n    reason: {reason}\n    message: \"\"\n",
        n = a.name,
        h = a.age_days * 24,
        st = if allowed > 0 { "True" } else { "False" },
        reason = if allowed > 0 {
            "SufficientPods"
        } else {
            "InsufficientPods"
        },
    );
}
