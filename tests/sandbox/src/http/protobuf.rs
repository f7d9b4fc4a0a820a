//! Just enough Kubernetes protobuf decoding for the request bodies kubectl's
//! typed clients send as protobuf (`kubectl create namespace|configmap|secret|
//! serviceaccount|deployment|job|cronjob|service|role|clusterrole|rolebinding|
//! clusterrolebinding`, `kubectl create token`, `kubectl certificate approve`,
//! `kubectl auth can-i`,
//! eviction, delete options). Each
//! supported type is a field table below; unknown fields are skipped.
//! Responses are always JSON, which those clients also accept.

use base64::Engine;
use serde_json::{Map, Value, json};

enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Wire-format fields of one message in order; fixed-width fields are skipped.
fn fields(mut b: &[u8]) -> Option<Vec<(u64, Wire<'_>)>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (key, rest) = varint(b)?;
        b = rest;
        match key & 7 {
            0 => {
                let (v, rest) = varint(b)?;
                out.push((key >> 3, Wire::Varint(v)));
                b = rest;
            }
            1 => b = b.get(8..)?,
            5 => b = b.get(4..)?,
            2 => {
                let (len, rest) = varint(b)?;
                let len = usize::try_from(len).ok()?;
                out.push((key >> 3, Wire::Bytes(rest.get(..len)?)));
                b = rest.get(len..)?;
            }
            _ => return None,
        }
    }
    Some(out)
}

fn varint(b: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, &b[i + 1..]));
        }
    }
    None
}

/// How a field decodes into JSON.
enum Kind {
    Str,
    Int,
    Bool,
    /// meta/v1 Time {seconds, nanos} → RFC 3339.
    Time,
    Msg(&'static [Field]),
    RepStr,
    RepMsg(&'static [Field]),
    MapStr,
    MapBytes,
    /// map<string, resource.Quantity> (a message holding the string form).
    MapQuantity,
    /// intstr.IntOrString {type, intVal, strVal}.
    IntOrStr,
    /// `bytes`, base64 in JSON.
    Bytes,
}

struct Field(u64, &'static str, Kind);

use Kind::*;

static OWNER_REFERENCE: &[Field] = &[
    Field(1, "kind", Str),
    Field(3, "name", Str),
    Field(4, "uid", Str),
    Field(5, "apiVersion", Str),
    Field(6, "controller", Bool),
    Field(7, "blockOwnerDeletion", Bool),
];
static OBJECT_META: &[Field] = &[
    Field(1, "name", Str),
    Field(2, "generateName", Str),
    Field(3, "namespace", Str),
    Field(5, "uid", Str),
    Field(6, "resourceVersion", Str),
    Field(7, "generation", Int),
    Field(8, "creationTimestamp", Time),
    Field(9, "deletionTimestamp", Time),
    Field(10, "deletionGracePeriodSeconds", Int),
    Field(11, "labels", MapStr),
    Field(12, "annotations", MapStr),
    Field(13, "ownerReferences", RepMsg(OWNER_REFERENCE)),
    Field(14, "finalizers", RepStr),
];
static LOCAL_OBJECT_REFERENCE: &[Field] = &[Field(1, "name", Str)];
static OBJECT_REFERENCE: &[Field] = &[
    Field(1, "kind", Str),
    Field(2, "namespace", Str),
    Field(3, "name", Str),
    Field(4, "uid", Str),
    Field(5, "apiVersion", Str),
];
static NAMESPACE_SPEC: &[Field] = &[Field(1, "finalizers", RepStr)];
static NAMESPACE: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(NAMESPACE_SPEC)),
];
static CONFIG_MAP: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "data", MapStr),
    Field(3, "binaryData", MapBytes),
    Field(4, "immutable", Bool),
];
static SECRET: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "data", MapBytes),
    Field(3, "type", Str),
    Field(4, "stringData", MapStr),
    Field(5, "immutable", Bool),
];
static SERVICE_ACCOUNT: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "secrets", RepMsg(OBJECT_REFERENCE)),
    Field(3, "imagePullSecrets", RepMsg(LOCAL_OBJECT_REFERENCE)),
    Field(4, "automountServiceAccountToken", Bool),
];
static PRECONDITIONS: &[Field] = &[Field(1, "uid", Str), Field(2, "resourceVersion", Str)];
static DELETE_OPTIONS: &[Field] = &[
    Field(1, "gracePeriodSeconds", Int),
    Field(2, "preconditions", Msg(PRECONDITIONS)),
    Field(3, "orphanDependents", Bool),
    Field(4, "propagationPolicy", Str),
    Field(5, "dryRun", RepStr),
];
static EVICTION: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "deleteOptions", Msg(DELETE_OPTIONS)),
];
static RESOURCE_ATTRIBUTES: &[Field] = &[
    Field(1, "namespace", Str),
    Field(2, "verb", Str),
    Field(3, "group", Str),
    Field(4, "version", Str),
    Field(5, "resource", Str),
    Field(6, "subresource", Str),
    Field(7, "name", Str),
];
static NON_RESOURCE_ATTRIBUTES: &[Field] = &[Field(1, "path", Str), Field(2, "verb", Str)];
static SSAR_SPEC: &[Field] = &[
    Field(1, "resourceAttributes", Msg(RESOURCE_ATTRIBUTES)),
    Field(2, "nonResourceAttributes", Msg(NON_RESOURCE_ATTRIBUTES)),
];
static SAR_SPEC: &[Field] = &[
    Field(1, "resourceAttributes", Msg(RESOURCE_ATTRIBUTES)),
    Field(2, "nonResourceAttributes", Msg(NON_RESOURCE_ATTRIBUTES)),
    Field(3, "user", Str),
    Field(4, "groups", RepStr),
    Field(6, "uid", Str),
];
static SSRR_SPEC: &[Field] = &[Field(1, "namespace", Str)];
static SSAR: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(SSAR_SPEC)),
];
static SAR: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(SAR_SPEC)),
];
static SSRR: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(SSRR_SPEC)),
];

