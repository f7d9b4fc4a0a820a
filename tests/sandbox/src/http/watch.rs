//! Watch streams: newline-delimited `{"type": ..., "object": ...}` events
//! from the store's feed, filtered by namespace and selectors, with initial
//! ADDED events, bookmarks and `timeoutSeconds`.

use super::handlers::encode_object;
use super::negotiate::Format;
use super::{Body, Query, State};
use crate::error::ApiError;
use crate::registry::ResourceType;
use crate::store::{EventType, ListQuery, Stored, WatchStart};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

const BOOKMARK_EVERY: Duration = Duration::from_secs(2);
/// A real server closes watches after 30–60 minutes; clients re-watch.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Stream {
    state: Arc<State>,
    rt: ResourceType,
    q: Query,
    format: Format,
    tx: mpsc::Sender<Bytes>,
}

impl Stream {
    async fn send(&self, kind: &str, object: Value) -> bool {
        let object = if kind == "BOOKMARK" || kind == "ERROR" {
            object
        } else {
            encode_object(&self.state, &self.rt, object, self.format, &self.q)
        };
        let mut line =
            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        line.push(b'\n');
        self.tx.send(Bytes::from(line)).await.is_ok()
    }

    /// An event about a stored object: in plain JSON its stored bytes go out
    /// as they are; other formats encode a parsed copy.
    async fn send_stored(&self, kind: &str, object: &Stored) -> bool {
        if self.format != Format::Json {
            return self.send(kind, object.value()).await;
        }
        let json = super::listing::served_json(&self.rt, object);
        let mut line = Vec::with_capacity(json.len() + 40);
        line.extend_from_slice(br#"{"type":"#);
        line.extend_from_slice(Value::from(kind).to_string().as_bytes());
        line.extend_from_slice(br#","object":"#);
        line.extend_from_slice(&json);
        line.extend_from_slice(b"}\n");
        self.tx.send(Bytes::from(line)).await.is_ok()
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Value {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj =
            json!({"kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": meta});
        crate::wire::order_object(&self.rt, obj)
    }
}

/// What a change looks like through a filter: a change that moves an object
/// into or out of the selection is ADDED or DELETED, as in a real watch cache.
fn through_filter(
    q: &ListQuery,
    kind: EventType,
    object: &Stored,
    old: Option<&Stored>,
) -> Option<EventType> {
    let now_in = q.matches(object);
    match kind {
        EventType::Modified => {
            let was_in = old.is_some_and(|o| q.matches(o));
            match (was_in, now_in) {
                (true, true) => Some(EventType::Modified),
                (false, true) => Some(EventType::Added),
                (true, false) => Some(EventType::Deleted),
                (false, false) => None,
            }
        }
        other => now_in.then_some(other),
    }
}

/// A watch response carrying one event, then the end of the stream.
fn single_event(kind: &str, object: &Value) -> Response<Body> {
    let line = crate::wire::body(&json!({"type": kind, "object": object}));
    json_stream(http_body_util::Full::new(Bytes::from(line)).boxed_unsync())
}

fn json_stream(body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

pub fn respond(
    state: &Arc<State>,
    rt: &ResourceType,
    lq: ListQuery,
    q: &Query,
    format: Format,
) -> Result<Response<Body>, ApiError> {
    let rv_param = q.get("resourceVersion").unwrap_or("");
    let send_initial = match q.get("sendInitialEvents") {
        Some("true") => true,
        Some("false") => false,
        _ => rv_param.is_empty() || rv_param == "0",
    };
    let from = if send_initial {
        None
    } else if rv_param.is_empty() || rv_param == "0" {
        Some(state.store.current_rv())
    } else {
        Some(rv_param.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resource version: {rv_param:?}"))
        })?)
    };
    let res = crate::convert::storage_key(&rt.group, &rt.plural);
    let (start, mut feed, start_rv) = match state.store.watch_start(&res, from, &lq) {
        Ok(started) => started,
        // Like the watch cache: HTTP 200 and the expiry as the only event,
        // which watchers (client-go reflectors, kube-runtime) answer with a
        // fresh list.
        Err(e) if e.code == 410 => return Ok(single_event("ERROR", &e.status_body())),
        Err(e) => return Err(e),
    };
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let bookmarks = q.flag("allowWatchBookmarks");
    let explicit_initial = q.get("sendInitialEvents") == Some("true");
    let (tx, mut rx) = mpsc::channel::<Bytes>(1024);
    let stream = Stream {
        state: state.clone(),
        rt: rt.clone(),
        q: Query(q.0.clone()),
        format,
        tx,
    };
    tokio::spawn(async move {
        let mut last_rv = start_rv;
        match start {
            WatchStart::Initial(objects) => {
                for o in objects {
                    if !stream.send_stored("ADDED", &o).await {
                        return;
                    }
                }
                if explicit_initial
                    && bookmarks
                    && !stream
                        .send("BOOKMARK", stream.bookmark(start_rv, true))
                        .await
                {
                    return;
                }
            }
            WatchStart::Backlog(events) => {
                for ev in events {
                    if let Some(k) = through_filter(&lq, ev.kind, &ev.stored, ev.old.as_deref())
                        && !stream.send_stored(k.as_str(), &ev.stored).await
                    {
                        return;
                    }
                }
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(BOOKMARK_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                ev = feed.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv <= start_rv {
                            continue;
                        }
                        last_rv = ev.rv;
                        if ev.resource != res {
                            continue;
                        }
                        if let Some(k) = through_filter(&lq, ev.kind, &ev.stored, ev.old.as_deref())
                            && !stream.send_stored(k.as_str(), &ev.stored).await
                        {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let e = ApiError::gone("too old resource version: the watch fell behind");
                        let _ = stream.send("ERROR", e.status_body()).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick(), if bookmarks => {
                    if !stream.send("BOOKMARK", stream.bookmark(last_rv, false)).await {
                        return;
                    }
                }
                _ = stream.tx.closed() => return,
                _ = &mut deadline => return,
            }
        }
    });
    let body = StreamBody::new(futures::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
            .map(|o| o.map(|b| Ok::<_, Infallible>(Frame::data(b))))
    }));
    Ok(json_stream(body.boxed_unsync()))
}
