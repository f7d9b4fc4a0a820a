//! `certs`: every PEM certificate in every key of a Secret, with its expiry against
//! `--warn`/`--critical`, the private key it pairs with, and the order of its chain. Pure:
//! one Secret in, report entries out (values never leave this function).

use std::time::Duration;

use common::ObjectRef;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use serde::Serialize;

use crate::pki::{self, ChainOrder};
use crate::snapshot::SecretData;

/// `--warn` and `--critical`.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Expiring within this: warning.
    pub warn: Duration,
    /// Expiring within this: critical.
    pub critical: Duration,
}

/// A certificate's state at the time of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Expiry {
    /// notAfter has passed.
    Expired,
    /// Expires within `--critical`.
    Critical,
    /// Expires within `--warn`.
    Warning,
    /// notBefore is still ahead.
    NotYetValid,
    /// Valid, and not expiring soon.
    Ok,
}

impl Expiry {
    /// True for what makes the run exit 1.
    pub fn is_failure(self) -> bool {
        matches!(self, Expiry::Expired | Expiry::Critical)
    }
}

/// One certificate found in a Secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertEntry {
    /// The Secret.
    pub secret: ObjectRef,
    /// The Secret type.
    #[serde(rename = "secretType")]
    pub secret_type: String,
    /// The key holding it (`tls.crt`, `ca.crt`, ...).
    pub key: String,
    /// Its position in that key's PEM bundle (0 = first, the leaf of a chain).
    pub index: usize,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number (hex).
    pub serial: String,
    /// Subject alternative names.
    pub sans: Vec<String>,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// Whole days until notAfter (negative once expired).
    pub days_left: i64,
    /// Expired, critical, warning, notYetValid, ok.
    pub status: Expiry,
    /// A CA certificate (basic constraints).
    pub is_ca: bool,
    /// Subject equals issuer.
    pub self_signed: bool,
    /// For the first certificate of a key that has a private key beside it: does the key
    /// belong to it? `null` when there is no key or it cannot be read.
    pub key_match: Option<bool>,
    /// The key the private key was taken from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// Why the key could not be compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_note: Option<String>,
    /// The order of this key's bundle.
    pub chain_order: ChainOrder,
    /// Objects that use the Secret (filled by the command).
    pub consumers: Vec<ObjectRef>,
}

/// A certificate block that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unreadable {
    /// The Secret.
    pub secret: ObjectRef,
    /// The key.
    pub key: String,
    /// Position in the bundle.
    pub index: usize,
    /// What is wrong (never the bytes).
    pub message: String,
}

/// The state of a certificate valid from `not_before` to `not_after` at `now`.
pub fn expiry(
    not_before: Timestamp,
    not_after: Timestamp,
    now: Timestamp,
    t: Thresholds,
) -> Expiry {
    if now >= not_after {
        return Expiry::Expired;
    }
    if now < not_before {
        return Expiry::NotYetValid;
    }
    let left = not_after.duration_since(now);
    let within = |d: Duration| jiff::SignedDuration::try_from(d).is_ok_and(|d| left <= d);
    if within(t.critical) {
        Expiry::Critical
    } else if within(t.warn) {
        Expiry::Warning
    } else {
        Expiry::Ok
    }
}

/// The keys that may hold the private key of the certificates in `key`: `tls.key` for
/// `tls.crt`, `NAME.key` / `NAME-key.pem` for `NAME.crt` / `NAME.pem`.
fn key_candidates(key: &str) -> Vec<String> {
    if key == "tls.crt" {
        return vec!["tls.key".to_string()];
    }
    let stem = [
        "-cert.pem",
        "_cert.pem",
        ".cert.pem",
        ".crt",
        ".pem",
        ".cert",
        "-cert",
        "_cert",
    ]
    .iter()
    .find_map(|suffix| key.strip_suffix(suffix))
    .unwrap_or(key);
    vec![
        format!("{stem}.key"),
        format!("{stem}-key.pem"),
        format!("{stem}_key.pem"),
        format!("{stem}.key.pem"),
        format!("{stem}-key"),
    ]
}

