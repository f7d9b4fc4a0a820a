//! `--tls-secrets N`: kubernetes.io/tls Secrets holding real certificate chains (a leaf
//! signed by a per-namespace CA, the CA in `ca.crt`) for the `kubectl rotate certs` bench.
//! Keys are Ed25519 from seeds drawn from our own PRNG and Ed25519 signatures are
//! deterministic, so the same seed gives the same bytes; validity dates are fixed calendar
//! dates (2024-2027), so which certificates count as expired depends on the day you look.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyPair, PKCS_ED25519, SerialNumber};

use crate::render::FixtureFile;
use crate::rng::Rng;

/// Secrets per fixture file.
const PER_FILE: usize = 200;

/// PKCS#8 v1 for an Ed25519 seed (RFC 8410): the fixed prefix, then the 32-byte seed.
fn ed25519_key(rng: &mut Rng) -> Result<KeyPair> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    for _ in 0..4 {
        der.extend_from_slice(&rng.next_u64().to_be_bytes());
    }
    KeyPair::from_pkcs8_der_and_sign_algo(&der.as_slice().into(), &PKCS_ED25519)
        .context("Ed25519 key from seed")
}

fn date(days_after_2024: u64) -> time::OffsetDateTime {
    let base = rcgen::date_time_ymd(2024, 1, 1);
    base + time::Duration::days(i64::try_from(days_after_2024).unwrap_or(0))
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The TLS Secrets, spread evenly over `namespaces`, as fixture files under
/// `namespaces/<ns>/tls-NNN.yaml`.
pub fn render(seed: u64, total: usize, namespaces: &[String]) -> Result<Vec<FixtureFile>> {
    let mut files = Vec::new();
    if total == 0 || namespaces.is_empty() {
        return Ok(files);
    }
    // A stream of its own, so adding TLS Secrets changes no other generated object.
    let mut rng = Rng::new(seed ^ 0x7153_5f54_4c53_0001);
    let per_ns = total / namespaces.len();
    let extra = total % namespaces.len();
    for (i, ns) in namespaces.iter().enumerate() {
        let count = per_ns + usize::from(i < extra);
        if count == 0 {
            continue;
        }
        let ca_key = ed25519_key(&mut rng)?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name
            .push(DnType::CommonName, format!("{ns} issuing CA"));
        ca.distinguished_name
            .push(DnType::OrganizationName, "sandbox-scale");
        ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.not_before = date(0);
        ca.not_after = date(3650);
        ca.serial_number = Some(SerialNumber::from_slice(&rng.next_u64().to_be_bytes()));
        let ca_pem = ca.self_signed(&ca_key)?.pem();
        let issuer = Issuer::from_params(&ca, &ca_key);
        let mut buf = String::new();
        let mut docs = 0;
        let mut index = 0;
        for n in 0..count {
            let host = format!("svc-{n:05}.{ns}.example.test");
            let key = ed25519_key(&mut rng)?;
            let mut p = CertificateParams::new(vec![host.clone(), format!("svc-{n:05}.{ns}.svc")])?;
            p.distinguished_name.push(DnType::CommonName, host);
            let start = rng.below(1100);
            p.not_before = date(start);
            p.not_after = date(start + [90, 365, 825][usize::try_from(rng.below(3)).unwrap_or(0)]);
            p.serial_number = Some(SerialNumber::from_slice(&rng.next_u64().to_be_bytes()));
            let leaf = p.signed_by(&key, &issuer)?.pem();
            if docs > 0 {
                buf.push_str("---\n");
            }
            let _ = write!(
                buf,
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: svc-{n:05}-tls\n  namespace: {ns}\n  creationTimestamp: now-{d}d\n  labels:\n    app.kubernetes.io/component: tls\n  annotations:\n    cert-manager.io/issuer-name: {ns}-issuer\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {crt}\n  tls.key: {key}\n  ca.crt: {ca}\n",
                d = 1 + rng.below(300),
                crt = b64(&format!("{leaf}{ca_pem}")),
                key = b64(&key.serialize_pem()),
                ca = b64(&ca_pem),
            );
            docs += 1;
            if docs == PER_FILE {
                files.push(FixtureFile {
                    path: format!("namespaces/{ns}/tls-{index:03}.yaml"),
                    text: std::mem::take(&mut buf),
                });
                docs = 0;
                index += 1;
            }
        }
        if docs > 0 {
            files.push(FixtureFile {
                path: format!("namespaces/{ns}/tls-{index:03}.yaml"),
                text: buf,
            });
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_real_certificates_spread_over_namespaces() {
        let ns = vec!["a".to_string(), "b".to_string()];
        let one = render(7, 5, &ns).unwrap_or_else(|e| panic!("{e}"));
        let two = render(7, 5, &ns).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            one.iter().map(|f| &f.text).collect::<Vec<_>>(),
            two.iter().map(|f| &f.text).collect::<Vec<_>>()
        );
        let other = render(8, 5, &ns).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(one[0].text, other[0].text);
        assert_eq!(
            one.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["namespaces/a/tls-000.yaml", "namespaces/b/tls-000.yaml"]
        );
        let docs: Vec<serde_json::Value> = one
            .iter()
            .flat_map(|f| {
                serde_saphyr::from_multiple::<serde_json::Value>(&f.text).unwrap_or_default()
            })
            .collect();
        assert_eq!(docs.len(), 5);
        assert_eq!(docs[0]["type"], "kubernetes.io/tls");
        use base64::Engine;
        let crt = base64::engine::general_purpose::STANDARD
            .decode(docs[0]["data"]["tls.crt"].as_str().unwrap_or(""))
            .unwrap_or_default();
        let text = String::from_utf8(crt).unwrap_or_default();
        assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2, "leaf and CA");
        assert!(render(7, 0, &ns).unwrap_or_default().is_empty());
    }
}
