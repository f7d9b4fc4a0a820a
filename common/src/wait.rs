//! Waiting for an object to reach a state — rollout complete, pod gone, CRD Established,
//! VolumeSnapshot ready — with a deadline, cancellation and progress on stderr.
//! Built on kube-runtime's watcher, so a wait costs one list+watch, not a polling loop.

use std::fmt::Debug;
use std::time::Duration;

use futures::StreamExt;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::progress::Progress;

/// A condition's verdict on the object's current state (`None`: the object does not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The condition holds.
    Done,
    /// Not yet; the message says what is awaited (`2 of 3 updated replicas are available`).
    Waiting(String),
    /// It will not hold without intervention (`ProgressDeadlineExceeded`, CrashLoopBackOff).
    Failed(String),
}

/// How a wait ended. Only "could not watch at all" (forbidden, unreachable) is an `Err`.
#[derive(Debug, Clone, PartialEq)]
pub enum Waited<K> {
    /// The condition held; the object as last seen (`None` when it held on absence).
    Done(Option<K>),
    /// The condition said it cannot hold.
    Failed {
        /// The condition's message.
        message: String,
        /// The object as last seen.
        last: Option<K>,
    },
    /// The deadline passed first.
    TimedOut {
        /// The last `Waiting` message.
        message: String,
        /// The object as last seen.
        last: Option<K>,
    },
    /// The cancellation token fired first (Ctrl-C / SIGTERM).
    Cancelled {
        /// The last `Waiting` message.
        message: String,
        /// The object as last seen.
        last: Option<K>,
    },
}

impl<K> Waited<K> {
    /// True when the condition held.
    pub fn is_done(&self) -> bool {
        matches!(self, Waited::Done(_))
    }
}

/// Watch `name` through `api` until `check` says `Done` or `Failed`, `timeout` passes or
/// `cancel` fires. `progress` shows the current `Waiting` message.
///
/// Transient watch errors (a dropped connection, 410 Gone, 5xx) are retried with
/// kube-runtime's default backoff; 401/403 end the wait with an error, since waiting longer
/// cannot help.
pub async fn until<K, F>(
    api: &Api<K>,
    name: &str,
    timeout: Duration,
    cancel: &CancellationToken,
    progress: &Progress,
    mut check: F,
) -> Result<Waited<K>>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    F: FnMut(Option<&K>) -> Check,
{
    let mut stream = watcher::watch_object(api.clone(), name)
        .default_backoff()
        .boxed();
    let mut last: Option<K> = None;
    let mut message = String::from("waiting for the first state");
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(Waited::Cancelled { message, last }),
            () = &mut deadline => return Ok(Waited::TimedOut { message, last }),
            next = stream.next() => match next {
                None => return Err(Error::other(format!("the watch on {name} ended unexpectedly"))),
                Some(Err(e)) => {
                    if let Some(fatal) = fatal_watch_error(e) {
                        return Err(fatal);
                    }
                }
                Some(Ok(obj)) => {
                    match check(obj.as_ref()) {
                        Check::Done => return Ok(Waited::Done(obj)),
                        Check::Failed(m) => return Ok(Waited::Failed { message: m, last: obj }),
                        Check::Waiting(m) => {
                            progress.set_message(m.clone());
                            message = m;
                        }
                    }
                    last = obj;
                }
            }
        }
    }
}

/// A watch error that waiting longer cannot fix (401/403), as the suite's error.
fn fatal_watch_error(err: watcher::Error) -> Option<Error> {
    let api_error = match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => e,
        other => {
            tracing::debug!("watch error, retrying: {other}");
            return None;
        }
    };
    match crate::error::status_code(&api_error) {
        Some(401 | 403) => Some(Error::from(api_error)),
        _ => {
            tracing::debug!("watch error, retrying: {api_error}");
            None
        }
    }
}

