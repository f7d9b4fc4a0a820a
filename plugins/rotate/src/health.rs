//! Waiting for a consumer to be healthy after a change: kubectl's rollout-status rules
//! (common::rollout) raced against a watch on its pods that fails fast when a *new* pod
//! shows CrashLoopBackOff, CreateContainerConfigError or ImagePullBackOff.

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::progress::Progress;
use common::wait::{Check, Waited};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::consumers::ConsumerKind;

/// Container waiting reasons that mean "this will not get better by waiting".
pub const FAIL_FAST_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "ImagePullBackOff",
];

/// How a wait for health ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum State {
    /// The rollout completed by kubectl's rules.
    Healthy,
    /// It cannot complete: a new pod failing, ProgressDeadlineExceeded, object deleted.
    Failed,
    /// The deadline passed first.
    TimedOut,
    /// Ctrl-C / SIGTERM came first.
    Interrupted,
    /// Nothing to wait for (CronJob, ServiceAccount, Ingress; or a dry run).
    NotWaited,
}

/// The end of one wait, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// How it ended.
    pub state: State,
    /// The last status message (kubectl's wording) or the failure.
    pub message: String,
    /// How long it took.
    pub seconds: f64,
}

/// Which pods are "new" (made by this change): only they can fail the rollout fast, so a
/// pod that was already crashing before does not stop an unrelated rotation.
pub type NewPod = Arc<dyn Fn(&Pod) -> bool + Send + Sync>;

/// What to wait for.
pub struct Target<'a> {
    /// Client.
    pub client: &'a Client,
    /// Namespace.
    pub namespace: &'a str,
    /// Workload name.
    pub name: &'a str,
    /// Workload kind (only Deployment, StatefulSet, DaemonSet are waited for).
    pub kind: ConsumerKind,
    /// Its pods' selector, for the fail-fast watch.
    pub selector: Option<&'a str>,
    /// Which pods count as new; `None` disables fail-fast (rollback waits).
    pub new_pod: Option<NewPod>,
    /// During a rollback a stale `ProgressDeadlineExceeded` from the failed rollout is
    /// not final: keep waiting until healthy or the deadline.
    pub tolerate_failed_condition: bool,
    /// Known secret values, masked in any message taken from the cluster.
    pub mask: &'a [String],
}

/// The first problem of a new pod, if it has one of [`FAIL_FAST_REASONS`].
pub fn pod_problem(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    let all = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for cs in all {
        let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
            continue;
        };
        let reason = w.reason.as_deref().unwrap_or("");
        if !FAIL_FAST_REASONS.contains(&reason) {
            continue;
        }
        let mut msg = format!(
            "pod {} container {}: {reason}",
            pod.metadata.name.as_deref().unwrap_or(""),
            cs.name
        );
        if let Some(t) = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()) {
            msg.push_str(&format!(", last exit code {}", t.exit_code));
            if let Some(m) = t.message.as_deref().filter(|m| !m.trim().is_empty()) {
                msg.push_str(&format!(": {}", m.trim()));
            }
        } else if let Some(m) = w.message.as_deref().filter(|m| !m.is_empty()) {
            msg.push_str(&format!(": {m}"));
        }
        return Some(msg);
    }
    None
}

