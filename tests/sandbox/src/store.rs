//! The object store: every served object keyed by resource and namespace/name,
//! the global resourceVersion counter, list pagination and the watch feed.
//!
//! All writes go through [`Store::write`], which holds the lock for the whole
//! operation (so a resourceVersion check and the write are atomic) and then
//! publishes the committed events in order. Anything that reacts to writes —
//! watches today, simulated controllers later — subscribes to that feed with
//! [`Store::subscribe`] instead of being called from the handlers.

use crate::error::ApiError;
use crate::selectors::{FieldSelector, LabelSelector};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::broadcast;

/// Watch history kept for `?watch=true&resourceVersion=N` resumes; older
/// resumes get 410 Expired like a compacted etcd.
const HISTORY: usize = 50_000;
const FEED_CAPACITY: usize = 65_536;

/// Storage key of a resource type: `group/plural` (all versions share storage,
/// as they do in a real server).
pub fn res_key(group: &str, plural: &str) -> String {
    format!("{group}/{plural}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change. `old` lets a selector-filtered watch turn a change
/// that moves an object out of the selection into DELETED, as the real one does.
#[derive(Debug)]
pub struct Event {
    pub resource: String,
    pub kind: EventType,
    pub object: Value,
    pub old: Option<Value>,
    pub rv: u64,
}

type Objects = BTreeMap<(String, String), Value>;

/// `(resource, namespace, name)` of a stored object.
pub type ObjectRef = (String, String, String);

#[derive(Default)]
pub struct Inner {
    rv: u64,
    objects: HashMap<String, Objects>,
    history: VecDeque<Arc<Event>>,
    /// Every event with rv > floor is in `history`.
    floor: u64,
    /// How many events `history` keeps ([`HISTORY`] unless a test asks for less).
    history_limit: usize,
    /// Dependents by owner uid, so GC and controllers find what an object
    /// owns without scanning every object.
    owned: HashMap<String, BTreeSet<ObjectRef>>,
    /// Pods by `spec.nodeName`, for the scheduler's per-node resource sums.
    on_node: HashMap<String, BTreeSet<(String, String)>>,
}

fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str))
}

/// Owner uids, node, namespace and name: what [`Inner::index`] records.
type IndexEntries = (Vec<String>, Option<String>, String, String);

fn index_entries(res: &str, obj: &Value) -> IndexEntries {
    (
        owner_uids(obj).map(str::to_string).collect(),
        node_of(res, obj).map(str::to_string),
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    )
}

fn node_of<'a>(res: &str, obj: &'a Value) -> Option<&'a str> {
    (res == "/pods")
        .then(|| obj.pointer("/spec/nodeName").and_then(Value::as_str))
        .flatten()
        .filter(|n| !n.is_empty())
}

impl Inner {
    pub fn rv(&self) -> u64 {
        self.rv
    }

    pub fn get(&self, res: &str, ns: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(res)
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
    }

    /// Every stored object with its resource key (for GC and namespace deletion).
    pub fn iter_all(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.objects
            .iter()
            .flat_map(|(res, m)| m.values().map(move |v| (res, v)))
    }

    pub fn count(&self, res: &str) -> usize {
        self.objects.get(res).map_or(0, BTreeMap::len)
    }

