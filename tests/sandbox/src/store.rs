//! The object store: every served object keyed by resource and namespace/name,
//! the global resourceVersion counter, list pagination and the watch feed.
//!
//! Objects are kept as their JSON bytes, exactly as served (wire order, see
//! `wire.rs`), beside the fields lists, selectors, watches and controllers
//! look up (namespace, name, uid, labels, field-selector values, owner uids,
//! node): a list answers with the stored bytes, and a [`Value`] is parsed only
//! where a controller, a patch or a conversion needs the whole object. That
//! keeps 30,000 pods in a few hundred MB and lists at memory speed.
//!
//! All writes go through [`Store::write`], which holds the lock for the whole
//! operation (so a resourceVersion check and the write are atomic) and then
//! publishes the committed events in order. Anything that reacts to writes —
//! watches and the simulated controllers — subscribes to that feed with
//! [`Store::subscribe`] instead of being called from the handlers.

use crate::error::ApiError;
use crate::selectors::{FieldSelector, LabelSelector};
use base64::Engine;
use bytes::Bytes;
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

/// One stored object: its JSON as served (keys in wire order, no final
/// newline) and the fields looked up without parsing it.
#[derive(Debug)]
pub struct Stored {
    json: Bytes,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// The version it is stored in (a served version may differ); shared by
    /// every object of that version, so checking it per listed item stays in cache.
    pub api_version: Arc<str>,
    /// `metadata.labels` as written (a map), for label selectors.
    pub labels: Option<Value>,
    /// The field-selector values the real server indexes for this resource.
    fields: Vec<(&'static str, String)>,
    /// Uids of `metadata.ownerReferences`.
    owners: Vec<String>,
    /// `spec.nodeName` of a bound pod.
    node: Option<String>,
}

impl Stored {
    /// Indexes and serializes `obj` (already in wire order) of resource `res`.
    pub fn new(res: &str, obj: &Value) -> Stored {
        let meta = |k: &str| meta_str(obj, k).to_string();
        Stored {
            json: to_json(obj),
            namespace: meta("namespace"),
            name: meta("name"),
            uid: meta("uid"),
            api_version: interned(obj.get("apiVersion").and_then(Value::as_str).unwrap_or("")),
            labels: obj
                .pointer("/metadata/labels")
                .filter(|l| l.is_object())
                .cloned(),
            fields: crate::selectors::indexed_fields(res)
                .iter()
                .map(|path| (*path, crate::selectors::field_value(obj, path)))
                .collect(),
            owners: owner_uids(obj).map(str::to_string).collect(),
            node: node_of(res, obj).map(str::to_string),
        }
    }

    /// The object's JSON, as a response carries it.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// The whole object, parsed (the store only holds JSON it wrote itself).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or_default()
    }

    /// An indexed field-selector value (`metadata.name`, `spec.nodeName`, ...).
    pub fn field(&self, path: &str) -> Option<&str> {
        match path {
            "metadata.name" => Some(&self.name),
            "metadata.namespace" => Some(&self.namespace),
            _ => self
                .fields
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, v)| v.as_str()),
        }
    }

    pub fn owners(&self) -> &[String] {
        &self.owners
    }

    /// The node a pod is bound to.
    pub fn node(&self) -> Option<&str> {
        self.node.as_deref()
    }

    fn key(&self) -> (String, String) {
        (self.namespace.clone(), self.name.clone())
    }
}

/// `obj` as JSON in an allocation of exactly its size: written into a buffer
/// each thread reuses, so no object pays for growing one (start-up writes
/// tens of thousands).
fn to_json(obj: &Value) -> Bytes {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, obj);
        let json = Bytes::copy_from_slice(buf);
        if buf.capacity() > 4 << 20 {
            // Not kept after an unusually large object.
            *buf = Vec::new();
        }
        json
    })
}

/// One shared copy of each apiVersion string (there are a few dozen).
fn interned(api_version: &str) -> Arc<str> {
    static VERSIONS: std::sync::LazyLock<std::sync::Mutex<BTreeSet<Arc<str>>>> =
        std::sync::LazyLock::new(Default::default);
    let mut versions = VERSIONS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = versions.get(api_version) {
        return v.clone();
    }
    let v: Arc<str> = Arc::from(api_version);
    versions.insert(v.clone());
    v
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
    /// The object as committed (for a deletion: with the deletion's resourceVersion).
    pub object: Value,
    /// The same, as stored and served.
    pub stored: Arc<Stored>,
    pub old: Option<Arc<Stored>>,
    pub rv: u64,
}

impl Event {
    /// The object before the change, parsed.
    pub fn old_value(&self) -> Option<Value> {
        self.old.as_ref().map(|o| o.value())
    }
}