/// Condition: the object no longer exists, or exists with another UID (deleted and
/// replaced, as a StatefulSet pod is after an eviction).
pub fn gone<K: Resource>(uid: Option<&str>) -> impl FnMut(Option<&K>) -> Check + '_ {
    move |obj| match obj {
        None => Check::Done,
        Some(o) if uid.is_some() && o.meta().uid.as_deref() != uid => Check::Done,
        Some(o) if o.meta().deletion_timestamp.is_some() => {
            Check::Waiting("terminating".to_string())
        }
        Some(_) => Check::Waiting("still exists".to_string()),
    }
}

/// Condition for a CustomResourceDefinition: `Established=True` (its API is served).
pub fn crd_established(
    obj: Option<&k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>,
) -> Check {
    let Some(crd) = obj else {
        return Check::Waiting("not created yet".to_string());
    };
    let conds = crd.status.as_ref().and_then(|s| s.conditions.as_deref());
    let cond = |t: &str| conds.and_then(|cs| cs.iter().find(|c| c.type_ == t));
    if cond("Established").is_some_and(|c| c.status == "True") {
        return Check::Done;
    }
    if let Some(c) = cond("NamesAccepted").filter(|c| c.status == "False") {
        return Check::Failed(format!(
            "names not accepted: {}",
            c.message.as_deref().unwrap_or("")
        ));
    }
    Check::Waiting("not Established yet".to_string())
}

/// Condition for a `snapshot.storage.k8s.io` VolumeSnapshot: `status.readyToUse`, failing
/// on `status.error`.
pub fn snapshot_ready(obj: Option<&kube::api::DynamicObject>) -> Check {
    let Some(snap) = obj else {
        return Check::Failed("the VolumeSnapshot was deleted".to_string());
    };
    let status = snap.data.get("status");
    if status
        .and_then(|s| s.get("readyToUse"))
        .and_then(serde_json::Value::as_bool)
        == Some(true)
    {
        return Check::Done;
    }
    if let Some(msg) = status
        .and_then(|s| s.get("error"))
        .and_then(|e| e.get("message"))
        .and_then(serde_json::Value::as_str)
    {
        return Check::Failed(crate::redact::redact_text(msg).into_owned());
    }
    Check::Waiting("not ready to use yet".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::DynamicObject;
    use serde_json::json;

    #[test]
    fn gone_condition() {
        let cm = |uid: &str| ConfigMap {
            metadata: kube::api::ObjectMeta {
                uid: Some(uid.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut by_uid = gone::<ConfigMap>(Some("a"));
        assert_eq!(by_uid(None), Check::Done);
        assert_eq!(by_uid(Some(&cm("b"))), Check::Done, "replaced");
        assert!(matches!(by_uid(Some(&cm("a"))), Check::Waiting(_)));
        let mut any = gone::<ConfigMap>(None);
        assert!(matches!(any(Some(&cm("b"))), Check::Waiting(_)));
    }

    #[test]
    fn crd_conditions() {
        let crd = |conds: serde_json::Value| {
            serde_json::from_value(json!({
                "metadata": {"name": "x.example.com"},
                "spec": {"group": "example.com", "names": {"kind": "X", "plural": "x"}, "scope": "Namespaced", "versions": []},
                "status": {"conditions": conds}
            }))
            .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(
            crd_established(Some(&crd(
                json!([{"type": "Established", "status": "True"}])
            ))),
            Check::Done
        );
        assert!(matches!(
            crd_established(Some(&crd(
                json!([{"type": "NamesAccepted", "status": "False", "message": "taken"}])
            ))),
            Check::Failed(_)
        ));
        assert!(matches!(crd_established(None), Check::Waiting(_)));
    }

    #[test]
    fn snapshot_conditions() {
        let snap = |status: serde_json::Value| -> DynamicObject {
            serde_json::from_value(json!({
                "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
                "metadata": {"name": "s"}, "status": status
            }))
            .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(
            snapshot_ready(Some(&snap(json!({"readyToUse": true})))),
            Check::Done
        );
        assert!(matches!(
            snapshot_ready(Some(&snap(json!({"readyToUse": false})))),
            Check::Waiting(_)
        ));
        assert!(matches!(
            snapshot_ready(Some(&snap(json!({"error": {"message": "no class"}})))),
            Check::Failed(_)
        ));
        assert!(matches!(snapshot_ready(None), Check::Failed(_)));
    }
}
