//! The HTTP(S) surface: accept loop, per-request pipeline (count, latency,
//! faults, authentication, authorisation) and dispatch to the handlers.

pub mod auth;
mod certificates;
mod exec;
mod handlers;
mod listing;
pub mod negotiate;
mod nodeproxy;
mod pods;
mod protobuf;
mod reviews;
pub mod routing;
mod subresources;
pub mod tokens;
mod watch;

use crate::error::ApiError;
use crate::faults::{Fault, FaultAction, RequestFacts};
use crate::logs::PodLogs;
use crate::registry::Registry;
use crate::store::Store;
use auth::{Identity, User};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use routing::Route;
use serde_json::Value;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokens::Tokens;
use tokio::net::TcpListener;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Everything a request may touch.
pub struct State {
    pub registry: RwLock<Registry>,
    pub store: Store,
    pub users: Vec<User>,
    pub admin_token: String,
    /// ServiceAccount tokens issued by TokenRequest (and fixture ones).
    pub tokens: Tokens,
    pub logs: PodLogs,
    /// Fixture-driven node behaviour: failure rules, exec, stats.
    pub runtime: Arc<crate::runtime::Runtime>,
    pub faults: Vec<Fault>,
    pub latency_ms: u64,
    pub requests: AtomicU64,
    /// `127.0.0.1:port`, for `/api`'s serverAddressByClientCIDRs.
    pub address: String,
}

impl State {
    pub fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// Returned instead of a response to make hyper close the connection (`action=drop`).
#[derive(Debug)]
pub struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

pub fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).boxed_unsync()
}

/// A JSON body as the real server's encoder writes it (with a final newline).
pub fn json_response(code: u16, value: &Value) -> Response<Body> {
    json_bytes(code, "application/json", crate::wire::body(value))
}

pub fn json_bytes(code: u16, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

pub fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = json_response(e.code, &e.status_body());
    if let Some(secs) = e.retry_after
        && let Ok(v) = secs.to_string().parse()
    {
        r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
    }
    r
}

/// Serves connections until `shutdown` fires.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<State>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // As Go's net/http does: no Nagle delay between a response's head,
        // its body frames and the next keep-alive request.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY for {peer}: {e}");
        }
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(state.clone(), req));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    // With upgrades: pods/exec switches to WebSocket.
                    Ok(s) => {
                        builder
                            .serve_connection_with_upgrades(TokioIo::new(s), svc)
                            .await
                    }
                    Err(e) => {
                        tracing::debug!("TLS handshake with {peer} failed: {e}");
                        return;
                    }
                },
                None => {
                    builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), svc)
                        .await
                }
            };
            if let Err(e) = result {
                tracing::debug!("connection from {peer} ended: {e}");
            }
        });
    }
}

fn query_map(req: &Request<Incoming>) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// The query parameters of one request.
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    /// Every value of a repeated parameter (`command=a&command=b`), in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(method = %req.method(), uri = %req.uri(), "request");
    if state.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(state.latency_ms)).await;
    }
    let query = Query(query_map(&req));
    let route = routing::parse(req.method(), req.uri().path(), query.flag("watch"));

    // Faults first: they model an overloaded or flaky server, before auth.
    let facts = match &route {
        Route::Resource(r) => RequestFacts {
            verb: r.verb,
            resource: &r.plural,
            group: &r.group,
            namespace: &r.namespace,
            name: &r.name,
        },
        _ => RequestFacts {
            verb: "get",
            ..Default::default()
        },
    };
    let sub_resource;
    let facts = match &route {
        Route::Resource(r) if !r.subresource.is_empty() => {
            sub_resource = format!("{}/{}", r.plural, r.subresource);
            RequestFacts {
                resource: &sub_resource,
                ..facts
            }
        }
        _ => facts,
    };
    for f in &state.faults {
        if f.fire(&facts) {
            tracing::debug!(fault = %f.spec, "fault fired");
            match f.action {
                FaultAction::Drop => return Err(DropConnection),
                FaultAction::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                FaultAction::Status { code, retry_after } => {
                    let mut e = match code {
                        429 => ApiError::too_many_requests(retry_after.unwrap_or(1)),
                        500 => ApiError::internal("injected fault"),
                        503 => ApiError::unavailable(
                            "the server is currently unable to handle the request",
                        ),
                        410 => ApiError::gone(
                            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                        ),
                        c => ApiError::new(c, fault_reason(c), format!("injected fault ({c})")),
                    };
                    e.retry_after = retry_after;
                    return Ok(error_response(&e));
                }
            }
        }
    }

    let identity = match authenticate(&state, &req) {
        Ok(id) => id,
        Err(e) => {
            if route == Route::Health && req.headers().get(hyper::header::AUTHORIZATION).is_none() {
                Identity::admin()
            } else {
                return Ok(error_response(&e));
            }
        }
    };
    // Discovery, OpenAPI, version and health are non-resource URLs: RBAC
    // identities need a rule for them (system:discovery grants them to
    // everyone authenticated).
    if !matches!(route, Route::Resource(_)) {
        let verb = req.method().as_str().to_ascii_lowercase();
        let path = req.uri().path().to_string();
        if !state
            .store
            .read(|inner| auth::allowed_path(inner, &identity, &verb, &path))
        {
            return Ok(error_response(&auth::forbidden_path(
                &identity, &verb, &path,
            )));
        }
    }
    let method = req.method().clone();
    let uri = req.uri().clone();
    let resp = handlers::dispatch(state, req, route, query, identity).await;
    tracing::debug!(%method, %uri, status = resp.status().as_u16(), "response");
    Ok(resp)
}

/// The `reason` a real server sends with each status code.
fn fault_reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        504 => "Timeout",
        c if c >= 500 => "InternalError",
        _ => "Unknown",
    }
}

/// The admin or a fixture user with this bearer token (ServiceAccount
/// tokens are looked up by [`tokens::authenticate`]).
pub(crate) fn identify(state: &State, token: &str) -> Option<Identity> {
    if token == state.admin_token {
        return Some(Identity::admin());
    }
    state
        .users
        .iter()
        .find(|u| u.token == token)
        .map(Identity::from_user)
}

/// Bearer token → identity; `Impersonate-User` / `Impersonate-Group` are
/// honoured for the admin (as `kubectl --as` does against a real cluster).
fn authenticate(state: &State, req: &Request<Incoming>) -> Result<Identity, ApiError> {
    let token = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    let who = match identify(state, token) {
        Some(who) => who,
        None => {
            tokens::authenticate(state, token, jiff::Timestamp::now())
                .map_err(|_| ApiError::unauthorized())?
                .1
        }
    };
    let header = |name: &str| -> Vec<String> {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    };
    let Some(as_user) = header("impersonate-user").into_iter().next() else {
        return Ok(who);
    };
    if !who.is_unrestricted() {
        return Err(ApiError::forbidden(format!(
            "users \"{as_user}\" is forbidden: User \"{}\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
            who.name()
        )));
    }
    let mut groups = header("impersonate-group");
    Ok(match state.users.iter().find(|u| u.name == as_user) {
        Some(u) if groups.is_empty() => Identity::from_user(u),
        _ if as_user == "admin" && groups.is_empty() => Identity::admin(),
        // Anyone else is who RBAC says they are, in the groups asked for.
        _ => {
            if !groups.iter().any(|g| g == "system:authenticated") {
                groups.push("system:authenticated".into());
            }
            Identity::other(&as_user, groups)
        }
    })
}
