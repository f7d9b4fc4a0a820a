//! PATCH bodies: JSON patch, JSON merge patch, strategic merge patch (the
//! merge keys and `$patch` directives kubectl's apply/set/rollout send) and
//! server-side apply (approximated as a strategic merge of the applied config).

use crate::error::ApiError;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

/// Parses a patch body: JSON, or YAML for server-side apply.
pub fn parse_body(kind: PatchType, body: &[u8]) -> Result<Value, ApiError> {
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(e) if kind == PatchType::Apply => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("patch body is not UTF-8"))?;
            serde_saphyr::from_str(text).map_err(|y| {
                ApiError::bad_request(format!(
                    "error decoding YAML: {}",
                    y.to_string().lines().next().unwrap_or(&e.to_string())
                ))
            })
        }
        Err(e) => Err(ApiError::bad_request(format!("error decoding patch: {e}"))),
    }
}

/// Applies a patch of the given type to `doc`.
pub fn apply(kind: PatchType, doc: &mut Value, patch: &Value) -> Result<(), ApiError> {
    match kind {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("error decoding JSON patch: {e}")))?;
            json_patch::patch(doc, &ops).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })
        }
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(ApiError::bad_request("merge patch must be a JSON object"));
            }
            json_patch::merge(doc, patch);
            Ok(())
        }
        PatchType::Strategic | PatchType::Apply => {
            let p = patch.as_object().ok_or_else(|| {
                ApiError::bad_request("strategic merge patch must be a JSON object")
            })?;
            strategic_map(doc, p);
            Ok(())
        }
    }
}

/// The list merge key the Kubernetes types declare for a field (by field name,
/// refined by what the items carry: container ports vs service ports).
fn merge_key(field: &str, sample: Option<&Value>) -> Option<&'static str> {
    let has = |k: &str| sample.is_some_and(|s| s.get(k).is_some());
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "ports" if has("containerPort") => Some("containerPort"),
        "ports" if has("port") => Some("port"),
        "conditions" => Some("type"),
        "ownerReferences" => Some("uid"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        _ => None,
    }
}

/// Primitive lists the types mark `patchStrategy: merge` (set union).
fn merges_primitives(field: &str) -> bool {
    matches!(field, "finalizers")
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .filter(|x| x.get("$patch").is_none())
                .map(strip_directives)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn strategic_map(doc: &mut Value, patch: &Map<String, Value>) {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            *doc = strip_directives(&Value::Object(patch.clone()));
            return;
        }
        Some("delete") => {
            *doc = Value::Object(Map::new());
            return;
        }
        _ => {}
    }
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    let Some(target) = doc.as_object_mut() else {
        return;
    };
    for (k, pv) in patch {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Some(del)) = (target.get_mut(field), pv.as_array()) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            continue; // $setElementOrder/*, $retainKeys (handled below), $patch
        }
        if pv.is_null() {
            target.remove(k);
            continue;
        }
        match (target.get_mut(k), pv) {
            (Some(cur @ Value::Object(_)), Value::Object(pm)) => strategic_map(cur, pm),
            (Some(Value::Array(cur)), Value::Array(pl)) => {
                let sample = pl.iter().chain(cur.iter()).find(|x| x.is_object());
                if let Some(key) = merge_key(k, sample) {
                    merge_list(cur, pl, key);
                } else if merges_primitives(k) {
                    for x in pl {
                        if !cur.contains(x) {
                            cur.push(x.clone());
                        }
                    }
                } else {
                    *cur = strip_directives(pv).as_array().cloned().unwrap_or_default();
                }
            }
            (_, Value::Object(pm)) => {
                let mut fresh = Value::Object(Map::new());
                strategic_map(&mut fresh, pm);
                target.insert(k.clone(), fresh);
            }
            (_, other) => {
                target.insert(k.clone(), strip_directives(other));
            }
        }
    }
    if let Some(keep) = patch.get("$retainKeys").and_then(Value::as_array) {
        target.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)));
    }
}

fn merge_list(cur: &mut Vec<Value>, patch: &[Value], key: &str) {
    if patch
        .iter()
        .any(|x| x.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        *cur = patch
            .iter()
            .filter(|x| x.get("$patch").is_none())
            .map(strip_directives)
            .collect();
        return;
    }
    for item in patch {
        let id = item.get(key);
        let pos = id.and_then(|id| cur.iter().position(|c| c.get(key) == Some(id)));
        if item.get("$patch").and_then(Value::as_str) == Some("delete") {
            if let Some(p) = pos {
                cur.remove(p);
            }
            continue;
        }
        match (pos, item.as_object()) {
            (Some(p), Some(m)) => strategic_map(&mut cur[p], m),
            _ => cur.push(strip_directives(item)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "side", "image": "s:1"}]}}}});
        let p = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "t"}},
            "spec": {"$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
                "containers": [{"name": "app", "image": "a:2", "env": [{"name": "Y", "value": "2"}]},
                               {"name": "side", "$patch": "delete"}]}}}});
        apply(PatchType::Strategic, &mut d, &p).expect("patch");
        let cs = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs.as_array().map(Vec::len), Some(1));
        assert_eq!(cs[0]["image"], "a:2");
        assert_eq!(cs[0]["env"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "t"
        );
    }

    #[test]
    fn strategic_replace_retain_and_null() {
        let mut d = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}, "tolerations": [{"key": "x"}]}});
        let p = json!({"metadata": {"labels": {"a": null}}, "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}, "tolerations": [{"key": "y"}]}});
        apply(PatchType::Strategic, &mut d, &p).expect("patch");
        assert_eq!(d["metadata"]["labels"], json!({"b": "2"}));
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(d["spec"]["tolerations"], json!([{"key": "y"}]));
        let p = json!({"spec": {"$patch": "replace", "x": 1}});
        apply(PatchType::Strategic, &mut d, &p).expect("patch");
        assert_eq!(d["spec"], json!({"x": 1}));
    }

    #[test]
    fn json_and_merge() {
        let mut d = json!({"a": {"b": 1}, "l": [1]});
        apply(
            PatchType::Json,
            &mut d,
            &json!([{"op": "add", "path": "/l/-", "value": 2}]),
        )
        .expect("json");
        apply(PatchType::Merge, &mut d, &json!({"a": {"b": null, "c": 3}})).expect("merge");
        assert_eq!(d, json!({"a": {"c": 3}, "l": [1, 2]}));
        assert!(
            apply(
                PatchType::Json,
                &mut d,
                &json!([{"op": "test", "path": "/a/c", "value": 9}])
            )
            .is_err()
        );
    }
}