type Objects = BTreeMap<(String, String), Arc<Stored>>;

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

    /// The stored form of one object (cheap: nothing is parsed).
    pub fn stored(&self, res: &str, ns: &str, name: &str) -> Option<&Arc<Stored>> {
        self.objects
            .get(res)
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
    }

    /// One object, parsed.
    pub fn get(&self, res: &str, ns: &str, name: &str) -> Option<Value> {
        self.stored(res, ns, name).map(|s| s.value())
    }

    pub fn contains(&self, res: &str, ns: &str, name: &str) -> bool {
        self.stored(res, ns, name).is_some()
    }

    /// Every stored object with its resource key (for GC and namespace deletion).
    pub fn iter_all(&self) -> impl Iterator<Item = (&String, &Arc<Stored>)> {
        self.objects
            .iter()
            .flat_map(|(res, m)| m.values().map(move |v| (res, v)))
    }

    pub fn count(&self, res: &str) -> usize {
        self.objects.get(res).map_or(0, BTreeMap::len)
    }

    /// The objects of one resource in one namespace ("" = cluster-scoped), in name order.
    pub fn in_namespace<'a>(
        &'a self,
        res: &str,
        ns: &'a str,
    ) -> impl Iterator<Item = &'a Arc<Stored>> + 'a {
        self.objects
            .get(res)
            .into_iter()
            .flat_map(move |m| m.range((ns.to_string(), String::new())..))
            .take_while(move |((n, _), _)| n == ns)
            .map(|(_, v)| v)
    }

    /// Every object of one resource.
    pub fn iter_resource<'a>(&'a self, res: &str) -> impl Iterator<Item = &'a Arc<Stored>> + 'a {
        self.objects.get(res).into_iter().flat_map(|m| m.values())
    }

    /// Every object of one resource, parsed (for kinds a controller reads whole).
    pub fn values<'a>(&'a self, res: &str) -> impl Iterator<Item = Value> + 'a {
        self.iter_resource(res).map(|s| s.value())
    }

    /// The objects of one resource in one namespace, parsed.
    pub fn values_in<'a>(&'a self, res: &str, ns: &'a str) -> impl Iterator<Item = Value> + 'a {
        self.in_namespace(res, ns).map(|s| s.value())
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

    fn unindex(&mut self, res: &str, obj: &Stored) {
        for uid in obj.owners() {
            if let Some(set) = self.owned.get_mut(uid) {
                set.remove(&(res.to_string(), obj.namespace.clone(), obj.name.clone()));
                if set.is_empty() {
                    self.owned.remove(uid);
                }
            }
        }
        if let Some(node) = obj.node()
            && let Some(set) = self.on_node.get_mut(node)
        {
            set.remove(&obj.key());
        }
    }

    fn index(&mut self, res: &str, obj: &Stored) {
        for uid in obj.owners() {
            self.owned.entry(uid.clone()).or_default().insert((
                res.to_string(),
                obj.namespace.clone(),
                obj.name.clone(),
            ));
        }
        if let Some(node) = obj.node() {
            self.on_node
                .entry(node.to_string())
                .or_default()
                .insert(obj.key());
        }
    }

    fn insert(&mut self, res: &str, obj: Arc<Stored>) -> Option<Arc<Stored>> {
        let map = match self.objects.get_mut(res) {
            Some(m) => m,
            None => self.objects.entry(res.to_string()).or_default(),
        };
        let old = map.insert(obj.key(), obj.clone());
        if let Some(o) = &old {
            self.unindex(res, o);
        }
        self.index(res, &obj);
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

fn set_rv(obj: &mut Value, rv: u64) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), json!(rv.to_string()));
    }
}

impl Txn<'_> {
    pub fn inner(&self) -> &Inner {
        &self.inner
    }

    /// One object, parsed.
    pub fn get(&self, res: &str, ns: &str, name: &str) -> Option<Value> {
        self.inner.get(res, ns, name)
    }

    pub fn contains(&self, res: &str, ns: &str, name: &str) -> bool {
        self.inner.contains(res, ns, name)
    }

    /// Stores `obj` (new or replacing), giving it the next resourceVersion.
    pub fn put(&mut self, res: &str, mut obj: Value) -> Value {
        if self.dry_run {
            return obj;
        }
        self.inner.rv += 1;
        let rv = self.inner.rv;
        set_rv(&mut obj, rv);
        // Kept in wire order, so serving it needs no reordering.
        crate::wire::order_stored(&mut obj);
        let stored = Arc::new(Stored::new(res, &obj));
        let old = self.inner.insert(res, stored.clone());
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.pending.push(Event {
            resource: res.to_string(),
            kind,
            object: obj.clone(),
            stored,
            old,
            rv,
        });
        obj
    }

    /// Stores a fixture object: no event, no history, no copy returned
    /// (nothing can watch yet).
    pub fn load(&mut self, res: &str, mut obj: Value) {
        self.inner.rv += 1;
        set_rv(&mut obj, self.inner.rv);
        crate::wire::order_stored(&mut obj);
        self.inner.insert(res, Arc::new(Stored::new(res, &obj)));
    }

    /// Stores a fixture object prepared on a loader thread, giving it the
    /// next resourceVersion (fixtures are numbered in file order).
    pub fn load_prepared(&mut self, obj: Prepared) {
        self.inner.rv += 1;
        let rv = self.inner.rv.to_string();
        let Prepared {
            res,
            mut stored,
            rv_at,
        } = obj;
        let mut json = Vec::with_capacity(stored.json.len() + rv.len());
        json.extend_from_slice(&stored.json[..rv_at]);
        json.extend_from_slice(rv.as_bytes());
        json.extend_from_slice(&stored.json[rv_at..]);
        stored.json = Bytes::from(json);
        self.inner.insert(&res, Arc::new(stored));
    }

    /// Removes an object; the returned copy carries the deletion's resourceVersion.
    pub fn remove(&mut self, res: &str, ns: &str, name: &str) -> Option<Value> {
        if self.dry_run {
            return self.inner.get(res, ns, name);
        }
        let old = self
            .inner
            .objects
            .get_mut(res)?
            .remove(&(ns.to_string(), name.to_string()))?;
        self.inner.unindex(res, &old);
        self.inner.rv += 1;
        let rv = self.inner.rv;
        let mut obj = old.value();
        set_rv(&mut obj, rv);
        self.pending.push(Event {
            resource: res.to_string(),
            kind: EventType::Deleted,
            object: obj.clone(),
            stored: Arc::new(Stored::new(res, &obj)),
            old: None,
            rv,
        });
        Some(obj)
    }
}

