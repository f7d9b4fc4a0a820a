//! The verbs: get, list, create, update, patch, delete, deletecollection and
//! the subresources (status, scale, log, eviction), plus access reviews,
//! discovery and OpenAPI endpoints. Semantics follow the real API server's
//! generic registry (rv preconditions, immutable metadata, status split).

use super::auth::{self, Attributes, Identity};
use super::negotiate::{Format, Offer, include_object, negotiate};
use super::routing::{ResourceRequest, Route};
use super::{Body, Query, State, error_response, json_bytes, json_response, watch};
use super::{reviews, subresources};
use crate::error::{ApiError, success_status};
use crate::gc::{self, Propagation};
use crate::meta::{fill_create_metadata, metadata_mut, rfc3339};
use crate::patch::{self, PatchType};
use crate::registry::{Generation, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{Inner, ListQuery, Txn, meta_str};
use crate::{discovery, openapi, table};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

fn header(req: &Request<Incoming>, name: hyper::header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub async fn dispatch(
    state: Arc<State>,
    req: Request<Incoming>,
    route: Route,
    q: Query,
    who: Identity,
) -> Response<Body> {
    let accept = header(&req, hyper::header::ACCEPT);
    let plain = |v: Option<Value>| -> Response<Body> {
        match (negotiate(accept.as_deref(), Offer::Plain), v) {
            (None, _) => error_response(&not_acceptable()),
            (_, None) => error_response(&ApiError::no_route()),
            (Some(_), Some(v)) => json_response(200, &v),
        }
    };
    let raw = |v: Option<Value>| -> Response<Body> {
        match (negotiate(accept.as_deref(), Offer::Plain), v) {
            (None, _) => error_response(&not_acceptable()),
            (_, None) => error_response(&ApiError::no_route()),
            (Some(_), Some(v)) => json_bytes(
                200,
                "application/json",
                serde_json::to_vec(&v).unwrap_or_default(),
            ),
        }
    };
    let discovery_doc = |legacy: bool, fallback: Value| -> Response<Body> {
        match negotiate(accept.as_deref(), Offer::Discovery) {
            None => error_response(&not_acceptable()),
            Some(Format::AggregatedDiscovery) => {
                let doc = discovery::aggregated_discovery(&state.registry(), legacy);
                json_bytes(
                    200,
                    discovery::AGGREGATED_CONTENT_TYPE,
                    crate::wire::body(&doc),
                )
            }
            Some(_) => json_response(200, &fallback),
        }
    };
    match route {
        Route::Health => {
            let mut r = Response::new(super::full("ok"));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
        // `WriteRawJSON` in the real server: indented, no final newline.
        Route::Version => match negotiate(accept.as_deref(), Offer::Plain) {
            None => error_response(&not_acceptable()),
            Some(_) => json_bytes(
                200,
                "application/json",
                serde_json::to_vec_pretty(&discovery::version()).unwrap_or_default(),
            ),
        },
        Route::CoreVersions => discovery_doc(true, discovery::core_api_versions(&state.address)),
        Route::Groups => {
            let list = discovery::api_group_list(&state.registry());
            discovery_doc(false, list)
        }
        Route::Group(g) => plain(discovery::api_group(&state.registry(), &g)),
        Route::ResourceList(g, v) => plain(discovery::api_resource_list(&state.registry(), &g, &v)),
        // kubectl asks for v2 only as protobuf (its fallback when a group is
        // missing from v3); "not served" lets it go on as it would against a
        // server without that schema, where 406 would fail validation.
        Route::OpenApiV2 if negotiate(accept.as_deref(), Offer::Plain).is_none() => {
            error_response(&ApiError::no_route())
        }
        // kube-openapi writes the marshalled document as it is (no newline).
        Route::OpenApiV2 => raw(Some(openapi::v2(&state.registry()))),
        Route::OpenApiV3Index => raw(Some(openapi::v3_index(&state.registry()))),
        Route::OpenApiV3(p) => raw(openapi::v3_document(&state.registry(), &p)),
        Route::ExecSessions if !who.is_unrestricted() => {
            error_response(&ApiError::forbidden(format!(
                "User \"{}\" cannot read the sandbox's exec sessions (admin only)",
                who.name()
            )))
        }
        Route::ExecSessions => json_response(200, &super::exec::sessions_document(&state, &q)),
        Route::NotFound => error_response(&ApiError::no_route()),
        Route::MethodNotAllowed => error_response(&ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
        Route::Resource(r) => {
            let deprecated = deprecation_warning(&r);
            let mut resp = match resource(state, req, r, q, who, accept).await {
                Ok(resp) => resp,
                Err(e) => error_response(&e),
            };
            if let Some(w) = deprecated.and_then(|w| w.parse().ok()) {
                resp.headers_mut().insert(hyper::header::WARNING, w);
            }
            resp
        }
    }
}

/// The `Warning` header a real server sends with every request to a
/// deprecated API (`k8s.io/apiserver` deprecation filter).
fn deprecation_warning(r: &ResourceRequest) -> Option<&'static str> {
    (r.group.is_empty() && r.version == "v1" && r.plural == "componentstatuses")
        .then_some("299 - \"v1 ComponentStatus is deprecated in v1.19+\"")
}

fn not_acceptable() -> ApiError {
    ApiError::not_acceptable(
        "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
    )
}

/// Everything one resource request needs after routing.
pub(super) struct Ctx {
    pub(super) state: Arc<State>,
    pub(super) rt: ResourceType,
    pub(super) r: ResourceRequest,
    pub(super) q: Query,
    pub(super) format: Format,
    pub(super) who: Identity,
    pub(super) dry_run: bool,
    /// `?fieldManager=`, else the client's User-Agent name (as the real server derives it).
    pub(super) manager: String,
}

impl Ctx {
    pub(super) fn res(&self) -> String {
        crate::convert::storage_key(&self.rt.group, &self.rt.plural)
    }

    pub(super) fn not_found(&self) -> ApiError {
        ApiError::not_found(&self.rt.group, &self.rt.plural, &self.r.name)
    }
}

async fn resource(
    state: Arc<State>,
    req: Request<Incoming>,
    r: ResourceRequest,
    q: Query,
    who: Identity,
    accept: Option<String>,
) -> Result<Response<Body>, ApiError> {
    let rt = state
        .registry()
        .by_plural(&r.group, &r.version, &r.plural)
        .cloned()
        .ok_or_else(ApiError::no_route)?;
    if (!rt.namespaced && !r.namespace.is_empty())
        || (rt.namespaced
            && r.namespace.is_empty()
            && !matches!(r.verb, "list" | "watch" | "create"))
        || (!r.subresource.is_empty() && !rt.has_subresource(&r.subresource))
    {
        return Err(ApiError::no_route());
    }
    if r.subresource.is_empty() && !rt.verbs.iter().any(|v| v == r.verb) {
        return Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let attrs = Attributes {
        verb: r.verb.to_string(),
        group: r.group.clone(),
        resource: r.plural.clone(),
        subresource: r.subresource.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
    };
    if !state.store.read(|inner| auth::allowed(inner, &who, &attrs)) {
        return Err(auth::forbidden(&who, &attrs));
    }
    if r.subresource == "exec" && matches!(r.verb, "get" | "create") {
        // An upgrade: the request is handed over before its body is read.
        return super::exec::serve(state, req, &r, &q, &who).await;
    }
    let format = if r.subresource == "log" || r.subresource == "proxy" {
        Format::Json
    } else {
        negotiate(accept.as_deref(), Offer::Resource).ok_or_else(not_acceptable)?
    };
    let content_type = header(&req, hyper::header::CONTENT_TYPE).unwrap_or_default();
    let manager = q
        .get("fieldManager")
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .or_else(|| {
            header(&req, hyper::header::USER_AGENT)
                .and_then(|ua| ua.split('/').next().map(str::to_string))
                .filter(|m| !m.is_empty())
        })
        .unwrap_or_else(|| "unknown".to_string());
    let protobuf = content_type.starts_with("application/vnd.kubernetes.protobuf");
    let mut body = req
        .into_body()
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?
        .to_bytes();
    // Typed clients (kubectl create namespace, auth can-i, ...) send protobuf;
    // the kinds they create that way are decoded, anything else is 415.
    if protobuf && !body.is_empty() {
        let doc = super::protobuf::decode(&body).ok_or_else(|| {
            ApiError::unsupported_media_type(format!(
                "kube-sandbox cannot decode this protobuf body (content type {content_type}); send application/json"
            ))
        })?;
        body = serde_json::to_vec(&doc).unwrap_or_default().into();
    }
    let dry_run = match q.get("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
            )));
        }
    };
    let mut ctx = Ctx {
        state,
        rt,
        r,
        q,
        format,
        who,
        dry_run,
        manager,
    };
    if ctx.r.plural == "namespaces" && ctx.r.verb == "create" {
        ctx.r.namespace.clear();
    }
    match (ctx.r.verb, ctx.r.subresource.as_str()) {
        ("watch", _) => watch::respond(
            &ctx.state,
            &ctx.rt,
            list_query(&ctx.r, &ctx.q)?,
            &ctx.q,
            ctx.format,
        ),
        ("list", _) => list(&ctx),
        (_, "proxy") if ctx.rt.kind == "Node" => super::nodeproxy::serve(&ctx),
        ("get", "log") => subresources::pod_log(&ctx),
        ("get", "scale") => subresources::get_scale(&ctx),
        ("get", "" | "status" | "ephemeralcontainers" | "approval") => {
            let obj = ctx
                .state
                .store
                .stored(&ctx.res(), &ctx.r.namespace, &ctx.r.name)
                .ok_or_else(|| ctx.not_found())?;
            if ctx.format == Format::Json {
                // The stored bytes as they are (and Go's final newline).
                let mut body = super::listing::served_json(&ctx.rt, &obj).to_vec();
                body.push(b'\n');
                return Ok(json_bytes(200, "application/json", body));
            }
            Ok(render(&ctx, 200, obj.value()))
        }
        ("create", "") if ctx.rt.group == "authorization.k8s.io" => reviews::review(&ctx, &body),
        ("create", "") if ctx.rt.kind == "SelfSubjectReview" => reviews::whoami(&ctx),
        ("create", "token") => super::tokens::request(&ctx, &body),
        ("create", "") if ctx.rt.kind == "TokenReview" => super::tokens::review(&ctx, &body),
        ("create", "") if ctx.rt.kind == "Binding" => super::pods::bind(&ctx, &body),
        ("create", "") => create(&ctx, &body),
        ("create", "eviction") => subresources::evict(&ctx, &body),
        ("create", "binding") => super::pods::bind(&ctx, &body),
        ("update" | "patch", "ephemeralcontainers") => {
            super::pods::write_ephemeral(&ctx, &content_type, &body)
        }
        ("update" | "patch", "scale") => subresources::write_scale(&ctx, &content_type, &body),
        ("update", "" | "status" | "approval") => update(&ctx, &body),
        ("patch", "" | "status" | "approval") => patch_object(&ctx, &content_type, &body),
        ("delete", "") => delete(&ctx, &body),
        ("deletecollection", "") => delete_collection(&ctx, &body),
        _ => Err(ApiError::method_not_allowed(format!(
            "{} {}/{} is not supported by kube-sandbox",
            ctx.r.verb, ctx.r.plural, ctx.r.subresource
        ))),
    }
}

