//! ServiceAccount tokens: TokenRequest (`serviceaccounts/NAME/token`) issues
//! them, the authenticator accepts them until they expire or their
//! ServiceAccount is deleted, and TokenReview says whose a token is.
//!
//! Tokens look like the real bound tokens (a JWT whose claims carry the
//! issuer, audiences, expiry and ServiceAccount); the sandbox does not verify
//! a signature, it remembers what it issued.

use super::auth::{Identity, service_account_user};
use super::handlers::{Ctx, for_version, now, parse_json, parse_optional_json};
use super::{Body, State, json_response};
use crate::error::ApiError;
use crate::meta::{new_uid, rfc3339, string_list};
use crate::store::meta_str;
use base64::Engine;
use hyper::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// The issuer and default audience (kubeadm's `--service-account-issuer`).
pub const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";
/// TokenRequest validation bounds (`ValidateTokenRequest`).
const MIN_EXPIRATION: i64 = 10 * 60;
const MAX_EXPIRATION: i64 = 1 << 32;
const SERVICE_ACCOUNTS: &str = "/serviceaccounts";

/// What the sandbox issued for one token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub namespace: String,
    pub name: String,
    /// The ServiceAccount's uid the token is bound to ("" for fixture tokens,
    /// bound to whichever ServiceAccount has the name).
    pub uid: String,
    pub audiences: Vec<String>,
    /// None: never expires (like a legacy Secret-based token).
    pub expires: Option<jiff::Timestamp>,
    /// The JWT id, reported as the credential id.
    pub jti: String,
}

/// Every token issued so far, by bearer string.
#[derive(Debug, Default)]
pub struct Tokens(Mutex<HashMap<String, IssuedToken>>);

impl Tokens {
    pub fn new(initial: Vec<(String, IssuedToken)>) -> Tokens {
        Tokens(Mutex::new(initial.into_iter().collect()))
    }

    fn get(&self, token: &str) -> Option<IssuedToken> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned()
    }

    fn insert(&self, token: String, issued: IssuedToken) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token, issued);
    }
}

/// A `sandbox.test/v1 ServiceAccountToken` fixture: a token for an existing
/// ServiceAccount, optionally expiring (`expirationTimestamp`, e.g. `now-1m`).
pub fn from_fixture(doc: &Value) -> Result<(String, IssuedToken), String> {
    let namespace = meta_str(doc, "namespace");
    let namespace = if namespace.is_empty() {
        "default"
    } else {
        namespace
    };
    let name = meta_str(doc, "name");
    if name.is_empty() {
        return Err("ServiceAccountToken needs metadata.name (the ServiceAccount)".into());
    }
    let token = doc
        .get("token")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{namespace}-{name}-token"));
    let expires = match doc.get("expirationTimestamp").and_then(Value::as_str) {
        None => None,
        Some(t) => Some(
            t.parse::<jiff::Timestamp>()
                .map_err(|e| format!("ServiceAccountToken expirationTimestamp {t:?}: {e}"))?,
        ),
    };
    let audiences = audiences_or_default(doc.get("audiences"));
    Ok((
        token,
        IssuedToken {
            namespace: namespace.to_string(),
            name: name.to_string(),
            uid: String::new(),
            audiences,
            expires,
            jti: new_uid(),
        },
    ))
}

/// The audiences listed, or the API server's own when none are.
fn audiences_or_default(list: Option<&Value>) -> Vec<String> {
    let audiences = string_list(list);
    if audiences.is_empty() {
        vec![API_AUDIENCE.to_string()]
    } else {
        audiences
    }
}

/// Why a token is not accepted (the authenticator's wording).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    Unknown,
    Expired,
    ServiceAccountGone,
}

impl Rejected {
    fn message(self) -> &'static str {
        match self {
            Rejected::Unknown => "invalid bearer token",
            Rejected::Expired => "[invalid bearer token, service account token has expired]",
            Rejected::ServiceAccountGone => {
                "[invalid bearer token, service account token has been invalidated]"
            }
        }
    }
}

