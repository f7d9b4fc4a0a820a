//! The simulated nodes beyond pod status: what fixtures tell the container
//! runtime (failure rules) and what it produced for the pods it ran (their
//! logs), shared by the kubelet simulation and the HTTP handlers.

pub mod exec;
pub mod failures;
pub mod stats;

use crate::logs::ContainerLogs;
use crate::store::Inner;
use exec::{Command, ExecFixtures, ExecSession};
use failures::{Mode, Rule};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

/// What a failure rule did to one pod.
#[derive(Debug, Clone)]
pub struct Applied {
    pub rule: String,
    pub mode: Mode,
    pub containers: Vec<String>,
    /// The readiness probe's failure text (NotReady) or the pull error.
    pub message: String,
}

/// Container logs by container name.
pub type Logs = HashMap<String, ContainerLogs>;

/// Fixture-driven node behaviour and its runtime state.
#[derive(Debug, Default)]
pub struct Runtime {
    rules: Vec<Rule>,
    /// By pod uid: the failure applied and the failing containers' logs.
    applied: RwLock<HashMap<String, (Applied, Logs)>>,
    exec: ExecFixtures,
    /// Every exec session served, in the order they ended.
    sessions: Mutex<Vec<ExecSession>>,
    /// `NodeStats` fixtures by node name.
    stats: HashMap<String, stats::NodeStats>,
}

impl Runtime {
    /// Adds one `PodFailure` fixture (later rules are checked after earlier ones).
    pub fn add_failure(&mut self, doc: &Value) -> Result<(), String> {
        let rule = Rule::from_fixture(doc)?;
        self.rules.retain(|r| r.name != rule.name);
        self.rules.push(rule);
        Ok(())
    }

    /// Adds one `NodeStats` fixture (a later one for the same node replaces it).
    pub fn add_node_stats(&mut self, doc: &Value) -> Result<(), String> {
        let (node, stats) = stats::NodeStats::from_fixture(doc)?;
        self.stats.insert(node, stats);
        Ok(())
    }

    pub fn node_stats(&self, node: &str) -> Option<&stats::NodeStats> {
        self.stats.get(node)
    }

    /// Adds one `PodExec` fixture.
    pub fn add_exec(&mut self, doc: &Value) -> Result<(), String> {
        self.exec.add(doc)
    }

    /// The canned command for an exec into `container` of `pod`, if any.
    pub fn command(&self, pod: &Value, container: &str, argv: &[String]) -> Option<Command> {
        self.exec.find(pod, container, argv)
    }

    /// Records a finished exec session.
    pub fn record_session(&self, session: ExecSession) {
        let mut s = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        s.push(session);
    }

    /// Every exec session so far, oldest first.
    pub fn sessions(&self) -> Vec<ExecSession> {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The first rule that fails some container of `pod`, with those containers.
    pub fn failure_for(&self, inner: &Inner, pod: &Value) -> Option<(&Rule, Vec<String>)> {
        self.rules.iter().find_map(|r| {
            let containers = r.failing_containers(inner, pod);
            (!containers.is_empty()).then_some((r, containers))
        })
    }

    /// Remembers what happened to a pod's containers (idempotent).
    pub fn record(&self, uid: &str, applied: Applied, logs: Logs) {
        let mut map = self.applied.write().unwrap_or_else(|e| e.into_inner());
        map.insert(uid.to_string(), (applied, logs));
    }

    pub fn applied(&self, uid: &str) -> Option<Applied> {
        let map = self.applied.read().unwrap_or_else(|e| e.into_inner());
        map.get(uid).map(|(a, _)| a.clone())
    }

    /// Logs the runtime produced for a pod's containers, if a rule applied.
    pub fn logs(&self, uid: &str) -> Option<Logs> {
        let map = self.applied.read().unwrap_or_else(|e| e.into_inner());
        map.get(uid).map(|(_, l)| l.clone())
    }

    /// A deleted pod's containers are gone, and so is what they produced.
    pub fn forget(&self, uid: &str) {
        let mut map = self.applied.write().unwrap_or_else(|e| e.into_inner());
        map.remove(uid);
    }
}
