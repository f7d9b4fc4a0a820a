//! Normalisation of objects read from a cluster: strip what the API server and controllers
//! set, so an object can be stored, compared with another cluster's copy, or created again.
//! backup stores and restores normalised objects; `backup diff` and triage compare them.

use serde_json::{Map, Value};

/// Metadata fields every API server sets; never part of what a user declared.
const SERVER_METADATA: [&str; 8] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Annotations controllers write on the objects they manage.
const CONTROLLER_ANNOTATIONS: [&str; 7] = [
    "deployment.kubernetes.io/revision",
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "pv.kubernetes.io/provisioned-by",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
];

/// Labels the Job controller adds that carry the old Job's UID.
const JOB_UID_LABELS: [&str; 2] = ["controller-uid", "batch.kubernetes.io/controller-uid"];

/// Everything a restore must not send and a comparison must not see:
/// [`strip_server_fields`] plus [`strip_cluster_assigned`].
pub fn normalize(obj: &mut Value) {
    strip_server_fields(obj);
    strip_cluster_assigned(obj);
}

/// Remove the fields every object gets from the API server: `metadata.uid`,
/// `resourceVersion`, `generation`, `creationTimestamp`, `managedFields`, `selfLink`,
/// deletion marks, and `status`. Empty `labels`/`annotations` maps are dropped too.
pub fn strip_server_fields(obj: &mut Value) {
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    o.remove("status");
    if let Some(Value::Object(meta)) = o.get_mut("metadata") {
        for f in SERVER_METADATA {
            meta.remove(f);
        }
        drop_if_empty(meta, "labels");
        drop_if_empty(meta, "annotations");
    }
}

/// Remove what a cluster assigned to this copy and would assign again (or refuse) on
/// create, by kind:
/// - Service: `clusterIP`/`clusterIPs` (unless headless `None`), allocated `nodePort`s,
///   `healthCheckNodePort`;
/// - PersistentVolumeClaim: `volumeName` and the binding annotations;
/// - PersistentVolume: `claimRef.uid`/`resourceVersion`;
/// - Job: the `controller-uid` selector and labels;
/// - Pod: `nodeName` (the scheduler assigns it);
/// - ServiceAccount: references to its generated token Secrets;
/// - every kind: controller annotations (`deployment.kubernetes.io/revision`, ...).
pub fn strip_cluster_assigned(obj: &mut Value) {
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let group = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(|v| v.rsplit_once('/').map_or("", |(g, _)| g))
        .unwrap_or("")
        .to_string();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(Value::Object(ann)) = obj.pointer_mut("/metadata/annotations") {
        for a in CONTROLLER_ANNOTATIONS {
            ann.remove(a);
        }
    }
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        drop_if_empty(meta, "annotations");
    }
    match (group.as_str(), kind.as_str()) {
        ("", "Service") => service(obj),
        ("", "PersistentVolumeClaim") => remove_at(obj, "/spec", "volumeName"),
        ("", "PersistentVolume") => {
            remove_at(obj, "/spec/claimRef", "uid");
            remove_at(obj, "/spec/claimRef", "resourceVersion");
        }
        ("", "Pod") => remove_at(obj, "/spec", "nodeName"),
        ("", "ServiceAccount") => service_account(obj, &name),
        ("batch", "Job") => job(obj),
        _ => {}
    }
}

/// A pod template as a rollout comparison sees it: without the hash labels and restart
/// annotation that differ between every revision.
pub fn pod_template(template: &Value) -> Value {
    let mut v = template.clone();
    if let Some(Value::Object(labels)) = v.pointer_mut("/metadata/labels") {
        labels.remove("pod-template-hash");
        labels.remove("controller-revision-hash");
    }
    if let Some(Value::Object(ann)) = v.pointer_mut("/metadata/annotations") {
        ann.remove("kubectl.kubernetes.io/restartedAt");
    }
    if let Some(Value::Object(meta)) = v.get_mut("metadata") {
        drop_if_empty(meta, "labels");
        drop_if_empty(meta, "annotations");
    }
    v
}

