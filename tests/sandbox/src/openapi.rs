//! OpenAPI documents, just enough for kubectl's apply/patch/explain paths
//! (field validation support, strategic-merge patch metadata).

use crate::registry::Registry;
use serde_json::{Value, json};

/// `/openapi/v2`
pub fn v2(_registry: &Registry) -> Value {
    json!({"swagger": "2.0", "info": {"title": "kube-sandbox", "version": "v1.33.0"}, "paths": {}, "definitions": {}})
}

/// `/openapi/v3` (the index of group-version documents).
pub fn v3_index(_registry: &Registry) -> Value {
    json!({"paths": {}})
}

/// `/openapi/v3/{path}` e.g. `api/v1`, `apis/apps/v1`; None if unknown.
pub fn v3_document(_registry: &Registry, _path: &str) -> Option<Value> {
    None
}
