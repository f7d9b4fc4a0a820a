//! The kubeconfig the sandbox writes: one cluster, the `sandbox` context for
//! `admin`, and one context per fixture `User` named after the user.

use crate::http::auth::User;
use base64::Engine;
use serde_json::{Value, json};

pub fn render(
    server_url: &str,
    ca_pem: Option<&str>,
    admin_token: &str,
    users: &[User],
) -> anyhow::Result<String> {
    let mut cluster = json!({"server": server_url});
    if let Some(pem) = ca_pem {
        cluster["certificate-authority-data"] =
            json!(base64::engine::general_purpose::STANDARD.encode(pem));
    }
    let mut contexts = vec![
        json!({"name": "sandbox", "context": {"cluster": "sandbox", "user": "admin", "namespace": "default"}}),
    ];
    let mut auth = vec![json!({"name": "admin", "user": {"token": admin_token}})];
    for u in users {
        contexts.push(json!({"name": u.name, "context": {"cluster": "sandbox", "user": u.name, "namespace": "default"}}));
        auth.push(json!({"name": u.name, "user": {"token": u.token}}));
    }
    let doc: Value = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandbox", "cluster": cluster}],
        "contexts": contexts,
        "users": auth,
        "current-context": "sandbox",
        "preferences": {},
    });
    Ok(serde_saphyr::to_string(&doc)?)
}
