//! How objects look on the wire: keys in the order a real API server writes
//! them, and JSON bodies ending in a newline as Go's `json.Encoder` ends them.
//!
//! Built-in kinds are Go structs, so their keys follow the struct fields:
//! `kind`, `apiVersion` (TypeMeta), `metadata` (ObjectMeta's own field order),
//! then the kind's fields (usually `spec`, `status`). Custom resources are
//! `map[string]interface{}` on the server, which `encoding/json` writes with
//! every key sorted, at every level. Nested structs (inside `spec`, `status`)
//! keep the order the object was written in.

use crate::registry::ResourceType;
use serde_json::{Map, Value};

/// `metav1.ObjectMeta` field order.
const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Top-level fields after TypeMeta and ObjectMeta, in Go struct order, for
/// the built-in kinds that do not have just `spec` and `status`.
fn kind_fields(group: &str, kind: &str) -> &'static [&'static str] {
    match (group, kind) {
        ("", "ConfigMap") => &["immutable", "data", "binaryData"],
        ("", "Secret") => &["immutable", "data", "stringData", "type"],
        ("", "Endpoints") => &["subsets"],
        ("", "Event") => &[
            "involvedObject",
            "reason",
            "message",
            "source",
            "firstTimestamp",
            "lastTimestamp",
            "count",
            "type",
            "eventTime",
            "series",
            "action",
            "related",
            "reportingComponent",
            "reportingInstance",
        ],
        ("events.k8s.io", "Event") => &[
            "eventTime",
            "series",
            "reportingController",
            "reportingInstance",
            "action",
            "reason",
            "regarding",
            "related",
            "note",
            "type",
            "deprecatedSource",
            "deprecatedFirstTimestamp",
            "deprecatedLastTimestamp",
            "deprecatedCount",
        ],
        ("", "ServiceAccount") => &[
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ],
        ("", "Binding") => &["target"],
        ("", "PodTemplate") => &["template"],
        ("", "ComponentStatus") => &["conditions"],
        ("apps", "ControllerRevision") => &["data", "revision"],
        ("discovery.k8s.io", "EndpointSlice") => &["addressType", "endpoints", "ports"],
        ("storage.k8s.io", "StorageClass") => &[
            "provisioner",
            "parameters",
            "reclaimPolicy",
            "mountOptions",
            "allowVolumeExpansion",
            "volumeBindingMode",
            "allowedTopologies",
        ],
        ("rbac.authorization.k8s.io", "Role") => &["rules"],
        ("rbac.authorization.k8s.io", "ClusterRole") => &["rules", "aggregationRule"],
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            &["subjects", "roleRef"]
        }
        ("scheduling.k8s.io", "PriorityClass") => {
            &["value", "globalDefault", "description", "preemptionPolicy"]
        }
        ("metrics.k8s.io", "NodeMetrics") => &["timestamp", "window", "usage"],
        ("metrics.k8s.io", "PodMetrics") => &["timestamp", "window", "containers"],
        _ => &["spec", "status"],
    }
}

/// Whether the keys already come in `order` (keys it does not list after
/// all those it does, in any order among themselves).
fn in_order(map: &Map<String, Value>, order: &[&str]) -> bool {
    let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(order.len());
    let mut last = 0;
    map.keys().all(|k| {
        let r = rank(k);
        let ok = r >= last;
        last = r;
        ok
    })
}

/// `keys` first (those present), then the rest in their current order.
fn reorder(map: Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    if in_order(&map, keys) {
        return map;
    }
    let mut entries: Vec<Option<(String, Value)>> = map.into_iter().map(Some).collect();
    let mut out = Map::with_capacity(entries.len());
    for key in keys {
        let slot = entries
            .iter_mut()
            .find(|e| e.as_ref().is_some_and(|(k, _)| k == key));
        if let Some((k, v)) = slot.and_then(Option::take) {
            out.insert(k, v);
        }
    }
    for (k, v) in entries.into_iter().flatten() {
        out.insert(k, v);
    }
    out
}

/// ObjectMeta in its Go field order (PartialObjectMetadata, Table rows).
pub fn order_metadata(meta: Value) -> Value {
    match meta {
        Value::Object(m) => Value::Object(reorder(m, OBJECT_META)),
        other => other,
    }
}

/// Every object key sorted, recursively: how a Go map is encoded.
pub fn sorted(mut v: Value) -> Value {
    sort_in_place(&mut v);
    v
}

