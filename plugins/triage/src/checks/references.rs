//! MissingReference: pod templates and pods that name a ConfigMap, Secret,
//! key, PVC or ServiceAccount that does not exist (honouring `optional`), and
//! HPAs whose scale target does not exist. A kind that could not be listed is
//! never claimed missing. Pods blocked on a reference (CreateContainerConfigError,
//! FailedMount) are reported here only, with the kubelet's message.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::PodSpec;

use super::Context;
use crate::podstate::{ConfigRef, RefKind, spec_refs};
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, items, name, ns, uid};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingRef {
    pub kind: RefKind,
    pub name: String,
    /// The key, when the object exists but lacks it.
    pub key: Option<String>,
    pub used_by: String,
}

impl MissingRef {
    fn text(&self) -> String {
        match &self.key {
            Some(k) => format!(
                "{} {} has no key {k} (used by {})",
                self.kind.as_str(),
                self.name,
                self.used_by
            ),
            None => format!(
                "{} {} does not exist (used by {})",
                self.kind.as_str(),
                self.name,
                self.used_by
            ),
        }
    }
    fn short(&self) -> String {
        match &self.key {
            Some(k) => format!("{} {} key {k}", self.kind.as_str(), self.name),
            None => format!("{} {}", self.kind.as_str(), self.name),
        }
    }
}

/// Whether the object a reference names exists: `None` when its kind was not listed.
fn exists(snap: &Snapshot, namespace: &str, r: &ConfigRef) -> Option<bool> {
    match r.kind {
        RefKind::ConfigMap | RefKind::Secret => {
            let list = if r.kind == RefKind::Secret {
                snap.secrets.as_ref()?
            } else {
                snap.configmaps.as_ref()?
            };
            let found = list
                .iter()
                .find(|o| o.namespace == namespace && o.name == r.name);
            Some(match (found, &r.key) {
                (None, _) => false,
                (Some(o), Some(k)) => o.keys.contains(k),
                (Some(_), None) => true,
            })
        }
        // PVCs are listed with -l's selector: a filtered list proves no absence.
        RefKind::PersistentVolumeClaim => {
            snap.pvcs.as_ref()?;
            let found = snap.pvc(namespace, &r.name).is_some();
            (found || snap.complete).then_some(found)
        }
        RefKind::ServiceAccount => {
            let list = snap.service_accounts.as_ref()?;
            Some(
                list.iter()
                    .any(|a| a.namespace == namespace && a.name == r.name),
            )
        }
    }
}

/// Missing references among those a spec names.
pub fn missing_refs(snap: &Snapshot, namespace: &str, refs: &[ConfigRef]) -> Vec<MissingRef> {
    let mut out = BTreeSet::new();
    for r in refs.iter().filter(|r| !r.optional) {
        if exists(snap, namespace, r) == Some(false) {
            // A missing object is reported once, not once per key.
            let object_missing = r.key.is_some()
                && exists(
                    snap,
                    namespace,
                    &ConfigRef {
                        key: None,
                        ..r.clone()
                    },
                ) == Some(false);
            out.insert(MissingRef {
                kind: r.kind,
                name: r.name.clone(),
                key: if object_missing { None } else { r.key.clone() },
                used_by: r.used_by.clone(),
            });
        }
    }
    out.into_iter().collect()
}

fn remedy(r: &MissingRef, namespace: &str) -> String {
    match (r.kind, &r.key) {
        (RefKind::Secret, None) => format!(
            "kubectl create secret generic {} -n {namespace} --from-literal=<key>=<value>",
            r.name
        ),
        (RefKind::Secret, Some(k)) => format!(
            "kubectl patch secret {} -n {namespace} --type merge -p '{{\"stringData\":{{\"{k}\":\"<value>\"}}}}'",
            r.name
        ),
        (RefKind::ConfigMap, None) => format!(
            "kubectl create configmap {} -n {namespace} --from-literal=<key>=<value>",
            r.name
        ),
        (RefKind::ConfigMap, Some(k)) => format!(
            "kubectl patch configmap {} -n {namespace} --type merge -p '{{\"data\":{{\"{k}\":\"<value>\"}}}}'",
            r.name
        ),
        (RefKind::ServiceAccount, _) => {
            format!("kubectl create serviceaccount {} -n {namespace}", r.name)
        }
        (RefKind::PersistentVolumeClaim, _) => format!(
            "kubectl get pvc -n {namespace}  # create PersistentVolumeClaim {}",
            r.name
        ),
    }
}

/// An object with a pod template (or a bare pod) and what its spec names.
struct Holder {
    key: ObjectRef,
    uid: String,
    refs: Arc<[ConfigRef]>,
}

fn template_holder(key: ObjectRef, uid: &str, spec: Option<&PodSpec>) -> Option<Holder> {
    Some(Holder {
        key,
        uid: uid.to_string(),
        refs: spec_refs(spec?).into(),
    })
}

