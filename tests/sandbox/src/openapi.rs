//! OpenAPI documents, just enough for kubectl's apply/patch/explain paths
//! (field validation support, strategic-merge patch metadata).
//!
//! kubectl (cli-runtime `QueryParamVerifierV3`) decides whether the server
//! validates fields itself by looking, in `/openapi/v3/<group-version>`, for a
//! PATCH operation whose `x-kubernetes-group-version-kind` (a map) is the
//! object's GVK and whose parameters include the `fieldValidation` (or
//! `dryRun`) query parameter. If found, `apply --validate=strict` skips its
//! client-side validation (which would otherwise need protobuf `/openapi/v2`).
//! Component schemas carry `x-kubernetes-group-version-kind` (a list) and the
//! strategic-merge metadata kubectl's three-way patch reads.

use crate::registry::{Registry, ResourceType};
use serde_json::{Map, Value, json};

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// `/openapi/v2`
pub fn v2(registry: &Registry) -> Value {
    let mut paths = Map::new();
    let mut definitions = Map::new();
    for (group, versions) in registry.groups() {
        for version in versions {
            let doc = build_v3(registry, &group, &version);
            if let Some(p) = doc.get("paths").and_then(Value::as_object) {
                for (k, v) in p {
                    paths.insert(k.clone(), v2_path(v));
                }
            }
            if let Some(s) = doc
                .pointer("/components/schemas")
                .and_then(Value::as_object)
            {
                for (k, v) in s {
                    definitions.insert(k.clone(), v.clone());
                }
            }
        }
    }
    let mut out = json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header"}},
        "security": [{"BearerToken": []}],
    });
    rewrite_refs(&mut out, "#/components/schemas/", "#/definitions/");
    out
}

/// A v3 path item as a v2 one: parameters carry `type` instead of `schema`,
/// responses `schema` instead of `content`, request bodies become a `body` parameter.
fn v2_path(item: &Value) -> Value {
    let mut out = Map::new();
    let Some(item) = item.as_object() else {
        return Value::Object(out);
    };
    for (key, val) in item {
        if key == "parameters" {
            out.insert(key.clone(), v2_params(val));
            continue;
        }
        let Some(op) = val.as_object() else { continue };
        let mut op2 = op.clone();
        let mut params = v2_params(op.get("parameters").unwrap_or(&Value::Null));
        if let Some(schema) = op
            .get("requestBody")
            .and_then(|b| b.get("content"))
            .and_then(Value::as_object)
            .and_then(|c| c.values().next())
            .and_then(|m| m.get("schema"))
            && let Some(arr) = params.as_array_mut()
        {
            arr.push(json!({"name": "body", "in": "body", "required": true, "schema": schema}));
        }
        op2.remove("requestBody");
        op2.insert("parameters".into(), params);
        let mut responses = Map::new();
        if let Some(r) = op.get("responses").and_then(Value::as_object) {
            for (code, resp) in r {
                let mut r2 =
                    json!({"description": resp.get("description").cloned().unwrap_or(json!(""))});
                if let Some(schema) = resp
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.values().next())
                    .and_then(|m| m.get("schema"))
                {
                    r2["schema"] = schema.clone();
                }
                responses.insert(code.clone(), r2);
            }
        }
        op2.insert("responses".into(), Value::Object(responses));
        out.insert(key.clone(), Value::Object(op2));
    }
    Value::Object(out)
}

fn v2_params(params: &Value) -> Value {
    let list = params.as_array().cloned().unwrap_or_default();
    Value::Array(
        list.into_iter()
            .map(|mut p| {
                if let Some(obj) = p.as_object_mut()
                    && let Some(schema) = obj.remove("schema")
                    && let Some(t) = schema.get("type")
                {
                    obj.insert("type".into(), t.clone());
                }
                p
            })
            .collect(),
    )
}

fn rewrite_refs(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if k == "$ref" {
                    if let Some(s) = val.as_str() {
                        *val = json!(s.replacen(from, to, 1));
                    }
                } else {
                    rewrite_refs(val, from, to);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, from, to)),
        _ => {}
    }
}

