//! Tower layers added on top of kube's HTTP stack: a request counter (for `--stats` and
//! API-cost tests) and a bounded retry for reads (GET) on 429, 5xx and connection resets.
//!
//! The retry layer also keeps `--request-timeout` as the deadline of one API call, retries
//! included, and names the call when it fails for good (`list pods in namespace shop`), so
//! an error after a flaky server says which request gave up.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Either, Full};
use kube::client::Body;
use tower::{BoxError, Layer, Service};

/// Counts every HTTP request sent to the API server, retries included.
///
/// Cheap to clone (an `Arc<AtomicU64>`); all clones share one count.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<AtomicU64>);

impl RequestCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests sent so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn incr(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Layer that increments a [`RequestCounter`] per request.
#[derive(Debug, Clone)]
pub(crate) struct CountLayer(pub(crate) RequestCounter);

impl<S> Layer<S> for CountLayer {
    type Service = CountService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CountService {
            inner,
            counter: self.0.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CountService<S> {
    inner: S,
    counter: RequestCounter,
}

impl<S, Req> Service<Req> for CountService<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        self.counter.incr();
        self.inner.call(req)
    }
}

/// Bounds for the read-retry layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = no retries).
    pub max_attempts: u32,
    /// First backoff; doubles each retry.
    pub base_delay: Duration,
    /// Cap for backoff and for a server's `Retry-After`.
    pub max_delay: Duration,
    /// Deadline for one API call, retries and their pauses included (`--request-timeout`):
    /// each attempt gets what is left of it, and no retry starts that could not finish.
    pub timeout: Option<Duration>,
}

impl Default for RetryPolicy {
    /// 4 attempts, 250ms doubling to at most 8s (Retry-After capped at 8s too).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            timeout: None,
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff before retry number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Delay before retrying a write (any method but GET) answered with `status`: only a
    /// 429 that carries `Retry-After`, which API Priority and Fairness (and max-in-flight)
    /// send before any handler ran, so the write cannot have happened. A 429 without it is
    /// an answer (an Eviction refused by a PodDisruptionBudget) and a 5xx may come after the
    /// write was stored: neither is retried.
    pub fn delay_for_write_status(
        &self,
        status: StatusCode,
        retry_after: Option<&str>,
        attempt: u32,
    ) -> Option<Duration> {
        if status != StatusCode::TOO_MANY_REQUESTS || retry_after.is_none() {
            return None;
        }
        self.delay_for_status(status, retry_after, attempt)
    }

    /// Delay before retrying a response with `status` (and its `Retry-After` value), or
    /// `None` when the status is not worth retrying or attempts are used up.
    pub fn delay_for_status(
        &self,
        status: StatusCode,
        retry_after: Option<&str>,
        attempt: u32,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let retryable = status == StatusCode::TOO_MANY_REQUESTS
            || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED);
        if !retryable {
            return None;
        }
        // Retry-After is honoured (seconds form; the API server never sends dates),
        // capped so a confused server cannot stall the CLI.
        let server = retry_after
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(self.max_delay));
        Some(server.unwrap_or_else(|| self.backoff(attempt)))
    }
}

/// True if the error chain shows the connection was reset/closed mid-request.
fn is_connection_reset(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            if matches!(
                io.kind(),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
            ) {
                return true;
            }
        }
        let text = e.to_string();
        // hyper reports a reused keep-alive connection the server closed this way.
        if text.contains("connection closed before message completed")
            || text.contains("connection reset")
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Layer retrying reads per [`RetryPolicy`] (writes only on a 429 with `Retry-After`),
/// within the call's deadline, and naming the call in a final failure.
#[derive(Debug, Clone)]
pub(crate) struct RetryLayer(pub(crate) RetryPolicy);