pub fn list_query(r: &ResourceRequest, q: &Query) -> Result<ListQuery, ApiError> {
    Ok(ListQuery {
        namespace: Some(r.namespace.clone()).filter(|n| !n.is_empty()),
        labels: LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?,
        fields: {
            let f = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))?;
            f.check_supported(&r.group, &r.plural)?;
            let f = f.map_paths(|p| crate::convert::stored_field_path(&r.group, &r.plural, p));
            if r.name.is_empty() {
                f
            } else {
                f.and_name(&r.name)
            }
        },
        limit: match q.get("limit") {
            Some(l) if !l.is_empty() => Some(
                l.parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid limit: {l:?}")))?,
            ),
            _ => None,
        },
        continue_token: q.get("continue").map(str::to_string),
    })
}

/// The object as served under the requested group/version, keys in the
/// order a real server writes them (the store keeps them in that order, so
/// only a converted object needs reordering).
pub fn for_version(rt: &ResourceType, obj: Value) -> Value {
    let obj = set_type(rt, crate::convert::to_served(rt, obj));
    if crate::convert::converts(rt) {
        crate::wire::order_object(rt, obj)
    } else {
        obj
    }
}

fn set_type(rt: &ResourceType, mut obj: Value) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.insert("apiVersion".into(), json!(rt.api_version()));
        m.insert("kind".into(), json!(rt.kind));
    }
    obj
}