/// `api/v1` or `apis/{group}/{version}`: the v3 document path of a group-version.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3` (the index of group-version documents).
pub fn v3_index(registry: &Registry) -> Value {
    let mut paths = Map::new();
    for (group, versions) in registry.groups() {
        for version in versions {
            let path = gv_path(&group, &version);
            let hash = fnv_hex(&build_v3(registry, &group, &version).to_string());
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
            );
        }
    }
    json!({ "paths": paths })
}

/// FNV-1a, enough to change the `hash=` kubectl caches documents by.
fn fnv_hex(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// `/openapi/v3/{path}` e.g. `api/v1`, `apis/apps/v1`; None if unknown.
pub fn v3_document(registry: &Registry, path: &str) -> Option<Value> {
    let path = path.trim_matches('/');
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    let (group, version) = match parts.as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return None,
    };
    registry.in_group_version(group, version).next()?;
    Some(build_v3(registry, group, version))
}

fn build_v3(registry: &Registry, group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    meta_schemas(&mut schemas);
    for rt in registry.in_group_version(group, version) {
        add_paths(&mut paths, rt);
        add_kind_schemas(&mut schemas, rt);
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header"}},
        },
    })
}

/// The components name of a kind's schema: `io.k8s.api.core.v1.Pod`, or
/// reversed-domain for custom resources (`io.cert-manager.v1.Certificate`).
pub fn schema_name(rt: &ResourceType) -> String {
    if rt.custom {
        let reversed: Vec<&str> = rt.group.split('.').rev().collect();
        return format!("{}.{}.{}", reversed.join("."), rt.version, rt.kind);
    }
    let pkg = match rt.group.as_str() {
        "" => "io.k8s.api.core".to_string(),
        "apiextensions.k8s.io" => {
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".to_string()
        }
        "metrics.k8s.io" => "io.k8s.metrics.pkg.apis.metrics".to_string(),
        g => format!(
            "io.k8s.api.{}",
            g.trim_end_matches(".k8s.io").replace(".k8s.io", "")
        ),
    };
    format!("{pkg}.{}.{}", rt.version, rt.kind)
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": kind, "uniqueItems": true}})
}

fn write_params() -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
        ),
        query(
            "fieldManager",
            "string",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        query(
            "fieldValidation",
            "string",
            "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.",
        ),
    ]
}

