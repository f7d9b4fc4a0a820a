//! Every API read of `create` and `diff`: one paginated list per resource type (and
//! namespace), concurrent, each object handed to a sink as its page arrives.
//!
//! The archive sink serialises (and for Secrets encrypts) each object and sends it to the
//! archive writer thread over a bounded channel, so memory stays flat whatever the count.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use common::discovery::{Discovered, ServedResource};
use common::list::{MAX_CONCURRENT_LISTS, dynamic_api, page_stream};
use common::model::{SkipCause, Skipped};
use common::progress::Progress;
use common::{Error, Result};
use futures::{StreamExt, TryStreamExt};
use kube::Client;
use kube::api::{ApiResource, DynamicObject, ListParams};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::archive::object_path;
use crate::archive::write::EntryMeta;
use crate::crypto::ArchiveKey;
use crate::plan::{self, ClusterRef, Plan, RuleContext};
use crate::report::{EntryType, ResourceType};

/// Objects per list page. Smaller than common's 500: with 8 lists in flight, the pages
/// being decoded are most of `create`'s memory, and this keeps it flat as the cluster
/// grows (measured in make bench) at the cost of twice the requests.
pub const PAGE: u32 = 100;

/// A message to the archive writer thread.
pub enum Msg {
    /// One entry's bytes.
    Add {
        path: String,
        entry_type: EntryType,
        data: Vec<u8>,
        meta: EntryMeta,
    },
    /// A large entry spooled to a file (a dump).
    File {
        path: String,
        entry_type: EntryType,
        file: std::fs::File,
        size: u64,
        sha256: String,
        meta: EntryMeta,
    },
    /// An object left out by a default rule (counted).
    Exclude(&'static str),
}

/// Where collected objects go.
pub enum Sink {
    /// Serialised into the archive (create).
    Archive {
        tx: mpsc::Sender<Msg>,
        key: Option<Arc<ArchiveKey>>,
    },
    /// Kept in memory by (group, kind, namespace, name) (diff).
    Memory(Mutex<BTreeMap<(String, String, String, String), Value>>),
}

/// Which namespaces to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespaces {
    All,
    Some(Vec<String>),
}

impl Namespaces {
    fn jobs(&self) -> Vec<Option<String>> {
        match self {
            Namespaces::All => vec![None],
            Namespaces::Some(list) => list.iter().cloned().map(Some).collect(),
        }
    }

    fn set(&self) -> BTreeSet<String> {
        match self {
            Namespaces::All => BTreeSet::new(),
            Namespaces::Some(list) => list.iter().cloned().collect(),
        }
    }
}

/// A claim seen while listing (for --snapshot-volumes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimInfo {
    pub namespace: String,
    pub name: String,
    pub storage_class: String,
    pub volume_name: String,
}

/// The state of one collection run.
pub struct Collector {
    client: Client,
    sink: Sink,
    selector: Option<String>,
    lifted: BTreeSet<String>,
    cluster_refs: bool,
    rules: RwLock<RuleContext>,
    refs: Mutex<BTreeSet<ClusterRef>>,
    claims: Mutex<Vec<ClaimInfo>>,
    seen_types: Mutex<BTreeSet<(String, String)>>,
    listed: Mutex<BTreeSet<ResourceType>>,
    skipped: Mutex<Vec<Skipped>>,
    objects: AtomicU64,
    bytes: AtomicU64,
    progress: Progress,
}

/// What a collection found besides the objects.
#[derive(Debug, Default)]
pub struct Collected {
    pub skipped: Vec<Skipped>,
    pub claims: Vec<ClaimInfo>,
    pub resources: Vec<ResourceType>,
    pub objects: u64,
}

fn resource_type(r: &ApiResource, namespaced: bool) -> ResourceType {
    ResourceType {
        group: r.group.clone(),
        version: r.version.clone(),
        kind: r.kind.clone(),
        plural: r.plural.clone(),
        namespaced,
    }
}

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

