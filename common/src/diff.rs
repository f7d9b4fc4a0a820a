//! Field-level differences between two objects (as JSON values): what triage shows for a
//! rollout, what `backup diff` shows against the live cluster, what `rotate status`
//! compares. Secret values are compared but never shown.

use serde::Serialize;
use serde_json::Value;

/// One changed field. `old`/`new` are `None` when the field is absent on that side.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// Dotted path; list items with a `name` are addressed by it: `spec.containers[app].image`.
    pub path: String,
    /// The value before (masked for secret data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The value after (masked for secret data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// True when the values are secret and shown only as changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub masked: bool,
}

impl FieldChange {
    /// `path: old → new` (`(none)` for an absent side; `path: changed` for secret values),
    /// redacted.
    pub fn line(&self) -> String {
        if self.masked {
            let what = match (&self.old, &self.new) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                _ => "changed",
            };
            return format!("{}: {what}", self.path);
        }
        let show = |v: &Option<Value>| match v {
            None | Some(Value::Null) => "(none)".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let line = format!("{}: {} → {}", self.path, show(&self.old), show(&self.new));
        crate::redact::redact_text(&line).into_owned()
    }
}

/// Placeholder for a secret value in a masked change.
const MASKED: &str = "(secret value)";

/// Every field that differs between `old` and `new`. Objects are compared key by key;
/// arrays whose items all have a string `name` are matched by name (a reordered env list is
/// not a change); other arrays and scalars compare whole. `null`, absent and an empty
/// map are the same (the API server drops empty maps on many fields).
pub fn diff(old: &Value, new: &Value) -> Vec<FieldChange> {
    diff_masked(old, new, &|_| false)
}

/// [`diff`] of two whole objects of the same kind: for Secrets, `data` and `stringData`
/// values are compared but shown only as changed.
pub fn diff_object(old: &Value, new: &Value) -> Vec<FieldChange> {
    let is_secret = |v: &Value| {
        v.get("kind").and_then(Value::as_str) == Some("Secret")
            && v.get("apiVersion").and_then(Value::as_str) == Some("v1")
    };
    if is_secret(old) || is_secret(new) {
        diff_masked(old, new, &|path| {
            path.starts_with("data.") || path.starts_with("stringData.")
        })
    } else {
        diff(old, new)
    }
}

/// [`diff`] where values under paths for which `secret(path)` holds are masked.
pub fn diff_masked(old: &Value, new: &Value, secret: &dyn Fn(&str) -> bool) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", old, new, secret, &mut out);
    out
}

fn walk(
    path: &str,
    old: &Value,
    new: &Value,
    secret: &dyn Fn(&str) -> bool,
    out: &mut Vec<FieldChange>,
) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(
                    &p,
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    secret,
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if all_named(a) && all_named(b) => {
            let mut names: Vec<&str> = Vec::new();
            for n in a.iter().chain(b.iter()).filter_map(item_name) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            for n in names {
                let find = |l: &[Value]| {
                    l.iter()
                        .find(|v| item_name(v) == Some(n))
                        .cloned()
                        .unwrap_or(Value::Null)
                };
                walk(&format!("{path}[{n}]"), &find(a), &find(b), secret, out);
            }
        }
        _ if old == new || (is_empty(old) && is_empty(new)) => {}
        _ => {
            let side = |v: &Value| (!v.is_null()).then(|| v.clone());
            let masked = secret(path);
            let mask = |v: Option<Value>| v.map(|_| Value::String(MASKED.to_string()));
            let (o, n) = if masked {
                (mask(side(old)), mask(side(new)))
            } else {
                (side(old), side(new))
            };
            out.push(FieldChange {
                path: path.to_string(),
                old: o,
                new: n,
                masked,
            });
        }
    }
}

fn is_empty(v: &Value) -> bool {
    v.is_null() || v.as_object().is_some_and(serde_json::Map::is_empty)
}

fn item_name(v: &Value) -> Option<&str> {
    v.get("name").and_then(Value::as_str)
}

fn all_named(items: &[Value]) -> bool {
    items.iter().all(|v| item_name(v).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(old: Value, new: Value) -> Vec<String> {
        diff(&old, &new).iter().map(FieldChange::line).collect()
    }

    #[test]
    fn scalar_and_nested_changes() {
        assert_eq!(
            lines(
                json!({"spec": {"replicas": 2, "paused": null}}),
                json!({"spec": {"replicas": 3}})
            ),
            ["spec.replicas: 2 → 3"]
        );
        assert_eq!(
            lines(json!({"a": 1}), json!({"a": 1, "b": "x"})),
            ["b: (none) → x"]
        );
        assert!(lines(json!({"a": [1, 2]}), json!({"a": [1, 2]})).is_empty());
        assert!(
            lines(json!({"a": {}}), json!({})).is_empty(),
            "empty map = absent"
        );
        assert_eq!(
            lines(json!({"a": [1, 2]}), json!({"a": [2, 1]})),
            ["a: [1,2] → [2,1]"]
        );
    }

    #[test]
    fn named_lists_match_by_name() {
        let old =
            json!({"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]});
        let new =
            json!({"containers": [{"name": "b", "image": "b:1"}, {"name": "a", "image": "a:2"}]});
        assert_eq!(lines(old, new), ["containers[a].image: a:1 → a:2"]);
        let added = lines(
            json!({"env": [{"name": "X", "value": "1"}]}),
            json!({"env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}),
        );
        assert_eq!(added, [r#"env[Y]: (none) → {"name":"Y","value":"2"}"#]);
    }

    #[test]
    fn secret_values_are_only_changed() {
        let old = json!({"apiVersion": "v1", "kind": "Secret", "data": {"password": "aHVudGVyMg==", "user": "YXBw"}});
        let new = json!({"apiVersion": "v1", "kind": "Secret", "data": {"password": "czNjcjN0", "token": "eA=="}, "type": "Opaque"});
        let changes = diff_object(&old, &new);
        let text: Vec<String> = changes.iter().map(FieldChange::line).collect();
        assert_eq!(
            text,
            [
                "data.password: changed",
                "data.token: added",
                "data.user: removed",
                "type: (none) → Opaque"
            ]
        );
        let json = serde_json::to_string(&changes).unwrap_or_default();
        assert!(
            !json.contains("aHVudGVyMg") && !json.contains("czNjcjN0"),
            "{json}"
        );
    }

    #[test]
    fn lines_are_redacted() {
        assert_eq!(
            lines(
                json!({"args": "--password=a"}),
                json!({"args": "--password=b"})
            ),
            ["args: --password=*** → --password=***"]
        );
    }
}