fn add_paths(paths: &mut Map<String, Value>, rt: &ResourceType) {
    let base = if rt.group.is_empty() {
        format!("/api/{}", rt.version)
    } else {
        format!("/apis/{}/{}", rt.group, rt.version)
    };
    let scope = if rt.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{base}{scope}/{}", rt.plural);
    let item = format!("{collection}/{{name}}");
    let schema = r(&schema_name(rt));
    let gvk = json!({"group": rt.group, "version": rt.version, "kind": rt.kind});
    let has = |verb: &str| rt.verbs.iter().any(|v| v == verb);
    let tag = rt.api_version().replace(['/', '.'], "_");
    let op = |action: &str, verb: &str, extra: Vec<Value>, body: bool, resp: Value| {
        let mut o = json!({
            "tags": [tag],
            "operationId": format!("{verb}{}", rt.kind),
            "parameters": extra,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": resp}}},
                "401": {"description": "Unauthorized"},
            },
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        });
        if body {
            let content_types: &[&str] = if action == "patch" {
                &[
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/strategic-merge-patch+json",
                    "application/apply-patch+yaml",
                ]
            } else {
                &["application/json"]
            };
            let content: Map<String, Value> = content_types
                .iter()
                .map(|c| {
                    let s = if action == "patch" {
                        r(&format!("{META}.Patch"))
                    } else {
                        schema.clone()
                    };
                    (c.to_string(), json!({"schema": s}))
                })
                .collect();
            o["requestBody"] = json!({"content": content, "required": true});
        }
        o
    };
    let mut path_params = vec![];
    if rt.namespaced {
        path_params.push(json!({"name": "namespace", "in": "path", "required": true, "description": "object name and auth scope, such as for teams and projects", "schema": {"type": "string", "uniqueItems": true}}));
    }
    path_params.push(query(
        "pretty",
        "string",
        "If 'true', then the output is pretty printed.",
    ));
    let list_schema = r(&format!("{}List", schema_name(rt)));

    let mut coll = Map::new();
    coll.insert("parameters".into(), json!(path_params));
    if has("list") {
        let params = vec![
            query(
                "labelSelector",
                "string",
                "A selector to restrict the list of returned objects by their labels.",
            ),
            query(
                "fieldSelector",
                "string",
                "A selector to restrict the list of returned objects by their fields.",
            ),
            query(
                "limit",
                "integer",
                "limit is a maximum number of responses to return for a list call.",
            ),
            query(
                "continue",
                "string",
                "The continue option should be set when retrieving more results from the server.",
            ),
            query(
                "resourceVersion",
                "string",
                "resourceVersion sets a constraint on what resource versions a request may be served from.",
            ),
            query(
                "watch",
                "boolean",
                "Watch for changes to the described resources.",
            ),
        ];
        coll.insert("get".into(), op("list", "list", params, false, list_schema));
    }
    if has("create") {
        coll.insert(
            "post".into(),
            op("post", "create", write_params(), true, schema.clone()),
        );
    }
    if has("deletecollection") {
        coll.insert(
            "delete".into(),
            op(
                "deletecollection",
                "deletecollection",
                vec![write_params()[0].clone()],
                false,
                r(&format!("{META}.Status")),
            ),
        );
    }
    paths.insert(collection, Value::Object(coll));

    if has("get") || has("update") || has("patch") || has("delete") {
        let mut item_params = vec![
            json!({"name": "name", "in": "path", "required": true, "description": format!("name of the {}", rt.kind), "schema": {"type": "string", "uniqueItems": true}}),
        ];
        item_params.extend(path_params.iter().cloned());
        let mut it = Map::new();
        it.insert("parameters".into(), json!(item_params));
        if has("get") {
            it.insert(
                "get".into(),
                op("get", "read", vec![], false, schema.clone()),
            );
        }
        if has("update") {
            it.insert(
                "put".into(),
                op("put", "replace", write_params(), true, schema.clone()),
            );
        }
        if has("patch") {
            let mut params = write_params();
            params.push(query(
                "force",
                "boolean",
                "Force is going to \"force\" Apply requests.",
            ));
            it.insert(
                "patch".into(),
                op("patch", "patch", params, true, schema.clone()),
            );
        }
        if has("delete") {
            let params = vec![
                write_params()[0].clone(),
                query(
                    "gracePeriodSeconds",
                    "integer",
                    "The duration in seconds before the object should be deleted.",
                ),
                query(
                    "propagationPolicy",
                    "string",
                    "Whether and how garbage collection will be performed.",
                ),
            ];
            it.insert(
                "delete".into(),
                op("delete", "delete", params, false, schema.clone()),
            );
        }
        paths.insert(item.clone(), Value::Object(it));
    }
    if rt.has_subresource("status") {
        let mut st = Map::new();
        st.insert(
            "get".into(),
            op("get", "readStatus", vec![], false, schema.clone()),
        );
        st.insert(
            "put".into(),
            op("put", "replaceStatus", write_params(), true, schema.clone()),
        );
        st.insert(
            "patch".into(),
            op("patch", "patchStatus", write_params(), true, schema.clone()),
        );
        paths.insert(format!("{item}/status"), Value::Object(st));
    }
}

// ---- schemas ----------------------------------------------------------------

fn s(kind: &str) -> Value {
    json!({"type": kind})
}

fn string_map() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string", "default": ""}})
}

