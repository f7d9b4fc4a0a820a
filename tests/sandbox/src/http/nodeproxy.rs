//! `nodes/NODE/proxy/...`: the API server's proxy to a node's kubelet, here
//! answered by the simulated kubelet. It serves the stats summary (from
//! `NodeStats` fixtures); other kubelet paths answer as the kubelet does
//! for a path it does not have.

use super::handlers::{Ctx, now};
use super::{Body, full, json_response};
use crate::error::ApiError;
use crate::meta::rfc3339;
use crate::runtime::stats::{SummaryInput, summary};
use crate::store::meta_str;
use hyper::{Response, StatusCode};
use serde_json::Value;
use std::collections::HashMap;

fn plain(code: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(full(text.to_string()));
    *r.status_mut() = code;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

pub(super) fn serve(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let state = &ctx.state;
    let node = state
        .store
        .get("/nodes", "", &ctx.r.name)
        .ok_or_else(|| ApiError::not_found("", "nodes", &ctx.r.name))?;
    if ctx.r.proxy_path.trim_matches('/') != "stats/summary" {
        return Ok(plain(StatusCode::NOT_FOUND, "404 page not found\n"));
    }
    // The kubelet's route takes GET, and POST (its older options form).
    if !matches!(ctx.r.verb, "get" | "create") {
        return Ok(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "405: Method Not Allowed",
        ));
    }
    let (pods, node_metrics, pod_metrics) = state.store.read(|inner| {
        let pods: Vec<Value> = inner
            .pods_on_node(&ctx.r.name)
            .into_iter()
            .filter_map(|(ns, name)| inner.get("/pods", &ns, &name))
            .filter(|p| {
                !matches!(
                    p.pointer("/status/phase").and_then(Value::as_str),
                    Some("Succeeded" | "Failed")
                )
            })
            .collect();
        let node_metrics = inner.get("metrics.k8s.io/nodes", "", &ctx.r.name);
        let mut pod_metrics = HashMap::new();
        for p in &pods {
            let key = (
                meta_str(p, "namespace").to_string(),
                meta_str(p, "name").to_string(),
            );
            if let Some(m) = inner.get("metrics.k8s.io/pods", &key.0, &key.1) {
                pod_metrics.insert(key, m.clone());
            }
        }
        (pods, node_metrics, pod_metrics)
    });
    let time = rfc3339(now());
    let doc = summary(
        state.runtime.node_stats(&ctx.r.name),
        &SummaryInput {
            node: &node,
            pods: &pods,
            node_metrics: node_metrics.as_ref(),
            pod_metrics: &pod_metrics,
            now: &time,
        },
    );
    Ok(json_response(200, &doc))
}
