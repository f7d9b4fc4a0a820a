//! `sandbox.test/v1 PodFailure` rules: a fixture says which new pods fail and
//! how (CrashLoopBackOff with an exit code and log, running but never Ready,
//! or ImagePullBackOff), so a test can make a credential "wrong" and watch a
//! rollout stall and roll back.

use crate::controllers::selector_matches;
use crate::store::{Inner, meta_str};
use base64::Engine;
use serde_json::Value;

/// How the matched containers fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Each start exits with `exit_code`; the kubelet backs off.
    CrashLoopBackOff,
    /// The container runs, its readiness probe never passes.
    NotReady,
    /// The image cannot be pulled.
    ImagePullBackOff,
}

/// A Secret or ConfigMap the pod must reference, optionally by a key value.
#[derive(Debug, Clone, Default)]
struct ObjectMatch {
    name: Option<String>,
    name_prefix: Option<String>,
    key: Option<String>,
    value: Option<String>,
    not_value: Option<String>,
}

impl ObjectMatch {
    fn parse(v: &Value, what: &str) -> Result<ObjectMatch, String> {
        let s = |k: &str| -> Result<Option<String>, String> {
            match v.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(x)) => Ok(Some(x.clone())),
                Some(other) => Err(format!(
                    "PodFailure match.{what}.{k} must be a string, not {other}"
                )),
            }
        };
        let m = ObjectMatch {
            name: s("name")?,
            name_prefix: s("namePrefix")?,
            key: s("key")?,
            value: s("value")?,
            not_value: s("notValue")?,
        };
        if (m.value.is_some() || m.not_value.is_some()) && m.key.is_none() {
            return Err(format!(
                "PodFailure match.{what}: value/notValue need a key"
            ));
        }
        if m.value.is_some() && m.not_value.is_some() {
            return Err(format!(
                "PodFailure match.{what}: give value or notValue, not both"
            ));
        }
        Ok(m)
    }

    fn names(&self, name: &str) -> bool {
        self.name.as_deref().is_none_or(|n| n == name)
            && self
                .name_prefix
                .as_deref()
                .is_none_or(|p| name.starts_with(p))
    }

    /// Does the stored object satisfy the key/value condition? `fields`
    /// are the data maps to look in, with whether they hold base64.
    fn data_matches(&self, obj: &Value, fields: &[(&str, bool)]) -> bool {
        let Some(key) = &self.key else {
            return true;
        };
        let value = fields.iter().find_map(|(f, encoded)| {
            let raw = obj.get(*f)?.get(key)?.as_str()?;
            if *encoded {
                base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            } else {
                Some(raw.to_string())
            }
        });
        match (value, &self.value, &self.not_value) {
            (None, _, _) => false,
            (Some(v), Some(want), _) => v == *want,
            (Some(v), _, Some(unwanted)) => v != *unwanted,
            (Some(_), None, None) => true,
        }
    }
}

const SECRET_DATA: &[(&str, bool)] = &[("data", true), ("stringData", false)];
const CONFIG_MAP_DATA: &[(&str, bool)] = &[("data", false), ("binaryData", true)];

/// One `PodFailure` fixture.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    namespace: Option<String>,
    secret: Option<ObjectMatch>,
    config_map: Option<ObjectMatch>,
    selector: Option<Value>,
    image: Option<String>,
    image_prefix: Option<String>,
    container: Option<String>,
    pub mode: Mode,
    pub exit_code: i64,
    pub reason: String,
    pub message: String,
    pub log: String,
    pub restart_count: i64,
}