fn holders(snap: &Snapshot) -> Vec<Holder> {
    let mut out = Vec::new();
    for d in items(&snap.deployments) {
        let key = ObjectRef::of(d);
        let spec = d.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        out.extend(template_holder(key, uid(&d.metadata), spec));
    }
    for s in items(&snap.statefulsets) {
        let spec = s.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        out.extend(template_holder(ObjectRef::of(s), uid(&s.metadata), spec));
    }
    for d in items(&snap.daemonsets) {
        let spec = d.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        out.extend(template_holder(ObjectRef::of(d), uid(&d.metadata), spec));
    }
    for c in items(&snap.cronjobs) {
        let spec = c
            .spec
            .as_ref()
            .and_then(|s| s.job_template.spec.as_ref())
            .and_then(|j| j.template.spec.as_ref());
        out.extend(template_holder(ObjectRef::of(c), uid(&c.metadata), spec));
    }
    // Pods whose workload has no listed template stand for themselves.
    let covered: BTreeSet<ObjectRef> = out.iter().map(|h| h.key.clone()).collect();
    for p in snap.pods.iter().filter(|p| !covered.contains(&p.owner)) {
        out.push(Holder {
            key: p.pod.key(),
            uid: p.pod.uid.clone(),
            refs: p.pod.refs.clone(),
        });
    }
    out
}

pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for h in holders(snap) {
        let key = &h.key;
        let refs = missing_refs(snap, &key.namespace, &h.refs);
        let pods: Vec<_> = if key.kind == "Pod" {
            snap.pod(&key.namespace, &key.name).into_iter().collect()
        } else {
            snap.pods_of(key).collect()
        };
        // The kubelet's word for pods blocked on a reference.
        let mut kubelet: Vec<&str> = Vec::new();
        let mut blocked_by = Vec::new();
        for p in &pods {
            for i in p
                .issues
                .iter()
                .filter(|i| i.reason == Reason::MissingReference)
            {
                if !blocked_by.contains(&i.detail) {
                    blocked_by.push(i.detail.clone());
                }
                for e in &i.evidence {
                    if !kubelet.contains(&e.as_str()) {
                        kubelet.push(e);
                    }
                }
            }
        }
        if refs.is_empty() && kubelet.is_empty() {
            continue;
        }
        let message = if refs.is_empty() {
            format!("pods cannot start: {}", blocked_by.join(", "))
        } else {
            let names: Vec<String> = refs.iter().map(MissingRef::short).collect();
            format!("references missing {}", names.join(", "))
        };
        let mut f = Finding::new(Reason::MissingReference, key, message);
        f.extend_evidence(refs.iter().map(MissingRef::text));
        f.extend_evidence(kubelet.iter().map(|k| format!("kubelet: {k}")));
        for r in &refs {
            f = f.remedy(remedy(r, &key.namespace));
        }
        f.explains.insert(h.uid.clone());
        for p in &pods {
            if key.kind != "Pod" {
                let s = &p.pod;
                f.affect_pod(&s.namespace, &s.name, &s.uid, s.node.as_deref());
            } else {
                f.explains.insert(p.pod.uid.clone());
            }
        }
        out.push(f);
    }
    out.extend(hpa_targets(snap, ctx));
    out
}

/// HPAs whose scaleTargetRef names a Deployment, StatefulSet or ReplicaSet that does not exist.
fn hpa_targets(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for hpa in items(&snap.hpas) {
        let Some(spec) = &hpa.spec else { continue };
        let t = &spec.scale_target_ref;
        let namespace = ns(&hpa.metadata);
        let group = t
            .api_version
            .as_deref()
            .unwrap_or("")
            .split('/')
            .next()
            .unwrap_or("");
        if !group.is_empty() && group != "apps" {
            continue;
        }
        let listed = match t.kind.as_str() {
            "Deployment" => snap.deployments.as_ref().map(|l| {
                l.iter()
                    .any(|d| ns(&d.metadata) == namespace && name(&d.metadata) == t.name)
            }),
            "StatefulSet" => snap.statefulsets.as_ref().map(|l| {
                l.iter()
                    .any(|d| ns(&d.metadata) == namespace && name(&d.metadata) == t.name)
            }),
            "ReplicaSet" => snap.replicasets.as_ref().map(|l| {
                l.iter()
                    .any(|d| ns(&d.metadata) == namespace && name(&d.metadata) == t.name)
            }),
            _ => None,
        };
        // A filtered (-l) list proves no absence.
        if listed != Some(false) || !snap.complete {
            continue;
        }
        let key = ObjectRef::of(hpa);
        let mut f = Finding::new(
            Reason::MissingReference,
            &key,
            format!("scale target {} {} does not exist", t.kind, t.name),
        )
        .evidence(format!(
            "scaleTargetRef: {} {} ({}) does not exist in namespace {namespace}",
            t.kind,
            t.name,
            t.api_version.as_deref().unwrap_or("")
        ));
        for c in hpa
            .status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .filter(|c| c.status == "False")
        {
            f.add_evidence(format!(
                "condition {}=False {}: {}",
                c.type_,
                c.reason.as_deref().unwrap_or(""),
                c.message.as_deref().unwrap_or("")
            ));
        }
        f.explains.insert(uid(&hpa.metadata).to_string());
        f = f
            .remedy(format!("kubectl describe hpa {} -n {namespace}", key.name))
            .remedy(format!(
                "kubectl get deployments,statefulsets -n {namespace}"
            ));
        out.push(f);
    }
    out
}
