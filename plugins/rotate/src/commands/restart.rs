//! `kubectl rotate restart`: the Reloader case without Reloader. Every consumer of a Secret
//! or ConfigMap that has a rollout gets kubectl's `restartedAt` template annotation, then
//! all are waited for together; exit 1 names the ones that did not become healthy.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use common::cli::Connection;
use common::output::OutputArgs;
use common::run::Session;
use common::write::{Guard, PatchBody, Writer};
use common::{Error, Exit, ObjectRef};
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use crate::args::RestartArgs;
use crate::collect::{self, Scope, Want};
use crate::consumers::{self, Consumer, ConsumerKind, RefKind};
use crate::health::{self, NewPod, State};
use crate::render;
use crate::report::{RestartAction, RestartEntry, RestartReport};

/// The annotation `kubectl rollout restart` sets on the pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Why a consumer of this kind is not restarted, and what to do instead.
pub fn not_restartable(kind: ConsumerKind) -> Option<&'static str> {
    match kind {
        ConsumerKind::Deployment | ConsumerKind::StatefulSet | ConsumerKind::DaemonSet => None,
        ConsumerKind::CronJob => Some("its next Job reads the current data; nothing runs now"),
        ConsumerKind::Job => {
            Some("a running Job keeps what it started with; delete its pods to restart them")
        }
        ConsumerKind::Pod => {
            Some("a Pod without a workload cannot be restarted in place: delete and recreate it")
        }
        ConsumerKind::ServiceAccount => Some("imagePullSecrets are read at each image pull"),
        ConsumerKind::Ingress => Some("the ingress controller reloads the Secret by itself"),
    }
}

/// Run `rotate restart`.
pub async fn run(
    conn: &Connection,
    a: &RestartArgs,
    out: &OutputArgs,
    session: &Session,
) -> common::Result<Exit> {
    let started = Instant::now();
    let ns = conn.namespace.clone();
    let (kind, name) = match (&a.secret, &a.configmap) {
        (Some(s), _) => (RefKind::Secret, s.clone()),
        (None, Some(c)) => (RefKind::ConfigMap, c.clone()),
        (None, None) => return Err(Error::usage("give --secret NAME or --configmap NAME")),
    };
    let target = ObjectRef::new(
        if kind == RefKind::Secret {
            "Secret"
        } else {
            "ConfigMap"
        },
        &ns,
        &name,
    );
    let scope = Scope {
        conn,
        all_namespaces: false,
    };
    let (exists, w) = session
        .interruptible(async {
            let exists = async {
                Ok::<bool, Error>(match kind {
                    RefKind::Secret => collect::secret(conn, &ns, &name).await?.is_some(),
                    RefKind::ConfigMap => collect::configmap(conn, &ns, &name).await?.is_some(),
                })
            };
            let (e, w) = tokio::join!(
                exists,
                collect::workloads(
                    scope,
                    Want {
                        pods: true,
                        history: false
                    }
                )
            );
            Ok((e?, w?))
        })
        .await?;
    if !exists {
        return Err(Error::usage(format!(
            "{} \"{name}\" not found in namespace \"{ns}\"",
            target.kind.to_lowercase()
        ))
        .with_hint(format!(
            "kubectl get {}s -n {ns}",
            target.kind.to_lowercase()
        )));
    }
    collect::require_complete(&w, &format!("restart the consumers of {target}"))?;
    let consumers = consumers::referencing(
        &consumers::find_all(&w),
        kind,
        &ns,
        &BTreeSet::from([name.clone()]),
    );

    let stamp = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let dry = a.dry_run.dry_run;
    let mut report = RestartReport::new(target.clone(), dry, stamp.clone());
    let writer = Writer::new("rotate", dry, session.journal.clone());
    let mut restarted: Vec<&Consumer> = Vec::new();
    for c in &consumers {
        let reason = if c.on_delete {
            Some(
                "OnDelete update strategy: a template change does not restart its pods; delete them",
            )
        } else {
            not_restartable(c.kind)
        };
        if let Some(reason) = reason {
            report.consumers.push(RestartEntry {
                object: c.object.clone(),
                action: RestartAction::NotRestarted,
                reason: Some(reason.to_string()),
                health: None,
            });
            continue;
        }
        if session.is_cancelled() {
            break;
        }
        let body = PatchBody::Merge(
            json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}),
        );
        let guard = Guard::uid(c.uid.clone());
        let how = format!("restart: {target} changed");
        crate::execute::patch_consumer(&conn.client, &writer, c.kind, &c.object, body, guard, &how)
            .await?;
        eprintln!("restarted {}{}", c.object, dry.suffix());
        restarted.push(c);
    }

    if !dry.is_dry() && !restarted.is_empty() {
        eprintln!(
            "waiting for {} rollout(s) (timeout {} each)",
            restarted.len(),
            health::human(a.timeout)
        );
        let waits = restarted.iter().map(|c| {
            let stamp = stamp.clone();
            let new_pod: NewPod = Arc::new(move |pod: &Pod| {
                pod.metadata
                    .annotations
                    .as_ref()
                    .and_then(|m| m.get(RESTARTED_AT))
                    == Some(&stamp)
            });
            health::wait(
                health::Target {
                    client: &conn.client,
                    namespace: &ns,
                    name: &c.object.name,
                    kind: c.kind,
                    selector: c.selector.as_deref(),
                    new_pod: Some(new_pod),
                    tolerate_failed_condition: false,
                    mask: &[],
                },
                a.timeout,
                &session.cancel,
            )
        });
        let verdicts = futures::future::join_all(waits).await;
        for (c, v) in restarted.iter().zip(verdicts) {
            let v = v?;
            eprintln!("{}: {}", c.object, v.message);
            match v.state {
                State::Healthy | State::NotWaited => {}
                State::Interrupted => report.interrupted = true,
                State::Failed | State::TimedOut => report.unhealthy.push(c.object.clone()),
            }
            report.consumers.push(RestartEntry {
                object: c.object.clone(),
                action: RestartAction::Restarted,
                reason: None,
                health: Some(v),
            });
        }
    } else {
        for c in &restarted {
            report.consumers.push(RestartEntry {
                object: c.object.clone(),
                action: RestartAction::Restarted,
                reason: None,
                health: None,
            });
        }
    }
    report.consumers.sort_by(|x, y| x.object.cmp(&y.object));
    report.changes = session.journal.entries();
    report.stats = super::stats(conn, started);
    let painter = out.painter();
    let journal = session.journal.render_text(&painter);
    render::restart(
        &mut std::io::stdout().lock(),
        out.output,
        &report,
        &painter,
        &journal,
    )?;
    super::print_stats(out, conn, &report.stats);
    Ok(if report.interrupted || session.is_cancelled() {
        Exit::Interrupted
    } else if !report.unhealthy.is_empty() {
        let names: Vec<String> = report.unhealthy.iter().map(ToString::to_string).collect();
        eprintln!("error: not healthy after the restart: {}", names.join(", "));
        Exit::NotFine
    } else {
        Exit::Ok
    })
}