fn service(obj: &mut Value) {
    let Some(Value::Object(spec)) = obj.get_mut("spec") else {
        return;
    };
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    if !headless {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
    spec.remove("healthCheckNodePort");
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            p.remove("nodePort");
        }
    }
}

fn service_account(obj: &mut Value, name: &str) {
    let prefix = format!("{name}-token-");
    if let Some(Value::Array(secrets)) = obj.get_mut("secrets") {
        secrets.retain(|s| {
            !s.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.starts_with(&prefix))
        });
        if secrets.is_empty()
            && let Some(o) = obj.as_object_mut()
        {
            o.remove("secrets");
        }
    }
}

fn job(obj: &mut Value) {
    // The Job controller generates the selector from the Job's UID unless the user asked for
    // a manual selector; a restored Job gets a new one.
    let manual = obj.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true);
    if !manual {
        remove_at(obj, "/spec", "selector");
    }
    for labels in ["/spec/template/metadata/labels", "/metadata/labels"] {
        if let Some(Value::Object(l)) = obj.pointer_mut(labels) {
            for k in JOB_UID_LABELS {
                l.remove(k);
            }
        }
    }
}

fn remove_at(obj: &mut Value, pointer: &str, key: &str) {
    if let Some(Value::Object(o)) = obj.pointer_mut(pointer) {
        o.remove(key);
    }
}

fn drop_if_empty(map: &mut Map<String, Value>, key: &str) {
    if map
        .get(key)
        .is_some_and(|v| v.as_object().is_some_and(Map::is_empty) || v.is_null())
    {
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_fields_go() {
        let mut o = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "n", "uid": "u", "resourceVersion": "5",
                "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [], "labels": {},
                "annotations": {"keep": "me"}},
            "data": {"a": "b"}, "status": {}});
        normalize(&mut o);
        assert_eq!(
            o,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c", "namespace": "n", "annotations": {"keep": "me"}},
                "data": {"a": "b"}})
        );
    }

    #[test]
    fn services_lose_allocations_but_headless_stays() {
        let mut s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"type": "NodePort", "clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5"],
                "ports": [{"port": 80, "nodePort": 30080}]}});
        normalize(&mut s);
        assert_eq!(
            s["spec"],
            json!({"type": "NodePort", "ports": [{"port": 80}]})
        );
        let mut h = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "h"},
            "spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        normalize(&mut h);
        assert_eq!(h["spec"]["clusterIP"], "None");
    }

    #[test]
    fn pvcs_jobs_pods_and_service_accounts() {
        let mut pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "annotations": {"pv.kubernetes.io/bind-completed": "yes"}},
            "spec": {"volumeName": "pvc-123", "storageClassName": "fast"}});
        normalize(&mut pvc);
        assert_eq!(pvc["spec"], json!({"storageClassName": "fast"}));
        assert!(pvc["metadata"].get("annotations").is_none());

        let mut job = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "labels": {"controller-uid": "u", "app": "x"}},
            "spec": {"selector": {"matchLabels": {"controller-uid": "u"}},
                "template": {"metadata": {"labels": {"batch.kubernetes.io/controller-uid": "u", "job-name": "j"}}}}});
        normalize(&mut job);
        assert!(job["spec"].get("selector").is_none());
        assert_eq!(
            job["spec"]["template"]["metadata"]["labels"],
            json!({"job-name": "j"})
        );
        assert_eq!(job["metadata"]["labels"], json!({"app": "x"}));

        let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"nodeName": "n1", "containers": []}});
        normalize(&mut pod);
        assert_eq!(pod["spec"], json!({"containers": []}));

        let mut sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app"},
            "secrets": [{"name": "app-token-x7k2p"}]});
        normalize(&mut sa);
        assert!(sa.get("secrets").is_none());
    }

    #[test]
    fn templates_without_revision_noise() {
        let t = json!({"metadata": {"labels": {"app": "a", "pod-template-hash": "abc"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}, "spec": {}});
        assert_eq!(
            pod_template(&t),
            json!({"metadata": {"labels": {"app": "a"}}, "spec": {}})
        );
    }
}