/// A client's object (in the requested version's shape) as storage keeps it.
fn stored_type(rt: &ResourceType, obj: Value) -> Value {
    crate::convert::to_stored(rt, set_type(rt, obj))
}

pub fn partial(obj: &Value) -> Value {
    let meta = obj.get("metadata").cloned().unwrap_or(json!({}));
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
        "metadata": crate::wire::order_metadata(meta)})
}

/// One object in the negotiated format (JSON, Table or PartialObjectMetadata).
pub fn encode_object(
    state: &State,
    rt: &ResourceType,
    obj: Value,
    format: Format,
    q: &Query,
) -> Value {
    let obj = for_version(rt, obj);
    match format {
        Format::Table => {
            let _ = state;
            let rv = meta_str(&obj, "resourceVersion").to_string();
            table::to_table(
                rt,
                &[obj],
                json!({"resourceVersion": rv}),
                include_object(q.get("includeObject")),
                now(),
            )
        }
        Format::PartialMetadata => partial(&obj),
        Format::Json | Format::AggregatedDiscovery => obj,
    }
}

fn render(ctx: &Ctx, code: u16, obj: Value) -> Response<Body> {
    json_response(
        code,
        &encode_object(&ctx.state, &ctx.rt, obj, ctx.format, &ctx.q),
    )
}

