//! The cluster model as fixture YAML, written by hand-rolled formatting (tens
//! of thousands of pods in well under a second), in `kubectl get -o yaml` shape.

use std::fmt::Write as _;

use crate::model::{Cluster, CrashCause, Deployment, Event, Namespace, Node, Pod, PodState};

/// One fixture file: a path relative to the output directory, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureFile {
    pub path: String,
    pub text: String,
}

/// A YAML double-quoted scalar (JSON string syntax, which YAML accepts).
pub(crate) fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => w!(out, "\\u{:04x}", c as u32),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Most documents per file. serde-saphyr's default `Budget` refuses more
/// than 1,024 documents (and 1M parser events) per input, so big sets are
/// split into numbered files well under both limits.
pub const MAX_DOCS_PER_FILE: usize = 500;

/// Multi-document files under one path prefix, rolled over every
/// [`MAX_DOCS_PER_FILE`] documents (`events-000.yaml`, `events-001.yaml`, ...).
pub(crate) struct Chunked<'a> {
    prefix: String,
    files: &'a mut Vec<FixtureFile>,
    buf: String,
    docs: usize,
    index: usize,
}

impl<'a> Chunked<'a> {
    pub(crate) fn new(files: &'a mut Vec<FixtureFile>, prefix: String) -> Self {
        Self {
            prefix,
            files,
            buf: String::new(),
            docs: 0,
            index: 0,
        }
    }

    /// The buffer to write the next document into.
    pub(crate) fn doc(&mut self) -> &mut String {
        if self.docs == MAX_DOCS_PER_FILE {
            self.flush();
        }
        if self.docs > 0 {
            self.buf.push_str("---\n");
        }
        self.docs += 1;
        &mut self.buf
    }

    fn flush(&mut self) {
        if self.docs > 0 {
            self.files.push(FixtureFile {
                path: format!("{}-{:03}.yaml", self.prefix, self.index),
                text: std::mem::take(&mut self.buf),
            });
            self.index += 1;
            self.docs = 0;
        }
    }
}

