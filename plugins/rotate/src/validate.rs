//! Validation of a new Secret version before anything is written: the keys its consumers
//! need, a TLS pair that matches and is valid now, a docker config that parses. Messages
//! name keys, objects and certificate subjects, never a value.

use common::ObjectRef;
use jiff::Timestamp;
use serde::Serialize;

use crate::consumers::{Consumer, Usage};
use crate::pki;
use crate::snapshot::SecretData;

/// What a problem is about, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Check {
    /// A key a non-optional consumer reads is not in the new data.
    MissingKey,
    /// `tls.crt` holds no readable certificate.
    CertificateUnreadable,
    /// `tls.key` holds no readable private key.
    PrivateKeyUnreadable,
    /// `tls.key` is not the key of the first certificate in `tls.crt`.
    KeyMismatch,
    /// The certificate's notAfter has passed.
    CertificateExpired,
    /// The certificate's notBefore is still ahead.
    CertificateNotYetValid,
    /// `.dockerconfigjson` / `.dockercfg` is not a docker config.
    DockerConfigInvalid,
    /// A consumer needs another Secret type (imagePullSecrets need a docker config).
    WrongType,
}

/// One reason the new data cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// The code.
    pub check: Check,
    /// The key concerned.
    pub key: String,
    /// For people; never a value.
    pub message: String,
    /// The consumers that need what is missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<ObjectRef>,
}

/// The verdict on new data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    /// Problems that stop the rotation (exit 2, nothing changed).
    pub problems: Vec<Problem>,
    /// Things worth knowing that do not stop it (an optional key that disappears).
    pub warnings: Vec<String>,
}

