//! Simulated controllers (Deployment, ReplicaSet, StatefulSet, DaemonSet,
//! disruption) plus a scheduler and kubelet for the pods they create.
//!
//! They are driven by the store's event feed ([`Store::subscribe`]), never at
//! startup: fixtures describe frozen states, so a fixture Deployment is only
//! reconciled once something about it (or its ReplicaSets/pods) is written
//! through the API. Each event maps to work keys in an ordered queue; keys are
//! reconciled one store write at a time until the queue is empty, and writes
//! that change nothing are skipped, so the loop settles without polling.

pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod kubelet;
pub mod podaffinity;
pub mod quantity;
pub mod replicaset;
pub mod scheduler;
pub mod snapshot;
pub mod statefulset;
pub mod volumes;

use crate::meta::{fill_create_metadata, rfc3339};
use crate::runtime::Runtime;
use crate::runtime::failures::Mode;
use crate::store::{Event, EventType, Store, Txn, meta_str};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

pub const DEPLOYMENTS: &str = "apps/deployments";
pub const REPLICASETS: &str = "apps/replicasets";
pub const STATEFULSETS: &str = "apps/statefulsets";
pub const DAEMONSETS: &str = "apps/daemonsets";
pub const REVISIONS: &str = "apps/controllerrevisions";
pub const PODS: &str = "/pods";
pub const NODES: &str = "/nodes";
pub const PDBS: &str = "policy/poddisruptionbudgets";

/// One unit of work. The order is the processing order: workloads first, so
/// pod counts have settled before PDB status is recomputed from them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Deployment(String, String),
    ReplicaSet(String, String),
    StatefulSet(String, String),
    DaemonSet(String, String),
    /// A VolumeSnapshot to cut or make ready (before the claims that
    /// restore from it).
    Snapshot(String, String),
    /// A PersistentVolumeClaim created after startup, to provision and bind
    /// (before the pods that mount it).
    Claim(String, String),
    /// One pod created directly through the API, to schedule and start.
    Pod(String, String),
    /// Simulated pods still waiting for a node (retried when nodes change).
    Unscheduled,
    /// Simulated pods in a namespace waiting for a Secret/ConfigMap/PVC.
    Waiting(String),
    Pdb(String, String),
    /// A deleted snapshot's content (name, snapshot uid), released per its policy.
    SnapshotGone(String, String),
    /// A deleted claim (uid) whose volume (name) follows its reclaim policy.
    ClaimGone(String, String),
}

/// The controllers' own memory: which pods they simulate and the work queue.
#[derive(Default)]
pub struct Controllers {
    queue: BTreeSet<Key>,
    /// Workload keys seen since startup: what a resync after a lagged feed redoes.
    touched: HashSet<Key>,
    /// Pods created by the controllers that are not running yet, by (ns, name).
    pending: BTreeSet<(String, String)>,
    /// uids of pods created after startup, by the controllers or through the
    /// API (only these get kubelet statuses; fixture pods stay frozen).
    simulated: HashSet<String>,
    /// uids of API-created pods left to another scheduler (`schedulerName`),
    /// taken over by the kubelet once something binds them.
    foreign: HashSet<String>,
    ips: scheduler::IpAllocator,
    usage: scheduler::Usage,
    /// Keys to reconcile again at a time (progress deadlines, snapshot
    /// readiness delays): the only work not driven by a store event.
    timers: BTreeSet<(Instant, Key)>,
    /// Failure rules from the fixtures, and what they did to pods.
    runtime: Arc<Runtime>,
    /// Claims created after startup still waiting, with why (the last
    /// reason reported, so an unchanged wait records no new event).
    claims: HashMap<(String, String), volumes::Waiting>,
    /// Snapshots not ready yet (retried when claims or classes change).
    snapshots: BTreeSet<(String, String)>,
}

/// Subscribes to the store and does the startup work (status for PDBs that
/// have none). Called before the server accepts connections, so no write can
/// slip past the controllers.
pub fn prepare(store: &Store) -> Feed {
    let rx = store.subscribe();
    store.write(false, |txn| disruption::init_missing_status(txn, &now()));
    Feed(rx)
}

