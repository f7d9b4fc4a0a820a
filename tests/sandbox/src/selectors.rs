//! Label and field selectors as the API server parses them from `?labelSelector=`
//! and `?fieldSelector=`, evaluated against JSON objects.

use crate::error::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<LabelReq>);

/// Splits on commas outside parentheses (`a in (x,y),b` is two requirements).
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn set_values(inner: &str) -> Vec<String> {
    inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = |part: &str| {
            ApiError::bad_request(format!(
                "unable to parse requirement: found '{part}', expected: in, notin, =, ==, !=, gt, lt"
            ))
        };
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let req = if let Some(k) = part.strip_prefix('!') {
                LabelReq::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                LabelReq::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once("==") {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once('=') {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some(open) = part.find('(') {
                let close = part.rfind(')').ok_or_else(|| bad(part))?;
                let head: Vec<&str> = part[..open].split_whitespace().collect();
                let values = set_values(&part[open + 1..close]);
                match head.as_slice() {
                    [k, "in"] => LabelReq::In(k.to_string(), values),
                    [k, "notin"] => LabelReq::NotIn(k.to_string(), values),
                    _ => return Err(bad(part)),
                }
            } else {
                LabelReq::Exists(part.to_string())
            };
            let key = match &req {
                LabelReq::Eq(k, _)
                | LabelReq::NotEq(k, _)
                | LabelReq::In(k, _)
                | LabelReq::NotIn(k, _)
                | LabelReq::Exists(k)
                | LabelReq::NotExists(k) => k,
            };
            if !valid_key(key) {
                return Err(bad(part));
            }
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.matches_labels(obj.pointer("/metadata/labels"))
    }

    /// The same against an object's `metadata.labels` map.
    pub fn matches_labels(&self, labels: Option<&Value>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed field selector (`path=value`, `path==value`, `path!=value`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let (path, eq, value) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            reqs.push((path.trim().to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Rewrites field paths (a served version's names → stored names).
    pub fn map_paths(self, f: impl Fn(&str) -> String) -> Self {
        FieldSelector(
            self.0
                .into_iter()
                .map(|(p, eq, v)| (f(&p), eq, v))
                .collect(),
        )
    }

    /// Adds `metadata.name=<name>` (a legacy `/watch/.../<name>` path).
    pub fn and_name(mut self, name: &str) -> Self {
        self.0
            .push(("metadata.name".to_string(), true, name.to_string()));
        self
    }

    /// Rejects field labels the real server does not index for this resource,
    /// so a client that works here also works against a cluster.
    pub fn check_supported(&self, group: &str, plural: &str) -> Result<(), ApiError> {
        for (path, _, _) in &self.0 {
            if !supported_field(group, plural, path) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {path}"
                )));
            }
        }
        Ok(())
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0
            .iter()
            .all(|(path, eq, want)| (field_value(obj, path) == *want) == *eq)
    }

    /// The same with the field values looked up by `field` (a stored
    /// object's index); a field it does not know is empty.
    pub fn matches_with<'a>(&self, field: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.0
            .iter()
            .all(|(path, eq, want)| (field(path).unwrap_or("") == want) == *eq)
    }
}

/// The field labels kube-apiserver supports per resource (its
/// `AddFieldLabelConversionFunc` tables), plus `metadata.name/namespace` for all.
fn supported_field(group: &str, plural: &str, path: &str) -> bool {
    matches!(path, "metadata.name" | "metadata.namespace")
        || resource_fields(group, plural).contains(&path)
}

/// The field labels of one storage key (`group/plural`, see `store::res_key`)
/// besides `metadata.name/namespace`: what a stored object indexes.
pub fn indexed_fields(res: &str) -> &'static [&'static str] {
    let (group, plural) = res.split_once('/').unwrap_or(("", res));
    resource_fields(group, plural)
}

fn resource_fields(group: &str, plural: &str) -> &'static [&'static str] {
    const EVENT: &[&str] = &[
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ];
    const EVENTS_K8S_IO: &[&str] = &[
        "regarding.kind",
        "regarding.namespace",
        "regarding.name",
        "regarding.uid",
        "regarding.apiVersion",
        "regarding.resourceVersion",
        "regarding.fieldPath",
        "reason",
        "reportingController",
        "type",
    ];
    match (group, plural) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        ("", "events") => EVENT,
        ("events.k8s.io", "events") => EVENTS_K8S_IO,
        ("", "nodes") => &["spec.unschedulable"],
        ("", "namespaces") => &["status.phase"],
        ("", "secrets") => &["type"],
        ("", "services") => &["spec.clusterIP", "spec.type"],
        ("", "replicationcontrollers") | ("apps", "replicasets") => &["status.replicas"],
        ("batch", "jobs") => &["status.successful"],
        ("certificates.k8s.io", "certificatesigningrequests") => &["spec.signerName"],
        _ => &[],
    }
}

/// A field as the real server's field-label conversion renders it: strings
/// as-is, booleans and numbers as text, a missing field as "" (so
/// `spec.nodeName=` finds unscheduled pods and `spec.unschedulable=false`
/// finds nodes without the field).
pub fn field_value(obj: &Value, path: &str) -> String {
    // Events index `source` as the reporting component.
    let path = if path == "source" {
        "source.component"
    } else {
        path
    };
    let mut cur = obj;
    for seg in path.split('.') {
        match cur.get(seg) {
            Some(v) => cur = v,
            None => {
                return if path == "spec.unschedulable" {
                    "false".to_string()
                } else {
                    String::new()
                };
            }
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let o = json!({"metadata": {"labels": {"app": "web", "tier": "fe"}}});
        let m = |s: &str| LabelSelector::parse(s).expect(s).matches(&o);
        assert!(m("app=web"));
        assert!(m("app==web,tier"));
        assert!(!m("app!=web"));
        assert!(m("app in (web, api),!missing"));
        assert!(!m("app notin (web)"));
        assert!(m("missing notin (x)"));
        assert!(!m("missing"));
        assert!(m(""));
        assert!(LabelSelector::parse("a b c").is_err());
    }

    #[test]
    fn field_selectors() {
        let p = json!({"metadata": {"name": "p", "namespace": "n"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let m = |s: &str| FieldSelector::parse(s).expect(s).matches(&p);
        assert!(m("metadata.name=p,status.phase!=Failed"));
        assert!(m("spec.nodeName==n1"));
        assert!(!m("spec.nodeName="));
        let node = json!({"metadata": {"name": "n"}, "spec": {}});
        assert!(
            FieldSelector::parse("spec.unschedulable=false")
                .expect("ok")
                .matches(&node)
        );
        assert!(FieldSelector::parse("nonsense").is_err());
        let f = FieldSelector::parse("spec.nodeName=n1,status.phase=Running").expect("ok");
        assert!(f.check_supported("", "pods").is_ok());
        let e = FieldSelector::parse("spec.foo=x")
            .expect("ok")
            .check_supported("", "pods")
            .expect_err("unsupported");
        assert_eq!(e.message, "field label not supported: spec.foo");
        assert!(
            FieldSelector::parse("metadata.name=x")
                .expect("ok")
                .check_supported("apps", "deployments")
                .is_ok()
        );
    }
}