impl Rule {
    pub fn from_fixture(doc: &Value) -> Result<Rule, String> {
        let name = meta_str(doc, "name");
        if name.is_empty() {
            return Err("PodFailure needs metadata.name".into());
        }
        let m = doc.get("match").cloned().unwrap_or(Value::Null);
        if !m.is_object() {
            return Err("PodFailure needs a match map (secret, configMap, selector, image, imagePrefix, container)".into());
        }
        let f = doc.get("failure").cloned().unwrap_or(Value::Null);
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let mode = match text(&f, "mode").as_deref() {
            Some("CrashLoopBackOff") | None => Mode::CrashLoopBackOff,
            Some("NotReady") => Mode::NotReady,
            Some("ImagePullBackOff") => Mode::ImagePullBackOff,
            Some(other) => {
                return Err(format!(
                    "PodFailure failure.mode {other:?} is not one of CrashLoopBackOff, NotReady, ImagePullBackOff"
                ));
            }
        };
        let int = |k: &str, default: i64| -> Result<i64, String> {
            match f.get(k) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => v
                    .as_i64()
                    .ok_or_else(|| format!("PodFailure failure.{k} must be an integer")),
            }
        };
        let default_message = match mode {
            Mode::CrashLoopBackOff => String::new(),
            Mode::NotReady => {
                "Readiness probe failed: HTTP probe failed with statuscode: 503".into()
            }
            Mode::ImagePullBackOff => "not found".into(),
        };
        let rule = Rule {
            name: name.to_string(),
            namespace: Some(meta_str(doc, "namespace").to_string()).filter(|n| !n.is_empty()),
            secret: m
                .get("secret")
                .map(|v| ObjectMatch::parse(v, "secret"))
                .transpose()?,
            config_map: m
                .get("configMap")
                .map(|v| ObjectMatch::parse(v, "configMap"))
                .transpose()?,
            selector: m.get("selector").filter(|v| !v.is_null()).cloned(),
            image: text(&m, "image"),
            image_prefix: text(&m, "imagePrefix"),
            container: text(&m, "container"),
            mode,
            exit_code: int("exitCode", 1)?,
            reason: text(&f, "reason").unwrap_or_else(|| "Error".into()),
            message: text(&f, "message").unwrap_or(default_message),
            log: text(&f, "log").unwrap_or_default(),
            restart_count: int("restartCount", 1)?,
        };
        Ok(rule)
    }

    fn image_matches(&self, image: &str) -> bool {
        self.image.as_deref().is_none_or(|i| i == image)
            && self
                .image_prefix
                .as_deref()
                .is_none_or(|p| image.starts_with(p))
    }

    /// The names of the containers this rule fails in `pod`, empty when the
    /// rule does not apply.
    pub fn failing_containers(&self, inner: &Inner, pod: &Value) -> Vec<String> {
        let ns = meta_str(pod, "namespace");
        if self.namespace.as_deref().is_some_and(|n| n != ns) {
            return Vec::new();
        }
        if let Some(sel) = &self.selector
            && !selector_matches(sel, pod.pointer("/metadata/labels"))
        {
            return Vec::new();
        }
        let refs = references(pod);
        let found = |m: &ObjectMatch, res: &str, names: &[String], fields: &[(&str, bool)]| {
            names.iter().any(|n| {
                m.names(n)
                    && inner
                        .get(res, ns, n)
                        .is_some_and(|o| m.data_matches(&o, fields))
            })
        };
        if let Some(m) = &self.secret
            && !found(m, "/secrets", &refs.secrets, SECRET_DATA)
        {
            return Vec::new();
        }
        if let Some(m) = &self.config_map
            && !found(m, "/configmaps", &refs.config_maps, CONFIG_MAP_DATA)
        {
            return Vec::new();
        }
        pod.pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                self.container.as_deref().is_none_or(|want| want == name)
                    && self.image_matches(c.get("image").and_then(Value::as_str).unwrap_or(""))
            })
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
            .collect()
    }
}

/// Secrets and ConfigMaps a pod references, by name.
#[derive(Debug, Default)]
struct References {
    secrets: Vec<String>,
    config_maps: Vec<String>,
}