// Workloads as `kubectl create deployment|job|cronjob|service` send them. The
// pod spec covers what those commands set; other fields are dropped.
static LABEL_SELECTOR_REQUIREMENT: &[Field] = &[
    Field(1, "key", Str),
    Field(2, "operator", Str),
    Field(3, "values", RepStr),
];
static LABEL_SELECTOR: &[Field] = &[
    Field(1, "matchLabels", MapStr),
    Field(2, "matchExpressions", RepMsg(LABEL_SELECTOR_REQUIREMENT)),
];
static CONTAINER_PORT: &[Field] = &[
    Field(1, "name", Str),
    Field(2, "hostPort", Int),
    Field(3, "containerPort", Int),
    Field(4, "protocol", Str),
];
static ENV_VAR: &[Field] = &[Field(1, "name", Str), Field(2, "value", Str)];
static RESOURCES: &[Field] = &[
    Field(1, "limits", MapQuantity),
    Field(2, "requests", MapQuantity),
];
static CONTAINER: &[Field] = &[
    Field(1, "name", Str),
    Field(2, "image", Str),
    Field(3, "command", RepStr),
    Field(4, "args", RepStr),
    Field(5, "workingDir", Str),
    Field(6, "ports", RepMsg(CONTAINER_PORT)),
    Field(7, "env", RepMsg(ENV_VAR)),
    Field(8, "resources", Msg(RESOURCES)),
    Field(14, "imagePullPolicy", Str),
    Field(13, "terminationMessagePath", Str),
    Field(20, "terminationMessagePolicy", Str),
];
static POD_SPEC: &[Field] = &[
    Field(2, "containers", RepMsg(CONTAINER)),
    Field(3, "restartPolicy", Str),
    Field(4, "terminationGracePeriodSeconds", Int),
    Field(6, "dnsPolicy", Str),
    Field(7, "nodeSelector", MapStr),
    Field(8, "serviceAccountName", Str),
    Field(10, "nodeName", Str),
    Field(15, "imagePullSecrets", RepMsg(LOCAL_OBJECT_REFERENCE)),
    Field(19, "schedulerName", Str),
    Field(20, "initContainers", RepMsg(CONTAINER)),
];
static POD_TEMPLATE_SPEC: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(POD_SPEC)),
];
static ROLLING_UPDATE: &[Field] = &[
    Field(1, "maxUnavailable", IntOrStr),
    Field(2, "maxSurge", IntOrStr),
];
static DEPLOYMENT_STRATEGY: &[Field] = &[
    Field(1, "type", Str),
    Field(2, "rollingUpdate", Msg(ROLLING_UPDATE)),
];
static DEPLOYMENT_SPEC: &[Field] = &[
    Field(1, "replicas", Int),
    Field(2, "selector", Msg(LABEL_SELECTOR)),
    Field(3, "template", Msg(POD_TEMPLATE_SPEC)),
    Field(4, "strategy", Msg(DEPLOYMENT_STRATEGY)),
    Field(5, "minReadySeconds", Int),
    Field(6, "revisionHistoryLimit", Int),
    Field(7, "paused", Bool),
    Field(9, "progressDeadlineSeconds", Int),
];
static DEPLOYMENT: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(DEPLOYMENT_SPEC)),
];
static JOB_SPEC: &[Field] = &[
    Field(1, "parallelism", Int),
    Field(2, "completions", Int),
    Field(3, "activeDeadlineSeconds", Int),
    Field(4, "selector", Msg(LABEL_SELECTOR)),
    Field(5, "manualSelector", Bool),
    Field(6, "template", Msg(POD_TEMPLATE_SPEC)),
    Field(7, "backoffLimit", Int),
    Field(8, "ttlSecondsAfterFinished", Int),
];
static JOB: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(JOB_SPEC)),
];
static JOB_TEMPLATE_SPEC: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(JOB_SPEC)),
];
static CRON_JOB_SPEC: &[Field] = &[
    Field(1, "schedule", Str),
    Field(2, "startingDeadlineSeconds", Int),
    Field(3, "concurrencyPolicy", Str),
    Field(4, "suspend", Bool),
    Field(5, "jobTemplate", Msg(JOB_TEMPLATE_SPEC)),
    Field(6, "successfulJobsHistoryLimit", Int),
    Field(7, "failedJobsHistoryLimit", Int),
    Field(8, "timeZone", Str),
];
static CRON_JOB: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(CRON_JOB_SPEC)),
];
static SERVICE_PORT: &[Field] = &[
    Field(1, "name", Str),
    Field(2, "protocol", Str),
    Field(3, "port", Int),
    Field(4, "targetPort", IntOrStr),
    Field(5, "nodePort", Int),
];
static SERVICE_SPEC: &[Field] = &[
    Field(1, "ports", RepMsg(SERVICE_PORT)),
    Field(2, "selector", MapStr),
    Field(3, "clusterIP", Str),
    Field(4, "type", Str),
    Field(5, "externalIPs", RepStr),
    Field(7, "sessionAffinity", Str),
    Field(11, "externalName", Str),
];
static SERVICE: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(SERVICE_SPEC)),
];

