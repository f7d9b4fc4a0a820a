//! API defaulting: the fields a real API server fills in when it decodes an
//! object, so fixtures and API writes are stored with them alike.
//!
//! Each function names the Go function it follows, in kubernetes
//! `pkg/apis/<group>/v1/defaults.go` (plus the few strategy steps every stored
//! object shows, such as a Service's `status.loadBalancer`). Admission plugins
//! (ServiceAccount, DefaultTolerationSeconds, Priority) are not simulated.

use crate::registry::ResourceType;
use serde_json::{Map, Value, json};

type Obj = Map<String, Value>;

/// Sets `key` to `value` when it is absent or null (Go's `if x == nil`/`""`).
fn default(m: &mut Obj, key: &str, value: Value) {
    let empty = match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    };
    if empty {
        m.insert(key.to_string(), value);
    }
}

/// The object at `key`, created empty when missing (Go's `if x == nil { x = &T{} }`).
fn child<'a>(m: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    if !m.get(key).is_some_and(Value::is_object) {
        m.insert(key.to_string(), json!({}));
    }
    m.get_mut(key).and_then(Value::as_object_mut)
}

/// The object at `key` when present.
fn existing<'a>(m: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    m.get_mut(key).and_then(Value::as_object_mut)
}

/// Every object of the list at `key`.
fn each<'a>(m: &'a mut Obj, key: &str) -> impl Iterator<Item = &'a mut Obj> {
    m.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// Applies the defaults of `rt`'s kind to `obj` (in storage form). Custom
/// resources get none (CRD schema defaults are not simulated).
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    if !rt.custom {
        apply_kind(&rt.group, &rt.kind, obj);
    }
}

/// Applies the defaults of a built-in `group`/`kind` to `obj`.
pub fn apply_kind(group: &str, kind: &str, obj: &mut Value) {
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    match (group, kind) {
        ("", "Pod") => pod(o),
        ("", "PodTemplate") => {
            if let Some(t) = existing(o, "template") {
                pod_template(t);
            }
        }
        ("", "ReplicationController") => replication_controller(o),
        ("", "Service") => service(o),
        ("", "Secret") => default(o, "type", json!("Opaque")),
        ("", "PersistentVolume") => persistent_volume(o),
        ("", "PersistentVolumeClaim") => persistent_volume_claim(o),
        ("", "Endpoints") => {
            for subset in each(o, "subsets") {
                ports_protocol(subset, "ports");
            }
        }
        ("", "Namespace") => namespace(o),
        ("", "Node") => node(o),
        ("", "LimitRange") => limit_range(o),
        ("apps", "Deployment") => deployment(o),
        ("apps", "ReplicaSet") => {
            if let Some(spec) = child(o, "spec") {
                default(spec, "replicas", json!(1));
                template_at(spec);
            }
        }
        ("apps", "StatefulSet") => stateful_set(o),
        ("apps", "DaemonSet") => daemon_set(o),
        ("batch", "Job") => job(o),
        ("batch", "CronJob") => cron_job(o),
        ("autoscaling", "HorizontalPodAutoscaler") => {
            // SetDefaults_HorizontalPodAutoscaler (v1 and v2): minReplicas.
            if let Some(spec) = child(o, "spec") {
                default(spec, "minReplicas", json!(1));
            }
        }
        ("discovery.k8s.io", "EndpointSlice") => ports_protocol(o, "ports"),
        ("networking.k8s.io", "NetworkPolicy") => network_policy(o),
        ("storage.k8s.io", "StorageClass") => {
            // storage/v1 SetDefaults_StorageClass.
            default(o, "reclaimPolicy", json!("Delete"));
            default(o, "volumeBindingMode", json!("Immediate"));
        }
        ("storage.k8s.io", "CSIDriver") => csi_driver(o),
        ("scheduling.k8s.io", "PriorityClass") => {
            // scheduling/v1 SetDefaults_PriorityClass.
            default(o, "preemptionPolicy", json!("PreemptLowerPriority"));
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => role_binding(o),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(o),
        _ => {}
    }
}

// ---- pods and pod templates (core/v1 defaults.go) ---------------------------

/// `SetDefaults_Pod` + `SetDefaults_PodSpec`: what a Pod gets beyond a template.
fn pod(o: &mut Obj) {
    let Some(spec) = child(o, "spec") else {
        return;
    };
    pod_spec(spec);
    // SetDefaults_Pod: requests default to limits (pods only, not templates).
    for key in ["containers", "initContainers"] {
        for c in each(spec, key) {
            let Some(limits) = c
                .get("resources")
                .and_then(|r| r.get("limits"))
                .and_then(Value::as_object)
                .cloned()
            else {
                continue;
            };
            if let Some(requests) = child(c, "resources").and_then(|r| child(r, "requests")) {
                for (k, v) in limits {
                    requests.entry(k).or_insert(v);
                }
            }
        }
    }
    default(spec, "enableServiceLinks", json!(true));
}

/// A `PodTemplateSpec`: its pod spec gets `SetDefaults_PodSpec`.
fn pod_template(t: &mut Obj) {
    if let Some(spec) = child(t, "spec") {
        pod_spec(spec);
    }
}

/// `spec.template` of a workload.
fn template_at(spec: &mut Obj) {
    if let Some(t) = existing(spec, "template") {
        pod_template(t);
    }
}

/// `SetDefaults_PodSpec` and the container, volume and probe defaults the
/// generated defaulters apply inside it.
fn pod_spec(spec: &mut Obj) {
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "restartPolicy", json!("Always"));
    default(spec, "securityContext", json!({}));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "schedulerName", json!("default-scheduler"));
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        for c in each(spec, key) {
            container(c, host_network);
        }
    }
    for v in each(spec, "volumes") {
        volume(v);
    }
}