impl Collector {
    pub fn new(
        client: Client,
        sink: Sink,
        plan: &Plan,
        selector: Option<String>,
        cluster_refs: bool,
    ) -> Self {
        Collector {
            client,
            sink,
            selector,
            lifted: plan.lifted.clone(),
            cluster_refs,
            rules: RwLock::new(RuleContext::default()),
            refs: Mutex::new(BTreeSet::new()),
            claims: Mutex::new(Vec::new()),
            seen_types: Mutex::new(BTreeSet::new()),
            listed: Mutex::new(BTreeSet::new()),
            skipped: Mutex::new(Vec::new()),
            objects: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            progress: Progress::spinner("listing"),
        }
    }

    /// List everything in the plan: Services first (their selectors decide which Endpoints
    /// are the control plane's), then every other type, up to 8 lists at once.
    pub async fn collect(&self, plan: &Plan, namespaces: &Namespaces) -> Result<()> {
        let (services, rest): (Vec<&ServedResource>, Vec<&ServedResource>) = plan
            .resources
            .iter()
            .partition(|r| r.api.group.is_empty() && r.api.plural == "services");
        self.list_many(&services, namespaces).await?;
        self.list_many(&rest, namespaces).await
    }

    async fn list_many(
        &self,
        resources: &[&ServedResource],
        namespaces: &Namespaces,
    ) -> Result<()> {
        let jobs: Vec<(&ServedResource, Option<String>)> = resources
            .iter()
            .flat_map(|r| namespaces.jobs().into_iter().map(move |ns| (*r, ns)))
            .collect();
        futures::stream::iter(jobs)
            .map(
                |(r, ns)| async move { self.list(&r.api, r.namespaced, ns.as_deref(), None).await },
            )
            .buffer_unordered(MAX_CONCURRENT_LISTS)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// One paginated list of `r` (in `ns`, or everywhere), objects handed over page by
    /// page; `only` keeps just those names (cluster objects referenced by the namespaces).
    async fn list(
        &self,
        r: &ApiResource,
        namespaced: bool,
        ns: Option<&str>,
        only: Option<&BTreeSet<String>>,
    ) -> Result<()> {
        let api = dynamic_api(&self.client, r, ns);
        let lp = ListParams {
            limit: Some(PAGE),
            label_selector: if only.is_none() {
                self.selector.clone()
            } else {
                None
            },
            ..ListParams::default()
        };
        let what = match ns {
            Some(n) => format!("{} in {n}", qualified(r)),
            None => qualified(r),
        };
        self.progress.set_message(format!(
            "listing {what} ({} objects)",
            self.objects.load(Ordering::Relaxed)
        ));
        let mut pages = Box::pin(page_stream(api, lp));
        let mut first = true;
        while let Some(page) = pages.next().await {
            let items = match page {
                Ok(items) => items,
                Err(e) => return self.list_failed(&what, e),
            };
            if first {
                first = false;
                lock(&self.listed).insert(resource_type(r, namespaced));
            }
            for obj in items {
                if only.is_some_and(|names| {
                    !names.contains(obj.metadata.name.as_deref().unwrap_or(""))
                }) {
                    continue;
                }
                self.object(r, obj).await?;
            }
        }
        Ok(())
    }

    fn list_failed(&self, what: &str, e: Error) -> Result<()> {
        let (cause, message) = match &e {
            Error::Forbidden { message, .. } => (SkipCause::Forbidden, message.clone()),
            Error::Api {
                code: 404, message, ..
            } => (SkipCause::NotServed, message.clone()),
            Error::Api {
                code: 503, message, ..
            } => (SkipCause::Unavailable, message.clone()),
            _ => return Err(e),
        };
        tracing::warn!("skipping {what}: {message}");
        lock(&self.skipped).push(Skipped::new(what, cause, message));
        Ok(())
    }

    async fn object(&self, r: &ApiResource, obj: DynamicObject) -> Result<()> {
        let mut v = serde_json::to_value(&obj)?;
        if let Some(o) = v.as_object_mut() {
            // List items of a real API server carry no apiVersion/kind.
            o.insert("apiVersion".into(), Value::String(r.api_version.clone()));
            o.insert("kind".into(), Value::String(r.kind.clone()));
        }
        if r.group.is_empty() && r.kind == "Service" && plan::has_selector(&v) {
            let key = (
                str_at(&v, "/metadata/namespace").to_string(),
                str_at(&v, "/metadata/name").to_string(),
            );
            write_lock(&self.rules).selector_services.insert(key);
        }
        if !self.lifted.contains(&qualified(r)) {
            let rule = plan::exclusion(&v, &read_lock(&self.rules));
            if let Some(rule) = rule {
                if let Sink::Archive { tx, .. } = &self.sink {
                    send(tx, Msg::Exclude(rule.as_str())).await?;
                }
                return Ok(());
            }
        }
        if let Some(Value::Object(meta)) = v.get_mut("metadata") {
            // Field ownership records: large, and meaningless in another cluster.
            meta.remove("managedFields");
        }
        if self.cluster_refs {
            lock(&self.refs).extend(plan::cluster_references(&v));
        }
        if r.group.is_empty() && r.kind == "PersistentVolumeClaim" {
            lock(&self.claims).push(ClaimInfo {
                namespace: str_at(&v, "/metadata/namespace").to_string(),
                name: str_at(&v, "/metadata/name").to_string(),
                storage_class: str_at(&v, "/spec/storageClassName").to_string(),
                volume_name: str_at(&v, "/spec/volumeName").to_string(),
            });
        }
        lock(&self.seen_types).insert((r.group.clone(), r.plural.clone()));
        self.objects.fetch_add(1, Ordering::Relaxed);
        self.progress.inc(1);
        match &self.sink {
            Sink::Memory(map) => {
                let key = (
                    r.group.clone(),
                    r.kind.clone(),
                    str_at(&v, "/metadata/namespace").to_string(),
                    str_at(&v, "/metadata/name").to_string(),
                );
                lock(map).insert(key, v);
            }
            Sink::Archive { tx, key } => {
                let msg = archive_entry(r, &v, key.as_deref())?;
                if let Msg::Add { data, .. } = &msg {
                    self.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
                send(tx, msg).await?;
            }
        }
        Ok(())
    }

    /// The CRDs of the custom resource types that had objects, and with
    /// --include-cluster-resources the cluster objects the namespaces reference.
    pub async fn cluster_objects(
        &self,
        discovered: &Discovered,
        namespaces: &Namespaces,
    ) -> Result<()> {
        let seen = lock(&self.seen_types).clone();
        if let Some(crds) = discovered.by_kind("apiextensions.k8s.io", "CustomResourceDefinition") {
            let api = dynamic_api(&self.client, &crds.api, None);
            let all = common::list::list_all(&api, &ListParams::default()).await;
            match all {
                Ok(list) => {
                    for crd in list {
                        let v = serde_json::to_value(&crd)?;
                        let key = (
                            str_at(&v, "/spec/group").to_string(),
                            str_at(&v, "/spec/names/plural").to_string(),
                        );
                        if seen.contains(&key) {
                            self.object(&crds.api, crd).await?;
                        }
                    }
                    lock(&self.listed).insert(resource_type(&crds.api, false));
                }
                Err(e) => self.list_failed("customresourcedefinitions.apiextensions.k8s.io", e)?,
            }
        }
        if !self.cluster_refs {
            return Ok(());
        }
        // ClusterRoleBindings of the namespaces' service accounts, and their roles.
        if let Some(crbs) = discovered.by_kind("rbac.authorization.k8s.io", "ClusterRoleBinding") {
            let api = dynamic_api(&self.client, &crbs.api, None);
            match common::list::list_all(&api, &ListParams::default()).await {
                Ok(list) => {
                    let set = namespaces.set();
                    let all = *namespaces == Namespaces::All;
                    for crb in list {
                        let v = serde_json::to_value(&crb)?;
                        if plan::binds_namespace(&v, &set, all) {
                            if str_at(&v, "/roleRef/kind") == "ClusterRole" {
                                lock(&self.refs).insert(ClusterRef {
                                    group: "rbac.authorization.k8s.io".into(),
                                    kind: "ClusterRole".into(),
                                    name: str_at(&v, "/roleRef/name").to_string(),
                                });
                            }
                            self.object(&crbs.api, crb).await?;
                        }
                    }
                    lock(&self.listed).insert(resource_type(&crbs.api, false));
                }
                Err(e) => self.list_failed("clusterrolebindings.rbac.authorization.k8s.io", e)?,
            }
        }
        let refs = lock(&self.refs).clone();
        let mut by_kind: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for r in refs {
            by_kind.entry((r.group, r.kind)).or_default().insert(r.name);
        }
        for ((group, kind), names) in by_kind {
            let Some(served) = discovered.by_kind(&group, &kind) else {
                continue;
            };
            self.list(&served.api, false, None, Some(&names)).await?;
        }
        Ok(())
    }

    /// Write the Namespace objects themselves (read beforehand).
    pub async fn namespace_objects(
        &self,
        discovered: &Discovered,
        objects: Vec<DynamicObject>,
    ) -> Result<()> {
        if let Some(ns) = discovered.by_kind("", "Namespace") {
            lock(&self.listed).insert(resource_type(&ns.api, false));
            for o in objects {
                self.object(&ns.api, o).await?;
            }
        }
        Ok(())
    }

    /// Finish: what was skipped, the claims seen, the listed types, the count.
    pub fn finish(self) -> (Collected, Sink) {
        self.progress.finish_and_clear();
        let collected = Collected {
            skipped: into_inner(self.skipped),
            claims: into_inner(self.claims),
            resources: into_inner(self.listed).into_iter().collect(),
            objects: self.objects.load(Ordering::Relaxed),
        };
        (collected, self.sink)
    }
}

/// The entry for one object: YAML, age-encrypted when it is a Secret and a key is given.
pub fn archive_entry(r: &ApiResource, v: &Value, key: Option<&ArchiveKey>) -> Result<Msg> {
    let yaml = serde_saphyr::to_string(v)
        .map_err(|e| Error::other(format!("cannot encode an object as YAML: {e}")))?;
    let secret = r.group.is_empty() && r.kind == "Secret";
    let namespace = str_at(v, "/metadata/namespace");
    let name = str_at(v, "/metadata/name");
    let (data, encrypted) = match (secret, key) {
        (true, Some(k)) => (k.encrypt(yaml.as_bytes())?, true),
        _ => (yaml.into_bytes(), false),
    };
    let ns = (!namespace.is_empty()).then(|| namespace.to_string());
    Ok(Msg::Add {
        path: object_path(ns.as_deref(), &r.group, &r.kind, name, encrypted),
        entry_type: EntryType::Object,
        data,
        meta: EntryMeta {
            api_version: Some(r.api_version.clone()),
            kind: Some(r.kind.clone()),
            namespace: ns,
            name: Some(name.to_string()),
            encrypted,
        },
    })
}

/// `plural.group`, or the plural for the core group.
pub fn qualified(r: &ApiResource) -> String {
    if r.group.is_empty() {
        r.plural.clone()
    } else {
        format!("{}.{}", r.plural, r.group)
    }
}

async fn send(tx: &mpsc::Sender<Msg>, msg: Msg) -> Result<()> {
    tx.send(msg)
        .await
        .map_err(|_| Error::other("the archive writer stopped (see the error above)"))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn read_lock<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|p| p.into_inner())
}

fn write_lock<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|p| p.into_inner())
}