impl<S> Layer<S> for RetryLayer {
    type Service = RetryService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            policy: self.0,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RetryService<S> {
    inner: S,
    policy: RetryPolicy,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A response body as the server sent it, or a rewritten error `Status` naming the call.
pub(crate) type CallBody<B> = Either<B, Full<Bytes>>;

/// An API call that failed without an HTTP answer (timeout, refused, reset), with the call
/// it was and how long it was tried. Displays as its cause; [`CallFailed::call`] says which
/// request it was (the error mapping adds it to the message).
#[derive(Debug)]
pub struct CallFailed {
    call: String,
    attempts: u32,
    elapsed: Duration,
    source: BoxError,
}

impl CallFailed {
    /// `list pods in namespace shop; 3 attempts in 2.1s`.
    pub fn call(&self) -> String {
        format!(
            "{}; {} in {:.1}s",
            self.call,
            attempts_text(self.attempts),
            self.elapsed.as_secs_f64()
        )
    }
}

impl std::fmt::Display for CallFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the cause: the error mapping reads the chain's text to tell a timeout from
        // a TLS failure, and a call like `get secrets app-tls` must not look like one.
        write!(f, "{}", self.source)
    }
}

impl std::error::Error for CallFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

fn attempts_text(n: u32) -> String {
    if n == 1 {
        "1 attempt".to_string()
    } else {
        format!("{n} attempts")
    }
}

/// What a request does, in RBAC's terms: `list pods in namespace shop`, `get nodes node-a`,
/// `create pods/eviction web-0 in namespace shop`, `watch pods (all namespaces)`; other
/// paths as `GET /version`.
pub fn describe_call(method: &Method, uri: &Uri) -> String {
    let path = uri.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // /api/v1/... or /apis/GROUP/VERSION/...
    let (group, rest) = match segments.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return format!("{method} {path}"),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(*ns), rest),
        other => (None, other),
    };
    let (resource, name, sub) = match rest {
        [resource] => (*resource, None, None),
        [resource, name] => (*resource, Some(*name), None),
        [resource, name, sub, ..] => (*resource, Some(*name), Some(*sub)),
        _ => return format!("{method} {path}"),
    };
    let watch = uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"));
    let verb = match (method.as_str(), name.is_some()) {
        ("GET", _) if watch => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        (other, _) => other,
    };
    let mut out = format!("{verb} {resource}");
    if !group.is_empty() {
        out.push('.');
        out.push_str(group);
    }
    if let Some(sub) = sub {
        out.push('/');
        out.push_str(sub);
    }
    if let Some(name) = name {
        out.push(' ');
        out.push_str(name);
    }
    match namespace {
        Some(ns) => out.push_str(&format!(" in namespace {ns}")),
        None if name.is_none() && verb != "create" => out.push_str(" (all namespaces)"),
        None => {}
    }
    out
}

impl<S, B> Service<Request<Body>> for RetryService<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<CallBody<B>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Response<CallBody<B>>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // Use the instance that was driven ready, keep a fresh clone for the next caller.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let policy = self.policy;
        Box::pin(async move {
            let started = Instant::now();
            let deadline = policy.timeout.map(|t| started + t);
            let is_read = req.method() == Method::GET;
            let call = describe_call(req.method(), req.uri());
            let mut req = req;
            let mut attempt = 1u32;
            loop {
                let spare = if attempt < policy.max_attempts {
                    clone_request(&req)
                } else {
                    None
                };
                let sent = inner.call(req);
                let result: Result<Response<B>, BoxError> = match deadline {
                    Some(d) => {
                        let left = d.saturating_duration_since(Instant::now());
                        match tokio::time::timeout(left, sent).await {
                            Ok(r) => r.map_err(Into::into),
                            Err(_) => Err(Box::new(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                format!(
                                    "request timed out after {:.1}s (--request-timeout)",
                                    started.elapsed().as_secs_f64()
                                ),
                            ))),
                        }
                    }
                    None => sent.await.map_err(Into::into),
                };
                let delay = match &result {
                    Ok(resp) => {
                        let after = resp
                            .headers()
                            .get(http::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok());
                        if is_read {
                            policy.delay_for_status(resp.status(), after, attempt)
                        } else {
                            policy.delay_for_write_status(resp.status(), after, attempt)
                        }
                    }
                    Err(e) if is_read && is_connection_reset(e.as_ref()) => {
                        Some(policy.backoff(attempt))
                    }
                    Err(_) => None,
                };
                // A retry must be possible (a replayable body) and fit in the deadline.
                let retry = match (delay, spare) {
                    (Some(delay), Some(next))
                        if deadline.is_none_or(|d| Instant::now() + delay < d) =>
                    {
                        Some((delay, next))
                    }
                    _ => None,
                };
                let Some((delay, next)) = retry else {
                    return finish(result, &call, attempt, started).await;
                };
                tracing::debug!(attempt, ?delay, %call, "retrying API request");
                tokio::time::sleep(delay).await;
                futures::future::poll_fn(|cx| inner.poll_ready(cx))
                    .await
                    .map_err(Into::into)?;
                req = next;
                attempt += 1;
            }
        })
    }
}

