//! The StatefulSet controller: ordinal pods `<sts>-0..N-1` created in order,
//! ControllerRevisions per template (`controller-revision-hash`), rolling
//! updates from the highest ordinal down, PVCs from volumeClaimTemplates.

use super::{Controllers, PODS, REVISIONS, STATEFULSETS, is_ready, owned, owner_ref};
use super::{pod_from_template, put_if_changed, strip_hash_labels, template_hash, volumes};
use crate::gc::{self, Propagation};
use crate::meta::fill_create_metadata;
use crate::store::{Txn, meta_str};
use serde_json::{Value, json};

pub const REVISION_LABEL: &str = "controller-revision-hash";

fn revision_number(cr: &Value) -> i64 {
    cr.get("revision").and_then(Value::as_i64).unwrap_or(0)
}

/// The ControllerRevision holding `template` for `owner`, created (or, for a
/// rolled-back template, renumbered as the newest) as the real history code
/// does. Returns its name. `label_value` is what pods carry as their hash.
pub fn ensure_revision(
    txn: &mut Txn<'_>,
    owner: &Value,
    kind: &str,
    template: &Value,
) -> (String, String) {
    let ns = meta_str(owner, "namespace").to_string();
    let hash = template_hash(template);
    let wanted = strip_hash_labels(template);
    let revisions = owned(txn, REVISIONS, owner);
    let max = revisions.iter().map(revision_number).max().unwrap_or(0);
    let existing = revisions.iter().find(|cr| {
        cr.pointer("/data/spec/template")
            .map(|t| {
                let mut t = t.clone();
                if let Some(m) = t.as_object_mut() {
                    m.remove("$patch");
                }
                strip_hash_labels(&t)
            })
            .as_ref()
            == Some(&wanted)
    });
    if let Some(cr) = existing {
        if revision_number(cr) < max {
            let mut bumped = cr.clone();
            bumped["revision"] = json!(max + 1);
            txn.put(REVISIONS, bumped);
        }
        let h = cr
            .pointer(&format!("/metadata/labels/{REVISION_LABEL}"))
            .and_then(Value::as_str)
            .unwrap_or(&hash)
            .to_string();
        return (meta_str(cr, "name").to_string(), h);
    }
    let name = format!("{}-{hash}", meta_str(owner, "name"));
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    labels[REVISION_LABEL] = json!(hash);
    let mut data_template = template.clone();
    data_template["$patch"] = json!("replace");
    let mut cr = json!({"apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": name, "namespace": ns, "labels": labels,
            "ownerReferences": [owner_ref(owner, kind)]},
        "data": {"spec": {"template": data_template}},
        "revision": max + 1});
    fill_create_metadata(&mut cr, Some(&ns), jiff::Timestamp::now());
    if !txn.contains(REVISIONS, &ns, &name) {
        txn.put(REVISIONS, cr);
    }
    (name, hash)
}

/// Revisions beyond `revisionHistoryLimit` that no pod uses, oldest first.
pub fn prune_revisions(txn: &mut Txn<'_>, owner: &Value, in_use: &[String]) {
    let limit = owner
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_i64)
        .unwrap_or(10)
        .max(0) as usize;
    let mut revisions: Vec<Value> = owned(txn, REVISIONS, owner)
        .into_iter()
        .filter(|cr| !in_use.iter().any(|u| u == meta_str(cr, "name")))
        .collect();
    if revisions.len() <= limit {
        return;
    }
    revisions.sort_by_key(revision_number);
    let n = revisions.len() - limit;
    for cr in revisions.into_iter().take(n) {
        gc::delete(
            txn,
            REVISIONS,
            meta_str(&cr, "namespace"),
            meta_str(&cr, "name"),
            Propagation::Background,
            "",
        );
    }
}