/// A fixture object serialized, indexed and waiting for its resourceVersion
/// (which [`Txn::load_prepared`] writes into the JSON at `rv_at`).
pub struct Prepared {
    res: String,
    stored: Stored,
    rv_at: usize,
}

/// Prepares a built-in object for [`Txn::load_prepared`] (pure, so loader
/// threads run it); gives the object back if its JSON has no place for the
/// resourceVersion.
pub fn prepare(res: &str, mut obj: Value) -> Result<Prepared, Value> {
    set_rv_placeholder(&mut obj);
    crate::wire::order_stored(&mut obj);
    let stored = Stored::new(res, &obj);
    // Built-in kinds are written `kind`, `apiVersion`, then `metadata`, whose
    // keys before resourceVersion are strings: inside a JSON string every
    // quote is escaped, so the first match is the object's own field.
    const FIELD: &str = r#""resourceVersion":"""#;
    // serde_json writes UTF-8; `str::find` is a fast substring search.
    let Some(at) = std::str::from_utf8(&stored.json)
        .ok()
        .and_then(|text| text.find(FIELD))
    else {
        return Err(obj);
    };
    Ok(Prepared {
        res: res.to_string(),
        stored,
        rv_at: at + FIELD.len() - 1,
    })
}

fn set_rv_placeholder(obj: &mut Value) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), json!(""));
    }
}

/// One page of a list.
#[derive(Debug)]
pub struct ListPage {
    pub items: Vec<Arc<Stored>>,
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
    pub fn matches(&self, obj: &Stored) -> bool {
        // Empty selectors are checked first: they match without reading the
        // object, which a whole-cluster list and its remaining count skip.
        self.namespace
            .as_deref()
            .is_none_or(|ns| obj.namespace == ns)
            && (self.labels.is_empty() || self.labels.matches_labels(obj.labels.as_ref()))
            && (self.fields.is_empty() || self.fields.matches_with(|path| obj.field(path)))
    }
}

/// Where a watch starts: the current objects as ADDED (rv "" / "0" or
/// sendInitialEvents), or the events after a resourceVersion.
pub enum WatchStart {
    Initial(Vec<Arc<Stored>>),
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

    /// One object, parsed.
    pub fn get(&self, res: &str, ns: &str, name: &str) -> Option<Value> {
        self.stored(res, ns, name).map(|s| s.value())
    }

    /// One object as stored (parsed outside the lock by the caller, if at all).
    pub fn stored(&self, res: &str, ns: &str, name: &str) -> Option<Arc<Stored>> {
        self.read_guard().stored(res, ns, name).cloned()
    }

    pub fn current_rv(&self) -> u64 {
        self.read_guard().rv
    }

    /// Every committed event, in order (the hook for watches and controllers).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.feed.subscribe()
    }

    /// One page: the matching objects after the continue token (or all of
    /// them), shared with the store, so serving them copies nothing under the lock.
    pub fn list(&self, res: &str, q: &ListQuery) -> Result<ListPage, ApiError> {
        let token = match q.continue_token.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => Some(decode_continue(t)?),
            None => None,
        };
        let inner = self.read_guard();
        let rv = inner.rv;
        let empty = Objects::new();
        let objects = inner.objects.get(res).unwrap_or(&empty);
        let start = match (token, &q.namespace) {
            (Some(key), _) => Bound::Excluded(key),
            // A namespace's objects are one range of the (namespace, name) keys.
            (None, Some(ns)) => Bound::Included((ns.clone(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        let mut items = Vec::new();
        let mut iter = objects
            .range((start, Bound::Unbounded))
            .take_while(|((ns, _), _)| q.namespace.as_ref().is_none_or(|want| ns == want))
            .map(|(_, o)| o)
            .filter(|o| q.matches(o));
        let limit = q.limit.filter(|l| *l > 0);
        for o in iter.by_ref() {
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
                    continue_token = Some(encode_continue(rv, &last.namespace, &last.name));
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
            seen.extend(page.items.iter().map(|o| o.name.clone()));
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
