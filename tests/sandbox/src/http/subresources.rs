//! Subresources other than status: `pods/log`, `*/scale` and `pods/eviction`
//! (`serviceaccounts/token` is in `tokens.rs`).

use super::handlers::{
    Ctx, check_rv, commit_update, now, parse_json, parse_optional_json, prepare_update,
    unsupported_patch,
};
use super::{Body, json_response};
use crate::error::ApiError;
use crate::gc::{self, Propagation};
use crate::logs::LogQuery;
use crate::meta::rfc3339;
use crate::patch::{self, PatchType};
use hyper::Response;
use serde_json::{Value, json};

pub(super) fn pod_log(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let pod = ctx
        .state
        .store
        .get(&ctx.res(), &ctx.r.namespace, &ctx.r.name)
        .ok_or_else(|| ctx.not_found())?;
    let num = |k: &str| -> Result<Option<i64>, ApiError> {
        match ctx.q.get(k) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("{k}: Invalid value: {v:?}"))),
        }
    };
    let lq = LogQuery {
        container: ctx
            .q
            .get("container")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        previous: ctx.q.flag("previous"),
        tail_lines: num("tailLines")?.map(|n| n.max(0) as usize),
        since_seconds: num("sinceSeconds")?,
        limit_bytes: num("limitBytes")?.map(|n| n.max(0) as usize),
    };
    let produced = ctx.state.runtime.logs(crate::store::meta_str(&pod, "uid"));
    let text = ctx.state.logs.read(&pod, &lq, now(), produced.as_ref())?;
    let mut r = Response::new(super::full(text));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    Ok(r)
}

pub(super) fn scale_of(obj: &Value) -> Value {
    let selector = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let meta = obj.get("metadata").cloned().unwrap_or(json!({}));
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace"), "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"), "creationTimestamp": meta.get("creationTimestamp")},
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector}})
}

pub(super) fn get_scale(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let obj = ctx
        .state
        .store
        .get(&ctx.res(), &ctx.r.namespace, &ctx.r.name)
        .ok_or_else(|| ctx.not_found())?;
    Ok(json_response(200, &scale_of(&obj)))
}

pub(super) fn write_scale(
    ctx: &Ctx,
    content_type: &str,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let stored = ctx.state.store.write(ctx.dry_run, |txn| {
        let old = txn
            .get(&ctx.res(), &ctx.r.namespace, &ctx.r.name)
            .ok_or_else(|| ctx.not_found())?;
        let mut scale = scale_of(&old);
        if ctx.r.verb == "patch" {
            let kind = PatchType::from_content_type(content_type).ok_or_else(unsupported_patch)?;
            patch::apply(kind, &mut scale, &patch::parse_body(kind, body)?)?;
        } else {
            scale = parse_json(body)?;
            check_rv(ctx, &old, &scale)?;
        }
        let replicas = scale
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                ApiError::invalid(
                    "autoscaling",
                    "Scale",
                    &ctx.r.name,
                    "spec.replicas",
                    "Required value",
                )
            })?;
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(replicas);
        let obj = prepare_update(txn.inner(), &ctx.rt, &old, new, "");
        Ok::<_, ApiError>(commit_update(txn, ctx, &old, obj, "Update"))
    })?;
    Ok(json_response(200, &scale_of(&stored)))
}

/// `pods/eviction` (policy/v1 and v1beta1 Eviction bodies): the pod's
/// PodDisruptionBudget is checked and charged in the same write that deletes
/// the pod; a budget with no disruptions left answers 429 like the real server.
pub(super) fn evict(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let ts = rfc3339(now());
    let eviction = parse_optional_json(body)?;
    let opts = eviction.get("deleteOptions").cloned().unwrap_or(json!({}));
    let dry_run = ctx.dry_run
        || opts
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("All")));
    ctx.state.store.write(dry_run, |txn| {
        let pod = txn
            .get(&ctx.res(), &ctx.r.namespace, &ctx.r.name)
            .ok_or_else(|| ctx.not_found())?;
        for (field, have) in [
            ("uid", crate::store::meta_str(&pod, "uid")),
            (
                "resourceVersion",
                crate::store::meta_str(&pod, "resourceVersion"),
            ),
        ] {
            if let Some(want) = opts
                .pointer(&format!("/preconditions/{field}"))
                .and_then(Value::as_str)
                && want != have
            {
                return Err(ApiError::conflict(
                    "",
                    "pods",
                    &ctx.r.name,
                    &format!(
                        "Precondition failed: {field}: {want}, {field} in object meta: {have}"
                    ),
                ));
            }
        }
        crate::controllers::disruption::check_eviction(txn, &pod, &ts)?;
        let propagation = opts
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .and_then(Propagation::parse)
            .unwrap_or_default();
        gc::delete(
            txn,
            &ctx.res(),
            &ctx.r.namespace,
            &ctx.r.name,
            propagation,
            &ts,
        );
        Ok::<_, ApiError>(())
    })?;
    Ok(json_response(
        201,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    ))
}
