//! Carrying out a rotation plan: create the version, repoint each consumer and wait for it
//! to be healthy, roll everything back on failure, timeout or Ctrl-C, then record the
//! outcome on the new Secret. Every write goes through common's Writer (journal, dry run).

use std::sync::Arc;
use std::time::Duration;

use common::ObjectRef;
use common::run::Session;
use common::write::{DryRun, Guard, PatchBody, Target, Writer};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Pod, Secret, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::ListParams;
use kube::{Api, Client};
use serde::Serialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::consumers::{ConsumerKind, RefKind};
use crate::health::{self, NewPod, State, Verdict};
use crate::plan::{Plan, Step};
use crate::snapshot::{ANNOTATION_ROTATION, SecretData};

/// How a rotation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// `--dry-run=client`: nothing sent.
    Planned,
    /// `--dry-run=server`: every write validated by the server, nothing stored.
    Validated,
    /// The new data failed validation: nothing was changed.
    Invalid,
    /// Every consumer repointed and healthy.
    Succeeded,
    /// A consumer failed or timed out; everything was pointed back and is healthy.
    RolledBack,
    /// Ctrl-C/SIGTERM during the rotation; everything was pointed back.
    Interrupted,
    /// A consumer failed and `--no-rollback` left everything as it was.
    FailedNoRollback,
    /// The rollback itself did not finish (a patch refused, a consumer unhealthy).
    RollbackIncomplete,
}

impl Outcome {
    /// The exit code for this outcome (CONVENTIONS: 1 for a rotation that failed and was
    /// rolled back, 130 interrupted, 4 when the cluster is left partly changed).
    pub fn exit(self) -> common::Exit {
        use common::Exit;
        match self {
            Outcome::Planned | Outcome::Validated | Outcome::Succeeded => Exit::Ok,
            Outcome::Invalid => Exit::Usage,
            Outcome::RolledBack | Outcome::FailedNoRollback => Exit::NotFine,
            Outcome::Interrupted => Exit::Interrupted,
            Outcome::RollbackIncomplete => Exit::Partial,
        }
    }
}

/// Which wait a health entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// After repointing to the new version.
    Rollout,
    /// After pointing back to the old version.
    Rollback,
}

/// One consumer's health after one change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthEntry {
    /// The consumer.
    pub consumer: ObjectRef,
    /// Rollout or rollback.
    pub phase: Phase,
    /// How the wait ended.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// The outcome.
    pub outcome: Outcome,
    /// What stopped the rotation, if something did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Health checks, in order.
    pub health: Vec<HealthEntry>,
    /// Consumers still on the new version after a failure (`--no-rollback`, or a
    /// rollback patch that was refused).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_on_new_version: Vec<ObjectRef>,
}

/// Knobs of `rotate secret`.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Deadline of each consumer's wait (and of each rollback wait).
    pub timeout: Duration,
    /// Leave a failed rotation as it is.
    pub no_rollback: bool,
}

/// Print a progress line to stderr (table output only; documents keep stderr quiet).
pub type Say<'a> = &'a dyn Fn(&str);

