//! Executing a safe plan, wave by wave: cordon only the wave's nodes, evict its pods
//! concurrently through the Eviction API (UID preconditions), back off on a budget's 429
//! saying which budget waits for what, then wait until the evicted pods are gone and their
//! replacements are Ready elsewhere before the next wave.
//!
//! Stops at a safe point on `--timeout`, `--pod-timeout` or Ctrl-C: no new eviction starts,
//! the report says which nodes are cordoned and which pods remain. Pods are only ever
//! evicted, never deleted directly (finished pods and `--force`d ones too: the Eviction API
//! deletes them).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::cli::Connection;
use common::progress::Progress;
use common::run::Session;
use common::write::{DryRun, Eviction, Target, Writer, is_conflict_error, is_not_found_error};
use common::{Exit, Result};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use tokio_util::sync::CancellationToken;

use crate::feed::{Feed, Interest, Live};
use crate::node::{self, Cordon};
use crate::render::count;
use crate::report::{
    Action, CordonedNode, DrainPlan, DrainReport, KIND_REPORT, Outcome, PlanPod, ReportMetadata,
    WaveReport, WaveStatus, api_version,
};
use crate::snapshot::{PodView, Snapshot};

/// Evictions in flight at once within a wave.
pub const EVICTIONS_AT_ONCE: usize = 16;
/// The longest pause between two attempts at an eviction a budget refused.
const MAX_BACKOFF: Duration = Duration::from_secs(16);

/// How the execution may run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub timeout: Duration,
    pub pod_timeout: Duration,
    pub dry_run: DryRun,
}

/// The report and the exit code it stands for.
pub struct Executed {
    pub report: DrainReport,
    pub exit: Exit,
}

/// Why a step stopped before it was done.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
    TimedOut(String),
    Interrupted,
    Failed(String),
}

/// `The disruption budget web needs 2 healthy pods and has 2 currently` (the API server's
/// cause of a 429) → `PDB shop/web needs 2 healthy, has 2`; other texts as they are.
pub fn budget_wait_text(namespace: &str, message: &str) -> String {
    let parsed = message
        .split("The disruption budget ")
        .nth(1)
        .and_then(|rest| {
            let (name, rest) = rest.split_once(" needs ")?;
            let (needed, rest) = rest.split_once(" healthy pods and has ")?;
            let has = rest.split_whitespace().next()?;
            Some(format!(
                "PDB {namespace}/{name} needs {needed} healthy, has {has}"
            ))
        });
    parsed.unwrap_or_else(|| message.to_string())
}

/// The pause before retry `attempt` (from 1): the server's Retry-After when given, else
/// 1, 2, 4, 8, 16, 16 ... seconds; times a random factor in [0.5, 1.5) so many waiting
/// evictions do not retry in step.
pub fn backoff(attempt: u32, retry_after_seconds: Option<u32>, jitter: f64) -> Duration {
    let base = match retry_after_seconds {
        Some(s) => Duration::from_secs(u64::from(s)),
        None => Duration::from_secs(1u64 << attempt.saturating_sub(1).min(4)).min(MAX_BACKOFF),
    };
    base.mul_f64(jitter.clamp(0.5, 1.5))
}

/// Sleep `d` unless cancelled first (true when cancelled).
async fn pause(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        () = cancel.cancelled() => true,
        () = tokio::time::sleep(d) => false,
    }
}