    /// The objects of one resource in one namespace ("" = cluster-scoped), in name order.
    pub fn in_namespace<'a>(&'a self, res: &str, ns: &str) -> impl Iterator<Item = &'a Value> {
        let start = (ns.to_string(), String::new());
        let ns_owned = ns.to_string();
        self.objects
            .get(res)
            .into_iter()
            .flat_map(move |m| m.range(start.clone()..))
            .take_while(move |((n, _), _)| *n == ns_owned)
            .map(|(_, v)| v)
    }

    /// Every object of one resource.
    pub fn iter_resource<'a>(&'a self, res: &str) -> impl Iterator<Item = &'a Value> {
        self.objects.get(res).into_iter().flat_map(|m| m.values())
    }

    /// Objects whose ownerReferences name `uid`.
    pub fn owned_by(&self, uid: &str) -> Vec<ObjectRef> {
        self.owned
            .get(uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// `(namespace, name)` of the pods bound to `node`.
    pub fn pods_on_node(&self, node: &str) -> Vec<(String, String)> {
        self.on_node
            .get(node)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn unindex(&mut self, res: &str, obj: &Value) {
        let ns = meta_str(obj, "namespace");
        let name = meta_str(obj, "name");
        for uid in owner_uids(obj) {
            if let Some(set) = self.owned.get_mut(uid) {
                set.remove(&(res.to_string(), ns.to_string(), name.to_string()));
                if set.is_empty() {
                    self.owned.remove(uid);
                }
            }
        }
        if let Some(node) = node_of(res, obj)
            && let Some(set) = self.on_node.get_mut(node)
        {
            set.remove(&(ns.to_string(), name.to_string()));
        }
    }

    fn index(&mut self, res: &str, entries: IndexEntries) {
        let (uids, node, ns, name) = entries;
        for uid in uids {
            self.owned
                .entry(uid)
                .or_default()
                .insert((res.to_string(), ns.clone(), name.clone()));
        }
        if let Some(node) = node {
            self.on_node.entry(node).or_default().insert((ns, name));
        }
    }

    fn insert(&mut self, res: &str, key: (String, String), obj: Value) -> Option<Value> {
        let entries = index_entries(res, &obj);
        let old = self
            .objects
            .entry(res.to_string())
            .or_default()
            .insert(key, obj);
        if let Some(o) = &old {
            self.unindex(res, o);
        }
        self.index(res, entries);
        old
    }
}

/// The objects of a store, shared by the HTTP tasks.
pub struct Store {
    inner: RwLock<Inner>,
    feed: broadcast::Sender<Arc<Event>>,
}

/// A write in progress (holds the store's write lock).
pub struct Txn<'a> {
    inner: RwLockWriteGuard<'a, Inner>,
    pending: Vec<Event>,
    /// `dryRun=All`: compute results, store nothing, bump nothing.
    pub dry_run: bool,
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

impl Txn<'_> {
    pub fn inner(&self) -> &Inner {
        &self.inner
    }

    pub fn get(&self, res: &str, ns: &str, name: &str) -> Option<&Value> {
        self.inner.get(res, ns, name)
    }

    /// Stores `obj` (new or replacing), giving it the next resourceVersion.
    pub fn put(&mut self, res: &str, mut obj: Value) -> Value {
        if self.dry_run {
            return obj;
        }
        self.inner.rv += 1;
        let rv = self.inner.rv;
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        // Kept in wire order, so serving it needs no reordering.
        crate::wire::order_stored(&mut obj);
        let key = (
            meta_str(&obj, "namespace").to_string(),
            meta_str(&obj, "name").to_string(),
        );
        let old = self.inner.insert(res, key, obj.clone());
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.pending.push(Event {
            resource: res.to_string(),
            kind,
            object: obj.clone(),
            old,
            rv,
        });
        obj
    }

    /// Stores a fixture object: no event, no history, no copy returned
    /// (nothing can watch yet; this keeps 10,000-object startups fast).
    pub fn load(&mut self, res: &str, mut obj: Value) {
        self.inner.rv += 1;
        let rv = self.inner.rv;
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        crate::wire::order_stored(&mut obj);
        let key = (
            meta_str(&obj, "namespace").to_string(),
            meta_str(&obj, "name").to_string(),
        );
        self.inner.insert(res, key, obj);
    }

    /// Removes an object; the returned copy carries the deletion's resourceVersion.
    pub fn remove(&mut self, res: &str, ns: &str, name: &str) -> Option<Value> {
        if self.dry_run {
            return self.inner.get(res, ns, name).cloned();
        }
        let mut obj = self
            .inner
            .objects
            .get_mut(res)?
            .remove(&(ns.to_string(), name.to_string()))?;
        self.inner.unindex(res, &obj);
        self.inner.rv += 1;
        let rv = self.inner.rv;
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        self.pending.push(Event {
            resource: res.to_string(),
            kind: EventType::Deleted,
            object: obj.clone(),
            old: None,
            rv,
        });
        Some(obj)
    }
}

/// One page of a list.
#[derive(Debug)]
pub struct ListPage {
    pub items: Vec<Value>,
    pub rv: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<u64>,
}

/// What `list` returns: namespace filter (None = all), selectors, paging.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

impl ListQuery {
    pub fn matches(&self, obj: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| meta_str(obj, "namespace") == ns)
            && self.labels.matches(obj)
            && self.fields.matches(obj)
    }
}

/// Where a watch starts: the current objects as ADDED (rv "" / "0" or
/// sendInitialEvents), or the events after a resourceVersion.
pub enum WatchStart {
    Initial(Vec<Value>),
    Backlog(Vec<Arc<Event>>),
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    let raw = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{ns}/{name}\u{0}")});
    base64::engine::general_purpose::URL_SAFE.encode(raw.to_string())
}