/// Run the plan. `data` is the new version's data (sent only in the create).
pub async fn execute(
    client: &Client,
    writer: &Writer,
    session: &Session,
    plan: &Plan,
    data: &SecretData,
    opts: Options,
    say: Say<'_>,
) -> common::Result<Execution> {
    let started = jiff::Timestamp::now();
    let ns = plan.namespace.as_str();
    let secrets: Target<Secret> = Target::namespaced(client, ns);
    let mask: Vec<String> = data
        .0
        .values()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let mut exec = Execution {
        outcome: match writer.dry_run() {
            DryRun::Client => Outcome::Planned,
            DryRun::Server => Outcome::Validated,
            DryRun::None => Outcome::Succeeded,
        },
        cause: None,
        health: Vec::new(),
        left_on_new_version: Vec::new(),
    };

    if !plan.secret.exists {
        let record = record_value(plan, "inProgress", started, None);
        let obj = crate::plan::secret_object(plan, data, &record);
        writer
            .create(
                &secrets,
                &obj,
                &format!("version {} of {}", plan.secret.version, plan.base_name),
            )
            .await?;
        say(&format!(
            "created secret/{}{}",
            plan.secret.name,
            writer.dry_run().suffix()
        ));
    }

    let mut applied: Vec<&Step> = Vec::new();
    for step in &plan.steps {
        if session.is_cancelled() {
            exec.outcome = Outcome::Interrupted;
            exec.cause =
                Some("interrupted before repointing ".to_string() + &step.consumer.to_string());
            break;
        }
        let how = format!("repoint {} → {}", step.from_names(), plan.secret.name);
        if let Err(e) = patch(client, writer, step, step.patch.clone(), &how).await {
            exec.outcome = Outcome::RolledBack;
            exec.cause = Some(format!("{} could not be repointed: {e}", step.consumer));
            break;
        }
        applied.push(step);
        say(&format!(
            "repointed {}{}",
            step.consumer,
            writer.dry_run().suffix()
        ));
        if writer.dry_run().is_dry() || !step.waits_for_rollout {
            continue;
        }
        say(&format!(
            "waiting for {} to roll out (timeout {})",
            step.consumer,
            health::human(opts.timeout)
        ));
        let new_name = plan.secret.name.clone();
        let new_pod: NewPod = Arc::new(move |pod: &Pod| uses_secret(pod, &new_name));
        let verdict = health::wait(
            health::Target {
                client,
                namespace: ns,
                name: &step.consumer.name,
                kind: step.kind,
                selector: step.selector.as_deref(),
                new_pod: Some(new_pod),
                tolerate_failed_condition: false,
                mask: &mask,
            },
            opts.timeout,
            &session.cancel,
        )
        .await?;
        say(&format!("{}: {}", step.consumer, verdict.message));
        let state = verdict.state;
        exec.health.push(HealthEntry {
            consumer: step.consumer.clone(),
            phase: Phase::Rollout,
            verdict: verdict.clone(),
        });
        match state {
            State::Healthy | State::NotWaited => {}
            State::Interrupted => {
                exec.outcome = Outcome::Interrupted;
                exec.cause = Some(format!("interrupted while waiting for {}", step.consumer));
                break;
            }
            State::Failed | State::TimedOut => {
                exec.outcome = Outcome::RolledBack;
                exec.cause = Some(format!("{}: {}", step.consumer, verdict.message));
                break;
            }
        }
    }

    if matches!(exec.outcome, Outcome::RolledBack | Outcome::Interrupted) {
        if opts.no_rollback && exec.outcome == Outcome::RolledBack {
            exec.outcome = Outcome::FailedNoRollback;
            exec.left_on_new_version = applied.iter().map(|s| s.consumer.clone()).collect();
            say("--no-rollback: leaving every repointed consumer on the new version");
        } else {
            rollback(client, writer, plan, &applied, opts, &mask, &mut exec, say).await;
        }
    }

    // Under a server dry run the new Secret was not stored: there is nothing to annotate.
    if writer.dry_run() == DryRun::Server && !plan.secret.exists {
        return Ok(exec);
    }
    let finished = jiff::Timestamp::now();
    let record = record_value(plan, result_word(exec.outcome), started, Some(finished));
    let body = json!({"metadata": {"annotations": {ANNOTATION_ROTATION: record.to_string()}}});
    if let Err(e) = writer
        .patch(
            &secrets,
            &plan.secret.name,
            PatchBody::Merge(body),
            Guard::none(),
            "record the rotation",
        )
        .await
    {
        // The rotation itself is done either way; the journal shows the failed write.
        tracing::warn!(
            "could not record the rotation on secret {}: {e}",
            plan.secret.name
        );
    }
    Ok(exec)
}