impl Drop for Chunked<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Every fixture file, cluster-scoped objects first (`cluster-*.yaml` sorts
/// before `namespaces/`, and the sandbox loads in name order).
pub fn render(cluster: &Cluster) -> Vec<FixtureFile> {
    let mut files = Vec::new();
    render_cluster(cluster, &mut Chunked::new(&mut files, "cluster".into()));
    for ns in &cluster.namespaces {
        let dir = format!("namespaces/{}", ns.name);
        render_config(ns, &mut Chunked::new(&mut files, format!("{dir}/config")));
        render_workloads(
            cluster,
            ns,
            &mut Chunked::new(&mut files, format!("{dir}/workloads")),
        );
        render_services(
            cluster,
            ns,
            &mut Chunked::new(&mut files, format!("{dir}/services")),
        );
        render_policy(ns, &mut Chunked::new(&mut files, format!("{dir}/policy")));
        render_events(ns, &mut Chunked::new(&mut files, format!("{dir}/events")));
        render_logs(ns, &mut Chunked::new(&mut files, format!("{dir}/logs")));
    }
    files
}

fn render_cluster(c: &Cluster, out: &mut Chunked) {
    for ns in &c.namespaces {
        let b = out.doc();
        w!(
            b,
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {n}\n  creationTimestamp: now-{h}h\n  labels:\n    kubernetes.io/metadata.name: {n}\nspec:\n  finalizers:\n  - kubernetes\nstatus:\n  phase: Active\n",
            n = ns.name,
            h = ns.age_days * 24
        );
    }
    let b = out.doc();
    b.push_str("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: gp3\n  annotations:\n    storageclass.kubernetes.io/is-default-class: \"true\"\nprovisioner: ebs.csi.aws.com\nparameters:\n  type: gp3\nreclaimPolicy: Delete\nvolumeBindingMode: WaitForFirstConsumer\nallowVolumeExpansion: true\n");
    for n in &c.nodes {
        let b = out.doc();
        render_node(b, n);
    }
    for ns in &c.namespaces {
        for d in &ns.deployments {
            if let Some((uid, gi)) = &d.pvc {
                let b = out.doc();
                w!(
                    b,
                    "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-{uid}\n  creationTimestamp: now-{h}h\n  annotations:\n    pv.kubernetes.io/provisioned-by: ebs.csi.aws.com\n  finalizers:\n  - kubernetes.io/pv-protection\nspec:\n  accessModes:\n  - ReadWriteMany\n  capacity:\n    storage: {gi}Gi\n  claimRef:\n    apiVersion: v1\n    kind: PersistentVolumeClaim\n    name: {d}-data\n    namespace: {ns}\n    uid: {uid}\n  csi:\n    driver: ebs.csi.aws.com\n    fsType: ext4\n    volumeHandle: vol-0{vh}\n  persistentVolumeReclaimPolicy: Delete\n  storageClassName: gp3\n  volumeMode: Filesystem\nstatus:\n  phase: Bound\n",
                    h = d.age_days * 24,
                    d = d.name,
                    ns = ns.name,
                    vh = &uid[..8]
                );
            }
        }
    }
}

fn render_node(b: &mut String, n: &Node) {
    let cidr_third = (n.pod_cidr_base >> 8) & 0xff;
    let cidr_second = (n.pod_cidr_base >> 16) & 0xff;
    w!(
        b,
        r#"apiVersion: v1
kind: Node
metadata:
  name: {name}
  uid: {uid}
  creationTimestamp: now-{age}h
  labels:
    beta.kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: {name}
    kubernetes.io/os: linux
    node-role.kubernetes.io/worker: ""
    node.kubernetes.io/instance-type: {it}
    topology.kubernetes.io/region: us-east-1
    topology.kubernetes.io/zone: {zone}
spec:
  podCIDR: 10.{cidr_second}.{cidr_third}.0/21
  podCIDRs:
  - 10.{cidr_second}.{cidr_third}.0/21
  providerID: aws:///{zone}/i-0{idhex}
status:
  addresses:
  - address: {ip}
    type: InternalIP
  - address: {name}
    type: Hostname
  allocatable:
    cpu: {acpu}m
    ephemeral-storage: "95491281146"
    memory: {amem}Mi
    pods: "{apods}"
  capacity:
    cpu: "{cores}"
    ephemeral-storage: 104845292Ki
    memory: {mem}Mi
    pods: "{apods}"
{conditions}  daemonEndpoints:
    kubeletEndpoint:
      Port: 10250
  nodeInfo:
    architecture: amd64
    bootID: {uid}
    containerRuntimeVersion: containerd://2.0.5
    kernelVersion: 6.8.0-1029-aws
    kubeProxyVersion: v1.33.2
    kubeletVersion: v1.33.2
    machineID: {mid}
    operatingSystem: linux
    osImage: Ubuntu 24.04.2 LTS
    systemUUID: {uid}
"#,
        name = n.name,
        uid = n.uid,
        age = n.age_days * 24,
        it = n.instance_type,
        zone = n.zone,
        idhex = n.uid.replace('-', "")[..16].to_string(),
        ip = n.ip,
        acpu = n.alloc_cpu_m,
        amem = n.alloc_mem_mi,
        apods = n.alloc_pods,
        cores = n.cores,
        mem = n.memory_mi,
        mid = n.uid.replace('-', ""),
        conditions = node_conditions(&format!("{}h", n.age_days * 24)),
    );
}

/// A healthy node's four conditions (at `status:` indent), all true since
/// `since` ago (`72h`, `30d`).
pub(crate) fn node_conditions(since: &str) -> String {
    let mut b = String::from("  conditions:\n");
    for (kind, status, reason, message) in [
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        (
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        (
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        (
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ] {
        w!(
            b,
            "  - type: {kind}\n    status: \"{status}\"\n    lastHeartbeatTime: now-30s\n    lastTransitionTime: now-{since}\n    reason: {reason}\n    message: {message}\n"
        );
    }
    b
}

fn render_config(ns: &Namespace, out: &mut Chunked) {
    let b = out.doc();
    w!(
        b,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: {}\n  creationTimestamp: now-{}h\n",
        ns.name,
        ns.age_days * 24
    );
    for d in &ns.deployments {
        let h = d.age_days * 24;
        let b = out.doc();
        w!(
            b,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {d}-config\n  namespace: {ns}\n  creationTimestamp: now-{h}h\n  labels:\n    app: {d}\ndata:\n  LOG_LEVEL: info\n  HTTP_PORT: \"{port}\"\n  DATABASE_HOST: postgres.{ns}.svc:5432\n  CACHE_TTL: 5m\n  FEATURE_FLAGS: {q}\n",
            d = d.name,
            ns = ns.name,
            port = d.port,
            q = q("batch-export,async-retries")
        );
        let b = out.doc();
        w!(
            b,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {d}-credentials\n  namespace: {ns}\n  creationTimestamp: now-{h}h\n  labels:\n    app: {d}\ntype: Opaque\ndata:\n  username: c3ZjLWFwcA==\n  password: {pw}\n",
            d = d.name,
            ns = ns.name,
            pw = "czNjcjN0LXZhbHVlLW5vdC1yZWFs"
        );
        if let Some((uid, gi)) = &d.pvc {
            let b = out.doc();
            w!(
                b,
                "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {d}-data\n  namespace: {ns}\n  uid: {uid}\n  creationTimestamp: now-{h}h\n  annotations:\n    pv.kubernetes.io/bind-completed: \"yes\"\n    pv.kubernetes.io/bound-by-controller: \"yes\"\n    volume.kubernetes.io/storage-provisioner: ebs.csi.aws.com\n  finalizers:\n  - kubernetes.io/pvc-protection\n  labels:\n    app: {d}\nspec:\n  accessModes:\n  - ReadWriteMany\n  resources:\n    requests:\n      storage: {gi}Gi\n  storageClassName: gp3\n  volumeMode: Filesystem\n  volumeName: pvc-{uid}\nstatus:\n  phase: Bound\n  accessModes:\n  - ReadWriteMany\n  capacity:\n    storage: {gi}Gi\n",
                d = d.name,
                ns = ns.name,
            );
        }
    }
}

/// The pod spec shared by the Deployment's template, the ReplicaSet's
/// template and every pod, without `nodeName`, at indent 0.
fn pod_spec(d: &Deployment) -> String {
    let mut b = String::new();
    w!(
        b,
        r#"containers:
- name: {n}
  image: {img}
  imagePullPolicy: IfNotPresent
  ports:
  - name: http
    containerPort: {port}
    protocol: TCP
  envFrom:
  - configMapRef:
      name: {n}-config
  env:
  - name: APP_USERNAME
    valueFrom:
      secretKeyRef:
        name: {n}-credentials
        key: username
  - name: APP_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {n}-credentials
        key: password
  readinessProbe:
    httpGet:
      path: /readyz
      port: http
      scheme: HTTP
    periodSeconds: 10
    timeoutSeconds: 1
    successThreshold: 1
    failureThreshold: 3
  livenessProbe:
    httpGet:
      path: /healthz
      port: http
      scheme: HTTP
    initialDelaySeconds: 10
    periodSeconds: 20
    timeoutSeconds: 1
    successThreshold: 1
    failureThreshold: 3
  resources:
    requests:
      cpu: {cpu}m
      memory: {mem}Mi
    limits:
      memory: {lim}Mi
  terminationMessagePath: /dev/termination-log
  terminationMessagePolicy: File
"#,
        n = d.name,
        img = d.image,
        port = d.port,
        cpu = d.cpu_m,
        mem = d.mem_mi,
        lim = d.mem_mi * 2,
    );
    if d.pvc.is_some() {
        w!(
            b,
            "  volumeMounts:\n  - name: data\n    mountPath: /var/lib/{n}\nvolumes:\n- name: data\n  persistentVolumeClaim:\n    claimName: {n}-data\n",
            n = d.name
        );
    }
    b.push_str("dnsPolicy: ClusterFirst\nrestartPolicy: Always\nschedulerName: default-scheduler\nserviceAccountName: default\nterminationGracePeriodSeconds: 30\n");
    b
}

pub(crate) fn indent(text: &str, by: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.lines() {
        out.push_str(by);
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn render_workloads(c: &Cluster, ns: &Namespace, out: &mut Chunked) {
    for d in &ns.deployments {
        let spec = pod_spec(d);
        let tmpl = indent(&spec, "      ");
        let replicas = d.pods.len();
        let ready = d.ready_replicas();
        let unavailable = replicas as u64 - ready;
        let max_unavailable = replicas.div_ceil(4) as u64;
        let (avail_status, avail_reason, avail_msg) = if unavailable <= max_unavailable {
            (
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        let b = out.doc();
        w!(
            b,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {n}\n  namespace: {ns}\n  uid: {uid}\n  creationTimestamp: now-{h}h\n  generation: {rev}\n  annotations:\n    deployment.kubernetes.io/revision: \"{rev}\"\n  labels:\n    app: {n}\n    app.kubernetes.io/name: {n}\n    app.kubernetes.io/version: {ver}\nspec:\n  progressDeadlineSeconds: 600\n  replicas: {replicas}\n  revisionHistoryLimit: 10\n  selector:\n    matchLabels:\n      app: {n}\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 25%\n  template:\n    metadata:\n      labels:\n        app: {n}\n        app.kubernetes.io/name: {n}\n        app.kubernetes.io/version: {ver}\n    spec:\n{tmpl}status:\n  observedGeneration: {rev}\n  replicas: {replicas}\n  updatedReplicas: {replicas}\n",
            n = d.name,
            ns = ns.name,
            uid = d.uid,
            h = d.age_days * 24,
            rev = d.revision,
            ver = d.version,
        );
        if ready > 0 {
            w!(
                b,
                "  readyReplicas: {ready}\n  availableReplicas: {ready}\n"
            );
        }
        if unavailable > 0 {
            w!(b, "  unavailableReplicas: {unavailable}\n");
        }
        w!(
            b,
            "  conditions:\n  - type: Available\n    status: \"{avail_status}\"\n    lastUpdateTime: now-{m}m\n    lastTransitionTime: now-{m}m\n    reason: {avail_reason}\n    message: {avail_msg}\n  - type: Progressing\n    status: \"True\"\n    lastUpdateTime: now-{m}m\n    lastTransitionTime: now-{m}m\n    reason: NewReplicaSetAvailable\n    message: {pm}\n",
            m = d.rs_age_min,
            pm = q(&format!(
                "ReplicaSet \"{}-{}\" has successfully progressed.",
                d.name, d.rs_hash
            ))
        );
        let b = out.doc();
        w!(
            b,
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: {n}-{hash}\n  namespace: {ns}\n  uid: {rsuid}\n  creationTimestamp: now-{m}m\n  generation: 1\n  annotations:\n    deployment.kubernetes.io/desired-replicas: \"{replicas}\"\n    deployment.kubernetes.io/max-replicas: \"{maxr}\"\n    deployment.kubernetes.io/revision: \"{rev}\"\n  labels:\n    app: {n}\n    app.kubernetes.io/name: {n}\n    app.kubernetes.io/version: {ver}\n    pod-template-hash: {hash}\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: Deployment\n    name: {n}\n    uid: {uid}\n    controller: true\n    blockOwnerDeletion: true\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {n}\n      pod-template-hash: {hash}\n  template:\n    metadata:\n      labels:\n        app: {n}\n        app.kubernetes.io/name: {n}\n        app.kubernetes.io/version: {ver}\n        pod-template-hash: {hash}\n    spec:\n{tmpl}status:\n  observedGeneration: 1\n  replicas: {replicas}\n  fullyLabeledReplicas: {replicas}\n",
            n = d.name,
            hash = d.rs_hash,
            ns = ns.name,
            rsuid = d.rs_uid,
            uid = d.uid,
            m = d.rs_age_min,
            maxr = replicas + replicas.div_ceil(4),
            rev = d.revision,
            ver = d.version,
        );
        if ready > 0 {
            w!(
                b,
                "  readyReplicas: {ready}\n  availableReplicas: {ready}\n"
            );
        }
        let pod_spec_text = indent(&spec, "  ");
        for p in &d.pods {
            let b = out.doc();
            render_pod(b, c, ns, d, p, &pod_spec_text);
        }
    }
}

fn render_pod(b: &mut String, c: &Cluster, ns: &Namespace, d: &Deployment, p: &Pod, spec: &str) {
    w!(
        b,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {pn}\n  generateName: {n}-{hash}-\n  namespace: {ns}\n  uid: {uid}\n  creationTimestamp: now-{age}m\n  labels:\n    app: {n}\n    app.kubernetes.io/name: {n}\n    app.kubernetes.io/version: {ver}\n    pod-template-hash: {hash}\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: ReplicaSet\n    name: {n}-{hash}\n    uid: {rsuid}\n    controller: true\n    blockOwnerDeletion: true\nspec:\n",
        pn = p.name,
        n = d.name,
        hash = d.rs_hash,
        ns = ns.name,
        uid = p.uid,
        age = p.age_min,
        ver = d.version,
        rsuid = d.rs_uid,
    );
    let node = p.node.map(|i| &c.nodes[i]);
    if let Some(node) = node {
        w!(b, "  nodeName: {}\n", node.name);
    }
    b.push_str(spec);
    b.push_str("  tolerations:\n  - key: node.kubernetes.io/not-ready\n    operator: Exists\n    effect: NoExecute\n    tolerationSeconds: 300\n  - key: node.kubernetes.io/unreachable\n    operator: Exists\n    effect: NoExecute\n    tolerationSeconds: 300\n");
    let age = p.age_min;
    let (Some(node), Some(ip)) = (node, p.ip.as_deref()) else {
        w!(
            b,
            "status:\n  phase: Pending\n  qosClass: Burstable\n  conditions:\n  - type: PodScheduled\n    status: \"False\"\n    lastProbeTime: null\n    lastTransitionTime: now-{age}m\n    reason: Unschedulable\n    message: {msg}\n",
            msg = q(&format!(
                "0/{n} nodes are available: {n} Insufficient memory. preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod.",
                n = c.nodes.len()
            ))
        );
        return;
    };
    let ready = if p.ready() { "True" } else { "False" };
    let not_ready_extra = if p.ready() {
        String::new()
    } else {
        format!(
            "    reason: ContainersNotReady\n    message: 'containers with unready status: [{}]'\n",
            d.name
        )
    };
    w!(
        b,
        "status:\n  phase: Running\n  qosClass: Burstable\n  hostIP: {hip}\n  hostIPs:\n  - ip: {hip}\n  podIP: {ip}\n  podIPs:\n  - ip: {ip}\n  startTime: now-{age}m\n  conditions:\n  - type: PodReadyToStartContainers\n    status: \"True\"\n    lastProbeTime: null\n    lastTransitionTime: now-{age}m\n  - type: Initialized\n    status: \"True\"\n    lastProbeTime: null\n    lastTransitionTime: now-{age}m\n  - type: Ready\n    status: \"{ready}\"\n    lastProbeTime: null\n    lastTransitionTime: now-{age}m\n{nre}  - type: ContainersReady\n    status: \"{ready}\"\n    lastProbeTime: null\n    lastTransitionTime: now-{age}m\n{nre}  - type: PodScheduled\n    status: \"True\"\n    lastProbeTime: null\n    lastTransitionTime: now-{age}m\n  containerStatuses:\n  - name: {n}\n    image: {img}\n    imageID: registry.example.com/{n}@sha256:{digest}\n    containerID: containerd://{cid}\n",
        hip = node.ip,
        nre = not_ready_extra,
        n = d.name,
        img = d.image,
        digest = d.image_digest,
        cid = p.container_id,
    );
    match &p.state {
        PodState::CrashLoop { restarts, cause } => {
            w!(
                b,
                "    ready: false\n    started: false\n    restartCount: {restarts}\n    state:\n      waiting:\n        reason: CrashLoopBackOff\n        message: {msg}\n    lastState:\n      terminated:\n        exitCode: {code}\n        reason: Error\n        startedAt: now-{s}s\n        finishedAt: now-{f}s\n        containerID: containerd://{cid}\n",
                msg = q(&format!(
                    "back-off 5m0s restarting failed container={} pod={}_{}({})",
                    d.name, p.name, ns.name, p.uid
                )),
                code = exit_code(*cause),
                s = 75,
                f = 60,
                cid = p.container_id,
            );
        }
        PodState::OomKilled { restarts } => {
            w!(
                b,
                "    ready: true\n    started: true\n    restartCount: {restarts}\n    state:\n      running:\n        startedAt: now-{r}m\n    lastState:\n      terminated:\n        exitCode: 137\n        reason: OOMKilled\n        startedAt: now-{s}m\n        finishedAt: now-{r}m\n        containerID: containerd://{cid}\n",
                r = (age / 2).max(1),
                s = age.max(2),
                cid = p.container_id,
            );
        }
        PodState::Running | PodState::Pending => {
            w!(
                b,
                "    ready: true\n    started: true\n    restartCount: 0\n    state:\n      running:\n        startedAt: now-{age}m\n    lastState: {{}}\n"
            );
        }
    }
}

fn exit_code(cause: CrashCause) -> u8 {
    match cause {
        CrashCause::DatabaseRefused | CrashCause::BadConfig => 1,
        CrashCause::MissingEnv | CrashCause::NilPointer => 2,
    }
}

fn render_services(c: &Cluster, ns: &Namespace, out: &mut Chunked) {
    for d in &ns.deployments {
        let h = d.age_days * 24;
        let b = out.doc();
        w!(
            b,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {n}\n  namespace: {ns}\n  uid: {uid}\n  creationTimestamp: now-{h}h\n  labels:\n    app: {n}\nspec:\n  type: ClusterIP\n  clusterIP: {ip}\n  clusterIPs:\n  - {ip}\n  internalTrafficPolicy: Cluster\n  ipFamilies:\n  - IPv4\n  ipFamilyPolicy: SingleStack\n  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n    targetPort: http\n  selector:\n    app: {n}\n  sessionAffinity: None\nstatus:\n  loadBalancer: {{}}\n",
            n = d.name,
            ns = ns.name,
            uid = d.svc_uid,
            ip = d.svc_ip,
        );
        let scheduled: Vec<&Pod> = d.pods.iter().filter(|p| p.ip.is_some()).collect();
        // Endpoints (core/v1): ready and not-ready addresses.
        let b = out.doc();
        w!(
            b,
            "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: {n}\n  namespace: {ns}\n  creationTimestamp: now-{h}h\n  labels:\n    app: {n}\n",
            n = d.name,
            ns = ns.name,
        );
        if !scheduled.is_empty() {
            b.push_str("subsets:\n");
            let mut first = true;
            for (label, want_ready) in [("addresses", true), ("notReadyAddresses", false)] {
                let group: Vec<&&Pod> = scheduled
                    .iter()
                    .filter(|p| p.ready() == want_ready)
                    .collect();
                if group.is_empty() {
                    continue;
                }
                w!(b, "{}{label}:\n", if first { "- " } else { "  " });
                first = false;
                for p in group {
                    w!(
                        b,
                        "  - ip: {ip}\n    nodeName: {node}\n    targetRef:\n      kind: Pod\n      name: {pn}\n      namespace: {ns}\n      uid: {uid}\n",
                        ip = p.ip.as_deref().unwrap_or_default(),
                        node = p.node.map(|i| c.nodes[i].name.as_str()).unwrap_or_default(),
                        pn = p.name,
                        ns = ns.name,
                        uid = p.uid,
                    );
                }
            }
            w!(
                b,
                "  ports:\n  - name: http\n    port: {}\n    protocol: TCP\n",
                d.port
            );
        }
        let b = out.doc();
        w!(
            b,
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {n}-{sfx}\n  generateName: {n}-\n  namespace: {ns}\n  creationTimestamp: now-{h}h\n  labels:\n    app: {n}\n    endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io\n    kubernetes.io/service-name: {n}\n  ownerReferences:\n  - apiVersion: v1\n    kind: Service\n    name: {n}\n    uid: {suid}\n    controller: true\n    blockOwnerDeletion: true\naddressType: IPv4\n",
            n = d.name,
            sfx = &d.rs_hash[..5],
            ns = ns.name,
            suid = d.svc_uid,
        );
        if scheduled.is_empty() {
            b.push_str("endpoints: []\n");
        } else {
            b.push_str("endpoints:\n");
            for p in &scheduled {
                let node = p.node.map(|i| &c.nodes[i]);
                w!(
                    b,
                    "- addresses:\n  - {ip}\n  conditions:\n    ready: {r}\n    serving: {r}\n    terminating: false\n  nodeName: {node}\n  zone: {zone}\n  targetRef:\n    kind: Pod\n    name: {pn}\n    namespace: {ns}\n    uid: {uid}\n",
                    ip = p.ip.as_deref().unwrap_or_default(),
                    r = p.ready(),
                    node = node.map(|n| n.name.as_str()).unwrap_or_default(),
                    zone = node.map(|n| n.zone).unwrap_or_default(),
                    pn = p.name,
                    ns = ns.name,
                    uid = p.uid,
                );
            }
        }
        w!(
            b,
            "ports:\n- name: http\n  port: {}\n  protocol: TCP\n",
            d.port
        );
    }
}

fn render_policy(ns: &Namespace, out: &mut Chunked) {
    for d in &ns.deployments {
        let h = d.age_days * 24;
        let replicas = d.pods.len() as u64;
        let ready = d.ready_replicas();
        if let Some(min) = d.pdb_min_available {
            let allowed = ready.saturating_sub(min);
            let b = out.doc();
            w!(
                b,
                "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {n}\n  namespace: {ns}\n  creationTimestamp: now-{h}h\n  generation: 1\n  labels:\n    app: {n}\nspec:\n  minAvailable: {min}\n  selector:\n    matchLabels:\n      app: {n}\nstatus:\n  observedGeneration: 1\n  currentHealthy: {ready}\n  desiredHealthy: {min}\n  disruptionsAllowed: {allowed}\n  expectedPods: {replicas}\n  conditions:\n  - type: DisruptionAllowed\n    status: \"{st}\"\n    lastTransitionTime: now-{h}h\n    observedGeneration: 1\n    reason: {reason}\n    message: \"\"\n",
                n = d.name,
                ns = ns.name,
                st = if allowed > 0 { "True" } else { "False" },
                reason = if allowed > 0 {
                    "SufficientPods"
                } else {
                    "InsufficientPods"
                },
            );
        }
        if let Some(max) = d.hpa_max {
            let b = out.doc();
            w!(
                b,
                "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {n}\n  namespace: {ns}\n  creationTimestamp: now-{h}h\n  labels:\n    app: {n}\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {n}\n  minReplicas: {replicas}\n  maxReplicas: {max}\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target:\n        type: Utilization\n        averageUtilization: 70\nstatus:\n  currentReplicas: {replicas}\n  desiredReplicas: {replicas}\n  currentMetrics:\n  - type: Resource\n    resource:\n      name: cpu\n      current:\n        averageUtilization: {util}\n        averageValue: {avg}m\n  conditions:\n  - type: AbleToScale\n    status: \"True\"\n    lastTransitionTime: now-{h}h\n    reason: ReadyForNewScale\n    message: recommended size matches current size\n  - type: ScalingActive\n    status: \"True\"\n    lastTransitionTime: now-{h}h\n    reason: ValidMetricFound\n    message: the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)\n",
                n = d.name,
                ns = ns.name,
                util = 20 + (d.cpu_m % 37),
                avg = d.cpu_m * (20 + (d.cpu_m % 37)) / 100,
            );
        }
    }
}

fn render_events(ns: &Namespace, out: &mut Chunked) {
    for e in &ns.events {
        let b = out.doc();
        render_event(b, &ns.name, e);
    }
}

fn render_event(b: &mut String, ns: &str, e: &Event) {
    w!(
        b,
        "apiVersion: v1\nkind: Event\nmetadata:\n  name: {name}\n  namespace: {ns}\n  creationTimestamp: now-{first}m\ninvolvedObject:\n  apiVersion: {api}\n  kind: {kind}\n  name: {obj}\n  namespace: {ns}\n  uid: {uid}\n",
        name = e.name,
        first = e.first_min,
        api = e.api_version,
        kind = e.kind,
        obj = e.object,
        uid = e.object_uid,
    );
    if e.field_path {
        // The container is named after its deployment: strip the pod suffixes.
        let container = e.object.rsplitn(3, '-').nth(2).unwrap_or(&e.object);
        w!(b, "  fieldPath: spec.containers{{{container}}}\n");
    }
    w!(
        b,
        "type: {t}\nreason: {reason}\nmessage: {msg}\nsource:\n  component: {comp}\n",
        t = if e.warning { "Warning" } else { "Normal" },
        reason = e.reason,
        msg = q(&e.message),
        comp = e.component,
    );
    if let Some(h) = &e.host {
        w!(b, "  host: {h}\n");
    }
    w!(
        b,
        "reportingComponent: {comp}\nreportingInstance: {inst}\nfirstTimestamp: now-{first}m\nlastTimestamp: now-{last}m\ncount: {count}\n",
        comp = e.component,
        inst = q(e.host.as_deref().unwrap_or_default()),
        first = e.first_min,
        last = e.last_min,
        count = e.count,
    );
}

fn render_logs(ns: &Namespace, out: &mut Chunked) {
    for d in &ns.deployments {
        for p in &d.pods {
            let PodState::CrashLoop { cause, .. } = p.state else {
                continue;
            };
            let (previous, current) = crash_logs(ns, d, cause);
            let b = out.doc();
            w!(
                b,
                "apiVersion: sandbox.test/v1\nkind: PodLogs\nmetadata:\n  namespace: {ns}\n  name: {pn}\ncontainers:\n  {c}:\n    previous: {prev}\n    current: {cur}\n",
                ns = ns.name,
                pn = p.name,
                c = d.name,
                prev = q(&previous),
                cur = q(&current),
            );
        }
    }
}

/// The previous and current log of a crashing container: a realistic Go
/// service start-up, then the failure that matches its cause.
fn crash_logs(ns: &Namespace, d: &Deployment, cause: CrashCause) -> (String, String) {
    let start = format!(
        "time=2026-01-01T00:00:00.101Z level=INFO msg=\"starting {n}\" version={v} go=go1.23.4\ntime=2026-01-01T00:00:00.102Z level=INFO msg=\"loaded configuration\" source=env log_level=info\ntime=2026-01-01T00:00:00.104Z level=INFO msg=\"metrics listener started\" addr=:9090\n",
        n = d.name,
        v = d.version
    );
    let failure = match cause {
        CrashCause::DatabaseRefused => format!(
            "time=2026-01-01T00:00:00.105Z level=INFO msg=\"connecting to database\" host=postgres.{ns}.svc:5432\ntime=2026-01-01T00:00:05.110Z level=ERROR msg=\"failed to connect to database: dial tcp {ip}:5432: connect: connection refused\"\ntime=2026-01-01T00:00:05.110Z level=INFO msg=\"shutting down\" exit_code=1\n",
            ns = ns.name,
            ip = d.svc_ip
        ),
        CrashCause::MissingEnv => format!(
            "panic: required environment variable {env}_API_KEY is not set\n\ngoroutine 1 [running]:\nmain.mustEnv({{0xc3a1e0, 0x10}})\n\t/src/cmd/{n}/main.go:41 +0x9b\nmain.main()\n\t/src/cmd/{n}/main.go:58 +0x1c5\n",
            env = d.name.to_uppercase().replace('-', "_"),
            n = d.name
        ),
        CrashCause::BadConfig => format!(
            "time=2026-01-01T00:00:00.105Z level=ERROR msg=\"invalid configuration\" file=/etc/{n}/config.yaml err=\"yaml: line 14: did not find expected key\"\nerror: invalid configuration in /etc/{n}/config.yaml: yaml: line 14: did not find expected key\n",
            n = d.name
        ),
        CrashCause::NilPointer => format!(
            "time=2026-01-01T00:00:00.109Z level=INFO msg=\"http listener started\" addr=:{port}\npanic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8c1f2a]\n\ngoroutine 42 [running]:\nmain.(*Server).handleExport(0xc0001a2000, {{0xa3b8c0, 0xc0002be0e0}}, 0xc0003c4100)\n\t/src/internal/server/export.go:117 +0x2a\nnet/http.HandlerFunc.ServeHTTP(0xc0001b6070, {{0xa3b8c0, 0xc0002be0e0}}, 0xc0003c4100)\n\t/usr/local/go/src/net/http/server.go:2220 +0x29\n",
            port = d.port
        ),
    };
    let current = start.lines().take(2).collect::<Vec<_>>().join("\n") + "\n";
    (start + &failure, current)
}
