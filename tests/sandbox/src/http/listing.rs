//! List responses as JSON: the stored bytes of each item streamed in large
//! chunks, never one body-sized buffer, so a 100 MB list costs no extra memory.

use super::Body;
use crate::registry::ResourceType;
use crate::store::Stored;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Frame, SizeHint};
use serde_json::Value;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// About this much is written per frame (one TLS record is 16 KB).
const CHUNK: usize = 256 * 1024;

/// An object's JSON as served under `rt`: the stored bytes when storage
/// already holds it in that version, else converted from a parsed copy.
pub fn served_json(rt: &ResourceType, obj: &Stored) -> Bytes {
    if !Serving::new(rt).converts(obj) {
        return obj.json().clone();
    }
    let served = super::handlers::for_version(rt, obj.value());
    Bytes::from(serde_json::to_vec(&served).unwrap_or_default())
}

/// What decides, per object, whether the stored bytes can be served as they are.
struct Serving {
    api_version: String,
    /// A converted kind (events.k8s.io Events): every object is rewritten.
    always: bool,
}

impl Serving {
    fn new(rt: &ResourceType) -> Serving {
        Serving {
            api_version: rt.api_version(),
            always: crate::convert::converts(rt),
        }
    }

    /// Whether `obj` must be rewritten to be served (another version of the
    /// same storage, or a converted kind).
    fn converts(&self, obj: &Stored) -> bool {
        self.always || *obj.api_version != *self.api_version
    }
}

/// `{"kind":"PodList",...,"items":[` ... `]}` with `metadata` as given; a
/// custom resource list is a Go map on the server, so its keys are sorted.
pub fn json_list(rt: &ResourceType, metadata: Value, items: Vec<Arc<Stored>>) -> Body {
    let s = |v: &str| Value::from(v).to_string();
    let (head, tail) = if rt.custom {
        (
            format!(r#"{{"apiVersion":{},"items":["#, s(&rt.api_version())),
            format!(
                r#"],"kind":{},"metadata":{}}}"#,
                s(&rt.list_kind()),
                crate::wire::sorted(metadata)
            ),
        )
    } else {
        (
            format!(
                r#"{{"kind":{},"apiVersion":{},"metadata":{},"items":["#,
                s(&rt.list_kind()),
                s(&rt.api_version()),
                metadata
            ),
            "]}".to_string(),
        )
    };
    // Go's encoder ends the body with a newline.
    let tail = tail + "\n";
    // One pass decides whether any item is converted; when none is (the
    // usual case) the length is known and the body is plain copying.
    let serving = Serving::new(rt);
    let mut stored_bytes = 0;
    let mut convert = false;
    for o in &items {
        stored_bytes += o.json().len();
        convert |= serving.converts(o);
    }
    let exact = (!convert).then(|| {
        let commas = items.len().saturating_sub(1);
        (head.len() + tail.len() + commas + stored_bytes) as u64
    });
    ListBody {
        rt: convert.then(|| rt.clone()),
        head: Some(Bytes::from(head)),
        items: items.into_iter(),
        first: true,
        tail: Some(Bytes::from(tail)),
        exact,
    }
    .boxed_unsync()
}

/// The body of a JSON list: head, items separated by commas, tail.
struct ListBody {
    /// Set when some item is served converted.
    rt: Option<ResourceType>,
    head: Option<Bytes>,
    items: std::vec::IntoIter<Arc<Stored>>,
    first: bool,
    tail: Option<Bytes>,
    /// The total length, when known up front (no item needs converting).
    exact: Option<u64>,
}

impl hyper::body::Body for ListBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.tail.is_none() {
            return Poll::Ready(None);
        }
        let mut chunk = BytesMut::with_capacity(CHUNK + 8 * 1024);
        if let Some(head) = this.head.take() {
            chunk.extend_from_slice(&head);
        }
        while chunk.len() < CHUNK {
            let Some(obj) = this.items.next() else {
                if let Some(tail) = this.tail.take() {
                    chunk.extend_from_slice(&tail);
                }
                break;
            };
            if !this.first {
                chunk.extend_from_slice(b",");
            }
            this.first = false;
            match &this.rt {
                Some(rt) => chunk.extend_from_slice(&served_json(rt, &obj)),
                None => chunk.extend_from_slice(obj.json()),
            }
        }
        if let Some(n) = this.exact.as_mut() {
            *n = n.saturating_sub(chunk.len() as u64);
        }
        Poll::Ready(Some(Ok(Frame::data(chunk.freeze()))))
    }

    fn is_end_stream(&self) -> bool {
        self.tail.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}