fn ordinal(sts_name: &str, pod: &Value) -> Option<i64> {
    meta_str(pod, "name")
        .strip_prefix(sts_name)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

fn revision_template(txn: &Txn<'_>, ns: &str, rev: &str) -> Option<Value> {
    let mut t = txn
        .get(REVISIONS, ns, rev)?
        .pointer("/data/spec/template")?
        .clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    Some(t)
}

fn create_ordinal(
    ctl: &mut Controllers,
    txn: &mut Txn<'_>,
    sts: &Value,
    template: &Value,
    rev: &str,
    i: i64,
    ts: &str,
) -> Value {
    let ns = meta_str(sts, "namespace");
    let name = meta_str(sts, "name");
    let pod_name = format!("{name}-{i}");
    let index = i.to_string();
    let mut pod = pod_from_template(
        template,
        ns,
        &pod_name,
        owner_ref(sts, "StatefulSet"),
        &[
            (REVISION_LABEL, rev),
            ("statefulset.kubernetes.io/pod-name", &pod_name),
            ("apps.kubernetes.io/pod-index", &index),
        ],
    );
    pod["spec"]["hostname"] = json!(pod_name);
    if let Some(svc) = sts.pointer("/spec/serviceName").and_then(Value::as_str) {
        pod["spec"]["subdomain"] = json!(svc);
    }
    for claim in sts
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let cname = meta_str(&claim, "name").to_string();
        let pvc_name = format!("{cname}-{pod_name}");
        if !txn.contains("/persistentvolumeclaims", ns, &pvc_name) {
            let mut labels = sts
                .pointer("/spec/selector/matchLabels")
                .cloned()
                .unwrap_or(json!({}));
            labels["app.kubernetes.io/pod-name"] = json!(pod_name);
            let mut pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": pvc_name, "namespace": ns, "labels": labels},
                "spec": claim.get("spec").cloned().unwrap_or(json!({})),
                "status": {"phase": "Pending"}});
            fill_create_metadata(&mut pvc, Some(ns), jiff::Timestamp::now());
            if matches!(volumes::class_of(txn.inner(), &pvc), Ok(Some(_))) {
                // A class to provision from: bound like any new claim (now,
                // or when the pod is scheduled for WaitForFirstConsumer).
                txn.put(volumes::CLAIMS, pvc);
                volumes::reconcile(ctl, txn, ns, &pvc_name, ts);
            } else {
                // No StorageClass in the scenario: bound to a volume the
                // sandbox does not model, so the pods can run.
                pvc["status"] = json!({"phase": "Bound",
                    "accessModes": claim.pointer("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"])),
                    "capacity": claim.pointer("/spec/resources/requests").cloned().unwrap_or(json!({}))});
                pvc["spec"]["volumeName"] = json!(format!("pvc-{}", crate::meta::new_uid()));
                txn.put(volumes::CLAIMS, pvc);
            }
        }
        let volumes = pod["spec"]
            .as_object_mut()
            .map(|s| s.entry("volumes").or_insert(json!([])));
        if let Some(Value::Array(vs)) = volumes
            && !vs.iter().any(|v| meta_name(v) == cname)
        {
            vs.push(json!({"name": cname, "persistentVolumeClaim": {"claimName": pvc_name}}));
        }
    }
    ctl.create_pod(txn, pod, ts)
}

fn meta_name(v: &Value) -> &str {
    v.get("name").and_then(Value::as_str).unwrap_or("")
}