/// `SetDefaults_Container` plus ports, env field refs and probes.
fn container(c: &mut Obj, host_network: bool) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or("");
    let policy = image_pull_policy(image);
    default(c, "imagePullPolicy", json!(policy));
    default(c, "terminationMessagePath", json!("/dev/termination-log"));
    default(c, "terminationMessagePolicy", json!("File"));
    for p in each(c, "ports") {
        default(p, "protocol", json!("TCP"));
        // defaultHostNetworkPorts: a host-network pod listens on the host port.
        if host_network
            && p.get("hostPort").and_then(Value::as_i64).unwrap_or(0) == 0
            && let Some(port) = p.get("containerPort").cloned()
        {
            p.insert("hostPort".into(), port);
        }
    }
    for e in each(c, "env") {
        if let Some(field_ref) = existing(e, "valueFrom").and_then(|v| existing(v, "fieldRef")) {
            // SetDefaults_ObjectFieldSelector.
            default(field_ref, "apiVersion", json!("v1"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = existing(c, probe) {
            // SetDefaults_Probe.
            default(p, "timeoutSeconds", json!(1));
            default(p, "periodSeconds", json!(10));
            default(p, "successThreshold", json!(1));
            default(p, "failureThreshold", json!(3));
            http_get(p);
        }
    }
    if let Some(lifecycle) = existing(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = existing(lifecycle, hook) {
                http_get(h);
            }
        }
    }
}

/// `SetDefaults_HTTPGetAction`.
fn http_get(handler: &mut Obj) {
    if let Some(g) = existing(handler, "httpGet") {
        default(g, "path", json!("/"));
        default(g, "scheme", json!("HTTP"));
    }
}

/// `SetDefaults_Container`: `Always` for `:latest` or no tag (a digest alone
/// counts as pinned), `IfNotPresent` otherwise, as `parsers.ParseImageName`
/// reads the reference.
pub fn image_pull_policy(image: &str) -> &'static str {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    // A tag is after the last `:` that follows the last `/` (a registry
    // `host:port/` is not a tag).
    let last = name.rsplit('/').next().unwrap_or(name);
    let tag = last.rsplit_once(':').map(|(_, t)| t);
    match (tag, digest) {
        (Some("latest"), _) => "Always",
        (None, None) => "Always",
        _ => "IfNotPresent",
    }
}

