//! Kubeconfigs that are wrong in one way each (malformed, empty, a rejected or expired
//! token, a server that is down, a CA that did not sign the server), made from a sandbox's.
//! The bad-input and secrets suites run every plugin against them.

use std::path::{Path, PathBuf};

use kube_sandbox::Sandbox;
use serde_json::{Value, json};

/// A CA certificate that signed nothing the sandbox serves (the demo's kube-root-ca.crt).
const FOREIGN_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUccF0m/4GY8DS0Z69dnQ40dPcm2kwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjExMjUwMjE4NDdaFw0zNjExMjIw
MjE4NDdaMBUxEzARBgNVBAMMCmt1YmVybmV0ZXMwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAS5b2+xtAdHHq18zlboc21Ii/icimpyVzsg0KZ/GvEW8cqzB7XawlrM
g9UV1hdt6EM49jS9qycX/fOJCGapX7qwo1MwUTAdBgNVHQ4EFgQU/N0PXPq3oHTs
+X+zzGcRuIKGxRYwHwYDVR0jBBgwFoAU/N0PXPq3oHTs+X+zzGcRuIKGxRYwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA5IPxtbTrfaNuKvAAQVzn
LlltkqFYOFaWwvMOHfBBREsCIGOuK1qPQNnuH09LGGqp4odvRJI6AmaflRwLHqvo
RS61
-----END CERTIFICATE-----
";

/// One way a kubeconfig can be wrong (or, for `InsecureSkipVerify`, deliberately lax).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Not YAML at all.
    Malformed,
    /// An empty file.
    Empty,
    /// The admin's token replaced by one the server does not know (401).
    WrongToken,
    /// A ServiceAccount token that expired (the fixture `expired-token` in
    /// `reliability/auth`, 401).
    ExpiredToken,
    /// The server URL points at a port nobody listens on.
    ServerDown,
    /// The cluster's CA replaced by one that did not sign the server's certificate.
    WrongCa,
    /// No CA, `insecure-skip-tls-verify: true`: the only case where verification is off.
    InsecureSkipVerify,
}

impl Variant {
    /// Every variant that must fail.
    pub const BAD: [Variant; 6] = [
        Variant::Malformed,
        Variant::Empty,
        Variant::WrongToken,
        Variant::ExpiredToken,
        Variant::ServerDown,
        Variant::WrongCa,
    ];

    /// The exit code the suite's contract gives for it: 2 for a kubeconfig that cannot be
    /// used, 3 for a cluster that cannot be reached or rejects the credentials.
    pub fn exit(self) -> i32 {
        match self {
            Variant::Malformed | Variant::Empty => 2,
            Variant::InsecureSkipVerify => 0,
            _ => 3,
        }
    }
}

/// The token of the `expired-token` ServiceAccountToken fixture (`reliability/auth`).
pub const EXPIRED_TOKEN: &str = "reliability-expired-token-0000";

/// The sandbox's kubeconfig as JSON.
pub fn document(sb: &Sandbox) -> Value {
    let text = std::fs::read_to_string(sb.kubeconfig())
        .unwrap_or_else(|e| panic!("read {}: {e}", sb.kubeconfig().display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("kubeconfig YAML: {e}"))
}

/// The admin's bearer token (a secret every output is searched for).
pub fn admin_token(sb: &Sandbox) -> String {
    let doc = document(sb);
    doc["users"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["name"] == "admin"))
        .and_then(|u| u["user"]["token"].as_str())
        .unwrap_or_else(|| panic!("no admin token in {doc}"))
        .to_string()
}

/// Write `variant` of the sandbox's kubeconfig under `dir` (mode 0600) and return its path.
pub fn write(sb: &Sandbox, dir: &Path, variant: Variant) -> PathBuf {
    let path = dir.join(format!("kubeconfig-{variant:?}").to_lowercase());
    let text = match variant {
        Variant::Malformed => "apiVersion: v1\nkind: Config\nclusters: [{name: x, cluster: {server: \"https://\n  - ]]\n".to_string(),
        Variant::Empty => String::new(),
        other => {
            let mut doc = document(sb);
            edit(&mut doc, other);
            // JSON is YAML: every kubeconfig loader reads it.
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        }
    };
    write_private(&path, &text);
    path
}

fn edit(doc: &mut Value, variant: Variant) {
    let set_token = |doc: &mut Value, token: &str| {
        if let Some(users) = doc["users"].as_array_mut() {
            for u in users.iter_mut().filter(|u| u["name"] == "admin") {
                u["user"] = json!({"token": token});
            }
        }
    };
    match variant {
        Variant::WrongToken => set_token(doc, "not-a-token-this-server-issued"),
        Variant::ExpiredToken => set_token(doc, EXPIRED_TOKEN),
        Variant::ServerDown => {
            let port = closed_port();
            if let Some(c) = cluster(doc) {
                c["server"] = json!(format!("https://127.0.0.1:{port}"));
            }
        }
        Variant::WrongCa => {
            use base64::Engine;
            let ca = base64::engine::general_purpose::STANDARD.encode(FOREIGN_CA_PEM);
            if let Some(c) = cluster(doc) {
                c["certificate-authority-data"] = json!(ca);
            }
        }
        Variant::InsecureSkipVerify => {
            if let Some(c) = cluster(doc).and_then(Value::as_object_mut) {
                c.remove("certificate-authority-data");
                c.insert("insecure-skip-tls-verify".into(), json!(true));
            }
        }
        Variant::Malformed | Variant::Empty => {}
    }
}

/// The first cluster's `cluster` map (the sandbox writes one).
fn cluster(doc: &mut Value) -> Option<&mut Value> {
    doc["clusters"]
        .as_array_mut()
        .and_then(|c| c.first_mut())
        .map(|c| &mut c["cluster"])
}

/// A local port with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Write `text` to `path`, mode 0600.
pub fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o
        .open(path)
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    f.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
