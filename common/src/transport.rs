//! Tower layers added on top of kube's HTTP stack: a request counter (for `--stats` and
//! API-cost tests) and a bounded retry for reads (GET) on 429, 5xx and connection resets.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
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
    /// Per-attempt limit for receiving response headers (`--request-timeout`), if any.
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

/// Layer retrying GET requests per [`RetryPolicy`]; other methods pass through untouched.
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

impl<S, B> Service<Request<Body>> for RetryService<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Response<B>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // Use the instance that was driven ready, keep a fresh clone for the next caller.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let policy = self.policy;
        Box::pin(async move {
            let retryable = req.method() == Method::GET;
            let mut req = req;
            let mut attempt = 1u32;
            loop {
                let spare = if retryable && attempt < policy.max_attempts {
                    clone_request(&req)
                } else {
                    None
                };
                let call = inner.call(req);
                let result: Result<Response<B>, BoxError> = match policy.timeout {
                    Some(t) => match tokio::time::timeout(t, call).await {
                        Ok(r) => r.map_err(Into::into),
                        Err(_) => Err(Box::new(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("request timed out after {t:?}"),
                        ))),
                    },
                    None => call.await.map_err(Into::into),
                };
                let Some(next) = spare else { return result };
                let delay = match &result {
                    Ok(resp) => {
                        let after = resp
                            .headers()
                            .get(http::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok());
                        policy.delay_for_status(resp.status(), after, attempt)
                    }
                    Err(e) if is_connection_reset(e.as_ref()) => Some(policy.backoff(attempt)),
                    Err(_) => None,
                };
                let Some(delay) = delay else { return result };
                tracing::debug!(attempt, ?delay, uri = %next.uri(), "retrying read request");
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

    /// A fake API server answering from a script of statuses.
    #[derive(Clone)]
    struct Scripted {
        statuses: Arc<Mutex<Vec<u16>>>,
    }

    impl Service<Request<Body>> for Scripted {
        type Response = Response<()>;
        type Error = BoxError;
        type Future = BoxFuture<Result<Response<()>, BoxError>>;
        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _req: Request<Body>) -> Self::Future {
            let next = self
                .statuses
                .lock()
                .ok()
                .and_then(|mut s| (!s.is_empty()).then(|| s.remove(0)));
            Box::pin(async move {
                let code = next.unwrap_or(200);
                let mut resp = Response::new(());
                *resp.status_mut() =
                    StatusCode::from_u16(code).map_err(|e| Box::new(e) as BoxError)?;
                Ok(resp)
            })
        }
    }

    async fn run(method: Method, script: Vec<u16>) -> (u16, u64) {
        let counter = RequestCounter::new();
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let inner = CountLayer(counter.clone()).layer(Scripted {
            statuses: Arc::new(Mutex::new(script)),
        });
        let mut svc = RetryLayer(policy).layer(inner);
        let mut req = Request::new(Body::empty());
        *req.method_mut() = method;
        futures::future::poll_fn(|cx| svc.poll_ready(cx)).await.ok();
        let status = svc
            .call(req)
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        (status, counter.get())
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
    async fn writes_are_never_retried() {
        assert_eq!(run(Method::POST, vec![503, 200]).await, (503, 1));
        assert_eq!(run(Method::DELETE, vec![429, 200]).await, (429, 1));
    }
}