fn references(pod: &Value) -> References {
    let mut r = References::default();
    let push = |list: &mut Vec<String>, v: Option<&Value>| {
        if let Some(n) = v.and_then(Value::as_str)
            && !list.iter().any(|x| x == n)
        {
            list.push(n.to_string());
        }
    };
    for kind in ["containers", "initContainers", "ephemeralContainers"] {
        for c in pod
            .pointer(&format!("/spec/{kind}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
                push(&mut r.secrets, e.pointer("/valueFrom/secretKeyRef/name"));
                push(
                    &mut r.config_maps,
                    e.pointer("/valueFrom/configMapKeyRef/name"),
                );
            }
            for e in c
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                push(&mut r.secrets, e.pointer("/secretRef/name"));
                push(&mut r.config_maps, e.pointer("/configMapRef/name"));
            }
        }
    }
    for v in pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push(&mut r.secrets, v.pointer("/secret/secretName"));
        push(&mut r.config_maps, v.pointer("/configMap/name"));
        for s in v
            .pointer("/projected/sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            push(&mut r.secrets, s.pointer("/secret/name"));
            push(&mut r.config_maps, s.pointer("/configMap/name"));
        }
    }
    for s in pod
        .pointer("/spec/imagePullSecrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push(&mut r.secrets, s.get("name"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use serde_json::json;

    fn store() -> Store {
        let s = Store::new();
        s.write(false, |t| {
            t.put(
                "/secrets",
                json!({"metadata": {"namespace": "app", "name": "db-v2"},
                    "data": {"password": "d3Jvbmc="}}), // "wrong"
            );
            t.put(
                "/secrets",
                json!({"metadata": {"namespace": "app", "name": "db-v1"},
                    "data": {"password": "cmlnaHQ="}}), // "right"
            );
            t.put(
                "/configmaps",
                json!({"metadata": {"namespace": "app", "name": "settings"}, "data": {"mode": "strict"}}),
            );
        });
        s
    }

    fn pod(secret: &str) -> Value {
        json!({"metadata": {"namespace": "app", "name": "p", "labels": {"app": "api"}},
            "spec": {"containers": [
                {"name": "api", "image": "registry.example.com/api:2.0",
                 "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}}]},
                {"name": "sidecar", "image": "registry.example.com/proxy:1.0",
                 "envFrom": [{"configMapRef": {"name": "settings"}}]}]}})
    }

    fn rule(m: Value) -> Rule {
        Rule::from_fixture(&json!({"metadata": {"name": "r"}, "match": m})).expect("valid rule")
    }

    #[test]
    fn secret_by_value_and_not_value() {
        let s = store();
        let wrong =
            rule(json!({"secret": {"namePrefix": "db-", "key": "password", "value": "wrong"}}));
        assert_eq!(
            s.read(|i| wrong.failing_containers(i, &pod("db-v2"))),
            ["api", "sidecar"]
        );
        assert!(
            s.read(|i| wrong.failing_containers(i, &pod("db-v1")))
                .is_empty()
        );
        let not_right =
            rule(json!({"secret": {"key": "password", "notValue": "right"}, "container": "api"}));
        assert_eq!(
            s.read(|i| not_right.failing_containers(i, &pod("db-v2"))),
            ["api"]
        );
        assert!(
            s.read(|i| not_right.failing_containers(i, &pod("db-v1")))
                .is_empty()
        );
        // A missing Secret matches nothing (the kubelet reports that itself).
        assert!(
            s.read(|i| wrong.failing_containers(i, &pod("gone")))
                .is_empty()
        );
    }

    #[test]
    fn config_map_selector_and_image() {
        let s = store();
        let cm = rule(
            json!({"configMap": {"name": "settings", "key": "mode", "value": "strict"},
            "selector": {"matchLabels": {"app": "api"}}, "imagePrefix": "registry.example.com/proxy"}),
        );
        assert_eq!(
            s.read(|i| cm.failing_containers(i, &pod("db-v1"))),
            ["sidecar"]
        );
        let other_app = rule(json!({"selector": {"matchLabels": {"app": "web"}}}));
        assert!(
            s.read(|i| other_app.failing_containers(i, &pod("db-v1")))
                .is_empty()
        );
        let image = rule(json!({"image": "registry.example.com/api:2.0"}));
        assert_eq!(
            s.read(|i| image.failing_containers(i, &pod("db-v1"))),
            ["api"]
        );
    }

    #[test]
    fn bad_rules_are_refused() {
        let bad = |v: Value| Rule::from_fixture(&v).expect_err("invalid");
        assert!(bad(json!({"metadata": {"name": "r"}})).contains("match"));
        assert!(
            bad(json!({"metadata": {"name": "r"}, "match": {"secret": {"value": "x"}}}))
                .contains("need a key")
        );
        assert!(
            bad(json!({"metadata": {"name": "r"}, "match": {}, "failure": {"mode": "Explode"}}))
                .contains("CrashLoopBackOff")
        );
    }
}
