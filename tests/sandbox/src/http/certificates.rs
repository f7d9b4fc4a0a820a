//! CertificateSigningRequests as the certificates registry keeps them: the
//! requester recorded on create, and the `approval` subresource that only
//! changes the conditions (no signer runs, so no certificate is issued).

use super::auth::Identity;
use crate::error::ApiError;
use serde_json::{Value, json};

/// The CSR strategy's PrepareForCreate and the required fields of
/// `ValidateCertificateSigningRequestCreate`.
pub fn prepare_create(who: &Identity, name: &str, csr: &mut Value) -> Result<(), ApiError> {
    let invalid = |field: &str, why: &str| {
        ApiError::invalid(
            "certificates.k8s.io",
            "CertificateSigningRequest",
            name,
            field,
            why,
        )
    };
    let spec = csr
        .get_mut("spec")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid("spec.request", "Required value"))?;
    for (field, present) in [
        (
            "spec.request",
            spec.get("request")
                .and_then(Value::as_str)
                .is_some_and(|r| !r.is_empty()),
        ),
        (
            "spec.signerName",
            spec.get("signerName")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
        ),
        (
            "spec.usages",
            spec.get("usages")
                .and_then(Value::as_array)
                .is_some_and(|u| !u.is_empty()),
        ),
    ] {
        if !present {
            return Err(invalid(field, "Required value"));
        }
    }
    // Who asked is the server's to say, not the client's.
    spec.insert("username".into(), json!(who.user.username));
    spec.insert("groups".into(), json!(who.user.groups));
    if who.user.uid.is_empty() {
        spec.remove("uid");
    } else {
        spec.insert("uid".into(), json!(who.user.uid));
    }
    if who.extra.as_object().is_some_and(|m| !m.is_empty()) {
        spec.insert("extra".into(), who.extra.clone());
    } else {
        spec.remove("extra");
    }
    Ok(())
}

/// The approval strategy's PrepareForUpdate: the new conditions on the old
/// object, with update/transition times filled in where the client left them
/// out (a condition whose status did not change keeps its transition time).
pub fn approve(old: &Value, new: &Value, now: &str) -> Value {
    let previous: Vec<Value> = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let conditions: Vec<Value> = new
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut c| {
            if c.get("lastUpdateTime").is_none_or(Value::is_null) {
                c["lastUpdateTime"] = json!(now);
            }
            if c.get("lastTransitionTime").is_none_or(Value::is_null) {
                let same = previous
                    .iter()
                    .find(|p| p.get("type") == c.get("type") && p.get("status") == c.get("status"));
                c["lastTransitionTime"] = same
                    .and_then(|p| p.get("lastTransitionTime").cloned())
                    .unwrap_or(json!(now));
            }
            c
        })
        .collect();
    let mut out = old.clone();
    out["status"]["conditions"] = json!(conditions);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_records_the_requester_and_needs_the_request() {
        let who = Identity::admin();
        let mut csr = json!({"spec": {"request": "LS0t", "signerName": "example.com/x",
            "usages": ["client auth"], "username": "mallory"}});
        prepare_create(&who, "c", &mut csr).expect("valid");
        assert_eq!(csr["spec"]["username"], "admin");
        assert_eq!(csr["spec"]["groups"][0], "system:masters");
        let mut bad = json!({"spec": {"signerName": "x", "usages": ["client auth"]}});
        let err = prepare_create(&who, "c", &mut bad).expect_err("no request");
        assert_eq!(err.code, 422);
        assert!(err.message.contains("spec.request: Required value"));
    }

    #[test]
    fn approval_changes_only_conditions() {
        let old = json!({"spec": {"request": "r"}, "status": {}});
        let new = json!({"spec": {"request": "changed"}, "status": {"certificate": "Zm9v",
            "conditions": [{"type": "Approved", "status": "True", "reason": "R"}]}});
        let out = approve(&old, &new, "2025-01-01T00:00:00Z");
        assert_eq!(out["spec"]["request"], "r");
        assert!(out["status"].get("certificate").is_none());
        assert_eq!(
            out["status"]["conditions"][0]["lastUpdateTime"],
            "2025-01-01T00:00:00Z"
        );
    }
}
