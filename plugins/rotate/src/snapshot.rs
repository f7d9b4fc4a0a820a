//! The plain values every stage works on: the objects of a namespace (or all namespaces)
//! that can reference a Secret or ConfigMap, and Secret versions with their data kept apart.

use std::collections::BTreeMap;

use common::model::Skipped;
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, Secret, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// Everything in scope that can reference a Secret or ConfigMap, one list per type.
#[derive(Debug, Clone, Default)]
pub struct Workloads {
    /// Deployments (templates are repointed).
    pub deployments: Vec<Deployment>,
    /// StatefulSets.
    pub statefulsets: Vec<StatefulSet>,
    /// DaemonSets.
    pub daemonsets: Vec<DaemonSet>,
    /// CronJobs (their job template only: nothing is run).
    pub cronjobs: Vec<CronJob>,
    /// Jobs (templates are immutable).
    pub jobs: Vec<Job>,
    /// Pods, with `managedFields` dropped while paging.
    pub pods: Vec<Pod>,
    /// ServiceAccounts (imagePullSecrets).
    pub service_accounts: Vec<ServiceAccount>,
    /// Ingresses (tls).
    pub ingresses: Vec<Ingress>,
    /// ReplicaSets, only when history was asked for (cleanup).
    pub replicasets: Vec<ReplicaSet>,
    /// ControllerRevisions, only when history was asked for (cleanup).
    pub controller_revisions: Vec<ControllerRevision>,
    /// Lists that could not be made (forbidden, not served).
    pub skipped: Vec<Skipped>,
}

impl Workloads {
    /// True when a skipped list makes the consumer search incomplete (forbidden,
    /// unavailable), as opposed to an API this cluster does not serve.
    pub fn incomplete(&self) -> bool {
        self.skipped.iter().any(|s| s.cause.is_partial())
    }
}

/// Secret data with a Debug that shows key names and sizes only, so no value can reach a
/// log line or an error through `{:?}`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretData(pub BTreeMap<String, Vec<u8>>);

impl std::fmt::Debug for SecretData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.0
                    .iter()
                    .map(|(k, v)| (k, format!("<{} bytes>", v.len()))),
            )
            .finish()
    }
}

impl SecretData {
    /// The key names, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    /// The data of a Secret: `data` (already decoded by serde) plus `stringData`.
    pub fn of(secret: &Secret) -> Self {
        let mut out = BTreeMap::new();
        for (k, v) in secret.data.iter().flatten() {
            out.insert(k.clone(), v.0.clone());
        }
        for (k, v) in secret.string_data.iter().flatten() {
            out.insert(k.clone(), v.as_bytes().to_vec());
        }
        SecretData(out)
    }
}

/// The label linking a version to its base name.
pub const LABEL_BASE: &str = "rotate.kubectl-plugins.dev/base-name";
/// The label holding a version's number.
pub const LABEL_VERSION: &str = "rotate.kubectl-plugins.dev/version";
/// The annotation recording a rotation on the Secret it created.
pub const ANNOTATION_ROTATION: &str = "rotate.kubectl-plugins.dev/rotation";

/// One version of a rotated Secret: the base Secret itself (version 1 unless labelled) or a
/// `NAME-<hash>` Secret this plugin created.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    /// The Secret's name.
    pub name: String,
    /// The version number (label, else 1 for the unlabelled base Secret).
    pub version: u32,
    /// Creation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<jiff::Timestamp>,
    /// When its data last changed (newest managedFields entry owning `data`, else creation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_changed: Option<jiff::Timestamp>,
    /// The Secret type.
    #[serde(rename = "type")]
    pub type_: String,
    /// Key names (never values).
    pub keys: Vec<String>,
    /// `immutable: true`.
    pub immutable: bool,
    /// The rotation record annotation, parsed, when this plugin created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<serde_json::Value>,
    /// UID, for delete preconditions.
    #[serde(skip)]
    pub uid: Option<String>,
    /// resourceVersion, for delete preconditions.
    #[serde(skip)]
    pub resource_version: Option<String>,
    /// Metadata, for GitOps ownership.
    #[serde(skip)]
    pub meta: ObjectMeta,
}

impl Version {
    /// The version view of a Secret (no values kept).
    pub fn of(secret: &Secret) -> Self {
        let meta = &secret.metadata;
        let labels = meta.labels.clone().unwrap_or_default();
        let version = labels
            .get(LABEL_VERSION)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let created = meta.creation_timestamp.as_ref().map(|t| t.0);
        Version {
            name: meta.name.clone().unwrap_or_default(),
            version,
            created,
            data_changed: data_changed(meta).or(created),
            type_: secret.type_.clone().unwrap_or_else(|| "Opaque".to_string()),
            keys: SecretData::of(secret).keys(),
            immutable: secret.immutable == Some(true),
            rotation: meta
                .annotations
                .as_ref()
                .and_then(|a| a.get(ANNOTATION_ROTATION))
                .and_then(|v| serde_json::from_str(v).ok()),
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
            meta: ObjectMeta {
                name: meta.name.clone(),
                namespace: meta.namespace.clone(),
                labels: meta.labels.clone(),
                annotations: meta.annotations.clone(),
                ..ObjectMeta::default()
            },
        }
    }
}

/// The newest managedFields time among entries that own `data` or `stringData`: when the
/// Secret's values last changed, as far as the API server recorded it.
pub fn data_changed(meta: &ObjectMeta) -> Option<jiff::Timestamp> {
    meta.managed_fields
        .iter()
        .flatten()
        .filter(|m| {
            m.fields_v1
                .as_ref()
                .is_some_and(|f| f.0.get("f:data").is_some() || f.0.get("f:stringData").is_some())
        })
        .filter_map(|m| m.time.as_ref().map(|t| t.0))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_data_debug_hides_values() {
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "db"},
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"user": "app"}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let data = SecretData::of(&secret);
        assert_eq!(data.keys(), ["password", "user"]);
        assert_eq!(data.0["password"], b"hunter2");
        let shown = format!("{data:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("app\""),
            "{shown}"
        );
        assert!(shown.contains("<7 bytes>"));
    }

    #[test]
    fn versions_from_labels_and_managed_fields() {
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "db-abc", "creationTimestamp": "2025-01-01T00:00:00Z",
                "labels": {LABEL_BASE: "db", LABEL_VERSION: "3"},
                "annotations": {ANNOTATION_ROTATION: "{\"result\":\"succeeded\"}"},
                "managedFields": [
                    {"manager": "kubectl", "operation": "Update", "time": "2025-02-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}},
                    {"manager": "x", "operation": "Update", "time": "2025-03-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}
                ]},
            "type": "Opaque", "immutable": true, "data": {"k": "dg=="}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let v = Version::of(&secret);
        assert_eq!(v.version, 3);
        assert!(v.immutable);
        assert_eq!(v.keys, ["k"]);
        assert_eq!(v.rotation, Some(json!({"result": "succeeded"})));
        assert_eq!(
            v.data_changed.map(|t| t.to_string()).as_deref(),
            Some("2025-02-01T00:00:00Z")
        );
        let plain: Secret = serde_json::from_value(json!({"metadata": {"name": "db"}}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Version::of(&plain).version, 1);
        assert_eq!(Version::of(&plain).type_, "Opaque");
    }
}