fn decode_continue(token: &str) -> Result<(String, String), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    let start = start.strip_suffix('\u{0}').unwrap_or(start);
    let (ns, name) = start.split_once('/').ok_or_else(bad)?;
    Ok((ns.to_string(), name.to_string()))
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Self {
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        Store {
            inner: RwLock::new(Inner {
                history_limit: HISTORY,
                ..Inner::default()
            }),
            feed,
        }
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, Inner> {
        // A panic while holding the lock cannot leave an object half-written
        // (writes are single map inserts), so a poisoned lock is still usable.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` as one atomic write; its events are published when it returns.
    pub fn write<R>(&self, dry_run: bool, f: impl FnOnce(&mut Txn<'_>) -> R) -> R {
        let inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let mut txn = Txn {
            inner,
            pending: Vec::new(),
            dry_run,
        };
        let r = f(&mut txn);
        let events: Vec<Event> = txn.pending.drain(..).collect();
        for ev in events {
            let ev = Arc::new(ev);
            txn.inner.history.push_back(ev.clone());
            while txn.inner.history.len() > txn.inner.history_limit {
                if let Some(old) = txn.inner.history.pop_front() {
                    txn.inner.floor = old.rv;
                }
            }
            let _ = self.feed.send(ev);
        }
        r
    }

    /// Keeps only the last `events` events for watch resumes, so a test can
    /// make a resourceVersion expire without 50,000 writes.
    pub fn set_history_limit(&self, events: usize) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.history_limit = events.max(1);
    }

    /// Forgets the history after fixture loading: nobody can resume from before it.
    pub fn seal_initial(&self) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.history.clear();
        inner.floor = inner.rv;
    }

    /// Read access for lookups that span resources.
    pub fn read<R>(&self, f: impl FnOnce(&Inner) -> R) -> R {
        f(&self.read_guard())
    }

    pub fn get(&self, res: &str, ns: &str, name: &str) -> Option<Value> {
        self.read_guard().get(res, ns, name).cloned()
    }

    pub fn current_rv(&self) -> u64 {
        self.read_guard().rv
    }

    /// Every committed event, in order (the hook for watches and future controllers).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.feed.subscribe()
    }

    pub fn list(&self, res: &str, q: &ListQuery) -> Result<ListPage, ApiError> {
        let inner = self.read_guard();
        let rv = inner.rv;
        let empty = Objects::new();
        let objects = inner.objects.get(res).unwrap_or(&empty);
        let start = match q.continue_token.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => Bound::Excluded(decode_continue(t)?),
            None => Bound::Unbounded,
        };
        let mut items = Vec::new();
        let mut iter = objects
            .range((start, Bound::Unbounded))
            .filter(|(_, o)| q.matches(o));
        let limit = q.limit.filter(|l| *l > 0);
        for (_, o) in iter.by_ref() {
            items.push(o.clone());
            if limit.is_some_and(|l| items.len() >= l) {
                break;
            }
        }
        let mut continue_token = None;
        let mut remaining = None;
        if limit.is_some() {
            let rest = iter.count() as u64;
            if rest > 0 {
                if let Some(last) = items.last() {
                    continue_token = Some(encode_continue(
                        rv,
                        meta_str(last, "namespace"),
                        meta_str(last, "name"),
                    ));
                }
                if q.labels.is_empty() && q.fields.is_empty() {
                    remaining = Some(rest);
                }
            }
        }
        Ok(ListPage {
            items,
            rv,
            continue_token,
            remaining,
        })
    }

    /// Subscribes and captures the starting point under one lock, so no event
    /// is lost or duplicated between the snapshot and the live feed.
    pub fn watch_start(
        &self,
        res: &str,
        from_rv: Option<u64>,
        q: &ListQuery,
    ) -> Result<(WatchStart, broadcast::Receiver<Arc<Event>>, u64), ApiError> {
        let inner = self.read_guard();
        let rx = self.feed.subscribe();
        let start = match from_rv {
            None => WatchStart::Initial(
                inner
                    .objects
                    .get(res)
                    .map(|m| m.values().filter(|o| q.matches(o)).cloned().collect())
                    .unwrap_or_default(),
            ),
            Some(rv) if rv < inner.floor => {
                return Err(ApiError::gone(format!(
                    "too old resource version: {rv} ({})",
                    inner.floor + 1
                )));
            }
            Some(rv) => WatchStart::Backlog(
                inner
                    .history
                    .iter()
                    .filter(|e| e.rv > rv && e.resource == res)
                    .cloned()
                    .collect(),
            ),
        };
        Ok((start, rx, inner.rv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": ns, "name": name}})
    }

    #[test]
    fn pagination_returns_each_object_once() {
        let s = Store::new();
        s.write(false, |t| {
            for i in 0..7 {
                t.put(
                    "/pods",
                    pod(if i % 2 == 0 { "a" } else { "b" }, &format!("p{i}")),
                );
            }
        });
        let mut seen = Vec::new();
        let mut q = ListQuery {
            limit: Some(3),
            ..Default::default()
        };
        loop {
            let page = s.list("/pods", &q).expect("list");
            seen.extend(page.items.iter().map(|o| meta_str(o, "name").to_string()));
            match page.continue_token {
                Some(t) => q.continue_token = Some(t),
                None => break,
            }
        }
        seen.sort();
        assert_eq!(seen, ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
    }

    #[test]
    fn dry_run_stores_nothing_and_rv_counts_writes() {
        let s = Store::new();
        s.write(true, |t| t.put("/pods", pod("a", "x")));
        assert!(s.get("/pods", "a", "x").is_none());
        assert_eq!(s.current_rv(), 0);
        let stored = s.write(false, |t| t.put("/pods", pod("a", "x")));
        assert_eq!(meta_str(&stored, "resourceVersion"), "1");
        s.write(false, |t| t.remove("/pods", "a", "x"));
        assert_eq!(s.current_rv(), 2);
    }
}