/// The final outcome of a call: successes and ordinary answers pass through; a failure
/// without an answer becomes [`CallFailed`]; a server-side failure (5xx, or a 429 with
/// `Retry-After`: overload, not an answer) gets the call and the attempts in its `Status`
/// message.
async fn finish<B>(
    result: Result<Response<B>, BoxError>,
    call: &str,
    attempts: u32,
    started: Instant,
) -> Result<Response<CallBody<B>>, BoxError>
where
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    let resp = match result {
        Ok(resp) => resp,
        Err(source) => {
            return Err(Box::new(CallFailed {
                call: call.to_string(),
                attempts,
                elapsed: started.elapsed(),
                source,
            }));
        }
    };
    let status = resp.status();
    let overloaded = status == StatusCode::TOO_MANY_REQUESTS
        && resp.headers().contains_key(http::header::RETRY_AFTER);
    if !(status.is_server_error() || overloaded) {
        return Ok(resp.map(Either::Left));
    }
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.map_err(Into::into)?.to_bytes();
    let rewritten = name_the_call(&bytes, status, call, attempts, started.elapsed());
    Ok(Response::from_parts(
        parts,
        Either::Right(Full::new(rewritten)),
    ))
}

/// The error body with `message` prefixed by the call: a `Status` keeps its other fields;
/// any other body (a proxy's HTML) becomes the message.
fn name_the_call(
    body: &[u8],
    status: StatusCode,
    call: &str,
    attempts: u32,
    elapsed: Duration,
) -> Bytes {
    let suffix = format!(
        "(gave up after {} in {:.1}s)",
        attempts_text(attempts),
        elapsed.as_secs_f64()
    );
    let mut doc: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v @ serde_json::Value::Object(_)) if v.get("kind").is_some_and(|k| k == "Status") => v,
        _ => serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": String::from_utf8_lossy(body).trim(),
            "reason": status.canonical_reason().unwrap_or(""),
            "code": status.as_u16(),
        }),
    };
    let message = doc
        .get("message")
        .and_then(|m| m.as_str())
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{status}"));
    doc["message"] = serde_json::Value::String(format!("{call}: {message} {suffix}"));
    Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
}