fn into_inner<T>(m: Mutex<T>) -> T {
    m.into_inner().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret_api() -> ApiResource {
        ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: "Secret".into(),
            plural: "secrets".into(),
        }
    }

    #[test]
    fn secret_entries_are_encrypted_whole() {
        let v = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
            "data": {"password": "aHVudGVyMg=="}});
        let key = ArchiveKey::generate();
        let Ok(Msg::Add {
            path, data, meta, ..
        }) = archive_entry(&secret_api(), &v, Some(&key))
        else {
            panic!("an entry")
        };
        assert_eq!(path, "objects/shop/core/Secret/db.yaml.age");
        assert!(meta.encrypted);
        assert!(!data.windows(12).any(|w| w == b"aHVudGVyMg=="));
        let plain = key.decrypt(&data).unwrap_or_default();
        let back: Value = serde_saphyr::from_slice(&plain).unwrap_or_default();
        assert_eq!(back, v);
        let Ok(Msg::Add { path, data, .. }) = archive_entry(&secret_api(), &v, None) else {
            panic!("an entry")
        };
        assert_eq!(path, "objects/shop/core/Secret/db.yaml");
        assert!(
            data.windows(12).any(|w| w == b"aHVudGVyMg=="),
            "plaintext by choice"
        );
    }
}