pub fn reconcile(ctl: &mut Controllers, txn: &mut Txn<'_>, ns: &str, name: &str, ts: &str) {
    let Some(sts) = txn.get(STATEFULSETS, ns, name) else {
        return;
    };
    if sts.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    let replicas = sts
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0);
    let template = sts.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let (update_rev, _) = ensure_revision(txn, &sts, "StatefulSet", &template);
    let current_rev = sts
        .pointer("/status/currentRevision")
        .and_then(Value::as_str)
        .filter(|r| txn.contains(REVISIONS, ns, r))
        .unwrap_or(&update_rev)
        .to_string();
    let parallel = sts
        .pointer("/spec/podManagementPolicy")
        .and_then(Value::as_str)
        == Some("Parallel");
    let on_delete = sts
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        == Some("OnDelete");
    let partition = sts
        .pointer("/spec/updateStrategy/rollingUpdate/partition")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let current_template =
        revision_template(txn, ns, &current_rev).unwrap_or_else(|| template.clone());

    let mut pods: Vec<Option<Value>> = vec![None; replicas as usize];
    let mut extra = Vec::new();
    for p in owned(txn, PODS, &sts) {
        match ordinal(name, &p) {
            Some(i) if i >= 0 && i < replicas => pods[i as usize] = Some(p),
            _ => extra.push(p),
        }
    }
    // Scale down from the highest ordinal.
    extra.sort_by_key(|p| std::cmp::Reverse(ordinal(name, p)));
    for p in extra {
        gc::delete(
            txn,
            PODS,
            ns,
            meta_str(&p, "name"),
            Propagation::Background,
            ts,
        );
    }
    // Create missing ordinals; OrderedReady waits for each predecessor.
    for i in 0..replicas as usize {
        if pods[i].is_none() {
            if !parallel && pods[..i].iter().any(|p| !p.as_ref().is_some_and(is_ready)) {
                break;
            }
            let (t, rev) = if (i as i64) < partition {
                (&current_template, current_rev.as_str())
            } else {
                (&template, update_rev.as_str())
            };
            pods[i] = Some(create_ordinal(ctl, txn, &sts, t, rev, i as i64, ts));
        }
    }
    // RollingUpdate: replace outdated pods from the highest ordinal down,
    // one at a time while all others are ready.
    if !on_delete {
        for i in (partition.max(0) as usize..replicas as usize).rev() {
            let outdated = pods[i].as_ref().is_some_and(|p| {
                p.pointer(&format!("/metadata/labels/{REVISION_LABEL}"))
                    .and_then(Value::as_str)
                    != Some(&update_rev)
            });
            if !outdated {
                continue;
            }
            let others_ready = pods
                .iter()
                .enumerate()
                .all(|(j, p)| j == i || p.as_ref().is_some_and(is_ready));
            if !others_ready && !parallel {
                break;
            }
            if let Some(p) = &pods[i] {
                gc::delete(
                    txn,
                    PODS,
                    ns,
                    meta_str(p, "name"),
                    Propagation::Background,
                    ts,
                );
            }
            let p = create_ordinal(ctl, txn, &sts, &template, &update_rev, i as i64, ts);
            let ready = is_ready(&p);
            pods[i] = Some(p);
            if !ready && !parallel {
                break;
            }
        }
    }
    let live: Vec<&Value> = pods.iter().flatten().collect();
    let rev_of = |p: &Value| {
        p.pointer(&format!("/metadata/labels/{REVISION_LABEL}"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let ready = live.iter().filter(|p| is_ready(p)).count() as i64;
    let updated = live.iter().filter(|p| rev_of(p) == update_rev).count() as i64;
    let current_rev = if updated == replicas && live.len() as i64 == replicas {
        update_rev.clone()
    } else {
        current_rev
    };
    let current = live.iter().filter(|p| rev_of(p) == current_rev).count() as i64;
    let mut in_use: Vec<String> = live.iter().map(|p| rev_of(p)).collect();
    in_use.push(update_rev.clone());
    in_use.push(current_rev.clone());
    prune_revisions(txn, &sts, &in_use);

    let Some(latest) = txn.get(STATEFULSETS, ns, name) else {
        return;
    };
    let mut status = json!({
        "observedGeneration": latest.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": live.len(),
        "readyReplicas": ready,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "availableReplicas": ready,
        "currentRevision": current_rev,
        "updateRevision": update_rev,
        "collisionCount": 0,
    });
    if let Some(m) = status.as_object_mut() {
        m.retain(|k, v| {
            matches!(
                k.as_str(),
                "replicas" | "availableReplicas" | "collisionCount"
            ) || v.as_i64() != Some(0)
        });
    }
    let mut new = latest.clone();
    new["status"] = status;
    put_if_changed(txn, STATEFULSETS, &latest, new);
}