/// The controllers' subscription, taken by [`prepare`].
pub struct Feed(tokio::sync::broadcast::Receiver<Arc<Event>>);

/// Runs until the feed closes (the runtime shuts down with the server).
pub async fn run(state: Arc<crate::http::State>, feed: Feed) {
    let store = &state.store;
    let Feed(mut rx) = feed;
    let mut ctl = Controllers {
        runtime: state.runtime.clone(),
        ..Default::default()
    };
    loop {
        let next_timer = ctl.timers.first().map(|(at, _)| *at);
        tokio::select! {
            received = rx.recv() => match received {
                Ok(ev) => ctl.observe(store, &ev),
                Err(RecvError::Lagged(_)) => ctl.resync(),
                Err(RecvError::Closed) => return,
            },
            _ = sleep_until(next_timer), if next_timer.is_some() => {}
        }
        ctl.fire_timers();
        // Drain the feed and the queue together: every reconcile may write,
        // and its events can add keys that must run in this same burst.
        let mut budget = 100_000u32;
        loop {
            loop {
                match rx.try_recv() {
                    Ok(ev) => ctl.observe(store, &ev),
                    Err(TryRecvError::Lagged(_)) => ctl.resync(),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return,
                }
            }
            let Some(key) = ctl.queue.pop_first() else {
                break;
            };
            budget = budget.saturating_sub(1);
            if budget == 0 {
                // A reconcile that keeps changing its own output would spin;
                // stop the burst rather than starve the HTTP tasks.
                tracing::warn!("controllers did not settle; dropping the queue");
                ctl.queue.clear();
                break;
            }
            ctl.reconcile(store, key);
            tokio::task::yield_now().await;
        }
    }
}

pub fn now() -> String {
    rfc3339(jiff::Timestamp::now())
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
    }
}

impl Controllers {
    fn push(&mut self, key: Key) {
        if matches!(
            key,
            Key::Deployment(..) | Key::ReplicaSet(..) | Key::StatefulSet(..) | Key::DaemonSet(..)
        ) {
            self.touched.insert(key.clone());
        }
        self.queue.insert(key);
    }

    /// Reconciles `key` again after `delay` (an earlier pending time wins).
    fn after(&mut self, key: Key, delay: Duration) {
        let at = Instant::now() + delay;
        if self.timers.iter().any(|(t, k)| *k == key && *t <= at) {
            return;
        }
        self.timers.retain(|(_, k)| *k != key);
        self.timers.insert((at, key));
    }