fn sort_in_place(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if !m.keys().is_sorted() {
                let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                *m = entries.into_iter().collect();
            }
            m.values_mut().for_each(sort_in_place);
        }
        Value::Array(a) => a.iter_mut().for_each(sort_in_place),
        _ => {}
    }
}

/// A built-in object's keys in Go struct order (`group`/`kind` name the type).
fn order_builtin(group: &str, kind: &str, obj: Value) -> Value {
    let Value::Object(m) = obj else {
        return obj;
    };
    let order: Vec<&str> = ["kind", "apiVersion", "metadata"]
        .into_iter()
        .chain(kind_fields(group, kind).iter().copied())
        .collect();
    let mut m = reorder(m, &order);
    if let Some(meta) = m.get_mut("metadata") {
        *meta = order_metadata(std::mem::take(meta));
    }
    Value::Object(m)
}

/// An object of type `rt` with its keys in the order a real server writes
/// them. Cheap when they already are (stored objects are kept that way).
pub fn order_object(rt: &ResourceType, obj: Value) -> Value {
    if rt.custom {
        sorted(obj)
    } else {
        order_builtin(&rt.group, &rt.kind, obj)
    }
}

/// The same for an object as storage keeps it, its type read from its own
/// `apiVersion`/`kind` (anything not built in is a custom resource).
pub fn order_stored(obj: &mut Value) {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let (group, _) = crate::registry::split_api_version(api_version);
    if crate::registry::is_builtin(group, kind) {
        let (group, kind) = (group.to_string(), kind.to_string());
        *obj = order_builtin(&group, &kind, std::mem::take(obj));
    } else {
        sort_in_place(obj);
    }
}

/// The bytes of a JSON response body: the value and a newline.
pub fn body(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(v).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn builtin_objects_follow_go_struct_order() {
        let r = Registry::builtin();
        let pods = r.by_plural("", "v1", "pods").expect("pods");
        let pod = json!({"status": {}, "spec": {}, "apiVersion": "v1",
            "metadata": {"labels": {}, "uid": "u", "name": "p", "namespace": "n"}, "kind": "Pod"});
        let o = order_object(pods, pod);
        assert_eq!(
            keys(&o),
            ["kind", "apiVersion", "metadata", "spec", "status"]
        );
        assert_eq!(keys(&o["metadata"]), ["name", "namespace", "uid", "labels"]);
        let cms = r.by_plural("", "v1", "configmaps").expect("configmaps");
        let cm = json!({"data": {}, "metadata": {}, "apiVersion": "v1", "kind": "ConfigMap",
            "binaryData": {}, "immutable": true});
        assert_eq!(
            keys(&order_object(cms, cm)),
            [
                "kind",
                "apiVersion",
                "metadata",
                "immutable",
                "data",
                "binaryData"
            ]
        );
    }

    #[test]
    fn custom_resources_are_sorted_maps() {
        let mut r = Registry::builtin();
        r.add_crd(&json!({"spec": {"group": "x.io", "scope": "Namespaced",
            "names": {"kind": "W", "plural": "ws"}, "versions": [{"name": "v1", "served": true}]}}))
            .expect("crd");
        let rt = r.by_plural("x.io", "v1", "ws").expect("ws");
        let o = order_object(
            rt,
            json!({"kind": "W", "apiVersion": "x.io/v1", "metadata": {"name": "a", "uid": "u"},
                "spec": {"z": 1, "a": {"y": 1, "b": 2}}}),
        );
        assert_eq!(keys(&o), ["apiVersion", "kind", "metadata", "spec"]);
        assert_eq!(keys(&o["metadata"]), ["name", "uid"]);
        assert_eq!(keys(&o["spec"]["a"]), ["b", "y"]);
    }

    #[test]
    fn stored_objects_are_ordered_by_their_own_kind() {
        let mut cm = json!({"data": {}, "metadata": {"resourceVersion": "1", "name": "c"},
            "kind": "ConfigMap", "apiVersion": "v1"});
        order_stored(&mut cm);
        assert_eq!(keys(&cm), ["kind", "apiVersion", "metadata", "data"]);
        assert_eq!(keys(&cm["metadata"]), ["name", "resourceVersion"]);
        let mut cr = json!({"spec": {"b": 1, "a": 2}, "kind": "W", "apiVersion": "x.io/v1"});
        order_stored(&mut cr);
        assert_eq!(keys(&cr), ["apiVersion", "kind", "spec"]);
        assert_eq!(keys(&cr["spec"]), ["a", "b"]);
    }

    #[test]
    fn bodies_end_with_a_newline() {
        assert_eq!(body(&json!({"a": 1})), b"{\"a\":1}\n");
    }
}