fn obj(description: &str, props: Vec<(&str, Value)>) -> Value {
    let props: Map<String, Value> = props.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    json!({"description": description, "type": "object", "properties": props})
}

/// An array of `item` merged by `key` (strategic merge `merge` strategy).
fn merge_list(item: Value, key: &str, strategy: &str) -> Value {
    json!({
        "type": "array",
        "items": item,
        "x-kubernetes-patch-merge-key": key,
        "x-kubernetes-patch-strategy": strategy,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": [key],
    })
}

fn atomic_list(item: Value) -> Value {
    json!({"type": "array", "items": item, "x-kubernetes-list-type": "atomic"})
}

fn set_list() -> Value {
    json!({"type": "array", "items": {"type": "string", "default": ""}, "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "set"})
}

fn meta_schemas(out: &mut Map<String, Value>) {
    let owner = obj(
        "OwnerReference contains enough information to let you identify an owning object.",
        vec![
            ("apiVersion", s("string")),
            ("kind", s("string")),
            ("name", s("string")),
            ("uid", s("string")),
            ("controller", s("boolean")),
            ("blockOwnerDeletion", s("boolean")),
        ],
    );
    let object_meta = obj(
        "ObjectMeta is metadata that all persisted resources must have.",
        vec![
            ("name", s("string")),
            ("generateName", s("string")),
            ("namespace", s("string")),
            ("selfLink", s("string")),
            ("uid", s("string")),
            ("resourceVersion", s("string")),
            ("generation", s("integer")),
            ("creationTimestamp", r(&format!("{META}.Time"))),
            ("deletionTimestamp", r(&format!("{META}.Time"))),
            ("deletionGracePeriodSeconds", s("integer")),
            ("labels", string_map()),
            ("annotations", string_map()),
            (
                "ownerReferences",
                merge_list(r(&format!("{META}.OwnerReference")), "uid", "merge"),
            ),
            ("finalizers", set_list()),
            ("managedFields", atomic_list(json!({"type": "object"}))),
        ],
    );
    let label_selector = obj(
        "A label selector is a label query over a set of resources.",
        vec![
            ("matchLabels", string_map()),
            (
                "matchExpressions",
                atomic_list(obj(
                    "A label selector requirement.",
                    vec![
                        ("key", s("string")),
                        ("operator", s("string")),
                        ("values", atomic_list(s("string"))),
                    ],
                )),
            ),
        ],
    );
    let list_meta = obj(
        "ListMeta describes metadata that synthetic resources must have.",
        vec![
            ("resourceVersion", s("string")),
            ("continue", s("string")),
            ("remainingItemCount", s("integer")),
            ("selfLink", s("string")),
        ],
    );
    out.insert(format!("{META}.ObjectMeta"), object_meta);
    out.insert(format!("{META}.OwnerReference"), owner);
    out.insert(format!("{META}.LabelSelector"), label_selector);
    out.insert(format!("{META}.ListMeta"), list_meta);
    out.insert(
        format!("{META}.Time"),
        json!({"type": "string", "format": "date-time"}),
    );
    out.insert(format!("{META}.Patch"), json!({"type": "object", "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."}));
    out.insert(
        format!("{META}.Status"),
        obj(
            "Status is a return value for calls that don't return other objects.",
            vec![
                ("apiVersion", s("string")),
                ("kind", s("string")),
                ("status", s("string")),
                ("message", s("string")),
                ("reason", s("string")),
                ("code", s("integer")),
                ("details", json!({"type": "object"})),
            ],
        ),
    );
}

const CORE: &str = "io.k8s.api.core.v1";

/// Pod-related schemas with strategic-merge metadata, shared by every group
/// whose kinds embed a pod template.
fn pod_schemas(out: &mut Map<String, Value>) {
    let port = obj(
        "ContainerPort represents a network port in a single container.",
        vec![
            ("name", s("string")),
            ("containerPort", s("integer")),
            ("hostPort", s("integer")),
            ("hostIP", s("string")),
            ("protocol", json!({"type": "string", "default": "TCP"})),
        ],
    );
    let env = obj(
        "EnvVar represents an environment variable present in a Container.",
        vec![
            ("name", s("string")),
            ("value", s("string")),
            ("valueFrom", json!({"type": "object"})),
        ],
    );
    let mount = obj(
        "VolumeMount describes a mounting of a Volume within a container.",
        vec![
            ("name", s("string")),
            ("mountPath", s("string")),
            ("subPath", s("string")),
            ("readOnly", s("boolean")),
            ("mountPropagation", s("string")),
            ("subPathExpr", s("string")),
            ("recursiveReadOnly", s("string")),
        ],
    );
    let resources = obj(
        "ResourceRequirements describes the compute resource requirements.",
        vec![
            (
                "limits",
                json!({"type": "object", "additionalProperties": {"type": "string"}}),
            ),
            (
                "requests",
                json!({"type": "object", "additionalProperties": {"type": "string"}}),
            ),
            (
                "claims",
                merge_list(json!({"type": "object"}), "name", "merge"),
            ),
        ],
    );
    let mut ports_list = merge_list(
        r(&format!("{CORE}.ContainerPort")),
        "containerPort",
        "merge",
    );
    ports_list["x-kubernetes-list-map-keys"] = json!(["containerPort", "protocol"]);
    let container = obj(
        "A single application container that you want to run within a pod.",
        vec![
            ("name", s("string")),
            ("image", s("string")),
            ("command", atomic_list(s("string"))),
            ("args", atomic_list(s("string"))),
            ("workingDir", s("string")),
            ("ports", ports_list),
            ("envFrom", atomic_list(json!({"type": "object"}))),
            (
                "env",
                merge_list(r(&format!("{CORE}.EnvVar")), "name", "merge"),
            ),
            ("resources", r(&format!("{CORE}.ResourceRequirements"))),
            ("resizePolicy", atomic_list(json!({"type": "object"}))),
            ("restartPolicy", s("string")),
            (
                "volumeMounts",
                merge_list(r(&format!("{CORE}.VolumeMount")), "mountPath", "merge"),
            ),
            (
                "volumeDevices",
                merge_list(json!({"type": "object"}), "devicePath", "merge"),
            ),
            ("livenessProbe", json!({"type": "object"})),
            ("readinessProbe", json!({"type": "object"})),
            ("startupProbe", json!({"type": "object"})),
            ("lifecycle", json!({"type": "object"})),
            ("terminationMessagePath", s("string")),
            ("terminationMessagePolicy", s("string")),
            ("imagePullPolicy", s("string")),
            ("securityContext", json!({"type": "object"})),
            ("stdin", s("boolean")),
            ("stdinOnce", s("boolean")),
            ("tty", s("boolean")),
        ],
    );
    let volume = json!({
        "description": "Volume represents a named volume in a pod that may be accessed by any container in the pod.",
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "additionalProperties": {"type": "object"},
    });
    let container_list = |key: &str| merge_list(r(&format!("{CORE}.Container")), key, "merge");
    let pod_spec = obj(
        "PodSpec is a description of a pod.",
        vec![
            (
                "volumes",
                merge_list(r(&format!("{CORE}.Volume")), "name", "merge,retainKeys"),
            ),
            ("initContainers", container_list("name")),
            ("containers", container_list("name")),
            (
                "ephemeralContainers",
                merge_list(json!({"type": "object"}), "name", "merge"),
            ),
            ("restartPolicy", s("string")),
            ("terminationGracePeriodSeconds", s("integer")),
            ("activeDeadlineSeconds", s("integer")),
            ("dnsPolicy", s("string")),
            ("nodeSelector", string_map()),
            ("serviceAccountName", s("string")),
            ("serviceAccount", s("string")),
            ("automountServiceAccountToken", s("boolean")),
            ("nodeName", s("string")),
            ("hostNetwork", s("boolean")),
            ("hostPID", s("boolean")),
            ("hostIPC", s("boolean")),
            ("shareProcessNamespace", s("boolean")),
            ("securityContext", json!({"type": "object"})),
            (
                "imagePullSecrets",
                merge_list(
                    json!({"type": "object", "properties": {"name": {"type": "string"}}}),
                    "name",
                    "merge",
                ),
            ),
            ("hostname", s("string")),
            ("subdomain", s("string")),
            ("affinity", json!({"type": "object"})),
            ("schedulerName", s("string")),
            ("tolerations", atomic_list(json!({"type": "object"}))),
            (
                "hostAliases",
                merge_list(json!({"type": "object"}), "ip", "merge"),
            ),
            ("priorityClassName", s("string")),
            ("priority", s("integer")),
            ("dnsConfig", json!({"type": "object"})),
            ("readinessGates", atomic_list(json!({"type": "object"}))),
            ("runtimeClassName", s("string")),
            ("enableServiceLinks", s("boolean")),
            ("preemptionPolicy", s("string")),
            ("overhead", json!({"type": "object"})),
            (
                "topologySpreadConstraints",
                merge_list(json!({"type": "object"}), "topologyKey", "merge"),
            ),
            ("setHostnameAsFQDN", s("boolean")),
            ("os", json!({"type": "object"})),
            ("hostUsers", s("boolean")),
            (
                "schedulingGates",
                merge_list(json!({"type": "object"}), "name", "merge"),
            ),
            (
                "resourceClaims",
                merge_list(json!({"type": "object"}), "name", "merge,retainKeys"),
            ),
        ],
    );
    let template = obj(
        "PodTemplateSpec describes the data a pod should have when created from a template.",
        vec![
            ("metadata", r(&format!("{META}.ObjectMeta"))),
            ("spec", r(&format!("{CORE}.PodSpec"))),
        ],
    );
    out.insert(format!("{CORE}.ContainerPort"), port);
    out.insert(format!("{CORE}.EnvVar"), env);
    out.insert(format!("{CORE}.VolumeMount"), mount);
    out.insert(format!("{CORE}.ResourceRequirements"), resources);
    out.insert(format!("{CORE}.Container"), container);
    out.insert(format!("{CORE}.Volume"), volume);
    out.insert(format!("{CORE}.PodSpec"), pod_spec);
    out.insert(format!("{CORE}.PodTemplateSpec"), template);
}

/// The `spec` schema of a kind, where we model it; others are open objects.
fn spec_schema(rt: &ResourceType, out: &mut Map<String, Value>) -> Value {
    let sel = || r(&format!("{META}.LabelSelector"));
    let tpl = || r(&format!("{CORE}.PodTemplateSpec"));
    let strategy = |name: &str| {
        json!({"type": "object", "x-kubernetes-patch-strategy": "retainKeys", "description": name,
               "properties": {"type": {"type": "string"}, "rollingUpdate": {"type": "object"}}})
    };
    let props: Vec<(&str, Value)> = match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => {
            pod_schemas(out);
            return r(&format!("{CORE}.PodSpec"));
        }
        ("apps", "Deployment") => vec![
            ("replicas", s("integer")),
            ("selector", sel()),
            ("template", tpl()),
            (
                "strategy",
                strategy(
                    "DeploymentStrategy describes how to replace existing pods with new ones.",
                ),
            ),
            ("minReadySeconds", s("integer")),
            ("revisionHistoryLimit", s("integer")),
            ("paused", s("boolean")),
            ("progressDeadlineSeconds", s("integer")),
        ],
        ("apps", "ReplicaSet") | ("", "ReplicationController") => vec![
            ("replicas", s("integer")),
            ("minReadySeconds", s("integer")),
            (
                "selector",
                if rt.kind == "ReplicaSet" {
                    sel()
                } else {
                    string_map()
                },
            ),
            ("template", tpl()),
        ],
        ("apps", "StatefulSet") => vec![
            ("replicas", s("integer")),
            ("selector", sel()),
            ("template", tpl()),
            (
                "volumeClaimTemplates",
                atomic_list(json!({"type": "object"})),
            ),
            ("serviceName", s("string")),
            ("podManagementPolicy", s("string")),
            ("updateStrategy", json!({"type": "object"})),
            ("revisionHistoryLimit", s("integer")),
            ("minReadySeconds", s("integer")),
            (
                "persistentVolumeClaimRetentionPolicy",
                json!({"type": "object"}),
            ),
            ("ordinals", json!({"type": "object"})),
        ],
        ("apps", "DaemonSet") => vec![
            ("selector", sel()),
            ("template", tpl()),
            ("updateStrategy", json!({"type": "object"})),
            ("minReadySeconds", s("integer")),
            ("revisionHistoryLimit", s("integer")),
        ],
        ("batch", "Job") => vec![
            ("parallelism", s("integer")),
            ("completions", s("integer")),
            ("activeDeadlineSeconds", s("integer")),
            ("backoffLimit", s("integer")),
            ("selector", sel()),
            ("manualSelector", s("boolean")),
            ("template", tpl()),
            ("ttlSecondsAfterFinished", s("integer")),
            ("completionMode", s("string")),
            ("suspend", s("boolean")),
            ("podFailurePolicy", json!({"type": "object"})),
            ("podReplacementPolicy", s("string")),
        ],
        ("", "PodTemplate") => {
            pod_schemas(out);
            return json!({"type": "object"});
        }
        _ => return json!({"type": "object", "description": format!("Spec of a {}.", rt.kind)}),
    };
    pod_schemas(out);
    obj(&format!("{}Spec", rt.kind), props)
}

fn add_kind_schemas(out: &mut Map<String, Value>, rt: &ResourceType) {
    let name = schema_name(rt);
    let gvk = json!([{"group": rt.group, "kind": rt.kind, "version": rt.version}]);
    let mut props: Vec<(&str, Value)> = vec![
        (
            "apiVersion",
            json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}),
        ),
        (
            "kind",
            json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}),
        ),
        ("metadata", r(&format!("{META}.ObjectMeta"))),
    ];
    let schema = if rt.custom {
        let mut o = obj(&format!("{} is a custom resource.", rt.kind), props);
        o["x-kubernetes-preserve-unknown-fields"] = json!(true);
        o
    } else {
        match (rt.group.as_str(), rt.kind.as_str()) {
            ("", "ConfigMap") => {
                props.push(("data", string_map()));
                props.push(("binaryData", string_map()));
                props.push(("immutable", s("boolean")));
            }
            ("", "Secret") => {
                props.push(("data", string_map()));
                props.push(("stringData", string_map()));
                props.push(("type", s("string")));
                props.push(("immutable", s("boolean")));
            }
            ("", "Event")
            | ("", "Endpoints")
            | ("discovery.k8s.io", _)
            | ("storage.k8s.io", "StorageClass")
            | ("admissionregistration.k8s.io", _) => {
                // Top-level fields without spec/status: open object.
                let mut o = obj(&format!("{} object.", rt.kind), props);
                o["additionalProperties"] = json!({"type": "object"});
                o["x-kubernetes-group-version-kind"] = gvk.clone();
                out.insert(name.clone(), o);
                add_list_schema(out, rt, &name);
                return;
            }
            _ => {
                let spec = spec_schema(rt, out);
                props.push(("spec", spec));
                props.push(("status", json!({"type": "object"})));
            }
        }
        obj(&format!("{} object.", rt.kind), props)
    };
    let mut schema = schema;
    schema["x-kubernetes-group-version-kind"] = gvk;
    out.insert(name.clone(), schema);
    add_list_schema(out, rt, &name);
}