static BOUND_OBJECT_REFERENCE: &[Field] = &[
    Field(1, "kind", Str),
    Field(2, "apiVersion", Str),
    Field(3, "name", Str),
    Field(4, "uid", Str),
];
static TOKEN_REQUEST_SPEC: &[Field] = &[
    Field(1, "audiences", RepStr),
    Field(3, "boundObjectRef", Msg(BOUND_OBJECT_REFERENCE)),
    Field(4, "expirationSeconds", Int),
];
static TOKEN_REQUEST: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(TOKEN_REQUEST_SPEC)),
];
static SELF_SUBJECT_REVIEW: &[Field] = &[Field(1, "metadata", Msg(OBJECT_META))];

// `kubectl certificate approve|deny` writes the whole CSR to `approval`
// (k8s.io/api/certificates/v1 generated.proto).
static CSR_SPEC: &[Field] = &[
    Field(1, "request", Bytes),
    Field(2, "username", Str),
    Field(3, "uid", Str),
    Field(4, "groups", RepStr),
    Field(5, "usages", RepStr),
    Field(7, "signerName", Str),
    Field(8, "expirationSeconds", Int),
];
static CSR_CONDITION: &[Field] = &[
    Field(1, "type", Str),
    Field(2, "reason", Str),
    Field(3, "message", Str),
    Field(4, "lastUpdateTime", Time),
    Field(5, "lastTransitionTime", Time),
    Field(6, "status", Str),
];
static CSR_STATUS: &[Field] = &[
    Field(1, "conditions", RepMsg(CSR_CONDITION)),
    Field(2, "certificate", Bytes),
];
static CSR: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(CSR_SPEC)),
    Field(3, "status", Msg(CSR_STATUS)),
];