    /// Moves every due timer into the queue.
    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some((at, _)) = self.timers.first() {
            if *at > now {
                break;
            }
            if let Some((_, key)) = self.timers.pop_first() {
                self.queue.insert(key);
            }
        }
    }

    fn resync(&mut self) {
        tracing::warn!("controller feed lagged; resyncing touched workloads");
        self.usage.reset();
        let keys: Vec<Key> = self.touched.iter().cloned().collect();
        self.queue.extend(keys);
        self.queue.insert(Key::Unscheduled);
    }

    /// Maps one committed change to the keys it makes stale.
    fn observe(&mut self, store: &Store, ev: &Event) {
        let obj = &ev.object;
        let ns = meta_str(obj, "namespace").to_string();
        let name = meta_str(obj, "name").to_string();
        let deleted = ev.kind == EventType::Deleted;
        match ev.resource.as_str() {
            DEPLOYMENTS if !deleted => self.push(Key::Deployment(ns, name)),
            STATEFULSETS if !deleted => self.push(Key::StatefulSet(ns, name)),
            DAEMONSETS if !deleted => self.push(Key::DaemonSet(ns, name)),
            REPLICASETS => {
                if !deleted {
                    self.push(Key::ReplicaSet(ns.clone(), name));
                }
                if let Some((kind, owner)) = controller_of(obj)
                    && kind == "Deployment"
                {
                    self.push(Key::Deployment(ns, owner.to_string()));
                }
            }
            PODS => {
                if deleted {
                    self.usage.remove(&ns, &name);
                    // Freed room on a node: pending pods may fit now.
                    if obj.pointer("/spec/nodeName").is_some() && !self.pending.is_empty() {
                        self.queue.insert(Key::Unscheduled);
                    }
                } else {
                    self.usage.set(obj);
                }
                if deleted {
                    self.pending.remove(&(ns.clone(), name.clone()));
                    self.simulated.remove(meta_str(obj, "uid"));
                    self.foreign.remove(meta_str(obj, "uid"));
                    self.runtime.forget(meta_str(obj, "uid"));
                } else {
                    self.adopt(ev);
                }
                if let Some((kind, owner)) = controller_of(obj) {
                    let owner = owner.to_string();
                    match kind {
                        "ReplicaSet" => self.push(Key::ReplicaSet(ns.clone(), owner)),
                        "StatefulSet" => self.push(Key::StatefulSet(ns.clone(), owner)),
                        "DaemonSet" => self.push(Key::DaemonSet(ns.clone(), owner)),
                        _ => {}
                    }
                }
                let pdbs = store.read(|inner| {
                    disruption::matching_pdbs(inner, &ns, obj.pointer("/metadata/labels"))
                        .into_iter()
                        .chain(
                            ev.old
                                .as_ref()
                                .map(|o| disruption::matching_pdbs(inner, &ns, o.labels.as_ref()))
                                .unwrap_or_default(),
                        )
                        .collect::<BTreeSet<String>>()
                });
                for p in pdbs {
                    self.push(Key::Pdb(ns.clone(), p));
                }
            }
            PDBS if !deleted => {
                // Our own status writes come back here too; recomputing is
                // idempotent, and spec/selector edits need it.
                let spec_changed = ev
                    .old
                    .as_ref()
                    .is_none_or(|o| o.value().get("spec") != obj.get("spec"));
                if spec_changed {
                    self.push(Key::Pdb(ns, name));
                }
            }
            NODES => {
                let daemonsets: Vec<(String, String)> = store.read(|inner| {
                    inner
                        .iter_resource(DAEMONSETS)
                        .map(|d| (d.namespace.clone(), d.name.clone()))
                        .collect()
                });
                for (dns, dname) in daemonsets {
                    // Only DaemonSets already under the controllers' care:
                    // fixture DaemonSets keep their frozen pods.
                    let key = Key::DaemonSet(dns, dname);
                    if self.touched.contains(&key) {
                        self.queue.insert(key);
                    }
                }
                if !self.pending.is_empty() {
                    self.queue.insert(Key::Unscheduled);
                }
            }
            volumes::CLAIMS => {
                if deleted {
                    self.claims.remove(&(ns.clone(), name.clone()));
                    if let Some(pv) = obj.pointer("/spec/volumeName").and_then(Value::as_str) {
                        self.queue.insert(Key::ClaimGone(
                            pv.to_string(),
                            meta_str(obj, "uid").to_string(),
                        ));
                    }
                } else if ev.kind == EventType::Added && !volumes::is_bound(obj) {
                    self.queue.insert(Key::Claim(ns.clone(), name.clone()));
                }
                // Snapshots of this claim may be possible now.
                let waiting: Vec<Key> = self
                    .snapshots
                    .iter()
                    .filter(|(sns, _)| *sns == ns)
                    .map(|(a, b)| Key::Snapshot(a.clone(), b.clone()))
                    .collect();
                self.queue.extend(waiting);
                if self.pending.iter().any(|(pns, _)| *pns == ns) {
                    self.queue.insert(Key::Waiting(ns));
                }
            }
            volumes::CLASSES => {
                let keys: Vec<Key> = self
                    .claims
                    .keys()
                    .map(|(a, b)| Key::Claim(a.clone(), b.clone()))
                    .collect();
                self.queue.extend(keys);
                if !self.pending.is_empty() {
                    self.queue.insert(Key::Unscheduled);
                }
            }
            snapshot::SNAPSHOTS => {
                if deleted {
                    self.snapshots.remove(&(ns.clone(), name.clone()));
                    if let Some(c) = obj
                        .pointer("/status/boundVolumeSnapshotContentName")
                        .and_then(Value::as_str)
                    {
                        self.queue.insert(Key::SnapshotGone(
                            c.to_string(),
                            meta_str(obj, "uid").to_string(),
                        ));
                    }
                } else {
                    self.queue.insert(Key::Snapshot(ns.clone(), name));
                }
                // Claims restoring from it, and pods waiting on those claims.
                let keys: Vec<Key> = self
                    .claims
                    .keys()
                    .filter(|(cns, _)| *cns == ns)
                    .map(|(a, b)| Key::Claim(a.clone(), b.clone()))
                    .collect();
                self.queue.extend(keys);
                if self.pending.iter().any(|(pns, _)| *pns == ns) {
                    self.queue.insert(Key::Waiting(ns));
                }
            }
            // A new class, or a content written by hand (static provisioning)
            // that a waiting snapshot names: the waiting snapshots again.
            snapshot::SNAPSHOT_CLASSES | snapshot::CONTENTS => {
                let keys: Vec<Key> = self
                    .snapshots
                    .iter()
                    .map(|(a, b)| Key::Snapshot(a.clone(), b.clone()))
                    .collect();
                self.queue.extend(keys);
            }
            "/secrets" | "/configmaps" if self.pending.iter().any(|(pns, _)| *pns == ns) => {
                self.queue.insert(Key::Waiting(ns));
            }
            _ => {}
        }
    }

    /// A pod created through the API (not by a controller) is scheduled and
    /// started like the controllers' own, as a real cluster does; a pod for
    /// another scheduler waits until something binds it to a node.
    fn adopt(&mut self, ev: &Event) {
        let pod = &ev.object;
        let uid = meta_str(pod, "uid");
        if self.simulated.contains(uid)
            || pod.pointer("/metadata/deletionTimestamp").is_some()
            || matches!(
                pod.pointer("/status/phase").and_then(Value::as_str),
                Some("Succeeded" | "Failed")
            )
        {
            return;
        }
        let bound = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let created = ev.kind == EventType::Added;
        if !(created || (bound && self.foreign.contains(uid))) {
            // A fixture pod written through the API stays frozen.
            return;
        }
        if !bound && !scheduler::wants_scheduling(pod) {
            self.foreign.insert(uid.to_string());
            return;
        }
        self.foreign.remove(uid);
        self.simulated.insert(uid.to_string());
        let key = (
            meta_str(pod, "namespace").to_string(),
            meta_str(pod, "name").to_string(),
        );
        self.pending.insert(key.clone());
        self.queue.insert(Key::Pod(key.0, key.1));
    }

    fn reconcile(&mut self, store: &Store, key: Key) {
        let started = std::time::Instant::now();
        let ts = now();
        let requeue = store.write(false, |txn| {
            match &key {
                Key::Deployment(ns, name) => return deployment::reconcile(txn, ns, name, &ts),
                Key::ReplicaSet(ns, name) => replicaset::reconcile(self, txn, ns, name, &ts),
                Key::StatefulSet(ns, name) => statefulset::reconcile(self, txn, ns, name, &ts),
                Key::DaemonSet(ns, name) => daemonset::reconcile(self, txn, ns, name, &ts),
                Key::Snapshot(ns, name) => {
                    let again = snapshot::reconcile(txn, ns, name, &ts);
                    let ready = txn.get(snapshot::SNAPSHOTS, ns, name).is_some_and(|s| {
                        s.pointer("/status/readyToUse").and_then(Value::as_bool) == Some(true)
                    });
                    if ready || !txn.contains(snapshot::SNAPSHOTS, ns, name) {
                        self.snapshots.remove(&(ns.clone(), name.clone()));
                    } else {
                        self.snapshots.insert((ns.clone(), name.clone()));
                    }
                    return again;
                }
                Key::Claim(ns, name) => volumes::reconcile(self, txn, ns, name, &ts),
                Key::SnapshotGone(content, uid) => snapshot::release_content(txn, content, uid),
                Key::ClaimGone(pv, uid) => volumes::reclaim(txn, pv, uid),
                Key::Pod(ns, name) => self.retry_pod(txn, ns, name, &ts),
                Key::Unscheduled => self.retry_pending(txn, None, &ts),
                Key::Waiting(ns) => self.retry_pending(txn, Some(ns), &ts),
                Key::Pdb(ns, name) => disruption::reconcile(txn, ns, name, &ts),
            }
            None
        });
        if let Some(delay) = requeue {
            self.after(key.clone(), delay);
        }
        tracing::debug!(
            ?key,
            us = started.elapsed().as_micros() as u64,
            "reconciled"
        );
    }

    /// Creates a pod for a controller and runs the scheduler and kubelet on it.
    pub fn create_pod(&mut self, txn: &mut Txn<'_>, mut pod: Value, ts: &str) -> Value {
        let ns = meta_str(&pod, "namespace").to_string();
        let now_ts = jiff::Timestamp::now();
        fill_create_metadata(&mut pod, Some(&ns), now_ts);
        // Created through the API in a real cluster, so defaulted like any pod.
        crate::defaults::apply_kind("", "Pod", &mut pod);
        let qos = crate::meta::qos_class(&pod);
        pod["status"] = json!({"phase": "Pending", "qosClass": qos});
        self.simulated.insert(meta_str(&pod, "uid").to_string());
        let pod = self.advance(txn, pod, ts);
        txn.put(PODS, pod)
    }

    /// Scheduler then kubelet: the pod's next state (bound, running or waiting).
    fn advance(&mut self, txn: &mut Txn<'_>, pod: Value, ts: &str) -> Value {
        let before = problem(&pod, &self.runtime);
        let was_bound = pod.pointer("/spec/nodeName").is_some_and(|n| !n.is_null());
        let mut pod = scheduler::schedule(txn.inner(), &mut self.usage, pod, ts);
        if !was_bound
            && let Some(node) = pod
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .map(str::to_string)
            && let Err(why) = volumes::bind_for_pod(self, txn, &pod, &node, ts)
        {
            // PreBind could not bind the pod's volumes: it stays unbound.
            if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("nodeName");
            }
            self.usage.set(&pod);
            pod = scheduler::prebind_failed(pod, &why, ts);
        }
        let pod = kubelet::sync(txn.inner(), &mut self.ips, &self.runtime, pod, ts);
        if let Some(p) = problem(&pod, &self.runtime)
            && before.as_ref() != Some(&p)
        {
            record_event(txn, &pod, &p, ts);
        }
        let key = (
            meta_str(&pod, "namespace").to_string(),
            meta_str(&pod, "name").to_string(),
        );
        if kubelet::is_running(&pod) {
            self.pending.remove(&key);
        } else {
            self.pending.insert(key);
        }
        pod
    }

    fn retry_pending(&mut self, txn: &mut Txn<'_>, ns: Option<&String>, ts: &str) {
        let keys: Vec<(String, String)> = self
            .pending
            .iter()
            .filter(|(pns, _)| ns.is_none_or(|n| n == pns))
            .cloned()
            .collect();
        for (pns, pname) in keys {
            self.retry_pod(txn, &pns, &pname, ts);
        }
    }

    /// Advances one pending simulated pod (scheduler, then kubelet).
    fn retry_pod(&mut self, txn: &mut Txn<'_>, ns: &str, name: &str, ts: &str) {
        let key = (ns.to_string(), name.to_string());
        if !self.pending.contains(&key) {
            return;
        }
        let Some(pod) = txn.get(PODS, ns, name) else {
            self.pending.remove(&key);
            return;
        };
        if !self.simulated.contains(meta_str(&pod, "uid")) {
            self.pending.remove(&key);
            return;
        }
        let next = self.advance(txn, pod.clone(), ts);
        put_if_changed(txn, PODS, &pod, next);
    }
}