/// Point every applied step back, delete StatefulSet pods stuck on the new version
/// (a StatefulSet does not replace a broken pod by itself: the documented "forced
/// rollback"), and wait for health with a fresh token (the first Ctrl-C has been used).
#[allow(clippy::too_many_arguments)]
async fn rollback(
    client: &Client,
    writer: &Writer,
    plan: &Plan,
    applied: &[&Step],
    opts: Options,
    mask: &[String],
    exec: &mut Execution,
    say: Say<'_>,
) {
    if applied.is_empty() {
        return;
    }
    say(&format!(
        "rolling back {} consumer(s) to their previous version",
        applied.len()
    ));
    let mut pointed_back = Vec::new();
    for step in applied.iter().rev() {
        let how = format!("roll back {} → {}", plan.secret.name, step.from_names());
        match patch(client, writer, step, step.rollback.clone(), &how).await {
            Ok(()) => {
                say(&format!("pointed {} back", step.consumer));
                pointed_back.push(*step);
            }
            Err(e) => {
                exec.outcome = Outcome::RollbackIncomplete;
                exec.left_on_new_version.push(step.consumer.clone());
                let msg = format!("{} could not be pointed back: {e}", step.consumer);
                say(&msg);
                exec.cause = Some(
                    exec.cause
                        .take()
                        .map_or(msg.clone(), |c| format!("{c}; {msg}")),
                );
            }
        }
    }
    if writer.dry_run().is_dry() {
        return;
    }
    for step in pointed_back.iter().rev() {
        if step.kind == ConsumerKind::StatefulSet {
            force_statefulset_pods(client, writer, &plan.namespace, step, &plan.secret.name).await;
        }
    }
    let never = CancellationToken::new();
    for step in pointed_back.iter().rev().filter(|s| s.waits_for_rollout) {
        let verdict = health::wait(
            health::Target {
                client,
                namespace: &plan.namespace,
                name: &step.consumer.name,
                kind: step.kind,
                selector: step.selector.as_deref(),
                new_pod: None,
                tolerate_failed_condition: true,
                mask,
            },
            opts.timeout,
            &never,
        )
        .await
        .unwrap_or_else(|e| Verdict {
            state: State::Failed,
            message: format!("cannot watch it: {e}"),
            seconds: 0.0,
        });
        say(&format!(
            "{} (rollback): {}",
            step.consumer, verdict.message
        ));
        if verdict.state != State::Healthy {
            exec.outcome = Outcome::RollbackIncomplete;
        }
        exec.health.push(HealthEntry {
            consumer: step.consumer.clone(),
            phase: Phase::Rollback,
            verdict,
        });
    }
}

/// Delete the StatefulSet's pods that use the new version and are not Ready, so it
/// recreates them from the restored template.
async fn force_statefulset_pods(
    client: &Client,
    writer: &Writer,
    ns: &str,
    step: &Step,
    new_name: &str,
) {
    let Some(selector) = step.selector.as_deref() else {
        return;
    };
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let pods = match common::list::list_all(&api, &ListParams::default().labels(selector)).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("cannot list the pods of {}: {e}", step.consumer);
            return;
        }
    };
    let target: Target<Pod> = Target::namespaced(client, ns);
    for pod in pods
        .iter()
        .filter(|p| uses_secret(p, new_name) && !common::model::pod_ready(p))
    {
        let name = pod.metadata.name.as_deref().unwrap_or("");
        let guard = Guard::uid(pod.metadata.uid.clone().unwrap_or_default());
        if let Err(e) = writer
            .delete(
                &target,
                name,
                guard,
                None,
                "replace a StatefulSet pod stuck on the new version",
            )
            .await
        {
            tracing::warn!("cannot delete pod {name}: {e}");
        }
    }
}

/// Send one step's JSON patch (its guards are in the operations) to its consumer.
async fn patch(
    client: &Client,
    writer: &Writer,
    step: &Step,
    ops: Vec<Value>,
    how: &str,
) -> common::Result<()> {
    patch_consumer(
        client,
        writer,
        step.kind,
        &step.consumer,
        PatchBody::Json(ops),
        Guard::none(),
        how,
    )
    .await
}

