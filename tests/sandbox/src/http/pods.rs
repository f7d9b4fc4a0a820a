//! Pod subresources that change the pod: `binding` (a scheduler's write of
//! the node, also `POST namespaces/NS/bindings`) and `ephemeralcontainers`
//! (`kubectl debug`), following the real pod registry's BindingREST and
//! EphemeralContainersREST.

use super::handlers::{
    Ctx, check_rv, commit_update, for_version, now, parse_json, unsupported_patch,
};
use super::{Body, json_response};
use crate::controllers::kubelet;
use crate::error::ApiError;
use crate::meta::rfc3339;
use crate::patch::{self, PatchType};
use crate::store::meta_str;
use hyper::Response;
use serde_json::{Value, json};

const PODS: &str = "/pods";

/// `POST pods/NAME/binding` or `POST bindings`: sets `spec.nodeName` once.
pub(super) fn bind(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let binding = parse_json(body)?;
    // `pods/x/binding` names the pod in the URL; `bindings` in the body.
    let pod_name = if ctx.r.subresource == "binding" {
        ctx.r.name.clone()
    } else {
        meta_str(&binding, "name").to_string()
    };
    let invalid = |field: &str, why: &str| ApiError::invalid("", "Binding", &pod_name, field, why);
    if pod_name.is_empty() {
        return Err(invalid("metadata.name", "Required value: name is required"));
    }
    let target_kind = binding
        .pointer("/target/kind")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !target_kind.is_empty() && target_kind != "Node" {
        return Err(invalid(
            "target.kind",
            &format!("Invalid value: \"{target_kind}\": must be empty or 'Node'"),
        ));
    }
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if node.is_empty() {
        return Err(invalid("target.name", "Required value"));
    }
    let conflict = |why: String| ApiError::conflict("", "pods/binding", &pod_name, &why);
    let ts = rfc3339(now());
    ctx.state.store.write(ctx.dry_run, |txn| {
        let old = txn
            .get(PODS, &ctx.r.namespace, &pod_name)
            .ok_or_else(|| ApiError::not_found("", "pods", &pod_name))?;
        if old.pointer("/metadata/deletionTimestamp").is_some() {
            return Err(conflict(format!(
                "pod {pod_name} is being deleted, cannot be assigned to a host"
            )));
        }
        let bound = old
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !bound.is_empty() {
            return Err(conflict(format!(
                "pod {pod_name} is already assigned to node \"{bound}\""
            )));
        }
        let mut pod = old.clone();
        pod["spec"]["nodeName"] = json!(node);
        // setPodNodeAndMetadata: the binding's annotations are copied over.
        if let Some(a) = binding
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        {
            for (k, v) in a {
                pod["metadata"]["annotations"][k] = v.clone();
            }
        }
        let conditions = pod["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut conditions: Vec<Value> = conditions
            .into_iter()
            .filter(|c| c["type"] != "PodScheduled")
            .collect();
        conditions.push(json!({"type": "PodScheduled", "status": "True",
            "lastProbeTime": null, "lastTransitionTime": ts}));
        pod["status"]["conditions"] = json!(conditions);
        // Stored directly, as BindingREST's GuaranteedUpdate does (also when
        // the request came through `bindings`, whose type is not Pod).
        txn.put(PODS, pod);
        Ok::<_, ApiError>(())
    })?;
    Ok(json_response(
        201,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    ))
}

fn names(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// `ValidatePodEphemeralContainersUpdate`: ephemeral containers may only be
/// added, each with a new, unique name.
fn validate_ephemeral(name: &str, old: &Value, new: &[Value]) -> Result<(), ApiError> {
    let invalid = |field: String, why: String| ApiError::invalid("", "Pod", name, &field, &why);
    let existing: Vec<&Value> = old
        .pointer("/spec/ephemeralContainers")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    for e in &existing {
        let ename = e.get("name").and_then(Value::as_str).unwrap_or("");
        match new
            .iter()
            .find(|n| n.get("name").and_then(Value::as_str) == Some(ename))
        {
            None => {
                return Err(invalid(
                    "spec.ephemeralContainers".into(),
                    format!(
                        "Forbidden: existing ephemeral containers \"{ename}\" may not be removed"
                    ),
                ));
            }
            Some(n) if n != *e => {
                return Err(invalid(
                    "spec.ephemeralContainers".into(),
                    format!(
                        "Forbidden: existing ephemeral containers \"{ename}\" may not be changed"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    let mut taken = names(old.pointer("/spec/containers"));
    taken.extend(names(old.pointer("/spec/initContainers")));
    let mut seen = Vec::new();
    for (i, c) in new.iter().enumerate() {
        let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
        let field = format!("spec.ephemeralContainers[{i}].name");
        if cname.is_empty() {
            return Err(invalid(field, "Required value".into()));
        }
        if taken.iter().any(|t| t == cname) || seen.contains(&cname) {
            return Err(invalid(field, format!("Duplicate value: \"{cname}\"")));
        }
        seen.push(cname);
    }
    Ok(())
}

/// The kubelet's status for an ephemeral container it starts: running in a
/// running pod (ephemeral containers are never ready).
fn ephemeral_status(container: &Value, ts: &str) -> Value {
    let image = container.get("image").and_then(Value::as_str).unwrap_or("");
    json!({"name": container.get("name"), "image": image, "imageID": kubelet::image_id(image),
        "containerID": kubelet::container_id(), "ready": false, "restartCount": 0,
        "state": {"running": {"startedAt": ts}}, "lastState": {}})
}

/// `PUT`/`PATCH pods/NAME/ephemeralcontainers`: only
/// `spec.ephemeralContainers` changes; the answer is the whole pod.
pub(super) fn write_ephemeral(
    ctx: &Ctx,
    content_type: &str,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let ts = now();
    let stored = ctx.state.store.write(ctx.dry_run, |txn| {
        let old = txn
            .get(PODS, &ctx.r.namespace, &ctx.r.name)
            .ok_or_else(|| ctx.not_found())?;
        let mut doc = for_version(&ctx.rt, old.clone());
        if ctx.r.verb == "patch" {
            let kind = PatchType::from_content_type(content_type).ok_or_else(unsupported_patch)?;
            patch::apply(kind, &mut doc, &patch::parse_body(kind, body)?)?;
        } else {
            doc = parse_json(body)?;
            check_rv(ctx, &old, &doc)?;
        }
        let mut wanted: Vec<Value> = doc
            .pointer("/spec/ephemeralContainers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // New containers are defaulted like any container of a pod spec.
        let mut probe = json!({"spec": {"ephemeralContainers": wanted}});
        crate::defaults::apply_kind("", "Pod", &mut probe);
        wanted = probe["spec"]["ephemeralContainers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        validate_ephemeral(&ctx.r.name, &old, &wanted)?;
        let mut pod = old.clone();
        let started = names(old.pointer("/spec/ephemeralContainers"));
        pod["spec"]["ephemeralContainers"] = json!(wanted);
        if kubelet::is_running(&old) {
            let stamp = rfc3339(ts);
            let mut statuses = pod["status"]["ephemeralContainerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for c in wanted.iter().filter(|c| {
                let n = c.get("name").and_then(Value::as_str).unwrap_or("");
                !started.iter().any(|s| s == n)
            }) {
                statuses.push(ephemeral_status(c, &stamp));
            }
            pod["status"]["ephemeralContainerStatuses"] = json!(statuses);
        }
        Ok::<_, ApiError>(commit_update(txn, ctx, &old, pod, "Update"))
    })?;
    Ok(json_response(200, &for_version(&ctx.rt, stored)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ephemeral_containers_may_only_be_added() {
        let old = json!({"spec": {"containers": [{"name": "app"}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"}]}});
        let keep = json!({"name": "debug", "image": "busybox"});
        assert!(validate_ephemeral("p", &old, &[keep.clone(), json!({"name": "d2"})]).is_ok());
        let err = validate_ephemeral("p", &old, &[]).expect_err("removed");
        assert!(
            err.message.contains("may not be removed"),
            "{}",
            err.message
        );
        let changed = json!({"name": "debug", "image": "alpine"});
        let err = validate_ephemeral("p", &old, &[changed]).expect_err("changed");
        assert!(err.message.contains("may not be changed"));
        let err =
            validate_ephemeral("p", &old, &[keep, json!({"name": "app"})]).expect_err("duplicate");
        assert_eq!(err.code, 422);
        assert!(
            err.message.contains("Duplicate value: \"app\""),
            "{}",
            err.message
        );
    }
}