/// What a waiting simulated pod reports as a Warning event, like the
/// scheduler (FailedScheduling) and kubelet (Failed / FailedMount) do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    reason: &'static str,
    message: String,
    component: &'static str,
}

fn problem(pod: &Value, runtime: &Runtime) -> Option<Problem> {
    let unscheduled = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter().find(|c| {
                c.get("type").and_then(Value::as_str) == Some("PodScheduled")
                    && c.get("status").and_then(Value::as_str) == Some("False")
            })
        });
    if let Some(c) = unscheduled {
        return Some(Problem {
            reason: "FailedScheduling",
            message: c
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            component: "default-scheduler",
        });
    }
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)?;
    let kubelet = |reason, message| {
        Some(Problem {
            reason,
            message,
            component: "kubelet",
        })
    };
    for cs in statuses {
        let Some(waiting) = cs.pointer("/state/waiting") else {
            continue;
        };
        let text = |k: &str| waiting.get(k).and_then(Value::as_str).unwrap_or("");
        let container = cs.get("name").and_then(Value::as_str).unwrap_or("");
        match text("reason") {
            "CreateContainerConfigError" => {
                return kubelet("Failed", format!("Error: {}", text("message")));
            }
            "CrashLoopBackOff" => {
                return kubelet(
                    "BackOff",
                    format!(
                        "Back-off restarting failed container {container} in pod {}_{}({})",
                        meta_str(pod, "name"),
                        meta_str(pod, "namespace"),
                        meta_str(pod, "uid")
                    ),
                );
            }
            "ImagePullBackOff" => {
                let image = cs.get("image").and_then(Value::as_str).unwrap_or("");
                return kubelet("BackOff", format!("Back-off pulling image \"{image}\""));
            }
            // ContainerCreating (a missing volume source) would be FailedMount;
            // the kubelet's mount message is not kept in the status, so no event.
            _ => {}
        }
    }
    // A container that runs but whose readiness probe fails (a NotReady rule).
    let applied = runtime.applied(meta_str(pod, "uid"))?;
    (applied.mode == Mode::NotReady).then_some(Problem {
        reason: "Unhealthy",
        message: applied.message,
        component: "kubelet",
    })
}