/// The ServiceAccount identity a token stands for, if the sandbox issued it
/// and it is still valid at `at`.
pub fn authenticate(
    state: &State,
    token: &str,
    at: jiff::Timestamp,
) -> Result<(IssuedToken, Identity), Rejected> {
    let issued = state.tokens.get(token).ok_or(Rejected::Unknown)?;
    if issued.expires.is_some_and(|e| e <= at) {
        return Err(Rejected::Expired);
    }
    let sa = state
        .store
        .get(SERVICE_ACCOUNTS, &issued.namespace, &issued.name)
        .ok_or(Rejected::ServiceAccountGone)?;
    let uid = meta_str(&sa, "uid");
    if !issued.uid.is_empty() && issued.uid != uid {
        return Err(Rejected::ServiceAccountGone);
    }
    let identity = Identity::service_account(
        &issued.namespace,
        &issued.name,
        uid,
        &format!("JTI={}", issued.jti),
    );
    Ok((issued, identity))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `serviceaccounts/NAME/token`: a bound token for the ServiceAccount.
pub(super) fn request(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let sa = ctx
        .state
        .store
        .get(&ctx.res(), &ctx.r.namespace, &ctx.r.name)
        .ok_or_else(|| ctx.not_found())?;
    let req = parse_optional_json(body)?;
    let secs = req
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    let invalid = |why: String| {
        ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            &ctx.r.name,
            "spec.expirationSeconds",
            &format!("Invalid value: {secs}: {why}"),
        )
    };
    if secs < MIN_EXPIRATION {
        return Err(invalid(
            "may not specify a duration less than 10 minutes".into(),
        ));
    }
    if secs > MAX_EXPIRATION {
        return Err(invalid(
            "may not specify a duration larger than 2^32 seconds".into(),
        ));
    }
    let audiences = audiences_or_default(req.pointer("/spec/audiences"));
    let ts = now();
    let expires = jiff::Timestamp::from_second(ts.as_second() + secs).unwrap_or(ts);
    let issued = IssuedToken {
        namespace: ctx.r.namespace.clone(),
        name: ctx.r.name.clone(),
        uid: meta_str(&sa, "uid").to_string(),
        audiences: audiences.clone(),
        expires: Some(expires),
        jti: new_uid(),
    };
    let claims = json!({"aud": audiences, "exp": expires.as_second(), "iat": ts.as_second(),
        "iss": API_AUDIENCE, "jti": issued.jti,
        "kubernetes.io": {"namespace": issued.namespace,
            "serviceaccount": {"name": issued.name, "uid": issued.uid}},
        "nbf": ts.as_second(), "sub": service_account_user(&issued.namespace, &issued.name)});
    let signature: [u8; 64] = rand::random();
    let token = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256","kid":"kube-sandbox"}"#),
        b64(claims.to_string().as_bytes()),
        b64(&signature)
    );
    if !ctx.dry_run {
        ctx.state.tokens.insert(token.clone(), issued);
    }
    let mut spec = json!({"audiences": audiences, "expirationSeconds": secs});
    if let Some(bound) = req.pointer("/spec/boundObjectRef") {
        spec["boundObjectRef"] = bound.clone();
    }
    Ok(json_response(
        201,
        &json!({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": ctx.r.name, "namespace": ctx.r.namespace, "creationTimestamp": rfc3339(ts)},
            "spec": spec,
            "status": {"token": token, "expirationTimestamp": rfc3339(expires)}}),
    ))
}

/// TokenReview: whether a bearer token authenticates, and as whom.
pub(super) fn review(ctx: &Ctx, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let mut doc = for_version(&ctx.rt, parse_json(body)?);
    let token = doc
        .pointer("/spec/token")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let wanted = audiences_or_default(doc.pointer("/spec/audiences"));
    let status = match super::identify(&ctx.state, &token) {
        Some(who) => json!({"authenticated": true, "user": who.user_info(), "audiences": wanted}),
        None => match authenticate(&ctx.state, &token, now()) {
            Ok((issued, who)) => {
                let common: Vec<&String> = wanted
                    .iter()
                    .filter(|a| issued.audiences.contains(a))
                    .collect();
                if common.is_empty() {
                    json!({"user": {}, "error": format!(
                        "[invalid bearer token, token audiences {:?} is invalid for the target audiences {:?}]",
                        issued.audiences, wanted)})
                } else {
                    json!({"authenticated": true, "user": who.user_info(), "audiences": common})
                }
            }
            Err(why) => json!({"user": {}, "error": why.message()}),
        },
    };
    doc["status"] = status;
    if let Some(m) = crate::meta::metadata_mut(&mut doc) {
        m.insert("creationTimestamp".into(), Value::Null);
    }
    Ok(json_response(201, &doc))
}