fn list(ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    let lq = list_query(&ctx.r, &ctx.q)?;
    let page = ctx.state.store.list(&ctx.res(), &lq)?;
    let mut meta = json!({"resourceVersion": page.rv.to_string()});
    if let Some(c) = page.continue_token {
        meta["continue"] = json!(c);
    }
    if let Some(n) = page.remaining {
        meta["remainingItemCount"] = json!(n);
    }
    let parsed = || -> Vec<Value> {
        page.items
            .iter()
            .map(|o| for_version(&ctx.rt, o.value()))
            .collect()
    };
    let doc = match ctx.format {
        Format::Table => table::to_table(
            &ctx.rt,
            &parsed(),
            meta,
            include_object(ctx.q.get("includeObject")),
            now(),
        ),
        Format::PartialMetadata => {
            json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
            "metadata": meta, "items": parsed().iter().map(partial).collect::<Vec<_>>()})
        }
        // Plain JSON: the stored bytes, streamed.
        Format::Json | Format::AggregatedDiscovery => {
            let mut resp = Response::new(super::listing::json_list(&ctx.rt, meta, page.items));
            resp.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            return Ok(resp);
        }
    };
    Ok(json_response(200, &doc))
}

pub(super) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(body).or_else(|e| {
        // kubectl sends JSON; other clients may send YAML.
        std::str::from_utf8(body)
            .ok()
            .and_then(|t| serde_saphyr::from_str::<Value>(t).ok())
            .filter(Value::is_object)
            .ok_or_else(|| {
                ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
            })
    })?;
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    Ok(v)
}

/// A body that may be empty (DELETE options, evictions, token requests).
pub(super) fn parse_optional_json(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(json!({}))
    } else {
        parse_json(body)
    }
}

const NAME_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn valid_name(rt: &ResourceType, name: &str) -> bool {
    let rbac = rt.group == "rbac.authorization.k8s.io";
    name.len() <= 253
        && name.bytes().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == b'-'
                || c == b'.'
                || (rbac && c == b':')
        })
        && name
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Create inside a write: name generation, namespace checks, server metadata.
fn create_in(
    txn: &mut Txn<'_>,
    ctx: &Ctx,
    mut obj: Value,
    ts: jiff::Timestamp,
) -> Result<Value, ApiError> {
    let rt = &ctx.rt;
    if let Some(k) = obj.get("kind").and_then(Value::as_str)
        && k != rt.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind of the provided object ({k}) does not match the resource ({})",
            rt.kind
        )));
    }
    let body_ns = meta_str(&obj, "namespace").to_string();
    let ns = if rt.namespaced {
        let path_ns = if ctx.r.namespace.is_empty() {
            body_ns.clone()
        } else {
            ctx.r.namespace.clone()
        };
        if !body_ns.is_empty() && body_ns != path_ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if path_ns.is_empty() {
            return Err(ApiError::no_route());
        }
        if !txn.contains("/namespaces", "", &path_ns) {
            return Err(ApiError::not_found("", "namespaces", &path_ns));
        }
        Some(path_ns)
    } else {
        None
    };
    let meta =
        metadata_mut(&mut obj).ok_or_else(|| ApiError::bad_request("object has no metadata"))?;
    if meta
        .get("resourceVersion")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
    {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    for k in [
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "resourceVersion",
    ] {
        meta.remove(k);
    }
    let mut name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() {
        let prefix = meta
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if prefix.is_empty() {
            return Err(ApiError::invalid(
                &rt.group,
                &rt.kind,
                "",
                "metadata.name",
                "Required value: name or generateName is required",
            ));
        }
        let suffix: String = (0..5)
            .map(|_| NAME_CHARS[rand::random_range(0..NAME_CHARS.len())] as char)
            .collect();
        name = format!("{prefix}{suffix}");
        meta.insert("name".into(), json!(name));
    }
    if !valid_name(rt, &name) {
        return Err(ApiError::invalid(
            &rt.group,
            &rt.kind,
            &name,
            "metadata.name",
            &format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ),
        ));
    }
    if txn
        .get(&ctx.res(), ns.as_deref().unwrap_or(""), &name)
        .is_some()
    {
        return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
    }
    let mut obj = stored_type(rt, obj);
    fill_create_metadata(&mut obj, ns.as_deref(), ts);
    // PrepareForCreate: status is the controllers' to write, so a create
    // starts without one; defaulting (which a real server also applies when
    // it reads the stored object back) then fills the status defaults, such
    // as a PVC's Pending phase or a Service's empty load balancer.
    if rt.has_subresource("status")
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    crate::defaults::apply(rt, &mut obj);
    match (rt.group.as_str(), rt.kind.as_str()) {
        _ if rt.custom => {}
        ("", "Service") => crate::services::allocate(txn.inner(), &mut obj),
        ("", "Namespace") => {
            // The namespace strategy requires the `kubernetes` finalizer.
            let spec = obj
                .as_object_mut()
                .and_then(|o| o.entry("spec").or_insert(json!({})).as_object_mut());
            if let Some(spec) = spec {
                let finalizers = spec.entry("finalizers").or_insert(json!([]));
                if let Some(list) = finalizers.as_array_mut()
                    && !list.iter().any(|f| f == "kubernetes")
                {
                    list.push(json!("kubernetes"));
                }
            }
        }
        ("batch", "Job") => crate::defaults::job_selector(&mut obj),
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            super::certificates::prepare_create(&ctx.who, &name, &mut obj)?;
        }
        ("", "Pod") => {
            // Like the pod strategy: a new pod is Pending whatever the client sent.
            let qos = crate::meta::qos_class(&obj);
            obj["status"] = json!({"phase": "Pending", "qosClass": qos});
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            let mut probe = crate::registry::Registry::builtin();
            probe
                .add_crd(&obj)
                .map_err(|e| ApiError::invalid(&rt.group, &rt.kind, &name, "spec", &e))?;
            obj["status"] = json!({"conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "lastTransitionTime": rfc3339(ts)},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "lastTransitionTime": rfc3339(ts)}],
                "acceptedNames": obj.pointer("/spec/names").cloned().unwrap_or(json!({}))});
        }
        _ => {}
    }
    let operation = if ctx.r.verb == "patch" {
        "Apply"
    } else {
        "Update"
    };
    record_manager(&mut obj, ctx, operation, ts);
    Ok(txn.put(&ctx.res(), obj))
}