/// `SetDefaults_Volume` and the volume source defaults (`defaultMode` 0644).
fn volume(v: &mut Obj) {
    const SOURCES: &[&str] = &[
        "hostPath",
        "emptyDir",
        "gcePersistentDisk",
        "awsElasticBlockStore",
        "gitRepo",
        "secret",
        "nfs",
        "iscsi",
        "glusterfs",
        "persistentVolumeClaim",
        "rbd",
        "flexVolume",
        "cinder",
        "cephfs",
        "flocker",
        "downwardAPI",
        "fc",
        "azureFile",
        "configMap",
        "vsphereVolume",
        "quobyte",
        "azureDisk",
        "photonPersistentDisk",
        "projected",
        "portworxVolume",
        "scaleIO",
        "storageos",
        "csi",
        "ephemeral",
        "image",
    ];
    if !SOURCES.iter().any(|s| v.contains_key(*s)) {
        v.insert("emptyDir".into(), json!({}));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = existing(v, source) {
            default(s, "defaultMode", json!(420));
        }
    }
    if let Some(h) = existing(v, "hostPath") {
        // SetDefaults_HostPathVolumeSource: the unset type is "".
        h.entry("type").or_insert(json!(""));
    }
    if let Some(p) = existing(v, "projected") {
        for s in each(p, "sources") {
            if let Some(t) = existing(s, "serviceAccountToken") {
                // SetDefaults_ServiceAccountTokenProjection.
                default(t, "expirationSeconds", json!(3600));
            }
        }
    }
}

// ---- workloads (apps/v1, batch/v1, core/v1 defaults.go) ----------------------

/// `SetDefaults_ReplicationController`: selector and labels from the template.
fn replication_controller(o: &mut Obj) {
    let template_labels = o
        .get("spec")
        .and_then(|s| s.pointer("/template/metadata/labels"))
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    if let Some(labels) = &template_labels {
        if let Some(spec) = child(o, "spec") {
            let empty = spec
                .get("selector")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty);
            if empty {
                spec.insert("selector".into(), labels.clone());
            }
        }
        if let Some(meta) = child(o, "metadata") {
            let empty = meta
                .get("labels")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty);
            if empty {
                meta.insert("labels".into(), labels.clone());
            }
        }
    }
    if let Some(spec) = child(o, "spec") {
        default(spec, "replicas", json!(1));
        template_at(spec);
    }
}

