//! AdmissionWebhookDown: a Validating/MutatingWebhookConfiguration whose
//! webhook fails closed (`failurePolicy: Fail`) while its Service is missing or
//! has no ready endpoint: every matching write in the namespaces it selects is
//! rejected ("nothing deploys").

use super::Context;
use crate::report::{Finding, Reason};
use crate::selectors;
use crate::snapshot::{ObjectRef, ServiceHealth, Snapshot, Webhook, WebhookConfig, items};
use crate::text::capped;

/// Why a webhook's backend cannot answer, if it cannot (`None`: fine or unknown).
fn down(snap: &Snapshot, w: &Webhook) -> Option<String> {
    let (namespace, svc, port) = w.service.as_ref()?;
    let health = snap.service_health(namespace, svc)?;
    match health {
        ServiceHealth::Missing => Some(format!("Service {namespace}/{svc} does not exist")),
        ServiceHealth::Endpoints { ready: 0, total } => Some(format!(
            "Service {namespace}/{svc} (port {port}) has no ready endpoints (0/{total})"
        )),
        ServiceHealth::Endpoints { .. } => None,
    }
}

/// The namespaces in scope the webhook's namespaceSelector matches.
fn matched_namespaces<'a>(snap: &'a Snapshot, w: &Webhook) -> Vec<&'a str> {
    snap.namespace_labels
        .iter()
        .filter(|(_, labels)| {
            w.namespace_selector
                .as_ref()
                .is_none_or(|s| selectors::matches(s, labels))
        })
        .map(|(n, _)| n.as_str())
        .collect()
}

fn finding(cfg: &WebhookConfig, down: Vec<(usize, &Webhook, String, Vec<&str>)>) -> Finding {
    let key = ObjectRef::new(&cfg.kind, "", &cfg.name);
    let (_, first, why, _) = &down[0];
    let mut f = Finding::new(
        Reason::AdmissionWebhookDown,
        &key,
        format!(
            "webhook {} fails closed and {}: matching writes are rejected",
            first.name,
            why.replace("Service ", "its Service ")
        ),
    );
    let resource = cfg.kind.to_lowercase();
    for (i, w, why, namespaces) in &down {
        f.add_evidence(format!("webhook {}: failurePolicy Fail; {why}", w.name));
        if !w.rules.is_empty() {
            f.add_evidence(format!("  rules: {}", w.rules.join("; ")));
        }
        let shown: Vec<String> = namespaces.iter().map(|n| n.to_string()).collect();
        let text = capped(shown, 8).join(", ");
        f.add_evidence(format!(
            "  blocks matching writes in namespace(s): {text}{}",
            w.namespace_selector
                .as_ref()
                .map(|s| format!(" (namespaceSelector {})", selectors::text(s)))
                .unwrap_or_default()
        ));
        if let Some(s) = &w.object_selector {
            f.add_evidence(format!(
                "  only objects matching objectSelector {}",
                selectors::text(s)
            ));
        }
        if let Some((namespace, svc, _)) = &w.service {
            f = f.remedy(format!(
                "kubectl get endpointslices -n {namespace} -l kubernetes.io/service-name={svc}"
            ));
            f = f.remedy(format!("kubectl describe service {svc} -n {namespace}"));
        }
        // The escape hatch while the backend is down: let writes through.
        f = f.remedy(format!(
            "kubectl patch {resource} {} --type json -p '[{{\"op\":\"replace\",\"path\":\"/webhooks/{i}/failurePolicy\",\"value\":\"Ignore\"}}]'",
            cfg.name
        ));
    }
    f.explains.insert(cfg.uid.clone());
    f
}

pub fn check(snap: &Snapshot, _ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for cfg in items(&snap.webhooks) {
        let mut bad = Vec::new();
        for (i, w) in cfg.webhooks.iter().enumerate() {
            if w.failure_policy != "Fail" {
                continue;
            }
            let Some(why) = down(snap, w) else { continue };
            let namespaces = matched_namespaces(snap, w);
            if namespaces.is_empty() {
                continue;
            }
            bad.push((i, w, why, namespaces));
        }
        if !bad.is_empty() {
            out.push(finding(cfg, bad));
        }
    }
    out
}
