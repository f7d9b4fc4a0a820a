//! Discovery documents (`/version`, `/api`, `/apis`, per group-version
//! resource lists, aggregated discovery v2) built from the registry.
//! Pure functions: the server decides which one a request asks for.

use crate::registry::Registry;
use serde_json::{Value, json};

/// Content type of aggregated discovery responses (kubectl >= 1.26 asks for it).
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `/version`
pub fn version() -> Value {
    json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-sandbox"})
}

/// `/api` (APIVersions). `server_address` is `host:port` of the server.
pub fn core_api_versions(_server_address: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"]})
}

/// `/apis` (APIGroupList).
pub fn api_group_list(_registry: &Registry) -> Value {
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
}

/// `/apis/{group}` (APIGroup), None if the group is unknown.
pub fn api_group(_registry: &Registry, _group: &str) -> Option<Value> {
    None
}

/// `/api/v1` or `/apis/{group}/{version}` (APIResourceList), None if unknown.
pub fn api_resource_list(_registry: &Registry, _group: &str, _version: &str) -> Option<Value> {
    None
}

/// Aggregated discovery (APIGroupDiscoveryList) for `/api` (`legacy`) or `/apis`.
pub fn aggregated_discovery(_registry: &Registry, _legacy: bool) -> Value {
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "items": []})
}