/// Evict one pod, retrying while a budget refuses, until `deadline`.
async fn evict_one(
    writer: &Writer,
    conn: &Connection,
    pod: &PlanPod,
    deadline: Instant,
    cancel: &CancellationToken,
    progress: &Progress,
) -> std::result::Result<(), Stop> {
    let target = Target::<Pod>::namespaced(&conn.client, &pod.namespace);
    let key = format!("{}/{}", pod.namespace, pod.name);
    let how = match pod.action {
        Action::Delete => format!("drain: {} ({})", pod.reason, "not recreated"),
        _ => "drain".to_string(),
    };
    let mut attempt = 0;
    loop {
        if cancel.is_cancelled() {
            return Err(Stop::Interrupted);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Stop::TimedOut(format!("{key} was not evicted in time")));
        }
        match writer.evict(&target, &pod.name, Some(&pod.uid), &how).await {
            Ok(Eviction::Evicted | Eviction::Validated | Eviction::Planned) => {
                progress.inc(1);
                return Ok(());
            }
            Ok(Eviction::Blocked {
                message,
                retry_after_seconds,
            }) => {
                attempt += 1;
                let wait = backoff(attempt, retry_after_seconds, rand::random_range(0.5..1.5))
                    .min(deadline.saturating_duration_since(now));
                progress.suspend(|| {
                    eprintln!(
                        "waiting: {} (evicting {key}, next try in {:.1}s)",
                        budget_wait_text(&pod.namespace, &message),
                        wait.as_secs_f64()
                    );
                });
                if pause(wait, cancel).await {
                    return Err(Stop::Interrupted);
                }
            }
            // Gone already (404), or replaced by a pod of the same name (the UID
            // precondition failed): the pod the plan meant has left.
            Err(e) if is_not_found_error(&e) || is_conflict_error(&e) => {
                progress.inc(1);
                return Ok(());
            }
            Err(e) => return Err(Stop::Failed(format!("cannot evict {key}: {e}"))),
        }
    }
}

/// What a wave waits for once its evictions are done.
struct Awaiting<'a> {
    /// (uid, `namespace/name`) of the evicted pods: they must be gone.
    evicted: &'a [(String, String)],
    /// Controller uid → (its workload, Ready pods it had before the wave).
    need: &'a HashMap<String, (String, usize)>,
    /// Nodes drained so far: replacements there do not count.
    drained: &'a HashSet<String>,
}

/// What a wave still waits for: evicted pods that exist, and controllers with fewer Ready
/// pods outside the drained nodes than they had Ready before the wave.
fn awaited(live: &Live, a: &Awaiting<'_>) -> Vec<String> {
    let (evicted, need, drained) = (a.evicted, a.need, a.drained);
    let mut out = Vec::new();
    for (uid, key) in evicted {
        if let Some(p) = live.pods.get(uid) {
            out.push(if p.terminating {
                format!("{key} to terminate")
            } else {
                format!("{key} to go")
            });
        }
    }
    let mut controllers: Vec<(&String, &(String, usize))> = need.iter().collect();
    controllers.sort_by(|a, b| a.1.0.cmp(&b.1.0));
    for (uid, (owner, want)) in controllers {
        let ready = live
            .pods
            .values()
            .filter(|p| {
                p.controller.as_deref() == Some(uid.as_str())
                    && p.ready
                    && !p.terminating
                    && !p.node.is_empty()
                    && !drained.contains(&p.node)
            })
            .count();
        if ready < *want {
            out.push(format!("{owner}: {ready} of {want} Ready elsewhere"));
        }
    }
    out
}

/// Wait until nothing is awaited, `deadline` passes or a stop is requested.
async fn settle(
    feed: &Feed,
    awaiting: &Awaiting<'_>,
    deadline: Instant,
    cancel: &CancellationToken,
    progress: &Progress,
    label: &str,
) -> std::result::Result<(), Stop> {
    loop {
        // A stop asked for while the wave's evictions were in flight ends the run here,
        // before the wait, even when nothing is left to wait for: the evictions (the
        // step in flight) are done and reported, and the run says it was interrupted
        // (exit 130) rather than carrying on as if nothing had been asked.
        if cancel.is_cancelled() {
            return Err(Stop::Interrupted);
        }
        let pending = awaited(&feed.live(), awaiting);
        if pending.is_empty() {
            return Ok(());
        }
        let shown = if pending.len() > 3 {
            format!("{} and {} more", pending[..3].join(", "), pending.len() - 3)
        } else {
            pending.join(", ")
        };
        progress.set_message(format!("{label}: waiting for {shown}"));
        if Instant::now() >= deadline {
            return Err(Stop::TimedOut(format!("still waiting for {shown}")));
        }
        tokio::select! {
            () = cancel.cancelled() => return Err(Stop::Interrupted),
            () = feed.changed(Duration::from_millis(500)) => {}
        }
    }
}