/// A core/v1 Warning Event about the pod (also served as events.k8s.io/v1).
fn record_event(txn: &mut Txn<'_>, pod: &Value, p: &Problem, ts: &str) {
    let host = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|_| p.component == "kubelet");
    object_event(
        txn,
        pod,
        ("v1", "Pod"),
        ("Warning", p.reason, &p.message),
        (p.component, host),
        ts,
    );
}

/// A core/v1 Event about `obj` of (apiVersion, kind): (type, reason,
/// message) from (component, host).
pub fn object_event(
    txn: &mut Txn<'_>,
    obj: &Value,
    (api_version, kind): (&str, &str),
    (event_type, reason, message): (&str, &str, &str),
    (component, host): (&str, Option<&str>),
    ts: &str,
) {
    let ns = meta_str(obj, "namespace");
    let obj_name = meta_str(obj, "name");
    let suffix: u64 = rand::random();
    let name = format!("{obj_name}.{suffix:016x}");
    let mut ev = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": if ns.is_empty() { "default" } else { ns }},
        "involvedObject": {"apiVersion": api_version, "kind": kind, "name": obj_name,
            "uid": meta_str(obj, "uid")},
        "reason": reason, "message": message, "type": event_type, "count": 1,
        "source": {"component": component}, "firstTimestamp": ts, "lastTimestamp": ts,
        "reportingComponent": component, "reportingInstance": ""});
    if !ns.is_empty() {
        ev["involvedObject"]["namespace"] = json!(ns);
    }
    if let Some(h) = host {
        ev["source"]["host"] = json!(h);
        ev["reportingInstance"] = json!(h);
    }
    let ev_ns = if ns.is_empty() { "default" } else { ns }.to_string();
    fill_create_metadata(&mut ev, Some(&ev_ns), jiff::Timestamp::now());
    txn.put("/events", ev);
}

