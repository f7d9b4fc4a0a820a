//! Every API read a plan makes: one paginated list per resource type, in parallel — nodes,
//! all pods, PDBs — then, only when a target pod needs them, DaemonSets, claims and volumes,
//! and namespaces. Pods are reduced to `PodView`s page by page (flat memory).

use std::collections::{BTreeSet, HashMap};

use common::cli::Connection;
use common::list::{ListOutcome, list_optional_map};
use common::model::{SkipCause, Skipped};
use common::{Error, Result};
use kube::Api;
use kube::api::ListParams;

use crate::snapshot::{NodeView, PdbView, PodView, PvView, Snapshot, Storage};
use crate::wire;

/// Items per page for pods. Larger than the suite's default so a 30,000-pod cluster is
/// three list requests, not sixty; each page is parsed into slim views right away.
pub const POD_PAGE: u32 = 10_000;
/// Items per page for everything else.
pub const PAGE: u32 = 5_000;

/// Which nodes to drain: named, or chosen by a label selector.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub names: Vec<String>,
    pub selector: Option<String>,
}

/// What `collect` read: the snapshot and the resolved target nodes (in drain order).
pub struct Collected {
    pub snapshot: Snapshot,
    pub nodes: Vec<String>,
}

/// A required list: 403 (exit 3) and 404 (not served) become errors naming the resource.
fn required<T>(outcome: ListOutcome<T>, what: &str) -> Result<(Vec<T>, Option<String>)> {
    match outcome {
        ListOutcome::Listed(l) => Ok((l.items, l.resource_version)),
        ListOutcome::Skipped {
            cause: SkipCause::Forbidden,
            message,
        } => Err(Error::Forbidden {
            message: format!("cannot list {what}: {message}"),
            hint: Some(format!(
                "a drain plan needs to read {what} in every namespace (kubectl auth can-i list {what} -A)"
            )),
        }),
        ListOutcome::Skipped { message, .. } => Err(Error::other(format!(
            "this cluster does not serve {what}: {message}"
        ))),
    }
}

/// An optional list: a 403/404 is recorded as a skip with what it costs the plan.
fn optional<T>(
    outcome: ListOutcome<T>,
    what: &str,
    cost: &str,
    skipped: &mut Vec<Skipped>,
) -> Option<Vec<T>> {
    match outcome {
        ListOutcome::Listed(l) => Some(l.items),
        ListOutcome::Skipped { cause, message } => {
            skipped.push(Skipped::new(what, cause, format!("{message} ({cost})")));
            None
        }
    }
}

fn params(limit: u32) -> ListParams {
    ListParams::default().limit(limit)
}

