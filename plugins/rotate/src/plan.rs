//! The rotation plan: the new immutable Secret version (`NAME-<content hash>`, labels linking
//! it to the base name) and one guarded JSON patch per consumer, with its exact inverse.
//! `--dry-run` prints this value; `execute` sends exactly these bodies.

use std::collections::{BTreeMap, BTreeSet};

use common::{Error, ObjectRef};
use serde::Serialize;
use serde_json::{Value, json};

use crate::consumers::{Consumer, ConsumerKind};
use crate::data::KeyPlan;
use crate::snapshot::{LABEL_BASE, LABEL_VERSION, SecretData, Version};

/// The new version of the Secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSecret {
    /// `NAME-<hash>`.
    pub name: String,
    /// Its version number (one above the highest existing).
    pub version: u32,
    /// The Secret type (the current version's).
    #[serde(rename = "type")]
    pub type_: String,
    /// Its keys and where each value comes from.
    pub keys: Vec<KeyPlan>,
    /// Its labels (the current version's, less GitOps markers, plus the version labels).
    pub labels: BTreeMap<String, String>,
    /// Always true: a version's data never changes.
    pub immutable: bool,
    /// True when a Secret of this name (hence of this exact content) already exists, from
    /// an earlier rotation that was rolled back: it is used as it is, not created.
    pub exists: bool,
}

/// A reference that is repointed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Repoint {
    /// The version it names now.
    pub from: String,
    /// How it is used (`env DB_PASSWORD (key password)`).
    pub detail: String,
    /// Where, as a JSON pointer.
    pub path: String,
}

/// One consumer's change: a JSON patch (RFC 6902) whose `test` operations make it apply
/// only to the object as it was read, and the patch that undoes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The consumer.
    pub consumer: ObjectRef,
    /// The references changed.
    pub repoints: Vec<Repoint>,
    /// The JSON patch sent.
    pub patch: Vec<Value>,
    /// The JSON patch that restores the old names (sent on rollback).
    pub rollback: Vec<Value>,
    /// True when a rollout follows and is waited for (Deployment, StatefulSet, DaemonSet).
    pub waits_for_rollout: bool,
    /// Its kind.
    #[serde(skip)]
    pub kind: ConsumerKind,
    /// Its pods' label selector.
    #[serde(skip)]
    pub selector: Option<String>,
}

impl Step {
    /// The versions this step moves away from, each once: `db, db-2f1c`.
    pub fn from_names(&self) -> String {
        let names: BTreeSet<&str> = self.repoints.iter().map(|r| r.from.as_str()).collect();
        names.into_iter().collect::<Vec<_>>().join(", ")
    }
}

/// A consumer left on its version, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotRepointed {
    /// The consumer.
    pub consumer: ObjectRef,
    /// The versions it keeps using.
    pub versions: Vec<String>,
    /// Why it is not changed, and what to do.
    pub reason: String,
}

/// Something to know before or after the rotation, with the fix at its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// The object concerned.
    pub object: ObjectRef,
    /// What.
    pub message: String,
    /// The change to make where the object is defined (GitOps), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_change: Option<String>,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The namespace.
    pub namespace: String,
    /// The base name (`vsphere-credentials`).
    pub base_name: String,
    /// The current version: the newest one any consumer uses (else the newest).
    pub current: String,
    /// Every version the repointed consumers use now.
    pub replaces: Vec<String>,
    /// The new version.
    pub secret: NewSecret,
    /// The consumer changes, in order.
    pub steps: Vec<Step>,
    /// Consumers that cannot be changed in place.
    pub not_repointed: Vec<NotRepointed>,
    /// Warnings (GitOps, controllers, nothing to repoint).
    pub warnings: Vec<Warning>,
}

/// The first 10 hex digits of SHA-256 over the type and the sorted keys and values: the
/// same data always gives the same name, different data a different one.
pub fn content_hash(type_: &str, data: &SecretData) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut field = |bytes: &[u8]| {
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(bytes);
    };
    field(type_.as_bytes());
    for (k, v) in &data.0 {
        field(k.as_bytes());
        field(v);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .take(5)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Labels a new version does not inherit: ours, and GitOps ownership markers (the new
/// Secret is created by this plugin, not by the release that made the old one).
fn inherited(key: &str) -> bool {
    !(key.starts_with("rotate.kubectl-plugins.dev/")
        || key == "app.kubernetes.io/managed-by"
        || key.starts_with("helm.sh/")
        || key.starts_with("argocd.argoproj.io/")
        || key.contains(".toolkit.fluxcd.io/"))
}

/// What the plan is built from.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// Namespace.
    pub namespace: &'a str,
    /// Base name.
    pub base: &'a str,
    /// Every existing version.
    pub versions: &'a [Version],
    /// The new data and where each key comes from.
    pub data: &'a SecretData,
    /// Per-key origins.
    pub keys: &'a [KeyPlan],
    /// The consumers of any version (filtered to the family).
    pub consumers: &'a [Consumer],
}

/// The current version: the highest-numbered version some consumer uses, else the highest.
pub fn current_version<'v>(versions: &'v [Version], consumers: &[Consumer]) -> Option<&'v Version> {
    let used: BTreeSet<&str> = consumers
        .iter()
        .flat_map(|c| c.references.iter().map(|r| r.name.as_str()))
        .collect();
    versions
        .iter()
        .filter(|v| used.contains(v.name.as_str()))
        .max_by_key(|v| v.version)
        .or_else(|| versions.iter().max_by_key(|v| v.version))
}