/// Watch the workload's pods until a new one shows a fail-fast problem; never returns
/// otherwise (the caller races it against the rollout wait).
async fn first_bad_pod(api: Api<Pod>, selector: String, new_pod: NewPod) -> String {
    let config = watcher::Config::default().labels(&selector);
    let mut stream = watcher(api, config)
        .default_backoff()
        .applied_objects()
        .boxed();
    while let Some(next) = stream.next().await {
        match next {
            Ok(pod) if new_pod(&pod) => {
                if let Some(problem) = pod_problem(&pod) {
                    return problem;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!("pod watch error, retrying: {e}"),
        }
    }
    std::future::pending::<String>().await
}

fn mask(text: &str, values: &[String]) -> String {
    let known: Vec<&str> = values.iter().map(String::as_str).collect();
    let once = common::redact::redact_text(text);
    common::redact::redact_values(&once, &known).into_owned()
}

/// Wait until the workload is healthy, fails, times out or `cancel` fires.
pub async fn wait(
    target: Target<'_>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> common::Result<Verdict> {
    let started = Instant::now();
    if !target.kind.rolls_out() {
        return Ok(Verdict {
            state: State::NotWaited,
            message: "no rollout to wait for".to_string(),
            seconds: 0.0,
        });
    }
    let progress = Progress::spinner(format!(
        "waiting for {}/{}",
        format!("{:?}", target.kind).to_lowercase(),
        target.name
    ));
    let tolerate = target.tolerate_failed_condition;
    let soften = move |c: Check| match c {
        Check::Failed(m) if tolerate => Check::Waiting(m),
        other => other,
    };
    let client = target.client.clone();
    let ns = target.namespace;
    let name = target.name;
    let rollout = async {
        match target.kind {
            ConsumerKind::Deployment => {
                let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
                common::wait::until(&api, name, timeout, cancel, &progress, |d| {
                    soften(common::rollout::deployment(d))
                })
                .await
                .map(erase)
            }
            ConsumerKind::StatefulSet => {
                let api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
                common::wait::until(&api, name, timeout, cancel, &progress, |s| {
                    soften(common::rollout::statefulset(s))
                })
                .await
                .map(erase)
            }
            _ => {
                let api: Api<DaemonSet> = Api::namespaced(client.clone(), ns);
                common::wait::until(&api, name, timeout, cancel, &progress, |d| {
                    soften(common::rollout::daemonset(d))
                })
                .await
                .map(erase)
            }
        }
    };
    let fail_fast = async {
        match (target.selector, target.new_pod.clone()) {
            (Some(sel), Some(new_pod)) => {
                let api: Api<Pod> = Api::namespaced(client.clone(), ns);
                first_bad_pod(api, sel.to_string(), new_pod).await
            }
            _ => std::future::pending::<String>().await,
        }
    };
    let outcome = tokio::select! {
        r = rollout => r?,
        bad = fail_fast => Waited::Failed { message: bad, last: None },
    };
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let (state, message) = match outcome {
        Waited::Done(_) => (State::Healthy, "successfully rolled out".to_string()),
        Waited::Failed { message, .. } => (State::Failed, message),
        Waited::TimedOut { message, .. } => (
            State::TimedOut,
            format!("not healthy after {}: {message}", human(timeout)),
        ),
        Waited::Cancelled { message, .. } => (State::Interrupted, message),
    };
    Ok(Verdict {
        state,
        message: mask(&message, target.mask),
        seconds: (seconds * 10.0).round() / 10.0,
    })
}

fn erase<K>(w: Waited<K>) -> Waited<()> {
    match w {
        Waited::Done(_) => Waited::Done(None),
        Waited::Failed { message, .. } => Waited::Failed {
            message,
            last: None,
        },
        Waited::TimedOut { message, .. } => Waited::TimedOut {
            message,
            last: None,
        },
        Waited::Cancelled { message, .. } => Waited::Cancelled {
            message,
            last: None,
        },
    }
}

/// `5m`, `90s`: a timeout for messages.
pub use common::duration::flag_text as human;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fail_fast_reasons_from_container_states() {
        let pod = |statuses: serde_json::Value| -> Pod {
            serde_json::from_value(
                json!({"metadata": {"name": "api-1"}, "status": {"containerStatuses": statuses}}),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let crash = pod(
            json!([{"name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 3,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
            "lastState": {"terminated": {"exitCode": 2, "message": "FATAL: password authentication failed\n"}}}]),
        );
        assert_eq!(
            pod_problem(&crash).as_deref(),
            Some(
                "pod api-1 container app: CrashLoopBackOff, last exit code 2: FATAL: password authentication failed"
            )
        );
        let config = pod(
            json!([{"name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "CreateContainerConfigError", "message": "couldn't find key password in Secret shop/db"}}}]),
        );
        assert!(
            pod_problem(&config)
                .is_some_and(|m| m.ends_with("couldn't find key password in Secret shop/db"))
        );
        let starting = pod(
            json!([{"name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}]),
        );
        assert_eq!(pod_problem(&starting), None);
        assert_eq!(pod_problem(&Pod::default()), None);
    }

    #[test]
    fn messages_mask_known_values() {
        assert_eq!(
            mask("login as admin with Xk9#mQ2v failed", &["Xk9#mQ2v".into()]),
            "login as admin with *** failed"
        );
        assert_eq!(human(Duration::from_secs(300)), "5m");
        assert_eq!(human(Duration::from_secs(90)), "90s");
        assert_eq!(human(Duration::from_secs(7200)), "2h");
        assert_eq!(human(Duration::from_secs(86400)), "1d");
    }
}
