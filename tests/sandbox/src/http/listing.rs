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
    if !needs_conversion(rt, obj) {
        return obj.json().clone();
    }
    let served = super::handlers::for_version(rt, obj.value());
    Bytes::from(serde_json::to_vec(&served).unwrap_or_default())
}

/// Whether `obj` must be rewritten to be served under `rt` (another version
/// of the same storage, or a converted kind such as events.k8s.io Events).
fn needs_conversion(rt: &ResourceType, obj: &Stored) -> bool {
    crate::convert::converts(rt) || obj.api_version != rt.api_version()
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
    let exact = if items.iter().any(|o| needs_conversion(rt, o)) {
        None
    } else {
        let commas = items.len().saturating_sub(1);
        Some(
            (head.len() + tail.len() + commas + items.iter().map(|o| o.json().len()).sum::<usize>())
                as u64,
        )
    };
    ListBody {
        rt: rt.clone(),
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
    rt: ResourceType,
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
            chunk.extend_from_slice(&served_json(&this.rt, &obj));
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