/// Build the plan. Errors (exit 2) when the new data equals the current version's.
pub fn build(input: &Input<'_>) -> common::Result<Plan> {
    let current = current_version(input.versions, input.consumers).ok_or_else(|| {
        Error::usage(format!(
            "secret \"{}\" not found in namespace \"{}\"",
            input.base, input.namespace
        ))
    })?;
    let type_ = current.type_.clone();
    let name = format!("{}-{}", input.base, content_hash(&type_, input.data));
    if name.len() > 253 {
        return Err(Error::usage(format!(
            "the versioned name {name} would be longer than 253 characters"
        )));
    }
    let existing = input.versions.iter().find(|v| v.name == name);
    if existing.is_some_and(|v| v.name == current.name) {
        return Err(Error::usage(format!(
            "the new data is the data of the current version {name}: nothing to rotate"
        )));
    }
    let version = input.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
    let mut labels: BTreeMap<String, String> = current
        .meta
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| inherited(k))
        .collect();
    labels.insert(LABEL_BASE.into(), input.base.to_string());
    labels.insert(
        LABEL_VERSION.into(),
        existing.map_or(version, |v| v.version).to_string(),
    );
    let secret = NewSecret {
        name: name.clone(),
        version: existing.map_or(version, |v| v.version),
        type_,
        keys: input.keys.to_vec(),
        labels,
        immutable: true,
        exists: existing.is_some(),
    };

    let mut consumers: Vec<&Consumer> = input.consumers.iter().collect();
    consumers.sort_by(|a, b| (a.kind, &a.object).cmp(&(b.kind, &b.object)));
    let mut steps = Vec::new();
    let mut not_repointed = Vec::new();
    let mut warnings = Vec::new();
    let mut replaces = BTreeSet::new();
    for c in consumers {
        let refs: Vec<_> = c.references.iter().filter(|r| r.name != name).collect();
        if refs.is_empty() {
            continue;
        }
        let versions: BTreeSet<String> = refs.iter().map(|r| r.name.clone()).collect();
        if let Some(reason) = c.kind.immutable_reason() {
            not_repointed.push(NotRepointed {
                consumer: c.object.clone(),
                versions: versions.into_iter().collect(),
                reason: reason.to_string(),
            });
            continue;
        }
        replaces.extend(versions);
        if let Some(g) = &c.managed_by {
            warnings.push(Warning {
                object: c.object.clone(),
                message: g.warning(&c.object.to_string()),
                source_change: Some(g.source_change(&refs[0].name, &name)),
            });
        }
        if let Some(owner) = &c.controller
            && !matches!(owner.kind.as_str(), "ReplicaSet" | "Deployment")
        {
            warnings.push(Warning {
                object: c.object.clone(),
                message: format!(
                    "{} is controlled by {owner}, which may set the old name again",
                    c.object
                ),
                source_change: Some(format!("change the Secret name in {owner} to {name}")),
            });
        }
        let mut patch = vec![json!({"op": "test", "path": "/metadata/uid", "value": c.uid})];
        let mut rollback = patch.clone();
        let mut repoints = Vec::new();
        let mut seen = BTreeSet::new();
        for r in refs {
            if !seen.insert(r.pointer.clone()) {
                continue;
            }
            patch.push(json!({"op": "test", "path": r.pointer, "value": r.name}));
            patch.push(json!({"op": "replace", "path": r.pointer, "value": name}));
            rollback.push(json!({"op": "test", "path": r.pointer, "value": name}));
            rollback.push(json!({"op": "replace", "path": r.pointer, "value": r.name}));
            repoints.push(Repoint {
                from: r.name.clone(),
                detail: r.detail.clone(),
                path: r.pointer.clone(),
            });
        }
        if c.on_delete {
            warnings.push(Warning {
                object: c.object.clone(),
                message: format!(
                    "{} uses the OnDelete update strategy: its pods use the new version only once they are deleted; nothing is waited for",
                    c.object
                ),
                source_change: None,
            });
        }
        steps.push(Step {
            consumer: c.object.clone(),
            repoints,
            patch,
            rollback,
            waits_for_rollout: c.kind.rolls_out() && !c.on_delete,
            kind: c.kind,
            selector: c.selector.clone(),
        });
    }
    for v in input.versions {
        if let Some(g) = crate::consumers::gitops::detect(&v.meta) {
            let object = ObjectRef::new("Secret", input.namespace, &v.name);
            warnings.push(Warning {
                message: format!(
                    "{} still holds the old data at its source; {}",
                    object,
                    g.warning(&object.to_string()).split_once(": ").map_or("", |(_, w)| w)
                ),
                source_change: Some(format!(
                    "put the new data where {} defines Secret {}, or stop it from managing the Secret",
                    g.describe(),
                    v.name
                )),
                object,
            });
        }
    }
    if steps.is_empty() {
        warnings.push(Warning {
            object: ObjectRef::new("Secret", input.namespace, input.base),
            message: "no consumer to repoint: the new version is created and nothing uses it yet"
                .to_string(),
            source_change: None,
        });
    }
    Ok(Plan {
        namespace: input.namespace.to_string(),
        base_name: input.base.to_string(),
        current: current.name.clone(),
        replaces: replaces.into_iter().collect(),
        secret,
        steps,
        not_repointed,
        warnings,
    })
}