impl Validation {
    /// True when nothing stops the rotation.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

const TLS_TYPE: &str = "kubernetes.io/tls";
const DOCKER_JSON_TYPE: &str = "kubernetes.io/dockerconfigjson";
const DOCKER_CFG_TYPE: &str = "kubernetes.io/dockercfg";

/// Check `data` (of Secret type `type_`) against what `consumers` need, at `now`.
pub fn validate(
    type_: &str,
    data: &SecretData,
    consumers: &[Consumer],
    now: Timestamp,
) -> Validation {
    let mut v = Validation::default();
    needed_keys(data, consumers, &mut v);
    pull_secret_type(type_, consumers, &mut v);
    let ingress_tls = consumers
        .iter()
        .flat_map(|c| &c.references)
        .any(|r| r.usage == Usage::IngressTls);
    if type_ == TLS_TYPE || ingress_tls || data.0.contains_key("tls.crt") {
        tls_pair(data, now, &mut v);
    }
    docker_config(data, &mut v);
    v
}

fn needed_keys(data: &SecretData, consumers: &[Consumer], v: &mut Validation) {
    // key → (needing consumers, optional-only consumers)
    let mut needed: std::collections::BTreeMap<&str, (Vec<ObjectRef>, Vec<String>)> =
        Default::default();
    for c in consumers {
        for r in &c.references {
            for key in &r.keys {
                if data.0.contains_key(key) {
                    continue;
                }
                let entry = needed.entry(key.as_str()).or_default();
                if r.optional {
                    entry.1.push(format!("{} ({})", c.object, r.detail));
                } else if !entry.0.contains(&c.object) {
                    entry.0.push(c.object.clone());
                }
            }
        }
    }
    for (key, (required, optional)) in needed {
        if !required.is_empty() {
            let who: Vec<String> = required.iter().map(ToString::to_string).collect();
            v.problems.push(Problem {
                check: Check::MissingKey,
                key: key.to_string(),
                message: format!(
                    "the new data has no key \"{key}\", which {} need{}",
                    who.join(", "),
                    if who.len() == 1 { "s" } else { "" }
                ),
                consumers: required,
            });
        } else {
            v.warnings.push(format!(
                "the new data has no key \"{key}\"; optional for {}, which will start without it",
                optional.join(", ")
            ));
        }
    }
}

fn pull_secret_type(type_: &str, consumers: &[Consumer], v: &mut Validation) {
    let pullers: Vec<ObjectRef> = consumers
        .iter()
        .filter(|c| {
            c.references
                .iter()
                .any(|r| r.usage == Usage::ImagePullSecret)
        })
        .map(|c| c.object.clone())
        .collect();
    if pullers.is_empty() || type_ == DOCKER_JSON_TYPE || type_ == DOCKER_CFG_TYPE {
        return;
    }
    v.problems.push(Problem {
        check: Check::WrongType,
        key: String::new(),
        message: format!(
            "the Secret is of type {type_}, but {} use{} it as an image pull secret, which needs type {DOCKER_JSON_TYPE}",
            pullers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            if pullers.len() == 1 { "s" } else { "" }
        ),
        consumers: pullers,
    });
}

fn problem(v: &mut Validation, check: Check, key: &str, message: String) {
    v.problems.push(Problem {
        check,
        key: key.to_string(),
        message,
        consumers: Vec::new(),
    });
}

fn tls_pair(data: &SecretData, now: Timestamp, v: &mut Validation) {
    let (Some(crt), Some(key)) = (data.0.get("tls.crt"), data.0.get("tls.key")) else {
        // The missing key itself is reported by the consumer check when a consumer needs
        // it; a TLS Secret without both is invalid on its own.
        for k in ["tls.crt", "tls.key"] {
            if !data.0.contains_key(k) && !v.problems.iter().any(|p| p.key == k) {
                problem(
                    v,
                    Check::MissingKey,
                    k,
                    format!("a TLS Secret needs \"{k}\", which the new data lacks"),
                );
            }
        }
        return;
    };
    let certs: Vec<pki::Certificate> = pki::pem_blocks(crt)
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .filter_map(|b| pki::parse_certificate(&b.der).ok())
        .collect();
    let Some(leaf) = certs.first() else {
        problem(
            v,
            Check::CertificateUnreadable,
            "tls.crt",
            "\"tls.crt\" holds no readable PEM certificate".to_string(),
        );
        return;
    };
    if now > leaf.not_after {
        problem(
            v,
            Check::CertificateExpired,
            "tls.crt",
            format!(
                "the certificate in \"tls.crt\" ({}) expired at {}",
                leaf.subject, leaf.not_after
            ),
        );
    } else if now < leaf.not_before {
        problem(
            v,
            Check::CertificateNotYetValid,
            "tls.crt",
            format!(
                "the certificate in \"tls.crt\" ({}) is not valid before {}",
                leaf.subject, leaf.not_before
            ),
        );
    }
    let Some(block) = pki::pem_blocks(key)
        .into_iter()
        .find(|b| pki::is_private_key_label(&b.label))
    else {
        problem(
            v,
            Check::PrivateKeyUnreadable,
            "tls.key",
            "\"tls.key\" holds no PEM private key".to_string(),
        );
        return;
    };
    match pki::key_matches(&leaf.public_key, &pki::private_key_public(&block)) {
        Some(true) => {}
        Some(false) => problem(
            v,
            Check::KeyMismatch,
            "tls.key",
            format!(
                "\"tls.key\" is not the private key of the certificate in \"tls.crt\" ({})",
                leaf.subject
            ),
        ),
        None => v.warnings.push(format!(
            "cannot check that \"tls.key\" matches \"tls.crt\" ({})",
            pki::private_key_public(&block).describe()
        )),
    }
}

fn docker_config(data: &SecretData, v: &mut Validation) {
    for key in [".dockerconfigjson", ".dockercfg"] {
        let Some(bytes) = data.0.get(key) else {
            continue;
        };
        let parsed: Result<serde_json::Value, _> = serde_json::from_slice(bytes);
        let message = match parsed {
            // serde_json's message names the position, not the content.
            Err(e) => Some(format!(
                "\"{key}\" is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )),
            Ok(doc)
                if key == ".dockerconfigjson"
                    && !doc.get("auths").is_some_and(|a| a.is_object()) =>
            {
                Some(format!("\"{key}\" has no \"auths\" object"))
            }
            Ok(doc) if !doc.is_object() => Some(format!("\"{key}\" is not a JSON object")),
            Ok(_) => None,
        };
        if let Some(m) = message {
            problem(v, Check::DockerConfigInvalid, key, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumers::{ConsumerKind, RefKind, Reference};
    use rcgen::{CertificateParams, KeyPair};

    fn consumer(name: &str, usage: Usage, keys: &[&str], optional: bool) -> Consumer {
        Consumer {
            object: ObjectRef::new("Deployment", "shop", name),
            kind: ConsumerKind::Deployment,
            references: vec![Reference {
                kind: RefKind::Secret,
                name: "db".into(),
                usage,
                container: None,
                detail: "env X".into(),
                keys: keys.iter().map(|k| k.to_string()).collect(),
                optional,
                live_update: false,
                pointer: "/x".into(),
            }],
            managed_by: None,
            controller: None,
            uid: String::new(),
            selector: None,
            on_delete: false,
        }
    }

    fn data(pairs: &[(&str, &[u8])]) -> SecretData {
        SecretData(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_vec()))
                .collect(),
        )
    }

    #[test]
    fn missing_keys_name_the_consumers_never_values() {
        let cs = [
            consumer("api", Usage::Env, &["password"], false),
            consumer("worker", Usage::Volume, &["password", "username"], false),
            consumer("debug", Usage::Env, &["token"], true),
        ];
        let v = validate(
            "Opaque",
            &data(&[("username", b"s3cr3t-value")]),
            &cs,
            Timestamp::now(),
        );
        assert!(!v.ok());
        assert_eq!(v.problems.len(), 1);
        assert_eq!(v.problems[0].check, Check::MissingKey);
        assert_eq!(
            v.problems[0].message,
            "the new data has no key \"password\", which deployment/shop/api, deployment/shop/worker need"
        );
        assert_eq!(v.warnings.len(), 1);
        assert!(v.warnings[0].contains("\"token\"; optional for deployment/shop/debug"));
        assert!(!format!("{v:?}").contains("s3cr3t"));
        let ok = validate(
            "Opaque",
            &data(&[("password", b"x"), ("username", b"y")]),
            &cs[..2],
            Timestamp::now(),
        );
        assert!(ok.ok() && ok.warnings.is_empty());
    }

    fn tls(days_before: i64, days_after: i64, key_of: Option<&KeyPair>) -> SecretData {
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let mut p = CertificateParams::new(vec!["api.example.test".to_string()])
            .unwrap_or_else(|e| panic!("{e}"));
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now + time::Duration::days(days_before);
        p.not_after = now + time::Duration::days(days_after);
        let cert = p.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
        let key_pem = key_of.unwrap_or(&key).serialize_pem();
        data(&[
            ("tls.crt", cert.pem().as_bytes()),
            ("tls.key", key_pem.as_bytes()),
        ])
    }

    fn checks(v: &Validation) -> Vec<Check> {
        v.problems.iter().map(|p| p.check).collect()
    }

    #[test]
    fn tls_pairs() {
        let now = Timestamp::now();
        assert!(validate(TLS_TYPE, &tls(-1, 30, None), &[], now).ok());
        assert_eq!(
            checks(&validate(TLS_TYPE, &tls(-30, -1, None), &[], now)),
            [Check::CertificateExpired]
        );
        assert_eq!(
            checks(&validate(TLS_TYPE, &tls(2, 30, None), &[], now)),
            [Check::CertificateNotYetValid]
        );
        let other = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let mismatch = validate(TLS_TYPE, &tls(-1, 30, Some(&other)), &[], now);
        assert_eq!(checks(&mismatch), [Check::KeyMismatch]);
        assert!(
            mismatch.problems[0].message.contains("CN=")
                || mismatch.problems[0].message.contains("tls.crt")
        );
        assert!(!format!("{mismatch:?}").contains("PRIVATE KEY"));
        assert_eq!(
            checks(&validate(
                TLS_TYPE,
                &data(&[("tls.crt", b"nope"), ("tls.key", b"nope")]),
                &[],
                now
            )),
            [Check::CertificateUnreadable]
        );
        assert_eq!(
            checks(&validate(TLS_TYPE, &data(&[("tls.crt", b"x")]), &[], now)),
            [Check::MissingKey]
        );
        // An Ingress consumer makes an Opaque Secret a TLS one.
        let ing = [consumer(
            "web",
            Usage::IngressTls,
            &["tls.crt", "tls.key"],
            false,
        )];
        let v = validate("Opaque", &data(&[("other", b"x")]), &ing, now);
        assert_eq!(checks(&v), [Check::MissingKey, Check::MissingKey]);
    }

    #[test]
    fn docker_configs_and_pull_secret_types() {
        let now = Timestamp::now();
        let good = data(&[(
            ".dockerconfigjson",
            br#"{"auths":{"r.example.test":{"auth":"eDp5"}}}"#,
        )]);
        assert!(validate(DOCKER_JSON_TYPE, &good, &[], now).ok());
        let bad = data(&[(".dockerconfigjson", b"{\"auths\": ")]);
        let v = validate(DOCKER_JSON_TYPE, &bad, &[], now);
        assert_eq!(checks(&v), [Check::DockerConfigInvalid]);
        assert!(
            v.problems[0]
                .message
                .starts_with("\".dockerconfigjson\" is not valid JSON (line 1")
        );
        let no_auths = data(&[(".dockerconfigjson", b"{}")]);
        assert_eq!(
            checks(&validate(DOCKER_JSON_TYPE, &no_auths, &[], now)),
            [Check::DockerConfigInvalid]
        );
        let pullers = [consumer("api", Usage::ImagePullSecret, &[], false)];
        assert_eq!(
            checks(&validate("Opaque", &data(&[("a", b"b")]), &pullers, now)),
            [Check::WrongType]
        );
        assert!(validate(DOCKER_JSON_TYPE, &good, &pullers, now).ok());
    }
}
