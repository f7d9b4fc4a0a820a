//! Server-side printing: `meta.k8s.io/v1 Table` responses, the columns
//! `kubectl get` shows (as a real API server computes them).

use crate::registry::ResourceType;
use serde_json::{Value, json};

/// What each row carries in `object` (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    None,
    #[default]
    Metadata,
    Object,
}

/// Builds a Table for `objects` of type `rt`. `list_metadata` is the list's
/// metadata (resourceVersion, continue) copied into the Table.
pub fn to_table(
    _rt: &ResourceType,
    _objects: &[Value],
    list_metadata: Value,
    _include: IncludeObject,
    _now: jiff::Timestamp,
) -> Value {
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_metadata, "columnDefinitions": [], "rows": []})
}