/// Writes `new` unless it equals `old` (a real server skips no-op writes too,
/// and it keeps the controllers from waking themselves up forever).
pub fn put_if_changed(txn: &mut Txn<'_>, res: &str, old: &Value, new: Value) -> bool {
    if *old == new {
        return false;
    }
    txn.put(res, new);
    true
}

/// The `(kind, name)` of an object's controller ownerReference.
pub fn controller_of(obj: &Value) -> Option<(&str, &str)> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|r| {
            (
                r.get("kind").and_then(Value::as_str).unwrap_or(""),
                r.get("name").and_then(Value::as_str).unwrap_or(""),
            )
        })
}

/// The ownerReference a controller puts on what it creates.
pub fn owner_ref(owner: &Value, kind: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": kind, "name": meta_str(owner, "name"),
        "uid": meta_str(owner, "uid"), "controller": true, "blockOwnerDeletion": true})
}

/// The objects of `res` whose controller is `owner` (by uid, via the store's index).
pub fn owned(txn: &Txn<'_>, res: &str, owner: &Value) -> Vec<Value> {
    let uid = meta_str(owner, "uid");
    txn.inner()
        .owned_by(uid)
        .into_iter()
        .filter(|(r, _, _)| r == res)
        .filter_map(|(r, ns, name)| txn.get(&r, &ns, &name))
        .filter(|o| {
            o.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| {
                    refs.iter().any(|x| {
                        x.get("uid").and_then(Value::as_str) == Some(uid)
                            && x.get("controller").and_then(Value::as_bool) == Some(true)
                    })
                })
        })
        .collect()
}

