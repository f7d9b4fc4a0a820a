//! Just enough Kubernetes protobuf decoding for the request bodies kubectl's
//! typed clients send as protobuf (access reviews for `kubectl auth can-i`);
//! responses are always JSON, which those clients also accept.

use serde_json::{Map, Value, json};

/// Wire-format fields of one message: (field number, bytes) for
/// length-delimited fields; varints and fixed fields are skipped.
fn fields(mut b: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (key, rest) = varint(b)?;
        b = rest;
        match key & 7 {
            0 => b = varint(b)?.1,
            1 => b = b.get(8..)?,
            5 => b = b.get(4..)?,
            2 => {
                let (len, rest) = varint(b)?;
                let len = usize::try_from(len).ok()?;
                out.push((key >> 3, rest.get(..len)?));
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

fn strings(msg: &[u8], names: &[(u64, &str)]) -> Option<Map<String, Value>> {
    let mut m = Map::new();
    for (n, bytes) in fields(msg)? {
        if let Some((_, name)) = names.iter().find(|(num, _)| *num == n) {
            m.insert(name.to_string(), json!(String::from_utf8_lossy(bytes)));
        }
    }
    Some(m)
}

const RESOURCE_ATTRS: &[(u64, &str)] = &[
    (1, "namespace"),
    (2, "verb"),
    (3, "group"),
    (4, "version"),
    (5, "resource"),
    (6, "subresource"),
    (7, "name"),
];
const NON_RESOURCE_ATTRS: &[(u64, &str)] = &[(1, "path"), (2, "verb")];

/// Decodes a `k8s\0`-enveloped access review into its JSON form.
pub fn decode_review(body: &[u8]) -> Option<Value> {
    let unknown = body.strip_prefix(b"k8s\0")?;
    let mut type_meta = Map::new();
    let mut raw: &[u8] = &[];
    for (n, bytes) in fields(unknown)? {
        match n {
            1 => type_meta = strings(bytes, &[(1, "apiVersion"), (2, "kind")])?,
            2 => raw = bytes,
            _ => {}
        }
    }
    let kind = type_meta
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut spec = Map::new();
    for (n, bytes) in fields(raw)? {
        if n != 2 {
            continue;
        }
        for (sn, sb) in fields(bytes)? {
            match (kind.as_str(), sn) {
                ("SelfSubjectRulesReview", 1) => {
                    spec.insert("namespace".into(), json!(String::from_utf8_lossy(sb)));
                }
                ("SelfSubjectAccessReview", 1) | ("SubjectAccessReview", 1) => {
                    spec.insert(
                        "resourceAttributes".into(),
                        Value::Object(strings(sb, RESOURCE_ATTRS)?),
                    );
                }
                ("SelfSubjectAccessReview", 2) | ("SubjectAccessReview", 2) => {
                    spec.insert(
                        "nonResourceAttributes".into(),
                        Value::Object(strings(sb, NON_RESOURCE_ATTRS)?),
                    );
                }
                ("SubjectAccessReview", 3) => {
                    spec.insert("user".into(), json!(String::from_utf8_lossy(sb)));
                }
                _ => {}
            }
        }
    }
    Some(
        json!({"apiVersion": type_meta.get("apiVersion"), "kind": kind, "metadata": {}, "spec": spec}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u64, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![((field << 3) | 2) as u8, bytes.len() as u8];
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn decodes_self_subject_access_review() {
        let attrs = [ld(1, b"jobs"), ld(2, b"list"), ld(5, b"pods")].concat();
        let raw = [ld(1, b""), ld(2, &ld(1, &attrs))].concat();
        let tm = [
            ld(1, b"authorization.k8s.io/v1"),
            ld(2, b"SelfSubjectAccessReview"),
        ]
        .concat();
        let body = [b"k8s\0".to_vec(), ld(1, &tm), ld(2, &raw)].concat();
        let v = decode_review(&body).expect("decodes");
        assert_eq!(
            v["spec"]["resourceAttributes"],
            json!({"namespace": "jobs", "verb": "list", "resource": "pods"})
        );
    }
}
