//! A live view of the pods an execution waits on, kept current by one watch on all pods
//! started at the plan's list resourceVersion (no gap, no second list); re-listed only if
//! the server has compacted that far (410 Gone).
//!
//! Only pods that matter are kept: the ones the plan moves, their controllers' other pods
//! (replacements show up there), and whatever is on the target nodes.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::list::list_optional_map;
use futures::StreamExt;
use kube::Api;
use kube::api::{ListParams, WatchEvent, WatchParams};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::snapshot::PodView;
use crate::wire;

/// What the execution needs to know about one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivePod {
    pub namespace: String,
    pub name: String,
    pub node: String,
    pub ready: bool,
    pub terminating: bool,
    pub controller: Option<String>,
}

impl From<&PodView> for LivePod {
    fn from(p: &PodView) -> Self {
        LivePod {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            node: p.node.clone(),
            ready: p.ready,
            terminating: p.terminating,
            controller: p.controller.as_ref().map(|c| c.uid.clone()),
        }
    }
}

/// Which pods to keep.
#[derive(Debug, Clone, Default)]
pub struct Interest {
    pub uids: HashSet<String>,
    pub controllers: HashSet<String>,
    pub nodes: HashSet<String>,
}

impl Interest {
    fn wants(&self, uid: &str, p: &LivePod) -> bool {
        self.uids.contains(uid)
            || p.controller
                .as_ref()
                .is_some_and(|c| self.controllers.contains(c))
            || self.nodes.contains(&p.node)
    }
}

/// The pods of interest by uid.
#[derive(Debug, Default)]
pub struct Live {
    pub pods: HashMap<String, LivePod>,
}

/// The watch task and the state it keeps.
pub struct Feed {
    state: Arc<Mutex<Live>>,
    changed: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Feed {
    /// Start from the snapshot's pods (at `resource_version`) and follow every change.
    pub fn start<'a>(
        api: Api<wire::Pod>,
        pods: impl IntoIterator<Item = &'a PodView>,
        resource_version: String,
        interest: Interest,
    ) -> Feed {
        let mut live = Live::default();
        for p in pods {
            let lp = LivePod::from(p);
            if interest.wants(&p.uid, &lp) {
                live.pods.insert(p.uid.clone(), lp);
            }
        }
        let state = Arc::new(Mutex::new(live));
        let changed = Arc::new(Notify::new());
        let task = tokio::spawn(follow(
            api,
            resource_version,
            interest,
            Arc::clone(&state),
            Arc::clone(&changed),
        ));
        Feed {
            state,
            changed,
            task,
        }
    }

    /// The current state.
    pub fn live(&self) -> MutexGuard<'_, Live> {
        // A panic in the watch task while holding the lock leaves whole entries: recover it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resolves at the next change (or after `at_most`, so callers re-check their deadlines).
    pub async fn changed(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.changed.notified()).await;
    }
}

fn apply(
    state: &Mutex<Live>,
    interest: &Interest,
    event: &WatchEvent<wire::Pod>,
) -> Option<String> {
    let mut live = state.lock().unwrap_or_else(|p| p.into_inner());
    match event {
        WatchEvent::Added(p) | WatchEvent::Modified(p) => {
            let view = PodView::from(p.clone());
            let lp = LivePod::from(&view);
            if interest.wants(&view.uid, &lp) {
                live.pods.insert(view.uid.clone(), lp);
            } else {
                live.pods.remove(&view.uid);
            }
            Some(view.resource_version)
        }
        WatchEvent::Deleted(p) => {
            let uid = p.metadata.uid.clone().unwrap_or_default();
            live.pods.remove(&uid);
            p.metadata.resource_version.clone()
        }
        WatchEvent::Bookmark(b) => Some(b.metadata.resource_version.clone()),
        WatchEvent::Error(_) => None,
    }
}

/// Watch pods from `rv` forever, resuming after disconnects and re-listing after a 410.
async fn follow(
    api: Api<wire::Pod>,
    mut rv: String,
    interest: Interest,
    state: Arc<Mutex<Live>>,
    changed: Arc<Notify>,
) {
    loop {
        let wp = WatchParams::default().timeout(290);
        let mut expired = false;
        match api.watch(&wp, &rv).await {
            Ok(stream) => {
                let mut stream = stream.boxed();
                while let Some(event) = stream.next().await {
                    match event {
                        Ok(WatchEvent::Error(status)) => {
                            expired = status.code == 410;
                            tracing::debug!(
                                code = status.code,
                                "pod watch error: {}",
                                status.message
                            );
                            break;
                        }
                        Ok(ev) => {
                            if let Some(v) = apply(&state, &interest, &ev) {
                                rv = v;
                            }
                            changed.notify_one();
                        }
                        Err(e) => {
                            tracing::debug!("pod watch ended: {e}");
                            break;
                        }
                    }
                }
            }
            Err(kube::Error::Api(s)) if s.code == 410 => expired = true,
            Err(e) => {
                tracing::debug!("cannot watch pods: {e}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if expired {
            // Too far behind: start again from a fresh list.
            let lp = ListParams::default().limit(crate::collect::POD_PAGE);
            match list_optional_map(&api, &lp, PodView::from).await {
                Ok(common::list::ListOutcome::Listed(l)) => {
                    let mut live = state.lock().unwrap_or_else(|p| p.into_inner());
                    live.pods.clear();
                    for p in &l.items {
                        let lp = LivePod::from(p);
                        if interest.wants(&p.uid, &lp) {
                            live.pods.insert(p.uid.clone(), lp);
                        }
                    }
                    rv = l.resource_version.unwrap_or_default();
                    drop(live);
                    changed.notify_one();
                }
                _ => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }
}