/// apps/v1 `SetDefaults_Deployment`.
fn deployment(o: &mut Obj) {
    let Some(spec) = child(o, "spec") else {
        return;
    };
    default(spec, "replicas", json!(1));
    if let Some(strategy) = child(spec, "strategy") {
        default(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = child(strategy, "rollingUpdate")
        {
            default(ru, "maxUnavailable", json!("25%"));
            default(ru, "maxSurge", json!("25%"));
        }
    }
    default(spec, "revisionHistoryLimit", json!(10));
    default(spec, "progressDeadlineSeconds", json!(600));
    template_at(spec);
}

/// apps/v1 `SetDefaults_StatefulSet` (MaxUnavailableStatefulSet is alpha in
/// 1.33, so no `maxUnavailable`), and the claim templates'
/// `SetDefaults_PersistentVolumeClaim` / `...Spec`.
fn stateful_set(o: &mut Obj) {
    let Some(spec) = child(o, "spec") else {
        return;
    };
    default(spec, "podManagementPolicy", json!("OrderedReady"));
    if let Some(strategy) = child(spec, "updateStrategy") {
        let typeless = strategy
            .get("type")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if typeless {
            strategy.insert("type".into(), json!("RollingUpdate"));
            child(strategy, "rollingUpdate");
        }
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = existing(strategy, "rollingUpdate")
        {
            default(ru, "partition", json!(0));
        }
    }
    if let Some(policy) = child(spec, "persistentVolumeClaimRetentionPolicy") {
        default(policy, "whenDeleted", json!("Retain"));
        default(policy, "whenScaled", json!("Retain"));
    }
    default(spec, "replicas", json!(1));
    default(spec, "revisionHistoryLimit", json!(10));
    for claim in each(spec, "volumeClaimTemplates") {
        persistent_volume_claim(claim);
    }
    template_at(spec);
}

/// apps/v1 `SetDefaults_DaemonSet`.
fn daemon_set(o: &mut Obj) {
    let Some(spec) = child(o, "spec") else {
        return;
    };
    if let Some(strategy) = child(spec, "updateStrategy") {
        default(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = child(strategy, "rollingUpdate")
        {
            default(ru, "maxUnavailable", json!(1));
            default(ru, "maxSurge", json!(0));
        }
    }
    default(spec, "revisionHistoryLimit", json!(10));
    template_at(spec);
}

/// batch/v1 `SetDefaults_Job`.
fn job(o: &mut Obj) {
    let template_labels = o
        .get("spec")
        .and_then(|s| s.pointer("/template/metadata/labels"))
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    if let Some(labels) = template_labels
        && let Some(meta) = child(o, "metadata")
        && meta
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
    {
        meta.insert("labels".into(), labels);
    }
    let Some(spec) = child(o, "spec") else {
        return;
    };
    job_spec(spec);
    template_at(spec);
}

fn job_spec(spec: &mut Obj) {
    let unset = |s: &Obj, k: &str| s.get(k).is_none_or(Value::is_null);
    if unset(spec, "completions") && unset(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    default(spec, "parallelism", json!(1));
    let backoff = if unset(spec, "backoffLimitPerIndex") {
        6
    } else {
        i64::from(i32::MAX)
    };
    default(spec, "backoffLimit", json!(backoff));
    default(spec, "completionMode", json!("NonIndexed"));
    default(spec, "suspend", json!(false));
    let replacement = if unset(spec, "podFailurePolicy") {
        "TerminatingOrFailed"
    } else {
        "Failed"
    };
    default(spec, "podReplacementPolicy", json!(replacement));
    if let Some(policy) = existing(spec, "podFailurePolicy") {
        for rule in each(policy, "rules") {
            for pattern in each(rule, "onPodConditions") {
                default(pattern, "status", json!("True"));
            }
        }
    }
}

/// The selector and labels the Job strategy generates on create (unless
/// `manualSelector`), from the new Job's uid.
pub fn job_selector(obj: &mut Value) {
    if obj.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let uid = crate::store::meta_str(obj, "uid").to_string();
    let name = crate::store::meta_str(obj, "name").to_string();
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.get("selector").is_none_or(Value::is_null) {
        spec.insert(
            "selector".into(),
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
    }
    let labels = child(spec, "template")
        .and_then(|t| child(t, "metadata"))
        .and_then(|m| child(m, "labels"));
    if let Some(labels) = labels {
        for (k, v) in [
            ("batch.kubernetes.io/controller-uid", &uid),
            ("batch.kubernetes.io/job-name", &name),
            ("controller-uid", &uid),
            ("job-name", &name),
        ] {
            labels.entry(k).or_insert(json!(v));
        }
    }
}

/// batch/v1 `SetDefaults_CronJob`; the job template's pod spec gets the pod
/// spec defaults (not the Job's own, which apply to Job objects only).
fn cron_job(o: &mut Obj) {
    let Some(spec) = child(o, "spec") else {
        return;
    };
    default(spec, "concurrencyPolicy", json!("Allow"));
    default(spec, "suspend", json!(false));
    default(spec, "successfulJobsHistoryLimit", json!(3));
    default(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(job_spec) = existing(spec, "jobTemplate").and_then(|t| existing(t, "spec")) {
        template_at(job_spec);
    }
}

// ---- services and the rest of core/v1 ---------------------------------------

fn ports_protocol(m: &mut Obj, key: &str) {
    for p in each(m, key) {
        default(p, "protocol", json!("TCP"));
    }
}

/// `SetDefaults_Service` and the strategy's empty status. Cluster IPs and
/// node ports are allocated by [`crate::services`], which needs the store.
fn service(o: &mut Obj) {
    if let Some(spec) = child(o, "spec") {
        default(spec, "sessionAffinity", json!("None"));
        if spec.get("sessionAffinity").and_then(Value::as_str) == Some("None") {
            spec.remove("sessionAffinityConfig");
        }
        default(spec, "type", json!("ClusterIP"));
        for p in each(spec, "ports") {
            default(p, "protocol", json!("TCP"));
            let unset = match p.get("targetPort") {
                None | Some(Value::Null) => true,
                Some(Value::Number(n)) => n.as_i64() == Some(0),
                Some(Value::String(s)) => s.is_empty(),
                _ => false,
            };
            if unset && let Some(port) = p.get("port").cloned() {
                p.insert("targetPort".into(), port);
            }
        }
        let kind = spec
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let external_ips = spec
            .get("externalIPs")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        // service.ExternallyAccessible: NodePort, LoadBalancer, or external IPs.
        if kind == "NodePort" || kind == "LoadBalancer" || (kind == "ClusterIP" && external_ips) {
            default(spec, "externalTrafficPolicy", json!("Cluster"));
        }
        if matches!(kind.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
            default(spec, "internalTrafficPolicy", json!("Cluster"));
        }
        if kind == "LoadBalancer" {
            default(spec, "allocateLoadBalancerNodePorts", json!(true));
        }
    }
    if let Some(status) = child(o, "status") {
        default(status, "loadBalancer", json!({}));
    }
}

/// `SetDefaults_PersistentVolume` (+ `SetDefaults_PersistentVolumeSpec`).
fn persistent_volume(o: &mut Obj) {
    if let Some(spec) = child(o, "spec") {
        default(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
        default(spec, "volumeMode", json!("Filesystem"));
    }
    if let Some(status) = child(o, "status") {
        default(status, "phase", json!("Pending"));
    }
}

/// `SetDefaults_PersistentVolumeClaim` (+ `...Spec`).
fn persistent_volume_claim(o: &mut Obj) {
    if let Some(spec) = child(o, "spec") {
        default(spec, "volumeMode", json!("Filesystem"));
    }
    if let Some(status) = child(o, "status") {
        default(status, "phase", json!("Pending"));
    }
}

/// `SetDefaults_Namespace` (the name label) and `SetDefaults_NamespaceStatus`.
fn namespace(o: &mut Obj) {
    let name = o
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !name.is_empty()
        && let Some(labels) = child(o, "metadata").and_then(|m| child(m, "labels"))
    {
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    // SetDefaults_NamespaceStatus.
    if let Some(status) = child(o, "status") {
        default(status, "phase", json!("Active"));
    }
}

/// `SetDefaults_NodeStatus`: allocatable is the capacity when not reported.
fn node(o: &mut Obj) {
    let Some(status) = existing(o, "status") else {
        return;
    };
    if status.get("allocatable").is_none_or(Value::is_null)
        && let Some(capacity) = status.get("capacity").cloned()
    {
        status.insert("allocatable".into(), capacity);
    }
}

/// `SetDefaults_LimitRangeItem`: container defaults from max, requests from
/// the default limit or the min.
fn limit_range(o: &mut Obj) {
    let Some(spec) = existing(o, "spec") else {
        return;
    };
    for item in each(spec, "limits") {
        if item.get("type").and_then(Value::as_str) != Some("Container") {
            continue;
        }
        let get = |item: &Obj, k: &str| item.get(k).and_then(Value::as_object).cloned();
        let mut dflt = get(item, "default").unwrap_or_default();
        for (k, v) in get(item, "max").unwrap_or_default() {
            dflt.entry(k).or_insert(v);
        }
        let mut request = get(item, "defaultRequest").unwrap_or_default();
        for (k, v) in dflt
            .clone()
            .into_iter()
            .chain(get(item, "min").unwrap_or_default())
        {
            request.entry(k).or_insert(v);
        }
        // Empty maps are omitted on the wire, as Go's omitempty does.
        for (k, m) in [("default", dflt), ("defaultRequest", request)] {
            if !m.is_empty() {
                item.insert(k.into(), Value::Object(m));
            }
        }
    }
}

// ---- other groups -----------------------------------------------------------

/// networking/v1 `SetDefaults_NetworkPolicy` and `..._NetworkPolicyPort`.
fn network_policy(o: &mut Obj) {
    let Some(spec) = child(o, "spec") else {
        return;
    };
    for direction in ["ingress", "egress"] {
        for rule in each(spec, direction) {
            ports_protocol(rule, "ports");
        }
    }
    let unset = spec
        .get("policyTypes")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if unset {
        let mut types = vec![json!("Ingress")];
        if spec
            .get("egress")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty())
        {
            types.push(json!("Egress"));
        }
        spec.insert("policyTypes".into(), Value::Array(types));
    }
}

/// storage/v1 `SetDefaults_CSIDriver` (SELinuxMountReadWriteOncePod is beta
/// and on in 1.33).
fn csi_driver(o: &mut Obj) {
    let Some(spec) = child(o, "spec") else {
        return;
    };
    default(spec, "attachRequired", json!(true));
    default(spec, "podInfoOnMount", json!(false));
    default(spec, "storageCapacity", json!(false));
    default(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
    default(spec, "volumeLifecycleModes", json!(["Persistent"]));
    default(spec, "requiresRepublish", json!(false));
    default(spec, "seLinuxMount", json!(false));
}

/// rbac/v1 `SetDefaults_ClusterRoleBinding` / `RoleBinding` / `Subject`.
fn role_binding(o: &mut Obj) {
    if let Some(role_ref) = child(o, "roleRef") {
        default(role_ref, "apiGroup", json!("rbac.authorization.k8s.io"));
    }
    // A ServiceAccount's group is "" (omitted); users and groups are RBAC's.
    for s in each(o, "subjects") {
        if matches!(
            s.get("kind").and_then(Value::as_str),
            Some("User" | "Group")
        ) {
            default(s, "apiGroup", json!("rbac.authorization.k8s.io"));
        }
    }
}

/// apiextensions/v1 `SetDefaults_CustomResourceDefinition(Spec)`: names and
/// the conversion strategy.
fn crd(o: &mut Obj) {
    let Some(spec) = existing(o, "spec") else {
        return;
    };
    if let Some(names) = existing(spec, "names") {
        let kind = names
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !kind.is_empty() {
            default(names, "singular", json!(kind.to_lowercase()));
            default(names, "listKind", json!(format!("{kind}List")));
        }
    }
    if let Some(conversion) = child(spec, "conversion") {
        default(conversion, "strategy", json!("None"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn defaulted(plural: &str, group: &str, mut obj: Value) -> Value {
        let r = Registry::builtin();
        let version = if group == "autoscaling" { "v2" } else { "v1" };
        let rt = r.by_plural(group, version, plural).expect("type");
        apply(rt, &mut obj);
        obj
    }

    #[test]
    fn image_pull_policy_follows_the_tag() {
        assert_eq!(image_pull_policy("nginx"), "Always");
        assert_eq!(image_pull_policy("nginx:latest"), "Always");
        assert_eq!(image_pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(image_pull_policy("registry:5000/app"), "Always");
        assert_eq!(image_pull_policy("registry:5000/app:v2"), "IfNotPresent");
        assert_eq!(image_pull_policy("app@sha256:abc"), "IfNotPresent");
        assert_eq!(image_pull_policy("app:latest@sha256:abc"), "Always");
    }

    #[test]
    fn pods_get_spec_and_container_defaults() {
        let p = defaulted(
            "pods",
            "",
            json!({"spec": {"containers": [{"name": "c", "image": "nginx:1",
                "ports": [{"containerPort": 80}],
                "resources": {"limits": {"cpu": "1"}},
                "readinessProbe": {"httpGet": {"port": 80}}}],
                "volumes": [{"name": "v"}, {"name": "s", "secret": {"secretName": "x"}}]}}),
        );
        let s = &p["spec"];
        assert_eq!(s["restartPolicy"], "Always");
        assert_eq!(s["dnsPolicy"], "ClusterFirst");
        assert_eq!(s["terminationGracePeriodSeconds"], 30);
        assert_eq!(s["schedulerName"], "default-scheduler");
        assert_eq!(s["securityContext"], json!({}));
        assert_eq!(s["enableServiceLinks"], true);
        let c = &s["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["resources"]["requests"]["cpu"], "1");
        assert_eq!(c["readinessProbe"]["periodSeconds"], 10);
        assert_eq!(c["readinessProbe"]["httpGet"]["scheme"], "HTTP");
        assert_eq!(s["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(s["volumes"][1]["secret"]["defaultMode"], 420);
    }

    #[test]
    fn templates_do_not_get_pod_only_defaults() {
        let d = defaulted(
            "deployments",
            "apps",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x",
                "resources": {"limits": {"cpu": "1"}}}]}}}}),
        );
        let s = &d["spec"];
        assert_eq!(
            s["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(
            (
                &s["replicas"],
                &s["revisionHistoryLimit"],
                &s["progressDeadlineSeconds"]
            ),
            (&json!(1), &json!(10), &json!(600))
        );
        let t = &s["template"]["spec"];
        assert_eq!(t["restartPolicy"], "Always");
        assert_eq!(t["containers"][0]["imagePullPolicy"], "Always");
        assert!(t.get("enableServiceLinks").is_none());
        assert!(t["containers"][0]["resources"].get("requests").is_none());
    }

    #[test]
    fn statefulset_daemonset_job_cronjob() {
        let s = defaulted(
            "statefulsets",
            "apps",
            json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "d"}, "spec": {}}]}}),
        );
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            s["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(
            s["spec"]["volumeClaimTemplates"][0]["status"]["phase"],
            "Pending"
        );
        let ondelete = defaulted(
            "statefulsets",
            "apps",
            json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
        );
        assert_eq!(
            ondelete["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
        let d = defaulted("daemonsets", "apps", json!({"spec": {}}));
        assert_eq!(
            d["spec"]["updateStrategy"]["rollingUpdate"],
            json!({"maxUnavailable": 1, "maxSurge": 0})
        );
        let j = defaulted(
            "jobs",
            "batch",
            json!({"spec": {"template": {"metadata": {"labels": {"a": "b"}}}}}),
        );
        assert_eq!(
            (
                &j["spec"]["completions"],
                &j["spec"]["parallelism"],
                &j["spec"]["backoffLimit"]
            ),
            (&json!(1), &json!(1), &json!(6))
        );
        assert_eq!(j["spec"]["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(j["metadata"]["labels"]["a"], "b");
        let c = defaulted(
            "cronjobs",
            "batch",
            json!({"spec": {"jobTemplate": {"spec": {}}}}),
        );
        assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
        assert!(
            c["spec"]["jobTemplate"]["spec"]
                .get("backoffLimit")
                .is_none()
        );
    }

    #[test]
    fn services_and_storage() {
        let s = defaulted(
            "services",
            "",
            json!({"spec": {"ports": [{"port": 80}], "type": "NodePort"}}),
        );
        assert_eq!(
            s["spec"]["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(s["spec"]["sessionAffinity"], "None");
        assert_eq!(s["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(s["spec"]["internalTrafficPolicy"], "Cluster");
        assert_eq!(s["status"], json!({"loadBalancer": {}}));
        let e = defaulted(
            "services",
            "",
            json!({"spec": {"type": "ExternalName", "externalName": "x.io"}}),
        );
        assert!(e["spec"].get("internalTrafficPolicy").is_none());
        let sc = defaulted(
            "storageclasses",
            "storage.k8s.io",
            json!({"provisioner": "p"}),
        );
        assert_eq!(sc["reclaimPolicy"], "Delete");
        let rb = defaulted(
            "rolebindings",
            "rbac.authorization.k8s.io",
            json!({"roleRef": {"kind": "Role", "name": "r"},
                "subjects": [{"kind": "ServiceAccount", "name": "s"}, {"kind": "User", "name": "u"}]}),
        );
        assert_eq!(rb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
        assert!(rb["subjects"][0].get("apiGroup").is_none());
        assert_eq!(rb["subjects"][1]["apiGroup"], "rbac.authorization.k8s.io");
    }
}
