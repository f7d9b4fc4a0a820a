//! JobFailed: Jobs that failed (BackoffLimitExceeded, DeadlineExceeded) and
//! CronJobs whose most recent run failed.

use k8s_openapi::api::batch::v1::Job;

use super::Context;
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, controller_of, items, name, ns, uid};
use crate::text::exit_code_text;

fn failed_condition(job: &Job) -> Option<&k8s_openapi::api::batch::v1::JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| (c.type_ == "Failed" || c.type_ == "FailureTarget") && c.status == "True")
}

fn job_evidence(snap: &Snapshot, job: &Job, f: &mut Finding) {
    let st = job.status.clone().unwrap_or_default();
    let limit = job.spec.as_ref().and_then(|s| s.backoff_limit).unwrap_or(6);
    f.add_evidence(format!(
        "job {}: succeeded {}, failed {}, active {}, backoffLimit {limit}",
        name(&job.metadata),
        st.succeeded.unwrap_or(0),
        st.failed.unwrap_or(0),
        st.active.unwrap_or(0)
    ));
    if let Some(c) = failed_condition(job) {
        f.add_evidence(format!(
            "condition Failed: {} {}",
            c.reason.as_deref().unwrap_or(""),
            c.message.as_deref().unwrap_or("")
        ));
    }
    f.explains.insert(uid(&job.metadata).to_string());
    let job_key = ObjectRef::of(job);
    for p in snap.pods_of(&job_key) {
        let s = &p.pod;
        f.affect_pod(&s.namespace, &s.name, &s.uid, s.node.as_deref());
        for c in s.containers.iter().filter(|c| !c.spec.init) {
            if let Some(t) = &c.terminated
                && t.exit_code != 0
            {
                f.add_evidence(format!(
                    "pod {} container {}: {}, exit code {}",
                    s.name,
                    c.name(),
                    t.reason.as_deref().unwrap_or("terminated"),
                    exit_code_text(t.exit_code)
                ));
            }
        }
    }
}

pub fn check(snap: &Snapshot, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for job in items(&snap.jobs) {
        if controller_of(&job.metadata).is_some_and(|o| o.kind == "CronJob") {
            continue;
        }
        let Some(c) = failed_condition(job) else {
            continue;
        };
        let key = ObjectRef::of(job);
        let namespace = &key.namespace;
        let mut f = Finding::new(
            Reason::JobFailed,
            &key,
            format!("job failed: {}", c.reason.as_deref().unwrap_or("Failed")),
        );
        job_evidence(snap, job, &mut f);
        f = f
            .remedy(format!("kubectl logs job/{} -n {namespace}", key.name))
            .remedy(format!("kubectl describe job {} -n {namespace}", key.name));
        out.push(f);
    }
    for cj in items(&snap.cronjobs) {
        let namespace = ns(&cj.metadata);
        let cj_uid = uid(&cj.metadata);
        let last = items(&snap.jobs)
            .iter()
            .filter(|j| ns(&j.metadata) == namespace)
            .filter(|j| {
                controller_of(&j.metadata).is_some_and(|o| o.kind == "CronJob" && o.uid == cj_uid)
            })
            .max_by_key(|j| j.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let Some(job) = last else { continue };
        let Some(c) = failed_condition(job) else {
            continue;
        };
        let key = ObjectRef::of(cj);
        let when = cj
            .status
            .as_ref()
            .and_then(|s| s.last_schedule_time.as_ref())
            .map(|t| format!(", last run {}", ctx.ago(t.0)))
            .unwrap_or_default();
        let mut f = Finding::new(
            Reason::JobFailed,
            &key,
            format!(
                "last run {} failed: {}{when}",
                name(&job.metadata),
                c.reason.as_deref().unwrap_or("Failed")
            ),
        );
        f.explains.insert(cj_uid.to_string());
        job_evidence(snap, job, &mut f);
        f = f
            .remedy(format!(
                "kubectl logs job/{} -n {namespace}",
                name(&job.metadata)
            ))
            .remedy(format!(
                "kubectl create job {}-manual -n {namespace} --from=cronjob/{}",
                key.name, key.name
            ));
        out.push(f);
    }
    out
}