/// Read the cluster for a plan of `targets`.
pub async fn collect(conn: &Connection, targets: &Targets) -> Result<Collected> {
    let client = &conn.client;
    let nodes_api: Api<wire::Node> = Api::all(client.clone());
    let pods_api: Api<wire::Pod> = Api::all(client.clone());
    let pdbs_api: Api<wire::PodDisruptionBudget> = Api::all(client.clone());
    let selected = async {
        match &targets.selector {
            Some(sel) => {
                let lp = params(PAGE).labels(sel);
                let names = list_optional_map(&nodes_api, &lp, |n: wire::Node| {
                    n.metadata.name.unwrap_or_default()
                })
                .await?;
                required(names, "nodes").map(|(n, _)| Some(n))
            }
            None => Ok(None),
        }
    };
    let (page, pod_page) = (params(PAGE), params(POD_PAGE));
    let (nodes, pods, pdbs, selected) = tokio::join!(
        list_optional_map(&nodes_api, &page, NodeView::from),
        list_optional_map(&pods_api, &pod_page, PodView::from),
        list_optional_map(&pdbs_api, &page, PdbView::from),
        selected,
    );
    let (nodes, _) = required(nodes?, "nodes")?;
    let (pods, pods_rv) = required(pods?, "pods")?;
    let (pdbs, _) = required(pdbs?, "poddisruptionbudgets")?;
    let names: Vec<String> = match selected? {
        Some(mut names) => {
            names.sort();
            if names.is_empty() {
                return Err(Error::usage(format!(
                    "no nodes match the selector {:?}",
                    targets.selector.as_deref().unwrap_or("")
                ))
                .with_hint("kubectl get nodes --show-labels"));
            }
            names
        }
        None => targets.names.clone(),
    };

    let mut snap = Snapshot::new(nodes, pods, pdbs);
    snap.pods_resource_version = pods_rv;
    let on_targets: Vec<&PodView> = names.iter().flat_map(|n| snap.pods_on(n)).collect();
    let need_daemonsets = on_targets
        .iter()
        .any(|p| p.controller.as_ref().is_some_and(|c| c.kind == "DaemonSet"));
    let need_storage = on_targets.iter().any(|p| !p.claims.is_empty());
    // Affinity terms that pick namespaces by label need the namespaces' labels.
    let need_namespaces = snap.pods.iter().any(|p| {
        p.scheduling
            .affinity
            .iter()
            .chain(&p.scheduling.anti_affinity)
            .any(|t| {
                t.namespace_selector
                    .as_ref()
                    .is_some_and(|s| !crate::selector::is_empty(s))
            })
    });

    let ds_api: Api<wire::DaemonSet> = Api::all(client.clone());
    let pvc_api: Api<wire::PersistentVolumeClaim> = Api::all(client.clone());
    let pv_api: Api<wire::PersistentVolume> = Api::all(client.clone());
    let ns_api: Api<wire::Namespace> = Api::all(client.clone());
    let (daemonsets, claims, volumes, namespaces) = tokio::join!(
        async {
            if !need_daemonsets {
                return Ok(None);
            }
            list_optional_map(&ds_api, &page, |d: wire::DaemonSet| {
                (
                    d.metadata.namespace.unwrap_or_default(),
                    d.metadata.name.unwrap_or_default(),
                )
            })
            .await
            .map(Some)
        },
        async {
            if !need_storage {
                return Ok(None);
            }
            list_optional_map(&pvc_api, &page, |c: wire::PersistentVolumeClaim| {
                (
                    (
                        c.metadata.namespace.unwrap_or_default(),
                        c.metadata.name.unwrap_or_default(),
                    ),
                    c.spec.volume_name.unwrap_or_default(),
                )
            })
            .await
            .map(Some)
        },
        async {
            if !need_storage {
                return Ok(None);
            }
            list_optional_map(&pv_api, &page, PvView::from)
                .await
                .map(Some)
        },
        async {
            if !need_namespaces {
                return Ok(None);
            }
            list_optional_map(&ns_api, &page, |n: wire::Namespace| {
                (
                    n.metadata.name.unwrap_or_default(),
                    n.metadata.labels.unwrap_or_default(),
                )
            })
            .await
            .map(Some)
        },
    );
    let mut skipped = Vec::new();
    if let Some(ds) = daemonsets? {
        snap.daemonsets = optional(
            ds,
            "daemonsets",
            "DaemonSet pods are taken as managed; an orphan would not be noticed",
            &mut skipped,
        )
        .map(|v| v.into_iter().collect::<BTreeSet<_>>());
    }
    if let (Some(claims), Some(volumes)) = (claims?, volumes?) {
        let claims = optional(
            claims,
            "persistentvolumeclaims",
            "local volumes and volume node affinity not checked",
            &mut skipped,
        );
        let volumes = optional(
            volumes,
            "persistentvolumes",
            "local volumes and volume node affinity not checked",
            &mut skipped,
        );
        if let (Some(claims), Some(volumes)) = (claims, volumes) {
            snap.storage = Some(Storage {
                claims: claims
                    .into_iter()
                    .filter(|(_, pv)| !pv.is_empty())
                    .collect::<HashMap<_, _>>(),
                volumes: volumes.into_iter().map(|v| (v.name.clone(), v)).collect(),
            });
        }
    }
    if let Some(ns) = namespaces? {
        snap.namespaces = optional(
            ns,
            "namespaces",
            "affinity terms with a namespaceSelector see only their own namespace list",
            &mut skipped,
        )
        .map(|v| v.into_iter().collect());
    }
    snap.skipped = skipped;
    Ok(Collected {
        snapshot: snap,
        nodes: names,
    })
}