/// A `metav1.LabelSelector` (matchLabels + matchExpressions) against labels.
/// An empty selector matches everything; callers decide what `null` means.
pub fn selector_matches(selector: &Value, labels: Option<&Value>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let labels_ok = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| get(k) == v.as_str()));
    labels_ok
        && selector
            .get("matchExpressions")
            .and_then(Value::as_array)
            .is_none_or(|exprs| exprs.iter().all(|e| expression_matches(e, &get)))
}

/// One `{key, operator, values}` requirement (label selectors and node affinity).
pub fn expression_matches<'a>(e: &Value, get: &dyn Fn(&str) -> Option<&'a str>) -> bool {
    let key = e.get("key").and_then(Value::as_str).unwrap_or("");
    let values: Vec<&str> = e
        .get("values")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let have = get(key);
    match e.get("operator").and_then(Value::as_str).unwrap_or("") {
        "In" => have.is_some_and(|h| values.contains(&h)),
        "NotIn" => have.is_none_or(|h| !values.contains(&h)),
        "Exists" => have.is_some(),
        "DoesNotExist" => have.is_none(),
        "Gt" | "Lt" => {
            let (Some(h), Some(v)) = (
                have.and_then(|h| h.parse::<i64>().ok()),
                values.first().and_then(|v| v.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if e.get("operator").and_then(Value::as_str) == Some("Gt") {
                h > v
            } else {
                h < v
            }
        }
        _ => false,
    }
}

/// Ready condition True.
pub fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Ready")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
        && pod.pointer("/metadata/deletionTimestamp").is_none()
}

/// Keys sorted recursively, so equal templates hash equally whatever order
/// their fields arrived in; null, "" and empty maps/lists are dropped, since
/// clients round-tripping a template through Go structs (`kubectl rollout
/// undo`) add or drop exactly those.
fn canonical(v: &Value) -> Value {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                let c = canonical(&m[k]);
                if !empty(&c) {
                    out.insert(k.clone(), c);
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// FNV-1a (32-bit), the hash the real controllers use for template hashes.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The alphabet of `rand.SafeEncodeString` (no vowels, no confusable digits).
pub const SAFE_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `rand.SafeEncodeString(fmt.Sprint(hash))`: how real hashes become names.
pub fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| SAFE_CHARS[usize::from(b) % SAFE_CHARS.len()] as char)
        .collect()
}

/// The hash of a pod template (without its own hash labels), as a name suffix.
pub fn template_hash(template: &Value) -> String {
    let t = strip_hash_labels(template);
    let text = canonical(&t).to_string();
    safe_encode(&fnv32a(text.as_bytes()).to_string())
}

/// A template without `pod-template-hash` / `controller-revision-hash`, for
/// hashing and for "is this the same template" comparisons.
pub fn strip_hash_labels(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove("pod-template-hash");
        labels.remove("controller-revision-hash");
    }
    canonical(&t)
}

/// Five characters from the safe alphabet, the suffix of generated pod names.
pub fn random_suffix() -> String {
    (0..5)
        .map(|_| SAFE_CHARS[rand::random_range(0..SAFE_CHARS.len())] as char)
        .collect()
}