fn create(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let obj = parse_json(body)?;
    let ts = now();
    let created = ctx
        .state
        .store
        .write(ctx.dry_run, |txn| create_in(txn, ctx, obj, ts))?;
    after_write(ctx, &created, false);
    Ok(render(ctx, 201, created))
}

/// Side effects outside the store: CRDs change what the registry serves.
fn after_write(ctx: &Ctx, obj: &Value, deleted: bool) {
    if ctx.dry_run || ctx.rt.kind != "CustomResourceDefinition" {
        return;
    }
    let mut reg = ctx
        .state
        .registry
        .write()
        .unwrap_or_else(|e| e.into_inner());
    if deleted {
        reg.remove_crd(obj);
    } else if let Err(e) = reg.add_crd(obj) {
        tracing::warn!("CRD not registered: {e}");
    }
    // The registry lock is not held across the store write.
    let served = reg.clone();
    drop(reg);
    ctx.state.store.write(false, |txn| {
        crate::bootstrap::sync_api_services(txn, &served, now())
    });
}

fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            for k in ["metadata", "status", "apiVersion", "kind"] {
                m.remove(k);
            }
        }
        v
    };
    strip(old) != strip(new)
}

/// The stored object after an update: immutable metadata kept, the status
/// split honoured, generation bumped when the spec changed.
pub(super) fn prepare_update(
    inner: &Inner,
    rt: &ResourceType,
    old: &Value,
    new: Value,
    subresource: &str,
) -> Value {
    let mut out = if subresource == "approval" {
        super::certificates::approve(old, &new, &rfc3339(now()))
    } else if subresource == "status" {
        let mut o = old.clone();
        match new.get("status") {
            Some(s) => o["status"] = s.clone(),
            None => {
                if let Some(m) = o.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        o
    } else {
        let mut n = new;
        if rt.has_subresource("status") {
            match old.get("status") {
                Some(s) => n["status"] = s.clone(),
                None => {
                    if let Some(m) = n.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
        }
        n
    };
    out = stored_type(rt, out);
    // Every write is decoded, so defaulted, again (a patch that drops a
    // defaulted field gets it back), as in a real server.
    crate::defaults::apply(rt, &mut out);
    if rt.kind == "Service" && !rt.custom {
        crate::services::keep_allocated(old, &mut out);
        crate::services::allocate(inner, &mut out);
    }
    let policy = if rt.custom {
        Generation::Tracked
    } else {
        crate::registry::generation_of(&rt.api_version(), &rt.kind)
    };
    let old_generation = old.pointer("/metadata/generation").and_then(Value::as_i64);
    let generation = match (policy, old_generation) {
        (Generation::None, _) => None,
        (Generation::BumpOnly, None) => Some(0),
        (_, g) => Some(g.unwrap_or(1)),
    };
    let generation = generation.map(|g| {
        if subresource != "status" && spec_changed(old, &out) {
            g + 1
        } else {
            g
        }
    });
    if let Some(m) = metadata_mut(&mut out) {
        for k in [
            "uid",
            "creationTimestamp",
            "namespace",
            "name",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            match old.get("metadata").and_then(|om| om.get(k)) {
                Some(v) => m.insert(k.into(), v.clone()),
                None => m.remove(k),
            };
        }
        match generation {
            Some(g) if g > 0 => m.insert("generation".into(), json!(g)),
            _ => m.remove("generation"),
        };
    }
    out
}

pub(super) fn check_rv(ctx: &Ctx, old: &Value, new: &Value) -> Result<(), ApiError> {
    let want = meta_str(new, "resourceVersion");
    if !want.is_empty() && want != meta_str(old, "resourceVersion") {
        return Err(ApiError::conflict(
            &ctx.rt.group,
            &ctx.rt.plural,
            &ctx.r.name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ));
    }
    Ok(())
}

/// A write naming another UID is refused as the real server's metadata validation does
/// (`ValidateObjectMetaUpdate`: 422 `metadata.uid: Invalid value: "...": field is
/// immutable`); clients use it as a "still the same object" precondition.
pub(super) fn check_uid(ctx: &Ctx, old: &Value, new: &Value) -> Result<(), ApiError> {
    let want = meta_str(new, "uid");
    if !want.is_empty() && want != meta_str(old, "uid") {
        return Err(ApiError::invalid(
            &ctx.rt.group,
            &ctx.rt.kind,
            &ctx.r.name,
            "metadata.uid",
            &format!("Invalid value: \"{want}\": field is immutable"),
        ));
    }
    Ok(())
}

/// Stores an updated object; an object being deleted whose last finalizer
/// went away is deleted now.
pub(super) fn commit_update(
    txn: &mut Txn<'_>,
    ctx: &Ctx,
    old: &Value,
    mut obj: Value,
    operation: &str,
) -> Value {
    // Like the real server, a write that changes nothing is not a write: no
    // new resourceVersion, no watch event.
    let comparable = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            m.remove("managedFields");
        }
        v
    };
    if comparable(old) == comparable(&obj) {
        return old.clone();
    }
    record_manager(&mut obj, ctx, operation, now());
    let stored = txn.put(&ctx.res(), obj);
    let terminating = stored.pointer("/metadata/deletionTimestamp").is_some();
    let finalizers = stored
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if terminating && !finalizers {
        let ts = rfc3339(now());
        gc::delete(
            txn,
            &ctx.res(),
            &ctx.r.namespace,
            &ctx.r.name,
            Propagation::Background,
            &ts,
        );
    }
    stored
}

fn update(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let new = parse_json(body)?;
    let body_name = meta_str(&new, "name");
    if !body_name.is_empty() && body_name != ctx.r.name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({})",
            ctx.r.name
        )));
    }
    let stored = ctx.state.store.write(ctx.dry_run, |txn| {
        let old = txn
            .get(&ctx.res(), &ctx.r.namespace, &ctx.r.name)
            .ok_or_else(|| ctx.not_found())?;
        check_rv(ctx, &old, &new)?;
        check_uid(ctx, &old, &new)?;
        let obj = prepare_update(txn.inner(), &ctx.rt, &old, new, &ctx.r.subresource);
        Ok::<_, ApiError>(commit_update(txn, ctx, &old, obj, "Update"))
    })?;
    after_write(ctx, &stored, false);
    Ok(render(ctx, 200, stored))
}