/// A copy of `req` for a retry; `None` when the body is a stream that cannot be replayed.
fn clone_request(req: &Request<Body>) -> Option<Request<Body>> {
    let body = req.body().try_clone()?;
    let mut out = Request::new(body);
    *out.method_mut() = req.method().clone();
    *out.uri_mut() = req.uri().clone();
    *out.version_mut() = req.version();
    *out.headers_mut() = req.headers().clone();
    *out.extensions_mut() = req.extensions().clone();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_millis(250));
        assert_eq!(p.backoff(2), Duration::from_millis(500));
        assert_eq!(p.backoff(3), Duration::from_secs(1));
        assert_eq!(p.backoff(30), Duration::from_secs(8));
    }

    #[test]
    fn status_retry_decisions() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay_for_status(StatusCode::TOO_MANY_REQUESTS, Some("2"), 1),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            p.delay_for_status(StatusCode::TOO_MANY_REQUESTS, Some("3600"), 1),
            Some(Duration::from_secs(8))
        );
        assert_eq!(
            p.delay_for_status(StatusCode::SERVICE_UNAVAILABLE, None, 2),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            p.delay_for_status(StatusCode::INTERNAL_SERVER_ERROR, None, 4),
            None
        );
        assert_eq!(p.delay_for_status(StatusCode::NOT_FOUND, None, 1), None);
        assert_eq!(p.delay_for_status(StatusCode::OK, None, 1), None);
        assert_eq!(
            p.delay_for_status(StatusCode::NOT_IMPLEMENTED, None, 1),
            None
        );
    }

    #[test]
    fn reset_detection() {
        let e = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "x");
        assert!(is_connection_reset(&e));
        let e = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "x");
        assert!(!is_connection_reset(&e));
    }

    /// A fake API server answering from a script of statuses (429s carry `Retry-After: 0`
    /// when the script says `4290`, none when it says `429`).
    #[derive(Clone)]
    struct Scripted {
        statuses: Arc<Mutex<Vec<u16>>>,
        delay: Duration,
    }

    impl Service<Request<Body>> for Scripted {
        type Response = Response<Full<Bytes>>;
        type Error = BoxError;
        type Future = BoxFuture<Result<Response<Full<Bytes>>, BoxError>>;
        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _req: Request<Body>) -> Self::Future {
            let next = self
                .statuses
                .lock()
                .ok()
                .and_then(|mut s| (!s.is_empty()).then(|| s.remove(0)));
            let delay = self.delay;
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                let code = next.unwrap_or(200);
                let (code, retry_after) = if code == 4290 {
                    (429, true)
                } else {
                    (code, false)
                };
                let body = if code >= 400 {
                    r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"etcd is sad","reason":"InternalError","code":500}"#
                } else {
                    "{}"
                };
                let mut resp = Response::new(Full::new(Bytes::from(body)));
                *resp.status_mut() =
                    StatusCode::from_u16(code).map_err(|e| Box::new(e) as BoxError)?;
                if retry_after {
                    resp.headers_mut().insert(
                        http::header::RETRY_AFTER,
                        http::HeaderValue::from_static("0"),
                    );
                }
                Ok(resp)
            })
        }
    }

    async fn call(
        method: Method,
        script: Vec<u16>,
        delay: Duration,
        timeout: Option<Duration>,
    ) -> (Result<Response<CallBody<Full<Bytes>>>, BoxError>, u64) {
        let counter = RequestCounter::new();
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(1),
            timeout,
            ..RetryPolicy::default()
        };
        let inner = CountLayer(counter.clone()).layer(Scripted {
            statuses: Arc::new(Mutex::new(script)),
            delay,
        });
        let mut svc = RetryLayer(policy).layer(inner);
        let mut req = Request::new(Body::from(b"{}".to_vec()));
        *req.method_mut() = method;
        *req.uri_mut() = Uri::from_static("/api/v1/namespaces/shop/pods");
        futures::future::poll_fn(|cx| svc.poll_ready(cx)).await.ok();
        let result = svc.call(req).await;
        (result, counter.get())
    }

    async fn run(method: Method, script: Vec<u16>) -> (u16, u64) {
        let (result, sent) = call(method, script, Duration::ZERO, None).await;
        (result.map(|r| r.status().as_u16()).unwrap_or(0), sent)
    }

    #[tokio::test]
    async fn get_is_retried_until_success_and_counted() {
        assert_eq!(run(Method::GET, vec![503, 429, 200]).await, (200, 3));
    }

    #[tokio::test]
    async fn get_retries_are_bounded() {
        assert_eq!(
            run(Method::GET, vec![500, 500, 500, 500, 500, 200]).await,
            (500, 4)
        );
    }

    #[tokio::test]
    async fn writes_are_never_retried_on_5xx_or_a_429_without_retry_after() {
        assert_eq!(run(Method::POST, vec![503, 200]).await, (503, 1));
        assert_eq!(run(Method::POST, vec![500, 200]).await, (500, 1));
        assert_eq!(run(Method::DELETE, vec![429, 200]).await, (429, 1));
    }

    #[tokio::test]
    async fn writes_are_retried_on_a_429_with_retry_after() {
        // API Priority and Fairness refused it before any handler ran.
        assert_eq!(run(Method::POST, vec![4290, 4290, 201]).await, (201, 3));
        assert_eq!(run(Method::PATCH, vec![4290, 200]).await, (200, 2));
    }

    #[tokio::test]
    async fn a_final_server_error_names_the_call() {
        let (result, sent) = call(Method::GET, vec![500; 4], Duration::ZERO, None).await;
        assert_eq!(sent, 4);
        let resp = result.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = resp.into_body().collect().await.map(|b| b.to_bytes());
        let doc: serde_json::Value =
            serde_json::from_slice(&body.unwrap_or_default()).unwrap_or_default();
        let message = doc["message"].as_str().unwrap_or("");
        assert!(
            message.starts_with(
                "list pods in namespace shop: etcd is sad (gave up after 4 attempts in "
            ),
            "{message}"
        );
        assert_eq!(doc["code"], 500);
    }

    #[tokio::test]
    async fn the_deadline_covers_every_attempt() {
        // Each answer takes 300ms and is a 503: with a 1s deadline the call gives up
        // within it instead of after 4 attempts (1.2s plus backoff).
        let started = Instant::now();
        let (result, sent) = call(
            Method::GET,
            vec![503; 8],
            Duration::from_millis(300),
            Some(Duration::from_secs(1)),
        )
        .await;
        assert!(
            started.elapsed() < Duration::from_millis(1200),
            "{:?}",
            started.elapsed()
        );
        assert!(sent <= 4, "{sent}");
        let status = result.map(|r| r.status().as_u16()).unwrap_or(0);
        assert!(status == 503 || status == 0, "{status}");

        // A server slower than the deadline: a timeout naming the call.
        let (result, sent) = call(
            Method::GET,
            vec![200],
            Duration::from_secs(3),
            Some(Duration::from_millis(200)),
        )
        .await;
        assert_eq!(sent, 1);
        let err = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("timed out"), "{err}");
    }

    #[test]
    fn calls_are_described_in_rbac_terms() {
        let d = |m: Method, u: &'static str| describe_call(&m, &Uri::from_static(u));
        assert_eq!(
            d(Method::GET, "/api/v1/namespaces/shop/pods?limit=500"),
            "list pods in namespace shop"
        );
        assert_eq!(d(Method::GET, "/api/v1/pods"), "list pods (all namespaces)");
        assert_eq!(d(Method::GET, "/api/v1/nodes/node-a"), "get nodes node-a");
        assert_eq!(
            d(Method::POST, "/api/v1/namespaces/shop/pods/web-0/eviction"),
            "create pods/eviction web-0 in namespace shop"
        );
        assert_eq!(
            d(
                Method::PATCH,
                "/apis/apps/v1/namespaces/shop/deployments/web"
            ),
            "patch deployments.apps web in namespace shop"
        );
        assert_eq!(
            d(
                Method::GET,
                "/api/v1/namespaces/shop/pods?watch=true&resourceVersion=5"
            ),
            "watch pods in namespace shop"
        );
        assert_eq!(
            d(Method::GET, "/api/v1/namespaces/shop"),
            "get namespaces shop"
        );
        assert_eq!(d(Method::GET, "/version"), "GET /version");
        assert_eq!(d(Method::GET, "/apis"), "GET /apis");
    }
}