/// Every certificate in the Secret, and the blocks that did not parse.
pub fn scan(secret: &Secret, t: Thresholds, now: Timestamp) -> (Vec<CertEntry>, Vec<Unreadable>) {
    let object = ObjectRef::of(secret);
    let secret_type = secret.type_.clone().unwrap_or_else(|| "Opaque".to_string());
    let data = SecretData::of(secret);
    let mut entries = Vec::new();
    let mut unreadable = Vec::new();
    for (key, bytes) in &data.0 {
        if !pki::has_certificate(bytes) {
            continue;
        }
        let blocks = pki::pem_blocks(bytes);
        let mut certs = Vec::new();
        for (index, block) in blocks
            .iter()
            .filter(|b| b.label == "CERTIFICATE")
            .enumerate()
        {
            match pki::parse_certificate(&block.der) {
                Ok(c) => certs.push(c),
                Err(message) => unreadable.push(Unreadable {
                    secret: object.clone(),
                    key: key.clone(),
                    index,
                    message,
                }),
            }
        }
        let order = pki::chain_order(&certs);
        // The private key: in the same value (a combined PEM), else in a sibling key.
        let private = blocks
            .iter()
            .find(|b| pki::is_private_key_label(&b.label))
            .map(|b| (key.clone(), pki::private_key_public(b)))
            .or_else(|| {
                key_candidates(key).into_iter().find_map(|k| {
                    let value = data.0.get(&k)?;
                    let block = pki::pem_blocks(value)
                        .into_iter()
                        .find(|b| pki::is_private_key_label(&b.label))?;
                    Some((k, pki::private_key_public(&block)))
                })
            });
        for (index, c) in certs.iter().enumerate() {
            let (key_match, private_key, key_note) = match (&private, index) {
                (Some((k, public)), 0) => {
                    let m = pki::key_matches(&c.public_key, public);
                    let note = m
                        .is_none()
                        .then(|| format!("cannot compare: {}", public.describe()));
                    (m, Some(k.clone()), note)
                }
                _ => (None, None, None),
            };
            let left = c.not_after.duration_since(now).as_secs();
            entries.push(CertEntry {
                secret: object.clone(),
                secret_type: secret_type.clone(),
                key: key.clone(),
                index,
                subject: c.subject.clone(),
                issuer: c.issuer.clone(),
                serial: c.serial.clone(),
                sans: c.sans.clone(),
                not_before: c.not_before,
                not_after: c.not_after,
                days_left: left.div_euclid(86_400),
                status: expiry(c.not_before, c.not_after, now, t),
                is_ca: c.is_ca,
                self_signed: c.self_issued,
                key_match,
                private_key,
                key_note,
                chain_order: order,
                consumers: Vec::new(),
            });
        }
    }
    (entries, unreadable)
}

/// Counts for the summary line and the document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Certificates found.
    pub certificates: usize,
    /// Secrets holding at least one.
    pub secrets: usize,
    /// Secrets looked at.
    pub secrets_scanned: usize,
    /// Expired.
    pub expired: usize,
    /// Inside `--critical`.
    pub critical: usize,
    /// Inside `--warn`.
    pub warning: usize,
    /// Not valid yet.
    pub not_yet_valid: usize,
    /// Fine.
    pub ok: usize,
    /// Private keys that do not belong to their certificate.
    pub key_mismatches: usize,
    /// Bundles in the wrong order.
    pub wrong_order: usize,
}

/// Count the entries.
pub fn summarize(entries: &[CertEntry], secrets_scanned: usize) -> Summary {
    let mut s = Summary {
        certificates: entries.len(),
        secrets_scanned,
        ..Summary::default()
    };
    let mut secrets: Vec<&ObjectRef> = entries.iter().map(|e| &e.secret).collect();
    secrets.dedup();
    s.secrets = secrets.len();
    for e in entries {
        match e.status {
            Expiry::Expired => s.expired += 1,
            Expiry::Critical => s.critical += 1,
            Expiry::Warning => s.warning += 1,
            Expiry::NotYetValid => s.not_yet_valid += 1,
            Expiry::Ok => s.ok += 1,
        }
        if e.key_match == Some(false) {
            s.key_mismatches += 1;
        }
        if e.index == 0 && e.chain_order == ChainOrder::WrongOrder {
            s.wrong_order += 1;
        }
    }
    s
}