/// Execute `plan` (safe, made on `snap`).
pub async fn execute(
    conn: &Connection,
    session: &Session,
    plan: DrainPlan,
    snap: &Snapshot,
    opts: &Options,
) -> Result<Executed> {
    let started = Instant::now();
    let started_at = jiff::Timestamp::now();
    let deadline = started + opts.timeout;
    let cancel = &session.cancel;
    let writer = Writer::new("drainplan", opts.dry_run, session.journal.clone());
    let nodes_target = Target::<Node>::cluster(&conn.client);
    let real = opts.dry_run == DryRun::None;

    let by_uid: HashMap<&str, &PodView> = snap.pods.iter().map(|p| (p.uid.as_str(), p)).collect();
    let leaving: Vec<&PlanPod> = plan.pods.iter().filter(|p| p.action.leaves()).collect();
    let controller_of = |p: &PlanPod| {
        by_uid
            .get(p.uid.as_str())
            .and_then(|v| v.controller.as_ref())
            .map(|c| c.uid.clone())
    };
    let feed = real.then(|| {
        let interest = Interest {
            uids: leaving.iter().map(|p| p.uid.clone()).collect(),
            controllers: leaving.iter().filter_map(|p| controller_of(p)).collect(),
            nodes: plan.spec.nodes.iter().cloned().collect(),
        };
        Feed::start(
            Api::all(conn.client.clone()),
            snap.pods.iter(),
            snap.pods_resource_version.clone().unwrap_or_default(),
            interest,
        )
    });

    let total = plan.waves.len();
    let mut stop: Option<Stop> = None;
    let mut drained: HashSet<String> = HashSet::new();
    let mut we_cordoned: HashSet<String> = HashSet::new();
    let mut waves = Vec::new();
    for wave in &plan.waves {
        let t0 = Instant::now();
        let mut report = WaveReport {
            number: wave.number,
            nodes: wave.nodes.clone(),
            status: WaveStatus::NotStarted,
            cordoned: Vec::new(),
            evicted: Vec::new(),
            duration_ms: 0,
        };
        if stop.is_none() {
            if cancel.is_cancelled() {
                stop = Some(Stop::Interrupted);
            } else if Instant::now() >= deadline {
                stop = Some(Stop::TimedOut(format!(
                    "the --timeout of {}s passed before wave {}",
                    opts.timeout.as_secs(),
                    wave.number
                )));
            }
        }
        if stop.is_some() {
            waves.push(report);
            continue;
        }
        let label = format!("wave {}/{total}", wave.number);
        report.status = WaveStatus::Done;

        // Cordon this wave's nodes only.
        for name in &wave.nodes {
            match node::cordon(&writer, &nodes_target, name).await {
                Ok(Cordon::Cordoned) => {
                    report.cordoned.push(name.clone());
                    if real {
                        we_cordoned.insert(name.clone());
                    }
                }
                Ok(Cordon::AlreadyCordoned { .. }) => {}
                Err(e) => {
                    stop = Some(Stop::Failed(format!("cannot cordon node {name}: {e}")));
                    break;
                }
            }
        }
        drained.extend(wave.nodes.iter().cloned());

        // Ready pods per controller now: the replacements must bring them back.
        let pods: Vec<&PlanPod> = leaving
            .iter()
            .copied()
            .filter(|p| p.wave == Some(wave.number))
            .collect();
        let mut need: HashMap<String, (String, usize)> = HashMap::new();
        if let Some(feed) = &feed {
            let live = feed.live();
            for p in pods.iter().filter(|p| p.action == Action::Evict) {
                if let Some(c) = controller_of(p) {
                    let ready = live
                        .pods
                        .values()
                        .filter(|x| {
                            x.controller.as_deref() == Some(c.as_str()) && x.ready && !x.terminating
                        })
                        .count();
                    need.insert(c, (p.owner.to_string(), ready));
                }
            }
        }

        let progress = Progress::bar(pods.len() as u64, format!("{label}: evicting"));
        if stop.is_none() {
            let results: Vec<(String, String, std::result::Result<(), Stop>)> =
                futures::stream::iter(pods.iter().copied())
                    .map(|p| {
                        let pod_deadline = deadline.min(Instant::now() + opts.pod_timeout);
                        let writer = &writer;
                        let progress = &progress;
                        async move {
                            let r =
                                evict_one(writer, conn, p, pod_deadline, cancel, progress).await;
                            (p.uid.clone(), format!("{}/{}", p.namespace, p.name), r)
                        }
                    })
                    .buffer_unordered(EVICTIONS_AT_ONCE)
                    .collect()
                    .await;
            let mut evicted = Vec::new();
            for (uid, key, r) in results {
                match r {
                    Ok(()) => evicted.push((uid, key)),
                    // Keep the most telling stop: a failure over a timeout over an interrupt.
                    Err(s) => {
                        let rank = |s: &Stop| match s {
                            Stop::Failed(_) => 3,
                            Stop::TimedOut(_) => 2,
                            Stop::Interrupted => 1,
                        };
                        if stop.as_ref().is_none_or(|cur| rank(&s) > rank(cur)) {
                            stop = Some(s);
                        }
                    }
                }
            }
            evicted.sort_by(|a, b| a.1.cmp(&b.1));
            report.evicted = evicted.iter().map(|(_, k)| k.clone()).collect();
            if let (None, Some(feed)) = (&stop, &feed) {
                let wave_deadline = deadline.min(Instant::now() + opts.pod_timeout);
                let awaiting = Awaiting {
                    evicted: &evicted,
                    need: &need,
                    drained: &drained,
                };
                if let Err(s) =
                    settle(feed, &awaiting, wave_deadline, cancel, &progress, &label).await
                {
                    stop = Some(s);
                }
            }
        }
        progress.finish_and_clear();
        if stop.is_some() {
            report.status = WaveStatus::Stopped;
        }
        report.duration_ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        waves.push(report);
    }

    // Which target nodes are cordoned now, and which planned pods are still there.
    let mut cordoned = Vec::new();
    for n in &plan.nodes {
        let ours = we_cordoned.contains(&n.name) || n.cordoned_by_drainplan;
        if ours || n.cordoned {
            cordoned.push(CordonedNode {
                node: n.name.clone(),
                by_drainplan: ours,
            });
        }
    }
    // Planned pods this run did not evict (dry runs evict nothing for real).
    let gone: HashSet<&str> = waves
        .iter()
        .flat_map(|w| w.evicted.iter().map(String::as_str))
        .collect();
    let remaining: Vec<String> = if real {
        leaving
            .iter()
            .map(|p| format!("{}/{}", p.namespace, p.name))
            .filter(|k| !gone.contains(k.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    drop(feed);

    let evicted: usize = waves.iter().map(|w| w.evicted.len()).sum();
    let cordons: usize = waves.iter().map(|w| w.cordoned.len()).sum();
    let (outcome, message, exit) = match &stop {
        None if !real => (
            Outcome::Drained,
            format!(
                "dry run ({}): nothing was changed; {} and {} {}",
                match opts.dry_run {
                    DryRun::Server => "server",
                    _ => "client",
                },
                count(cordons, "cordon"),
                count(evicted, "eviction"),
                match opts.dry_run {
                    DryRun::Server => "were accepted by the API server",
                    _ => "would be sent",
                }
            ),
            Exit::Ok,
        ),
        None => (
            Outcome::Drained,
            format!(
                "drained {} in {}: {} evicted; cordoned until kubectl drainplan uncordon {}",
                count(plan.nodes.len(), "node"),
                count(plan.waves.len(), "wave"),
                count(evicted, "pod"),
                plan.spec.nodes.join(" ")
            ),
            Exit::Ok,
        ),
        Some(Stop::TimedOut(why)) => (
            Outcome::TimedOut,
            format!("timed out: {why}; stopped evicting"),
            Exit::NotFine,
        ),
        Some(Stop::Interrupted) => (
            Outcome::Interrupted,
            "interrupted: stopped evicting".to_string(),
            Exit::Interrupted,
        ),
        Some(Stop::Failed(why)) => (
            Outcome::Failed,
            format!("failed: {why}; stopped evicting"),
            if session.journal.applied() > 0 {
                Exit::Partial
            } else {
                Exit::NotFine
            },
        ),
    };
    let report = DrainReport {
        api_version: api_version(),
        kind: KIND_REPORT.to_string(),
        metadata: ReportMetadata {
            started_at: started_at.to_string(),
            finished_at: jiff::Timestamp::now().to_string(),
            context: conn.context.clone(),
            server: conn.server.clone(),
            requests: conn.requests.get(),
        },
        dry_run: opts.dry_run,
        outcome,
        message,
        plan,
        waves,
        cordoned,
        remaining,
        changes: session.journal.entries(),
    };
    Ok(Executed { report, exit })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::LivePod;

    #[test]
    fn budget_messages_become_one_line() {
        let m = "Cannot evict pod as it would violate the pod's disruption budget. (The disruption budget web needs 2 healthy pods and has 2 currently)";
        assert_eq!(
            budget_wait_text("shop", m),
            "PDB shop/web needs 2 healthy, has 2"
        );
        assert_eq!(budget_wait_text("shop", "something else"), "something else");
    }

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        assert_eq!(backoff(1, None, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(3, None, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(9, None, 1.0), MAX_BACKOFF);
        assert_eq!(backoff(1, Some(5), 1.0), Duration::from_secs(5));
        assert_eq!(backoff(2, None, 0.5), Duration::from_secs(1));
        assert_eq!(
            backoff(2, None, 9.0),
            Duration::from_secs(3),
            "jitter clamped"
        );
    }

    fn live(pods: &[(&str, &str, &str, bool)]) -> Live {
        Live {
            pods: pods
                .iter()
                .map(|(uid, node, ctrl, ready)| {
                    (
                        uid.to_string(),
                        LivePod {
                            namespace: "x".into(),
                            name: uid.to_string(),
                            node: node.to_string(),
                            ready: *ready,
                            terminating: false,
                            controller: Some(ctrl.to_string()),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn a_wave_waits_for_the_pods_to_go_and_replacements_to_be_ready_elsewhere() {
        let evicted = vec![("old".to_string(), "x/old".to_string())];
        let need = HashMap::from([("rs".to_string(), ("deployment/x/web".to_string(), 2))]);
        let drained = HashSet::from(["t".to_string()]);
        let a = Awaiting {
            evicted: &evicted,
            need: &need,
            drained: &drained,
        };
        // The old pod still exists; one Ready pod elsewhere.
        let l = live(&[("old", "t", "rs", true), ("a", "n1", "rs", true)]);
        assert_eq!(
            awaited(&l, &a),
            ["x/old to go", "deployment/x/web: 1 of 2 Ready elsewhere"]
        );
        // Gone, replacement scheduled but not Ready.
        let l = live(&[("a", "n1", "rs", true), ("new", "n2", "rs", false)]);
        assert_eq!(awaited(&l, &a).len(), 1);
        // Replacement Ready on another node: done.
        let l = live(&[("a", "n1", "rs", true), ("new", "n2", "rs", true)]);
        assert!(awaited(&l, &a).is_empty());
        // A replacement back on a drained node does not count.
        let l = live(&[("a", "n1", "rs", true), ("new", "t", "rs", true)]);
        assert_eq!(awaited(&l, &a).len(), 1);
    }
}