/// The Secret object `execute` creates: the plan's metadata, the data, immutable, and the
/// rotation record (result `inProgress` until `record` sets the outcome).
pub fn secret_object(
    plan: &Plan,
    data: &SecretData,
    record: &Value,
) -> k8s_openapi::api::core::v1::Secret {
    use k8s_openapi::ByteString;
    k8s_openapi::api::core::v1::Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(plan.secret.name.clone()),
            namespace: Some(plan.namespace.clone()),
            labels: Some(plan.secret.labels.clone()),
            annotations: Some(BTreeMap::from([(
                crate::snapshot::ANNOTATION_ROTATION.to_string(),
                record.to_string(),
            )])),
            ..Default::default()
        },
        type_: Some(plan.secret.type_.clone()),
        immutable: Some(true),
        data: Some(
            data.0
                .iter()
                .map(|(k, v)| (k.clone(), ByteString(v.clone())))
                .collect(),
        ),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumers::{RefKind, Reference, Usage};
    use crate::data::KeySource;

    fn version(name: &str, n: u32, labels: &[(&str, &str)]) -> Version {
        let secret: k8s_openapi::api::core::v1::Secret = serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "shop", "labels": labels.iter().cloned().collect::<BTreeMap<_, _>>()},
            "type": "Opaque", "data": {"password": "eA=="}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let mut v = Version::of(&secret);
        v.version = n;
        v
    }

    fn consumer(kind: ConsumerKind, name: &str, secret: &str, pointers: &[&str]) -> Consumer {
        Consumer {
            object: ObjectRef::new(&format!("{kind:?}"), "shop", name),
            kind,
            references: pointers
                .iter()
                .map(|p| Reference {
                    kind: RefKind::Secret,
                    name: secret.into(),
                    usage: Usage::Env,
                    container: Some("c".into()),
                    detail: format!("env at {p}"),
                    keys: vec!["password".into()],
                    optional: false,
                    live_update: false,
                    pointer: p.to_string(),
                })
                .collect(),
            managed_by: None,
            controller: None,
            uid: format!("uid-{name}"),
            selector: Some(format!("app={name}")),
            on_delete: false,
        }
    }

    fn data(v: &str) -> SecretData {
        SecretData([("password".to_string(), v.as_bytes().to_vec())].into())
    }

    #[test]
    fn hashes_are_stable_and_content_sensitive() {
        let a = content_hash("Opaque", &data("a"));
        assert_eq!(a.len(), 10);
        assert_eq!(a, content_hash("Opaque", &data("a")));
        assert_ne!(a, content_hash("Opaque", &data("b")));
        assert_ne!(a, content_hash("kubernetes.io/tls", &data("a")));
        // Length prefixes: moving a byte between key and value changes the hash.
        let x = SecretData([("ab".to_string(), b"c".to_vec())].into());
        let y = SecretData([("a".to_string(), b"bc".to_vec())].into());
        assert_ne!(content_hash("Opaque", &x), content_hash("Opaque", &y));
    }

    #[test]
    fn plan_repoints_each_consumer_with_a_guarded_inverse_patch() {
        let versions = [version(
            "db",
            1,
            &[("app", "shop"), ("app.kubernetes.io/managed-by", "Helm")],
        )];
        let consumers = [
            consumer(
                ConsumerKind::CronJob,
                "report",
                "db",
                &["/spec/jobTemplate/x"],
            ),
            consumer(
                ConsumerKind::Deployment,
                "api",
                "db",
                &["/spec/template/a", "/spec/template/b"],
            ),
            consumer(ConsumerKind::Pod, "debug", "db", &["/spec/x"]),
        ];
        let keys = [KeyPlan {
            key: "password".into(),
            source: KeySource::Literal,
            bytes: 3,
        }];
        let d = data("new");
        let plan = build(&Input {
            namespace: "shop",
            base: "db",
            versions: &versions,
            data: &d,
            keys: &keys,
            consumers: &consumers,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let name = format!("db-{}", content_hash("Opaque", &d));
        assert_eq!(plan.secret.name, name);
        assert_eq!(plan.secret.version, 2);
        assert!(plan.secret.immutable && !plan.secret.exists);
        assert_eq!(
            plan.secret.labels.get("app").map(String::as_str),
            Some("shop")
        );
        assert_eq!(
            plan.secret.labels.get(LABEL_VERSION).map(String::as_str),
            Some("2")
        );
        assert_eq!(
            plan.secret.labels.get(LABEL_BASE).map(String::as_str),
            Some("db")
        );
        assert!(
            !plan
                .secret
                .labels
                .contains_key("app.kubernetes.io/managed-by")
        );
        // Deployments first, then CronJobs; the bare pod is not repointed.
        let order: Vec<String> = plan.steps.iter().map(|s| s.consumer.to_string()).collect();
        assert_eq!(order, ["deployment/shop/api", "cronjob/shop/report"]);
        assert_eq!(plan.replaces, ["db"]);
        let api = &plan.steps[0];
        assert!(api.waits_for_rollout && !plan.steps[1].waits_for_rollout);
        assert_eq!(
            api.patch,
            vec![
                json!({"op": "test", "path": "/metadata/uid", "value": "uid-api"}),
                json!({"op": "test", "path": "/spec/template/a", "value": "db"}),
                json!({"op": "replace", "path": "/spec/template/a", "value": name}),
                json!({"op": "test", "path": "/spec/template/b", "value": "db"}),
                json!({"op": "replace", "path": "/spec/template/b", "value": name}),
            ]
        );
        assert_eq!(
            api.rollback[2],
            json!({"op": "replace", "path": "/spec/template/a", "value": "db"})
        );
        assert_eq!(
            api.rollback[1],
            json!({"op": "test", "path": "/spec/template/a", "value": name})
        );
        assert_eq!(plan.not_repointed.len(), 1);
        assert!(plan.not_repointed[0].reason.contains("immutable"));
        // The Helm-labelled Secret itself gets a warning about its source.
        assert!(
            plan.warnings
                .iter()
                .any(|w| w.object.kind == "Secret" && w.source_change.is_some())
        );
        let doc = serde_json::to_string(&plan).unwrap_or_default();
        assert!(!doc.contains("\"new\""), "no value in the plan: {doc}");
    }

    #[test]
    fn current_version_and_same_data() {
        let mut v2 = version("db-aaaa", 2, &[]);
        v2.type_ = "Opaque".into();
        let versions = [
            version("db", 1, &[]),
            v2.clone(),
            version("db-bbbb", 3, &[]),
        ];
        let consumers = [consumer(
            ConsumerKind::Deployment,
            "api",
            "db-aaaa",
            &["/p"],
        )];
        assert_eq!(
            current_version(&versions, &consumers).map(|v| v.name.as_str()),
            Some("db-aaaa")
        );
        assert_eq!(
            current_version(&versions, &[]).map(|v| v.name.as_str()),
            Some("db-bbbb")
        );
        // Rotating to data whose version is the current one is refused.
        let d = data("same");
        let name = format!("db-{}", content_hash("Opaque", &d));
        let cur = version(&name, 4, &[]);
        let cs = [consumer(ConsumerKind::Deployment, "api", &name, &["/p"])];
        let err = build(&Input {
            namespace: "shop",
            base: "db",
            versions: &[cur],
            data: &d,
            keys: &[],
            consumers: &cs,
        })
        .err();
        assert!(err.is_some_and(|e| e.to_string().contains("nothing to rotate")));
        // Data of an older version: that version is used again, not recreated.
        let old = version(&name, 2, &[]);
        let newer = version("db-cccc", 3, &[]);
        let cs = [consumer(
            ConsumerKind::Deployment,
            "api",
            "db-cccc",
            &["/p"],
        )];
        let plan = build(&Input {
            namespace: "shop",
            base: "db",
            versions: &[old, newer],
            data: &d,
            keys: &[],
            consumers: &cs,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(plan.secret.exists);
        assert_eq!(plan.secret.version, 2);
    }

    #[test]
    fn nothing_to_repoint_is_a_warning() {
        let versions = [version("db", 1, &[])];
        let d = data("x");
        let plan = build(&Input {
            namespace: "shop",
            base: "db",
            versions: &versions,
            data: &d,
            keys: &[],
            consumers: &[],
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(plan.steps.is_empty());
        assert!(plan.warnings[0].message.contains("no consumer"));
    }
}
