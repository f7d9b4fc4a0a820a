//! MissingReference: pod templates and pods that name a ConfigMap, Secret,
//! key, PVC or ServiceAccount that does not exist (honouring `optional`).
//! A kind that could not be listed is never claimed missing.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, PodSpec};

use super::Context;
use crate::report::{Affected, Finding, Reason};
use crate::snapshot::{KeyedObject, ObjectRef, Snapshot, items, name, ns, uid};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingRef {
    pub kind: &'static str,
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
                self.kind, self.name, self.used_by
            ),
            None => format!(
                "{} {} does not exist (used by {})",
                self.kind, self.name, self.used_by
            ),
        }
    }
    fn short(&self) -> String {
        match &self.key {
            Some(k) => format!("{} {} key {k}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

struct Lookup<'a> {
    snap: &'a Snapshot,
    namespace: &'a str,
    out: BTreeSet<MissingRef>,
}

impl Lookup<'_> {
    fn keyed(
        &mut self,
        kind: &'static str,
        obj: &str,
        key: Option<&str>,
        optional: bool,
        used_by: String,
    ) {
        if optional {
            return;
        }
        let list = if kind == "Secret" {
            &self.snap.secrets
        } else {
            &self.snap.configmaps
        };
        let Some(list) = list else { return };
        let found: Option<&KeyedObject> = list
            .iter()
            .find(|o| o.namespace == self.namespace && o.name == obj);
        match (found, key) {
            (None, _) => {
                self.out.insert(MissingRef {
                    kind,
                    name: obj.to_string(),
                    key: None,
                    used_by,
                });
            }
            (Some(o), Some(k)) if !o.keys.contains(k) => {
                self.out.insert(MissingRef {
                    kind,
                    name: obj.to_string(),
                    key: Some(k.to_string()),
                    used_by,
                });
            }
            _ => {}
        }
    }

    fn spec(&mut self, spec: &PodSpec) {
        for v in spec.volumes.iter().flatten() {
            let used_by = format!("volume {}", v.name);
            if let Some(cm) = &v.config_map {
                let opt = cm.optional.unwrap_or(false);
                self.keyed("ConfigMap", &cm.name, None, opt, used_by.clone());
                for i in cm.items.iter().flatten() {
                    self.keyed("ConfigMap", &cm.name, Some(&i.key), opt, used_by.clone());
                }
            }
            if let Some(s) = &v.secret {
                let opt = s.optional.unwrap_or(false);
                let n = s.secret_name.clone().unwrap_or_default();
                self.keyed("Secret", &n, None, opt, used_by.clone());
                for i in s.items.iter().flatten() {
                    self.keyed("Secret", &n, Some(&i.key), opt, used_by.clone());
                }
            }
            if let Some(p) = &v.projected {
                for src in p.sources.iter().flatten() {
                    if let Some(cm) = &src.config_map {
                        let opt = cm.optional.unwrap_or(false);
                        self.keyed("ConfigMap", &cm.name, None, opt, used_by.clone());
                        for i in cm.items.iter().flatten() {
                            self.keyed("ConfigMap", &cm.name, Some(&i.key), opt, used_by.clone());
                        }
                    }
                    if let Some(s) = &src.secret {
                        let opt = s.optional.unwrap_or(false);
                        self.keyed("Secret", &s.name, None, opt, used_by.clone());
                        for i in s.items.iter().flatten() {
                            self.keyed("Secret", &s.name, Some(&i.key), opt, used_by.clone());
                        }
                    }
                }
            }
            if let Some(c) = &v.persistent_volume_claim
                && let Some(pvcs) = &self.snap.pvcs
                && !pvcs
                    .iter()
                    .any(|p| ns(&p.metadata) == self.namespace && name(&p.metadata) == c.claim_name)
            {
                self.out.insert(MissingRef {
                    kind: "PersistentVolumeClaim",
                    name: c.claim_name.clone(),
                    key: None,
                    used_by,
                });
            }
        }
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            for e in c.env.iter().flatten() {
                let Some(from) = &e.value_from else { continue };
                let used_by = format!("env {} of container {}", e.name, c.name);
                if let Some(r) = &from.config_map_key_ref {
                    self.keyed(
                        "ConfigMap",
                        &r.name,
                        Some(&r.key),
                        r.optional.unwrap_or(false),
                        used_by.clone(),
                    );
                }
                if let Some(r) = &from.secret_key_ref {
                    self.keyed(
                        "Secret",
                        &r.name,
                        Some(&r.key),
                        r.optional.unwrap_or(false),
                        used_by,
                    );
                }
            }
            for e in c.env_from.iter().flatten() {
                let used_by = format!("envFrom of container {}", c.name);
                if let Some(r) = &e.config_map_ref {
                    self.keyed(
                        "ConfigMap",
                        &r.name,
                        None,
                        r.optional.unwrap_or(false),
                        used_by.clone(),
                    );
                }
                if let Some(r) = &e.secret_ref {
                    self.keyed(
                        "Secret",
                        &r.name,
                        None,
                        r.optional.unwrap_or(false),
                        used_by,
                    );
                }
            }
        }
        // "default" is created by the cluster in every namespace.
        if let Some(sa) = spec
            .service_account_name
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "default")
            && let Some(list) = &self.snap.service_accounts
            && !list
                .iter()
                .any(|a| a.namespace == self.namespace && a.name == sa)
        {
            self.out.insert(MissingRef {
                kind: "ServiceAccount",
                name: sa.to_string(),
                key: None,
                used_by: "serviceAccountName".into(),
            });
        }
    }
}