/// Patch a consumer through the API of its kind. Jobs and Pods are immutable where it
/// matters, so they are never patched.
pub async fn patch_consumer(
    client: &Client,
    writer: &Writer,
    kind: ConsumerKind,
    object: &ObjectRef,
    body: PatchBody,
    guard: Guard,
    how: &str,
) -> common::Result<()> {
    async fn send<K>(
        client: &Client,
        writer: &Writer,
        object: &ObjectRef,
        body: PatchBody,
        guard: Guard,
        how: &str,
    ) -> common::Result<()>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::Serialize
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        let target = Target::<K>::namespaced(client, &object.namespace);
        writer
            .patch(&target, &object.name, body, guard, how)
            .await
            .map(drop)
    }
    match kind {
        ConsumerKind::Deployment => {
            send::<Deployment>(client, writer, object, body, guard, how).await
        }
        ConsumerKind::StatefulSet => {
            send::<StatefulSet>(client, writer, object, body, guard, how).await
        }
        ConsumerKind::DaemonSet => {
            send::<DaemonSet>(client, writer, object, body, guard, how).await
        }
        ConsumerKind::CronJob => send::<CronJob>(client, writer, object, body, guard, how).await,
        ConsumerKind::ServiceAccount => {
            send::<ServiceAccount>(client, writer, object, body, guard, how).await
        }
        ConsumerKind::Ingress => send::<Ingress>(client, writer, object, body, guard, how).await,
        ConsumerKind::Job | ConsumerKind::Pod => Err(common::Error::other(format!(
            "{object} cannot be patched in place"
        ))),
    }
}

/// True when the pod references the Secret `name` anywhere in its spec.
pub fn uses_secret(pod: &Pod, name: &str) -> bool {
    pod.spec.as_ref().is_some_and(|spec| {
        crate::consumers::finders::pod_spec_references(spec, "")
            .iter()
            .any(|r| r.kind == RefKind::Secret && r.name == name)
    })
}

fn result_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Planned => "planned",
        Outcome::Validated => "validated",
        Outcome::Invalid => "invalid",
        Outcome::Succeeded => "succeeded",
        Outcome::RolledBack => "rolledBack",
        Outcome::Interrupted => "interrupted",
        Outcome::FailedNoRollback => "failedNoRollback",
        Outcome::RollbackIncomplete => "rollbackIncomplete",
    }
}

/// The rotation record kept in the new Secret's annotation: old and new names, the
/// consumers, the times and the result.
pub fn record_value(
    plan: &Plan,
    result: &str,
    started: jiff::Timestamp,
    finished: Option<jiff::Timestamp>,
) -> Value {
    let mut v = json!({
        "from": plan.replaces,
        "to": plan.secret.name,
        "version": plan.secret.version,
        "consumers": plan.steps.iter().map(|s| s.consumer.to_string()).collect::<Vec<_>>(),
        "startedAt": started.to_string(),
        "result": result,
        "by": "kubectl-rotate",
    });
    if let Some(f) = finished {
        v["finishedAt"] = json!(f.to_string());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_conventions() {
        use common::Exit;
        assert_eq!(Outcome::Succeeded.exit(), Exit::Ok);
        assert_eq!(Outcome::Planned.exit(), Exit::Ok);
        assert_eq!(Outcome::RolledBack.exit(), Exit::NotFine);
        assert_eq!(Outcome::FailedNoRollback.exit(), Exit::NotFine);
        assert_eq!(Outcome::Interrupted.exit(), Exit::Interrupted);
        assert_eq!(Outcome::RollbackIncomplete.exit(), Exit::Partial);
        assert_eq!(Outcome::Invalid.exit(), Exit::Usage);
    }

    #[test]
    fn pods_using_a_secret() {
        let pod: Pod = serde_json::from_value(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}],
            "volumes": [{"name": "v", "secret": {"secretName": "db-2"}}]}}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(uses_secret(&pod, "db-2"));
        assert!(!uses_secret(&pod, "db"));
    }
}