/// Exit 1 when a certificate is expired or inside `--critical`, or a private key does not
/// belong to its certificate (TLS with that pair fails).
pub fn failing(s: &Summary) -> bool {
    s.expired + s.critical + s.key_mismatches > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair};
    use serde_json::json;

    const DAY: Duration = Duration::from_secs(86_400);

    fn th() -> Thresholds {
        Thresholds {
            warn: 30 * DAY,
            critical: 7 * DAY,
        }
    }

    #[test]
    fn expiry_states() {
        let now: Timestamp = "2025-06-01T00:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let at = |days: i64| now + jiff::SignedDuration::from_hours(24 * days);
        assert_eq!(expiry(at(-100), at(-1), now, th()), Expiry::Expired);
        assert_eq!(expiry(at(-100), at(3), now, th()), Expiry::Critical);
        assert_eq!(expiry(at(-100), at(7), now, th()), Expiry::Critical);
        assert_eq!(expiry(at(-100), at(20), now, th()), Expiry::Warning);
        assert_eq!(expiry(at(-100), at(90), now, th()), Expiry::Ok);
        assert_eq!(expiry(at(1), at(90), now, th()), Expiry::NotYetValid);
    }

    #[test]
    fn candidates() {
        assert_eq!(key_candidates("tls.crt"), ["tls.key"]);
        assert!(key_candidates("server.crt").contains(&"server.key".to_string()));
        assert!(key_candidates("server-cert.pem").contains(&"server-key.pem".to_string()));
    }

    fn cert(days_from: i64, days_to: i64, key: &KeyPair) -> String {
        named("svc.example.test", days_from, days_to, key)
    }

    fn named(cn: &str, days_from: i64, days_to: i64, key: &KeyPair) -> String {
        let mut p = CertificateParams::new(vec![cn.to_string()]).unwrap_or_else(|e| panic!("{e}"));
        p.distinguished_name.push(DnType::CommonName, cn);
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now + time::Duration::days(days_from);
        p.not_after = now + time::Duration::days(days_to);
        p.self_signed(key).unwrap_or_else(|e| panic!("{e}")).pem()
    }

    fn secret(data: serde_json::Value) -> Secret {
        serde_json::from_value(json!({"metadata": {"name": "s", "namespace": "ns"}, "type": "kubernetes.io/tls", "stringData": data}))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn scans_tls_pairs_ca_bundles_and_opaque_keys() {
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let other = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let s = secret(json!({
            "tls.crt": cert(-10, 3, &key),
            "tls.key": other.serialize_pem(),
            "ca.crt": format!("{}{}", named("Old CA", -400, -5, &other), named("New CA", -1, 400, &other)),
            "password": "not a cert",
            "broken.pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        }));
        let (entries, unreadable) = scan(&s, th(), Timestamp::now());
        let got: Vec<(&str, usize, Expiry, Option<bool>)> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.index, e.status, e.key_match))
            .collect();
        assert_eq!(
            got,
            [
                ("ca.crt", 0, Expiry::Expired, None),
                ("ca.crt", 1, Expiry::Ok, None),
                ("tls.crt", 0, Expiry::Critical, Some(false)),
            ]
        );
        assert_eq!(entries[2].private_key.as_deref(), Some("tls.key"));
        assert_eq!(entries[2].days_left, 2);
        assert_eq!(entries[0].days_left, -5);
        assert_eq!(entries[0].chain_order, ChainOrder::NotAChain);
        assert_eq!(entries[2].sans, ["svc.example.test"]);
        assert_eq!(unreadable.len(), 1);
        assert_eq!(unreadable[0].key, "broken.pem");
        let sum = summarize(&entries, 1);
        assert_eq!(
            (
                sum.expired,
                sum.critical,
                sum.ok,
                sum.key_mismatches,
                sum.secrets
            ),
            (1, 1, 1, 1, 1)
        );
        assert!(failing(&sum));
        let doc = serde_json::to_string(&entries).unwrap_or_default();
        assert!(!doc.contains("PRIVATE KEY") && !doc.contains("not a cert"));
    }

    #[test]
    fn matching_pair_is_fine() {
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let s = secret(json!({"tls.crt": cert(-1, 200, &key), "tls.key": key.serialize_pem()}));
        let (entries, _) = scan(&s, th(), Timestamp::now());
        assert_eq!(entries[0].key_match, Some(true));
        assert_eq!(entries[0].status, Expiry::Ok);
        assert!(!failing(&summarize(&entries, 1)));
    }
}
