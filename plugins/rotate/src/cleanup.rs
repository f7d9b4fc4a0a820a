//! Which versions of a rotated Secret `cleanup` deletes and which it keeps, and why: the
//! current one stays, anything still referenced stays, GitOps-owned Secrets stay, and with
//! `--older-than` versions superseded too recently stay. Pure: decided on plain values.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::holders::Holder;
use crate::snapshot::Version;

/// Delete or keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Deleted (or, in a dry run, would be).
    Delete,
    /// Kept; `reasons` says why.
    Keep,
}

/// The decision on one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The Secret.
    pub name: String,
    /// Its version number.
    pub version: u32,
    /// Delete or keep.
    pub action: Action,
    /// Why it is kept (empty for a deletion).
    pub reasons: Vec<String>,
    /// What still references it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referenced_by: Vec<Holder>,
    /// When it stopped being current: a newer version's creation, or for an abandoned
    /// attempt (newer than the current version, rolled back) its own creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_at: Option<Timestamp>,
}

/// Decide for every version (sorted by version number). `current` is the version the
/// consumers use (see `plan::current_version`).
pub fn decide(
    versions: &[Version],
    current: &str,
    holders: &BTreeMap<String, Vec<Holder>>,
    older_than: Option<Duration>,
    now: Timestamp,
) -> Vec<Decision> {
    let mut sorted: Vec<&Version> = versions.iter().collect();
    sorted.sort_by_key(|v| (v.version, v.created));
    let current_number = versions
        .iter()
        .find(|v| v.name == current)
        .map_or(0, |v| v.version);
    let mut out = Vec::new();
    for (i, v) in sorted.iter().enumerate() {
        let superseded_at = if v.version > current_number {
            v.created
        } else {
            sorted[i + 1..].iter().filter_map(|n| n.created).min()
        };
        let referenced_by = holders.get(&v.name).cloned().unwrap_or_default();
        let mut reasons = Vec::new();
        if v.name == current {
            reasons.push("the current version".to_string());
        }
        if !referenced_by.is_empty() {
            let first: Vec<String> = referenced_by
                .iter()
                .take(3)
                .map(|h| format!("{} ({})", h.object, h.why))
                .collect();
            let more = referenced_by.len().saturating_sub(3);
            reasons.push(format!(
                "referenced by {}{}",
                first.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        if let Some(g) = crate::consumers::gitops::detect(&v.meta) {
            reasons.push(format!(
                "managed by {}: deleting it here would be undone by the next sync",
                g.describe()
            ));
        }
        if let (Some(limit), Some(at)) = (older_than, superseded_at) {
            let age = now.duration_since(at);
            let limit_signed =
                jiff::SignedDuration::try_from(limit).unwrap_or(jiff::SignedDuration::MAX);
            if age < limit_signed {
                reasons.push(format!(
                    "superseded {} ago, less than --older-than {}",
                    common::duration::human_age(age),
                    crate::health::human(limit)
                ));
            }
        }
        out.push(Decision {
            name: v.name.clone(),
            version: v.version,
            action: if reasons.is_empty() {
                Action::Delete
            } else {
                Action::Keep
            },
            reasons,
            referenced_by,
            superseded_at,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::ObjectRef;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn v(name: &str, n: u32, created: &str) -> Version {
        Version {
            name: name.into(),
            version: n,
            created: created.parse().ok(),
            data_changed: None,
            type_: "Opaque".into(),
            keys: vec![],
            immutable: true,
            rotation: None,
            uid: None,
            resource_version: None,
            meta: ObjectMeta::default(),
        }
    }

    #[test]
    fn keeps_newest_referenced_recent_and_gitops_versions() {
        let mut base = v("db", 1, "2025-01-01T00:00:00Z");
        base.meta.labels = Some(
            [(
                "app.kubernetes.io/managed-by".to_string(),
                "Helm".to_string(),
            )]
            .into(),
        );
        let versions = [
            base,
            v("db-aaa", 2, "2025-01-02T00:00:00Z"),
            v("db-bbb", 3, "2025-01-03T00:00:00Z"),
            v("db-ccc", 4, "2025-01-10T00:00:00Z"),
            v("db-ddd", 5, "2025-01-10T12:00:00Z"),
        ];
        let holders = BTreeMap::from([(
            "db-bbb".to_string(),
            vec![Holder {
                object: ObjectRef::new("ReplicaSet", "ns", "api-1"),
                why: "kept for rollback, revision 1".into(),
            }],
        )]);
        let now: Timestamp = "2025-01-10T18:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let d = decide(
            &versions,
            "db-ddd",
            &holders,
            Some(Duration::from_secs(86400)),
            now,
        );
        let actions: Vec<(&str, Action)> = d.iter().map(|x| (x.name.as_str(), x.action)).collect();
        assert_eq!(
            actions,
            [
                ("db", Action::Keep),
                ("db-aaa", Action::Delete),
                ("db-bbb", Action::Keep),
                ("db-ccc", Action::Keep),
                ("db-ddd", Action::Keep),
            ]
        );
        assert!(d[0].reasons[0].contains("managed by Helm release"));
        assert_eq!(
            d[2].reasons[0],
            "referenced by replicaset/ns/api-1 (kept for rollback, revision 1)"
        );
        assert!(
            d[2].reasons[1].starts_with("superseded 18h ago"),
            "{:?}",
            d[2].reasons
        );
        assert!(
            d[3].reasons[0].starts_with("superseded 6h ago, less than --older-than 1d"),
            "{:?}",
            d[3].reasons
        );
        assert_eq!(d[4].reasons, ["the current version"]);
        assert_eq!(
            d[1].superseded_at.map(|t| t.to_string()).as_deref(),
            Some("2025-01-03T00:00:00Z")
        );
        // Without --older-than, the recently superseded one goes too.
        let d = decide(&versions, "db-ddd", &holders, None, now);
        assert_eq!(d[3].action, Action::Delete);
        // A rolled-back attempt newer than the current version is not kept for being new.
        let d = decide(&versions, "db-ccc", &holders, None, now);
        assert_eq!((d[3].action, d[4].action), (Action::Keep, Action::Delete));
        assert_eq!(d[4].superseded_at, versions[4].created);
    }
}