pub(super) fn unsupported_patch() -> ApiError {
    ApiError::unsupported_media_type(
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
    )
}

fn patch_object(ctx: &Ctx, content_type: &str, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let kind = PatchType::from_content_type(content_type).ok_or_else(unsupported_patch)?;
    let p = patch::parse_body(kind, body)?;
    let ts = now();
    let (code, stored) = ctx.state.store.write(ctx.dry_run, |txn| {
        let Some(old) = txn.get(&ctx.res(), &ctx.r.namespace, &ctx.r.name) else {
            if kind == PatchType::Apply && ctx.r.subresource.is_empty() {
                return Ok((201, create_in(txn, ctx, p.clone(), ts)?));
            }
            return Err(ctx.not_found());
        };
        // Patches apply to the object as this version shows it.
        let mut doc = for_version(&ctx.rt, old.clone());
        patch::apply(kind, &mut doc, &p)?;
        if kind != PatchType::Json {
            check_rv(ctx, &old, &p)?;
        }
        if meta_str(&doc, "resourceVersion") != meta_str(&old, "resourceVersion") {
            check_rv(ctx, &old, &doc)?;
        }
        check_uid(ctx, &old, &doc)?;
        let obj = prepare_update(txn.inner(), &ctx.rt, &old, doc, &ctx.r.subresource);
        let operation = if kind == PatchType::Apply {
            "Apply"
        } else {
            "Update"
        };
        Ok::<_, ApiError>((200, commit_update(txn, ctx, &old, obj, operation)))
    })?;
    after_write(ctx, &stored, false);
    Ok(render(ctx, code, stored))
}

