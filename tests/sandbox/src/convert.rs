//! Versions that share one storage: `events.k8s.io/v1` Events are core/v1
//! Events seen through renamed fields (as in a real server), so a fixture or
//! write in either API is visible in both.

use crate::registry::ResourceType;
use crate::store::res_key;
use serde_json::{Map, Value};

/// (events.k8s.io/v1 field, core/v1 field)
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn is_events_v1(group: &str, plural: &str) -> bool {
    group == "events.k8s.io" && plural == "events"
}

/// Whether objects of this type are served in another shape than stored.
pub fn converts(rt: &ResourceType) -> bool {
    is_events_v1(&rt.group, &rt.plural)
}

/// Where objects of this type are stored.
pub fn storage_key(group: &str, plural: &str) -> String {
    if is_events_v1(group, plural) {
        res_key("", "events")
    } else {
        res_key(group, plural)
    }
}

fn rename(obj: Value, table: &[(&str, &str)], forward: bool) -> Value {
    let Value::Object(m) = obj else { return obj };
    let mut out = Map::with_capacity(m.len());
    for (k, v) in m {
        let renamed = table.iter().find_map(|(a, b)| {
            let (from, to) = if forward { (a, b) } else { (b, a) };
            (k == *from).then(|| to.to_string())
        });
        out.insert(renamed.unwrap_or(k), v);
    }
    Value::Object(out)
}

/// A stored object as the requested type serves it (apiVersion/kind are set by the caller).
pub fn to_served(rt: &ResourceType, obj: Value) -> Value {
    if is_events_v1(&rt.group, &rt.plural) {
        rename(obj, EVENT_FIELDS, false)
    } else {
        obj
    }
}

/// An object written through `rt` in the form storage keeps.
pub fn to_stored(rt: &ResourceType, obj: Value) -> Value {
    if is_events_v1(&rt.group, &rt.plural) {
        let mut o = rename(obj, EVENT_FIELDS, true);
        if let Some(m) = o.as_object_mut() {
            m.insert("apiVersion".into(), Value::from("v1"));
        }
        o
    } else {
        obj
    }
}

/// A field selector path of the served type, in stored terms.
pub fn stored_field_path(group: &str, plural: &str, path: &str) -> String {
    if !is_events_v1(group, plural) {
        return path.to_string();
    }
    for (served, stored) in EVENT_FIELDS {
        if path == *served {
            return stored.to_string();
        }
        if let Some(rest) = path.strip_prefix(served).and_then(|r| r.strip_prefix('.')) {
            return format!("{stored}.{rest}");
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    #[test]
    fn events_round_trip() {
        let r = Registry::builtin();
        let rt = r
            .by_plural("events.k8s.io", "v1", "events")
            .expect("events.k8s.io");
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p"}, "message": "m", "reason": "R", "count": 3});
        let served = to_served(rt, core.clone());
        assert_eq!(served["regarding"]["name"], "p");
        assert_eq!(served["note"], "m");
        assert_eq!(served["deprecatedCount"], 3);
        assert_eq!(to_stored(rt, served), core);
        assert_eq!(storage_key("events.k8s.io", "events"), "/events");
        assert_eq!(
            stored_field_path("events.k8s.io", "events", "regarding.name"),
            "involvedObject.name"
        );
        assert_eq!(
            stored_field_path("events.k8s.io", "events", "reportingController"),
            "reportingComponent"
        );
    }
}