/// A pod from a controller's template: labels/annotations from the template,
/// the controller's ownerReference, no status yet.
pub fn pod_from_template(
    template: &Value,
    ns: &str,
    name: &str,
    owner: Value,
    extra_labels: &[(&str, &str)],
) -> Value {
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    for (k, v) in extra_labels {
        labels[*k] = json!(v);
    }
    let mut meta = json!({"name": name, "namespace": ns, "labels": labels,
        "ownerReferences": [owner]});
    if let Some(a) = template.pointer("/metadata/annotations") {
        meta["annotations"] = a.clone();
    }
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    for (k, v) in [
        ("restartPolicy", json!("Always")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("serviceAccountName", json!("default")),
    ] {
        if spec.get(k).is_none() {
            spec[k] = v;
        }
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
}

/// `int` or `"N%"` scaled against `total` (`intstr.GetScaledValueFromIntOrPercent`).
pub fn scaled(v: Option<&Value>, total: i64, round_up: bool, default: i64) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(default),
        Some(Value::String(s)) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(pct) => {
                let prod = pct * total;
                if round_up {
                    (prod + 99) / 100
                } else {
                    prod / 100
                }
            }
            None => s.parse().unwrap_or(default),
        },
        _ => default,
    }
}

/// A condition list with one condition set, keeping lastTransitionTime when
/// the status did not change (as controllers do).
pub fn set_condition(
    conditions: &mut Vec<Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    ts: &str,
    with_update_time: bool,
) {
    let existing = conditions
        .iter()
        .position(|c| c.get("type").and_then(Value::as_str) == Some(kind));
    let mut c = json!({"type": kind, "status": status, "reason": reason, "message": message});
    let mut transition = ts.to_string();
    let mut update = ts.to_string();
    if let Some(i) = existing {
        let old = &conditions[i];
        let same_status = old.get("status").and_then(Value::as_str) == Some(status);
        if same_status && let Some(t) = old.get("lastTransitionTime").and_then(Value::as_str) {
            transition = t.to_string();
        }
        if same_status
            && old.get("reason").and_then(Value::as_str) == Some(reason)
            && old.get("message").and_then(Value::as_str) == Some(message)
            && let Some(t) = old.get("lastUpdateTime").and_then(Value::as_str)
        {
            update = t.to_string();
        }
    }
    if with_update_time {
        c["lastUpdateTime"] = json!(update);
    }
    c["lastTransitionTime"] = json!(transition);
    match existing {
        Some(i) => conditions[i] = c,
        None => conditions.push(c),
    }
}

/// `metadata.annotations[key]` as an integer (revision annotations).
pub fn annotation_i64(obj: &Value, key: &str) -> Option<i64> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hash_ignores_key_order_and_hash_label() {
        let a = json!({"metadata": {"labels": {"app": "x", "tier": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
        let b = json!({"spec": {"containers": [{"image": "i", "name": "c"}]}, "metadata": {"labels": {"pod-template-hash": "zzz", "tier": "web", "app": "x"}}});
        assert_eq!(template_hash(&a), template_hash(&b));
        let c = json!({"metadata": {"labels": {"app": "x", "tier": "web"}}, "spec": {"containers": [{"name": "c", "image": "j"}]}});
        assert_ne!(template_hash(&a), template_hash(&c));
        // Stable across runs and releases: ReplicaSet names derived from it
        // are visible to users and tests.
        assert_eq!(template_hash(&a), "847d47cb6f");
        assert!(template_hash(&a).bytes().all(|b| SAFE_CHARS.contains(&b)));
    }

    #[test]
    fn safe_encode_matches_go() {
        // rand.SafeEncodeString("0123456789") in Go.
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
    }

    #[test]
    fn scaled_rounds_like_intstr() {
        assert_eq!(scaled(Some(&json!("25%")), 10, true, 0), 3);
        assert_eq!(scaled(Some(&json!("25%")), 10, false, 0), 2);
        assert_eq!(scaled(Some(&json!(2)), 10, true, 0), 2);
        assert_eq!(scaled(None, 10, true, 1), 1);
        assert_eq!(scaled(Some(&json!("50%")), 3, true, 0), 2);
    }

    #[test]
    fn selectors_and_expressions() {
        let labels = json!({"app": "a", "tier": "web"});
        assert!(selector_matches(&json!({}), Some(&labels)));
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "a"}}),
            Some(&labels)
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "b"}}),
            Some(&labels)
        ));
        let e = json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "db"]},
            {"key": "gone", "operator": "DoesNotExist"}]});
        assert!(selector_matches(&e, Some(&labels)));
        let e =
            json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]});
        assert!(!selector_matches(&e, Some(&labels)));
    }
}