/// A managedFields entry per (manager, operation, subresource), as the real
/// server keeps them; the field set is the object's shape, not an exact
/// ownership record.
fn record_manager(obj: &mut Value, ctx: &Ctx, operation: &str, ts: jiff::Timestamp) {
    fn shape(v: &Value) -> Value {
        match v {
            Value::Object(m) if !m.is_empty() => {
                let mut out = serde_json::Map::new();
                out.insert(".".into(), json!({}));
                for (k, x) in m {
                    out.insert(format!("f:{k}"), shape(x));
                }
                Value::Object(out)
            }
            _ => json!({}),
        }
    }
    let mut fields = serde_json::Map::new();
    if let Some(m) = obj.as_object() {
        for (k, v) in m {
            match k.as_str() {
                "apiVersion" | "kind" => {}
                "metadata" => {
                    let mut meta = serde_json::Map::new();
                    for key in ["labels", "annotations", "finalizers", "ownerReferences"] {
                        if let Some(x) = v.get(key) {
                            meta.insert(format!("f:{key}"), shape(x));
                        }
                    }
                    if !meta.is_empty() {
                        fields.insert("f:metadata".into(), Value::Object(meta));
                    }
                }
                "status" if ctx.r.subresource != "status" && ctx.rt.has_subresource("status") => {}
                _ if ctx.r.subresource == "status" && k != "status" => {}
                _ => {
                    fields.insert(format!("f:{k}"), shape(v));
                }
            }
        }
    }
    let mut entry = json!({"manager": ctx.manager, "operation": operation, "apiVersion": ctx.rt.api_version(),
        "time": rfc3339(ts), "fieldsType": "FieldsV1", "fieldsV1": fields});
    if ctx.r.subresource == "status" {
        entry["subresource"] = json!("status");
    }
    if let Some(m) = metadata_mut(obj) {
        let mut entries: Vec<Value> = m
            .get("managedFields")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        entries.retain(|e| {
            !(e.get("manager") == entry.get("manager")
                && e.get("operation") == entry.get("operation")
                && e.get("subresource") == entry.get("subresource"))
        });
        entries.push(entry);
        m.insert("managedFields".into(), json!(entries));
    }
}

fn delete_options(ctx: &Ctx, body: &[u8]) -> Result<(Value, Propagation, bool), ApiError> {
    let opts = parse_optional_json(body)?;
    let policy = ctx
        .q
        .get("propagationPolicy")
        .map(str::to_string)
        .or_else(|| {
            opts.get("propagationPolicy")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let mut prop = match policy.as_deref() {
        None | Some("") => Propagation::Background,
        Some(p) => Propagation::parse(p).ok_or_else(|| {
            ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            ))
        })?,
    };
    if opts.get("orphanDependents").and_then(Value::as_bool) == Some(true)
        || ctx.q.flag("orphanDependents")
    {
        prop = Propagation::Orphan;
    }
    let dry = ctx.dry_run
        || opts
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == "All"));
    Ok((opts, prop, dry))
}