// RBAC as `kubectl create role|clusterrole|rolebinding|clusterrolebinding`
// sends it (k8s.io/api/rbac/v1 generated.proto).
static POLICY_RULE: &[Field] = &[
    Field(1, "verbs", RepStr),
    Field(2, "apiGroups", RepStr),
    Field(3, "resources", RepStr),
    Field(4, "resourceNames", RepStr),
    Field(5, "nonResourceURLs", RepStr),
];
static AGGREGATION_RULE: &[Field] = &[Field(1, "clusterRoleSelectors", RepMsg(LABEL_SELECTOR))];
static ROLE: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "rules", RepMsg(POLICY_RULE)),
];
static CLUSTER_ROLE: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "rules", RepMsg(POLICY_RULE)),
    Field(3, "aggregationRule", Msg(AGGREGATION_RULE)),
];
static SUBJECT: &[Field] = &[
    Field(1, "kind", Str),
    Field(2, "apiGroup", Str),
    Field(3, "name", Str),
    Field(4, "namespace", Str),
];
static ROLE_REF: &[Field] = &[
    Field(1, "apiGroup", Str),
    Field(2, "kind", Str),
    Field(3, "name", Str),
];
static ROLE_BINDING: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "subjects", RepMsg(SUBJECT)),
    Field(3, "roleRef", Msg(ROLE_REF)),
];

fn schema(kind: &str) -> Option<&'static [Field]> {
    Some(match kind {
        "Namespace" => NAMESPACE,
        "ConfigMap" => CONFIG_MAP,
        "Secret" => SECRET,
        "ServiceAccount" => SERVICE_ACCOUNT,
        "DeleteOptions" => DELETE_OPTIONS,
        "Eviction" => EVICTION,
        "SelfSubjectAccessReview" => SSAR,
        "SubjectAccessReview" => SAR,
        "SelfSubjectRulesReview" => SSRR,
        "Deployment" => DEPLOYMENT,
        "Job" => JOB,
        "CronJob" => CRON_JOB,
        "Service" => SERVICE,
        "TokenRequest" => TOKEN_REQUEST,
        "SelfSubjectReview" => SELF_SUBJECT_REVIEW,
        "Role" => ROLE,
        "ClusterRole" => CLUSTER_ROLE,
        "RoleBinding" | "ClusterRoleBinding" => ROLE_BINDING,
        "CertificateSigningRequest" => CSR,
        _ => return None,
    })
}

fn text(b: &[u8]) -> Value {
    json!(String::from_utf8_lossy(b))
}

/// A map entry message {key = 1, value = 2}.
fn entry(b: &[u8], bytes: bool) -> Option<(String, Value)> {
    let (mut k, mut v) = (String::new(), json!(""));
    for (n, w) in fields(b)? {
        if let Wire::Bytes(x) = w {
            match n {
                1 => k = String::from_utf8_lossy(x).into_owned(),
                2 if bytes => v = json!(base64::engine::general_purpose::STANDARD.encode(x)),
                2 => v = text(x),
                _ => {}
            }
        }
    }
    Some((k, v))
}

