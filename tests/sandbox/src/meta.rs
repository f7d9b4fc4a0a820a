//! Server-assigned metadata (uid, creationTimestamp, generation) and the
//! timestamp format the API uses, shared by fixture loading and creates.

use crate::registry::Generation;
use serde_json::{Map, Value, json};

/// A random RFC 4122 version-4 UID, the format real objects carry.
pub fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-{:01x}{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6] & 0x0f,
        b[7],
        8 | (b[8] & 0x3),
        b[8] >> 4,
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

/// RFC 3339 with second precision, as `metav1.Time` serialises.
pub fn rfc3339(ts: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(ts.as_second())
        .unwrap_or(ts)
        .to_string()
}

pub fn metadata_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj.as_object_mut()?.insert("metadata".into(), json!({}));
    }
    obj.get_mut("metadata").and_then(Value::as_object_mut)
}

/// Fills what the server sets on create, keeping anything already there
/// (fixtures may pin uids and timestamps). `generation` is 1 only for kinds
/// whose registry tracks it (see [`crate::registry::generation_of`]).
pub fn fill_create_metadata(obj: &mut Value, namespace: Option<&str>, now: jiff::Timestamp) {
    if let Some(m) = metadata_mut(obj) {
        if let Some(ns) = namespace {
            m.insert("namespace".into(), json!(ns));
        } else {
            m.remove("namespace");
        }
        if !m.get("uid").is_some_and(Value::is_string) {
            m.insert("uid".into(), json!(new_uid()));
        }
        if !m.get("creationTimestamp").is_some_and(Value::is_string) {
            m.insert("creationTimestamp".into(), json!(rfc3339(now)));
        }
    }
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let policy = crate::registry::generation_of(api_version, kind);
    if let Some(m) = metadata_mut(obj) {
        match policy {
            Generation::Tracked => {
                if !m.get("generation").is_some_and(Value::is_u64) {
                    m.insert("generation".into(), json!(1));
                }
            }
            // A real registry never stores one for these kinds.
            Generation::None => {
                m.remove("generation");
            }
            Generation::BumpOnly => {}
        }
    }
}

/// The strings of a JSON list (non-strings skipped; missing → empty).
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The pod's QoS class as the API server computes it (requests/limits of
/// cpu and memory across containers).
pub fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|k| pod.pointer(&format!("/spec/{k}")).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        for res in ["cpu", "memory"] {
            let req = c.pointer(&format!("/resources/requests/{res}"));
            let lim = c.pointer(&format!("/resources/limits/{res}"));
            any |= req.is_some() || lim.is_some();
            if lim.is_none() || (req.is_some() && req != lim) {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_shape() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
    }
}