fn delete(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let (opts, prop, dry) = delete_options(ctx, body)?;
    let ts = rfc3339(now());
    let (old, result) = ctx.state.store.write(dry, |txn| {
        let old = txn
            .get(&ctx.res(), &ctx.r.namespace, &ctx.r.name)
            .ok_or_else(|| ctx.not_found())?;
        let conflict = |why: String| ApiError::conflict(&ctx.rt.group, &ctx.rt.plural, &ctx.r.name, &why);
        if let Some(uid) = opts.pointer("/preconditions/uid").and_then(Value::as_str) {
            let have = meta_str(&old, "uid");
            if uid != have {
                return Err(conflict(format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"
                )));
            }
        }
        if let Some(rv) = opts.pointer("/preconditions/resourceVersion").and_then(Value::as_str) {
            let have = meta_str(&old, "resourceVersion");
            if rv != have {
                return Err(conflict(format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {have}"
                )));
            }
        }
        let result = gc::delete(txn, &ctx.res(), &ctx.r.namespace, &ctx.r.name, prop, &ts);
        Ok::<_, ApiError>((old, result))
    })?;
    let still_there = result
        .as_ref()
        .is_some_and(|o| o.pointer("/metadata/deletionTimestamp").is_some() && !dry)
        && ctx
            .state
            .store
            .get(&ctx.res(), &ctx.r.namespace, &ctx.r.name)
            .is_some();
    if !still_there {
        after_write(
            &Ctx {
                dry_run: dry,
                ..clone_ctx(ctx)
            },
            &old,
            true,
        );
    }
    let mut obj = result.unwrap_or(old);
    if still_there {
        return Ok(render(ctx, 200, obj));
    }
    match deleted_body(&ctx.rt) {
        DeletedBody::Object => return Ok(render(ctx, 200, obj)),
        DeletedBody::Terminating(finalizer) => {
            // What the real registry answers at the moment it starts the
            // deletion (the sandbox then finishes it at once).
            if let Some(m) = metadata_mut(&mut obj) {
                m.insert("deletionTimestamp".into(), json!(ts));
                if let Some(f) = finalizer {
                    m.insert("finalizers".into(), json!([f]));
                }
            }
            if ctx.rt.kind == "Namespace" {
                obj["status"]["phase"] = json!("Terminating");
            }
            return Ok(render(ctx, 200, obj));
        }
        DeletedBody::Status => {}
    }
    Ok(json_response(
        200,
        &success_status(
            &ctx.rt.group,
            &ctx.rt.plural,
            &ctx.r.name,
            meta_str(&obj, "uid"),
        ),
    ))
}

/// What a successful DELETE answers with, per the kind's real registry.
enum DeletedBody {
    /// `ReturnDeletedObject: true` in the kind's generic registry store.
    Object,
    /// A custom Delete that first marks the object (Namespace, CRD), with
    /// the finalizer it adds, if any.
    Terminating(Option<&'static str>),
    /// The generic registry's `Status` with `details`.
    Status,
}

fn deleted_body(rt: &ResourceType) -> DeletedBody {
    if rt.custom {
        return DeletedBody::Status;
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        (
            "",
            "Pod"
            | "Service"
            | "ServiceAccount"
            | "PersistentVolume"
            | "PersistentVolumeClaim"
            | "PodTemplate"
            | "ResourceQuota",
        )
        | ("storage.k8s.io", "StorageClass" | "CSIDriver" | "VolumeAttachment") => {
            DeletedBody::Object
        }
        ("", "Namespace") => DeletedBody::Terminating(None),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            DeletedBody::Terminating(Some("customresourcecleanup.apiextensions.k8s.io"))
        }
        _ => DeletedBody::Status,
    }
}

fn clone_ctx(ctx: &Ctx) -> Ctx {
    Ctx {
        state: ctx.state.clone(),
        rt: ctx.rt.clone(),
        r: ctx.r.clone(),
        q: Query(ctx.q.0.clone()),
        format: ctx.format,
        who: ctx.who.clone(),
        dry_run: ctx.dry_run,
        manager: ctx.manager.clone(),
    }
}

fn delete_collection(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let (_, prop, dry) = delete_options(ctx, body)?;
    let mut lq = list_query(&ctx.r, &ctx.q)?;
    lq.limit = None;
    lq.continue_token = None;
    let targets = ctx.state.store.list(&ctx.res(), &lq)?.items;
    let ts = rfc3339(now());
    let deleted: Vec<Value> = ctx.state.store.write(dry, |txn| {
        targets
            .iter()
            .filter_map(|o| gc::delete(txn, &ctx.res(), &o.namespace, &o.name, prop, &ts))
            .map(|o| for_version(&ctx.rt, o))
            .collect()
    });
    if !dry {
        for o in &deleted {
            after_write(ctx, o, true);
        }
    }
    let rv = ctx.state.store.current_rv();
    Ok(json_response(
        200,
        &json!({"kind": ctx.rt.list_kind(), "apiVersion": ctx.rt.api_version(),
            "metadata": {"resourceVersion": rv.to_string()}, "items": deleted}),
    ))
}