fn add_list_schema(out: &mut Map<String, Value>, rt: &ResourceType, name: &str) {
    let list = json!({
        "description": format!("{} is a list of {}.", rt.list_kind(), rt.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": r(&format!("{META}.ListMeta")),
            "items": {"type": "array", "items": r(name)},
        },
        "x-kubernetes-group-version-kind": [{"group": rt.group, "kind": rt.list_kind(), "version": rt.version}],
    });
    out.insert(format!("{name}List"), list);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// What cli-runtime's QueryParamVerifierV3 does: a PATCH operation for the
    /// GVK with a `fieldValidation` query parameter.
    fn supports_param(doc: &Value, group: &str, version: &str, kind: &str, param: &str) -> bool {
        doc["paths"].as_object().unwrap().values().any(|p| {
            let Some(op) = p.get("patch") else {
                return false;
            };
            let g = &op["x-kubernetes-group-version-kind"];
            g["group"] == group
                && g["version"] == version
                && g["kind"] == kind
                && op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["name"] == param && x["in"] == "query")
        })
    }

    /// Follows `$ref`s like strategicpatch.PatchMetaFromOpenAPIV3.
    fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
            None => v,
        }
    }

    #[test]
    fn index_lists_every_group_version() {
        let r = Registry::builtin();
        let idx = v3_index(&r);
        let url = idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
        assert!(idx["paths"]["api/v1"].is_object());
        assert!(idx["paths"]["apis/autoscaling/v1"].is_object());
    }

    #[test]
    fn field_validation_is_detected() {
        let r = Registry::builtin();
        let apps = v3_document(&r, "apis/apps/v1").unwrap();
        assert_eq!(apps["openapi"], "3.0.0");
        assert!(supports_param(
            &apps,
            "apps",
            "v1",
            "Deployment",
            "fieldValidation"
        ));
        assert!(supports_param(&apps, "apps", "v1", "Deployment", "dryRun"));
        let core = v3_document(&r, "/api/v1").unwrap();
        assert!(supports_param(&core, "", "v1", "Pod", "fieldValidation"));
        assert!(supports_param(
            &core,
            "",
            "v1",
            "ConfigMap",
            "fieldValidation"
        ));
        assert!(v3_document(&r, "apis/nope/v1").is_none());
        assert!(v3_document(&r, "garbage").is_none());
    }

    #[test]
    fn deployment_schema_has_patch_metadata() {
        let r = Registry::builtin();
        let doc = v3_document(&r, "apis/apps/v1").unwrap();
        let dep = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            dep["x-kubernetes-group-version-kind"][0]["kind"],
            "Deployment"
        );
        let spec = resolve(&doc, &dep["properties"]["spec"]);
        let tpl = resolve(&doc, &spec["properties"]["template"]);
        let pod_spec = resolve(&doc, &tpl["properties"]["spec"]);
        let containers = &pod_spec["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(
            pod_spec["properties"]["volumes"]["x-kubernetes-patch-strategy"],
            "merge,retainKeys"
        );
        let container = resolve(&doc, &containers["items"]);
        assert_eq!(
            container["properties"]["env"]["x-kubernetes-patch-merge-key"],
            "name"
        );
        assert_eq!(
            container["properties"]["ports"]["x-kubernetes-patch-merge-key"],
            "containerPort"
        );
        // every $ref resolves
        let text = doc.to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "dangling ref {name}"
            );
        }
    }

    #[test]
    fn custom_resources_get_documents() {
        let mut r = Registry::builtin();
        r.add_crd(
            &json!({"spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": true}]}}),
        )
        .unwrap();
        let doc = v3_document(&r, "apis/example.com/v1").unwrap();
        assert!(doc["components"]["schemas"]["com.example.v1.Widget"].is_object());
        assert!(supports_param(
            &doc,
            "example.com",
            "v1",
            "Widget",
            "fieldValidation"
        ));
    }

    #[test]
    fn v2_is_swagger_with_definitions() {
        let r = Registry::builtin();
        let doc = v2(&r);
        assert_eq!(doc["swagger"], "2.0");
        assert!(doc["definitions"]["io.k8s.api.core.v1.Pod"].is_object());
        assert!(!doc.to_string().contains("#/components/"));
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["type"] == "string")
        );
    }
}