/// Missing references of one pod spec.
pub fn missing_refs(snap: &Snapshot, namespace: &str, spec: &PodSpec) -> Vec<MissingRef> {
    let mut l = Lookup {
        snap,
        namespace,
        out: BTreeSet::new(),
    };
    l.spec(spec);
    l.out.into_iter().collect()
}

/// kubelet's CreateContainerConfigError messages of a pod.
fn config_errors(pod: &Pod) -> Vec<String> {
    pod.status
        .iter()
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .chain(s.init_container_statuses.iter().flatten())
        })
        .filter_map(|c| {
            let w = c.state.as_ref()?.waiting.as_ref()?;
            let r = w.reason.as_deref()?;
            r.starts_with("CreateContainer").then(|| {
                format!(
                    "container {}: {r}: {}",
                    c.name,
                    w.message.as_deref().unwrap_or("")
                )
            })
        })
        .collect()
}

fn remedy(r: &MissingRef, namespace: &str) -> String {
    match (r.kind, &r.key) {
        ("Secret", None) => format!(
            "kubectl create secret generic {} -n {namespace} --from-literal=<key>=<value>",
            r.name
        ),
        ("Secret", Some(k)) => format!(
            "kubectl patch secret {} -n {namespace} --type merge -p '{{\"stringData\":{{\"{k}\":\"<value>\"}}}}'",
            r.name
        ),
        ("ConfigMap", None) => format!(
            "kubectl create configmap {} -n {namespace} --from-literal=<key>=<value>",
            r.name
        ),
        ("ConfigMap", Some(k)) => format!(
            "kubectl patch configmap {} -n {namespace} --type merge -p '{{\"data\":{{\"{k}\":\"<value>\"}}}}'",
            r.name
        ),
        ("ServiceAccount", _) => format!("kubectl create serviceaccount {} -n {namespace}", r.name),
        _ => format!(
            "kubectl get pvc -n {namespace}  # create PersistentVolumeClaim {}",
            r.name
        ),
    }
}

pub fn check(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    // Workloads with templates; their pods are covered by the template.
    let mut holders: Vec<(ObjectRef, String, &PodSpec)> = Vec::new();
    for d in items(&snap.deployments) {
        if let Some(s) = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()) {
            holders.push((
                ObjectRef::new("Deployment", ns(&d.metadata), name(&d.metadata)),
                uid(&d.metadata).into(),
                s,
            ));
        }
    }
    for d in items(&snap.statefulsets) {
        if let Some(s) = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()) {
            holders.push((
                ObjectRef::new("StatefulSet", ns(&d.metadata), name(&d.metadata)),
                uid(&d.metadata).into(),
                s,
            ));
        }
    }
    for d in items(&snap.daemonsets) {
        if let Some(s) = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()) {
            holders.push((
                ObjectRef::new("DaemonSet", ns(&d.metadata), name(&d.metadata)),
                uid(&d.metadata).into(),
                s,
            ));
        }
    }
    for c in items(&snap.cronjobs) {
        if let Some(s) = c
            .spec
            .as_ref()
            .and_then(|s| s.job_template.spec.as_ref())
            .and_then(|j| j.template.spec.as_ref())
        {
            holders.push((
                ObjectRef::new("CronJob", ns(&c.metadata), name(&c.metadata)),
                uid(&c.metadata).into(),
                s,
            ));
        }
    }
    let covered: BTreeSet<ObjectRef> = holders.iter().map(|h| h.0.clone()).collect();
    for p in &snap.pods {
        let owner = snap.owner_of_pod(p);
        if !covered.contains(&owner)
            && let Some(s) = p.spec.as_ref()
        {
            holders.push((
                ObjectRef::new("Pod", ns(&p.metadata), name(&p.metadata)),
                uid(&p.metadata).into(),
                s,
            ));
        }
    }

    let mut out = Vec::new();
    for (key, owner_uid, spec) in holders {
        let refs = missing_refs(snap, &key.namespace, spec);
        let pods: Vec<&Pod> = if key.kind == "Pod" {
            snap.pods
                .iter()
                .filter(|p| name(&p.metadata) == key.name && ns(&p.metadata) == key.namespace)
                .collect()
        } else {
            snap.pods_of(&key).collect()
        };
        let mut kubelet: Vec<String> = Vec::new();
        for p in &pods {
            for e in config_errors(p) {
                if !kubelet.contains(&e) {
                    kubelet.push(e);
                }
            }
        }
        if refs.is_empty() && kubelet.is_empty() {
            continue;
        }
        let message = if refs.is_empty() {
            "pods cannot start: CreateContainerConfigError".to_string()
        } else {
            let names: Vec<String> = refs.iter().map(MissingRef::short).collect();
            format!("references missing {}", names.join(", "))
        };
        let mut f = Finding::new(Reason::MissingReference, &key, message);
        for r in &refs {
            f.evidence.push(r.text());
        }
        for k in kubelet {
            f.evidence.push(format!("kubelet: {k}"));
        }
        for r in &refs {
            f = f.remedy(remedy(r, &key.namespace));
        }
        f.explains.insert(owner_uid);
        for p in &pods {
            f.explains.insert(uid(&p.metadata).to_string());
            if key.kind != "Pod" {
                f.affected.push(Affected {
                    kind: "Pod".into(),
                    name: name(&p.metadata).to_string(),
                    node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
                });
            }
        }
        out.push(f);
    }
    out
}