fn quantity_entry(b: &[u8]) -> Option<(String, Value)> {
    let (mut k, mut v) = (String::new(), json!(""));
    for (n, w) in fields(b)? {
        if let Wire::Bytes(x) = w {
            match n {
                1 => k = String::from_utf8_lossy(x).into_owned(),
                2 => {
                    for (qn, qw) in fields(x)? {
                        if let (1, Wire::Bytes(q)) = (qn, qw) {
                            v = text(q);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Some((k, v))
}

fn int_or_string(b: &[u8]) -> Option<Value> {
    let (mut is_str, mut int, mut s) = (false, 0i64, json!(""));
    for (n, w) in fields(b)? {
        match (n, w) {
            (1, Wire::Varint(t)) => is_str = t == 1,
            (2, Wire::Varint(v)) => int = v as i32 as i64,
            (3, Wire::Bytes(x)) => s = text(x),
            _ => {}
        }
    }
    Some(if is_str { s } else { json!(int) })
}

fn time(b: &[u8]) -> Option<Value> {
    let mut secs = 0i64;
    for (n, w) in fields(b)? {
        if let (1, Wire::Varint(v)) = (n, w) {
            secs = v as i64;
        }
    }
    if secs == 0 {
        // Go's zero time, which JSON renders as null (e.g. template metadata).
        return Some(Value::Null);
    }
    let ts = jiff::Timestamp::from_second(secs).ok()?;
    Some(json!(crate::meta::rfc3339(ts)))
}

fn message(b: &[u8], schema: &'static [Field]) -> Option<Value> {
    let mut out = Map::new();
    for (n, w) in fields(b)? {
        let Some(Field(_, name, kind)) = schema.iter().find(|f| f.0 == n) else {
            continue;
        };
        let name = name.to_string();
        match (kind, w) {
            // gogo-protobuf writes every non-pointer field, set or not; the
            // real server's JSON drops such zero values (omitempty), and
            // controllers compare templates, so drop them here too.
            (Int, Wire::Varint(0)) if name == "generation" => {}
            (Int, Wire::Varint(v)) => {
                // int32 negatives arrive sign-extended to 64 bits.
                out.insert(name, json!(v as i64));
            }
            (Bool, Wire::Varint(v)) => {
                out.insert(name, json!(v != 0));
            }
            (Str, Wire::Bytes([])) => {}
            (Str, Wire::Bytes(x)) => {
                out.insert(name, text(x));
            }
            (Time, Wire::Bytes(x)) => {
                out.insert(name, time(x)?);
            }
            (Msg(s), Wire::Bytes(x)) => {
                out.insert(name, message(x, s)?);
            }
            (RepStr, Wire::Bytes(x)) => push(&mut out, name, text(x)),
            (RepMsg(s), Wire::Bytes(x)) => push(&mut out, name, message(x, s)?),
            (Bytes, Wire::Bytes(x)) => {
                out.insert(
                    name,
                    json!(base64::engine::general_purpose::STANDARD.encode(x)),
                );
            }
            (IntOrStr, Wire::Bytes(x)) => {
                out.insert(name, int_or_string(x)?);
            }
            (MapStr | MapBytes | MapQuantity, Wire::Bytes(x)) => {
                let (k, v) = if matches!(kind, MapQuantity) {
                    quantity_entry(x)?
                } else {
                    entry(x, matches!(kind, MapBytes))?
                };
                if let Some(m) = out.entry(name).or_insert_with(|| json!({})).as_object_mut() {
                    m.insert(k, v);
                }
            }
            _ => return None,
        }
    }
    Some(Value::Object(out))
}

fn push(out: &mut Map<String, Value>, name: String, v: Value) {
    if let Some(a) = out.entry(name).or_insert_with(|| json!([])).as_array_mut() {
        a.push(v);
    }
}

/// Decodes a `k8s\0`-enveloped object of a supported kind into its JSON form.
pub fn decode(body: &[u8]) -> Option<Value> {
    let unknown = body.strip_prefix(b"k8s\0")?;
    let mut type_meta = Map::new();
    let mut raw: &[u8] = &[];
    for (n, w) in fields(unknown)? {
        match (n, w) {
            (1, Wire::Bytes(x)) => {
                for (tn, tw) in fields(x)? {
                    if let Wire::Bytes(s) = tw {
                        match tn {
                            1 => type_meta.insert("apiVersion".into(), text(s)),
                            2 => type_meta.insert("kind".into(), text(s)),
                            _ => None,
                        };
                    }
                }
            }
            (2, Wire::Bytes(x)) => raw = x,
            _ => {}
        }
    }
    let kind = type_meta.get("kind").and_then(Value::as_str)?.to_string();
    let mut doc = message(raw, schema(&kind)?)?;
    if let Some(m) = doc.as_object_mut() {
        let mut ordered = type_meta;
        ordered.append(m);
        return Some(Value::Object(ordered));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u64, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![((field << 3) | 2) as u8, bytes.len() as u8];
        v.extend_from_slice(bytes);
        v
    }

    fn envelope(api_version: &[u8], kind: &[u8], raw: &[u8]) -> Vec<u8> {
        let tm = [ld(1, api_version), ld(2, kind)].concat();
        [b"k8s\0".to_vec(), ld(1, &tm), ld(2, raw)].concat()
    }

    #[test]
    fn decodes_self_subject_access_review() {
        let attrs = [ld(1, b"jobs"), ld(2, b"list"), ld(5, b"pods")].concat();
        let raw = [ld(1, b""), ld(2, &ld(1, &attrs))].concat();
        let v = decode(&envelope(
            b"authorization.k8s.io/v1",
            b"SelfSubjectAccessReview",
            &raw,
        ))
        .expect("decodes");
        assert_eq!(
            v["spec"]["resourceAttributes"],
            json!({"namespace": "jobs", "verb": "list", "resource": "pods"})
        );
    }

    #[test]
    fn decodes_secret_with_labels_and_bytes() {
        let meta = [
            ld(1, b"s"),
            ld(11, &[ld(1, b"app"), ld(2, b"web")].concat()),
        ]
        .concat();
        let raw = [
            ld(1, &meta),
            ld(2, &[ld(1, b"k"), ld(2, b"v")].concat()),
            ld(3, b"Opaque"),
        ]
        .concat();
        let v = decode(&envelope(b"v1", b"Secret", &raw)).expect("decodes");
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "labels": {"app": "web"}}, "data": {"k": "dg=="}, "type": "Opaque"})
        );
        assert!(decode(&envelope(b"v1", b"Pod", &raw)).is_none());
    }
}
