//! Certificates and private keys in Secret data, as plain values: PEM blocks, X.509 fields
//! (x509-parser), the public half of a private key (PKCS#1, SEC1, PKCS#8) and chain order.
//! Pure functions only; no value of a key ever leaves this module, only comparisons.

use base64::Engine;
use jiff::Timestamp;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::public_key::PublicKey;

/// One `-----BEGIN LABEL-----` ... `-----END LABEL-----` block, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// `CERTIFICATE`, `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, ...
    pub label: String,
    /// The DER bytes (for keys: secret; never printed, see the Debug impl).
    pub der: Vec<u8>,
}

impl std::fmt::Debug for PemBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PemBlock({}, {} bytes)", self.label, self.der.len())
    }
}

/// True when `data` holds at least one PEM certificate header.
pub fn has_certificate(data: &[u8]) -> bool {
    find(data, b"-----BEGIN CERTIFICATE-----").is_some()
}

/// True when `data` holds a PEM private key header (`PRIVATE KEY`, `RSA PRIVATE KEY`, ...).
pub fn has_private_key(data: &[u8]) -> bool {
    pem_blocks(data)
        .iter()
        .any(|b| is_private_key_label(&b.label))
}

/// True for the labels private keys use.
pub fn is_private_key_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Every well-formed PEM block in `data`, in order. Text between blocks (openssl's
/// `Bag Attributes`, comments) is ignored; a block whose body is not base64 is skipped.
pub fn pem_blocks(data: &[u8]) -> Vec<PemBlock> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(start) = find(rest, BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(label_end) = find(after, b"-----") else {
            break;
        };
        let label = String::from_utf8_lossy(&after[..label_end]).into_owned();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = find(body_start, end_marker.as_bytes()) else {
            break;
        };
        let body = &body_start[..end];
        // RFC 1421 headers (`Proc-Type: ...`) end at a blank line: only the part after
        // the last header is base64.
        let text = String::from_utf8_lossy(body);
        let payload: String = if text.contains(':') {
            text.split("\n\n").last().unwrap_or("").to_string()
        } else {
            text.into_owned()
        };
        let compact: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
            out.push(PemBlock { label, der });
        }
        rest = &body_start[end + end_marker.len()..];
    }
    out
}

/// The public key of a certificate or a private key, in a form that compares.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKeyMaterial {
    /// RSA modulus and exponent, leading zero bytes removed.
    Rsa {
        /// n
        modulus: Vec<u8>,
        /// e
        exponent: Vec<u8>,
    },
    /// An elliptic-curve point (SEC1 encoding).
    Ec(Vec<u8>),
    /// A raw Ed25519 public key.
    Ed25519(Vec<u8>),
    /// A key we cannot compare; the text says why (`encrypted private key`, `DSA`).
    Unsupported(String),
}

impl std::fmt::Debug for PublicKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublicKeyMaterial::Rsa { modulus, .. } => write!(f, "Rsa({} bits)", modulus.len() * 8),
            PublicKeyMaterial::Ec(p) => write!(f, "Ec({} bytes)", p.len()),
            PublicKeyMaterial::Ed25519(_) => write!(f, "Ed25519"),
            PublicKeyMaterial::Unsupported(why) => write!(f, "Unsupported({why})"),
        }
    }
}

impl PublicKeyMaterial {
    /// `RSA 2048`, `EC P-256`, `Ed25519`: the algorithm and size for people.
    pub fn describe(&self) -> String {
        match self {
            PublicKeyMaterial::Rsa { modulus, .. } => format!("RSA {}", modulus.len() * 8),
            PublicKeyMaterial::Ec(p) => match p.len() {
                65 => "EC P-256".to_string(),
                97 => "EC P-384".to_string(),
                133 => "EC P-521".to_string(),
                n => format!("EC ({n}-byte point)"),
            },
            PublicKeyMaterial::Ed25519(_) => "Ed25519".to_string(),
            PublicKeyMaterial::Unsupported(why) => why.clone(),
        }
    }
}

/// Does this private key belong to this certificate? `None` when either key cannot be
/// compared (an encrypted key, an algorithm we do not read).
pub fn key_matches(cert: &PublicKeyMaterial, key: &PublicKeyMaterial) -> Option<bool> {
    match (cert, key) {
        (PublicKeyMaterial::Unsupported(_), _) | (_, PublicKeyMaterial::Unsupported(_)) => None,
        (a, b) => Some(a == b),
    }
}

/// The fields of one X.509 certificate that a report shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Subject DN (`CN=api.example.com, O=Example`).
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number in hex (`0a:1b:...`).
    pub serial: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// Subject alternative names: DNS names, IP addresses, e-mails, URIs.
    pub sans: Vec<String>,
    /// Basic constraints CA flag.
    pub is_ca: bool,
    /// Subject and issuer are the same name (a root or a self-signed leaf).
    pub self_issued: bool,
    /// Raw DER of the subject and issuer names, for chain checks.
    pub subject_raw: Vec<u8>,
    /// Raw DER of the issuer name.
    pub issuer_raw: Vec<u8>,
    /// Subject key identifier, if present.
    pub subject_key_id: Option<Vec<u8>>,
    /// Authority key identifier, if present.
    pub authority_key_id: Option<Vec<u8>>,
    /// The public key, for matching private keys.
    pub public_key: PublicKeyMaterial,
}

/// Parse one DER certificate. The error text names what is wrong, never the bytes.
pub fn parse_certificate(der: &[u8]) -> Result<Certificate, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("not a valid X.509 certificate ({e})"))?;
    let time = |t: &x509_parser::time::ASN1Time| {
        Timestamp::from_second(t.timestamp()).map_err(|e| format!("validity out of range ({e})"))
    };
    let validity = cert.validity();
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(s) => sans.push((*s).to_string()),
                GeneralName::RFC822Name(s) => sans.push(format!("email:{s}")),
                GeneralName::URI(s) => sans.push(format!("uri:{s}")),
                GeneralName::IPAddress(b) => sans.push(ip_text(b)),
                _ => {}
            }
        }
    }
    let mut subject_key_id = None;
    let mut authority_key_id = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => subject_key_id = Some(k.0.to_vec()),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                authority_key_id = a.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
            _ => {}
        }
    }
    let subject_raw = cert.subject().as_raw().to_vec();
    let issuer_raw = cert.issuer().as_raw().to_vec();
    Ok(Certificate {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        not_before: time(&validity.not_before)?,
        not_after: time(&validity.not_after)?,
        sans,
        is_ca: cert.is_ca(),
        self_issued: subject_raw == issuer_raw,
        subject_raw,
        issuer_raw,
        subject_key_id,
        authority_key_id,
        public_key: certificate_key(cert.public_key()),
    })
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => format!("ip:{} bytes", b.len()),
    }
}

const OID_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
const OID_ED25519: &[u8] = &[0x2B, 0x65, 0x70];

fn certificate_key(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> PublicKeyMaterial {
    if spki.algorithm.algorithm.as_bytes() == OID_ED25519 {
        return PublicKeyMaterial::Ed25519(spki.subject_public_key.data.to_vec());
    }
    match spki.parsed() {
        Ok(PublicKey::RSA(k)) => PublicKeyMaterial::Rsa {
            modulus: unsigned(k.modulus),
            exponent: unsigned(k.exponent),
        },
        Ok(PublicKey::EC(p)) => PublicKeyMaterial::Ec(p.data().to_vec()),
        Ok(PublicKey::DSA(_)) => PublicKeyMaterial::Unsupported("DSA key".into()),
        Ok(_) => {
            PublicKeyMaterial::Unsupported(format!("key algorithm {}", spki.algorithm.algorithm))
        }
        Err(e) => PublicKeyMaterial::Unsupported(format!("unreadable public key ({e})")),
    }
}

fn unsigned(b: &[u8]) -> Vec<u8> {
    let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    b[first..].to_vec()
}

/// The public half of a PEM private key block. The private bytes are read, compared
/// nowhere else, and dropped.
pub fn private_key_public(block: &PemBlock) -> PublicKeyMaterial {
    let parsed = match block.label.as_str() {
        "RSA PRIVATE KEY" => pkcs1(&block.der),
        "EC PRIVATE KEY" => sec1(&block.der),
        "PRIVATE KEY" => pkcs8(&block.der),
        "ENCRYPTED PRIVATE KEY" => Err("encrypted private key".to_string()),
        other => Err(format!("{other} not supported")),
    };
    parsed.unwrap_or_else(PublicKeyMaterial::Unsupported)
}

/// A minimal DER reader: one tag-length-value at a time.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next element: (tag, content).
    fn next(&mut self) -> Result<(u8, &'a [u8]), String> {
        let bad = || "malformed DER".to_string();
        let (&tag, rest) = self.0.split_first().ok_or_else(bad)?;
        let (&first, rest) = rest.split_first().ok_or_else(bad)?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(bad());
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, &rest[n..])
        };
        if rest.len() < len {
            return Err(bad());
        }
        self.0 = &rest[len..];
        Ok((tag, &rest[..len]))
    }

    fn expect(&mut self, want: u8) -> Result<&'a [u8], String> {
        match self.next()? {
            (tag, content) if tag == want => Ok(content),
            (tag, _) => Err(format!("unexpected DER tag {tag:#04x}")),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;

/// RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, ... }
fn pkcs1(der: &[u8]) -> Result<PublicKeyMaterial, String> {
    let mut seq = Der(Der(der).expect(SEQUENCE)?);
    seq.expect(INTEGER)?;
    let modulus = unsigned(seq.expect(INTEGER)?);
    let exponent = unsigned(seq.expect(INTEGER)?);
    Ok(PublicKeyMaterial::Rsa { modulus, exponent })
}

/// ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING,
/// [0] parameters OPTIONAL, [1] publicKey BIT STRING OPTIONAL }
fn sec1(der: &[u8]) -> Result<PublicKeyMaterial, String> {
    let mut seq = Der(Der(der).expect(SEQUENCE)?);
    seq.expect(INTEGER)?;
    seq.expect(OCTET_STRING)?;
    while !seq.is_empty() {
        let (tag, content) = seq.next()?;
        if tag == 0xA1 {
            let bits = Der(content).expect(0x03)?;
            // The first byte of a BIT STRING counts the unused bits (0 for a point).
            return Ok(PublicKeyMaterial::Ec(bits.get(1..).unwrap_or(&[]).to_vec()));
        }
    }
    Err("EC private key without its public key".to_string())
}

/// PrivateKeyInfo ::= SEQUENCE { version, algorithm AlgorithmIdentifier,
/// privateKey OCTET STRING, [0] attributes OPTIONAL, [1] publicKey OPTIONAL (v2) }
fn pkcs8(der: &[u8]) -> Result<PublicKeyMaterial, String> {
    let mut seq = Der(Der(der).expect(SEQUENCE)?);
    seq.expect(INTEGER)?;
    let mut algorithm = Der(seq.expect(SEQUENCE)?);
    let oid = algorithm.expect(OID)?;
    let key = seq.expect(OCTET_STRING)?;
    if oid == OID_RSA {
        pkcs1(key)
    } else if oid == OID_EC {
        sec1(key)
    } else if oid == OID_ED25519 {
        while !seq.is_empty() {
            let (tag, content) = seq.next()?;
            if tag == 0x81 {
                return Ok(PublicKeyMaterial::Ed25519(
                    content.get(1..).unwrap_or(&[]).to_vec(),
                ));
            }
        }
        // PKCS#8 v1 holds only the seed: derive the public key from it.
        let seed = Der(key).expect(OCTET_STRING)?;
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| "invalid Ed25519 seed".to_string())?;
        Ok(PublicKeyMaterial::Ed25519(
            ring::signature::KeyPair::public_key(&pair)
                .as_ref()
                .to_vec(),
        ))
    } else {
        Err("private key algorithm not supported".to_string())
    }
}

/// How the certificates of one PEM bundle are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChainOrder {
    /// One certificate: nothing to order.
    Single,
    /// Each certificate is issued by the next one (leaf first), as TLS servers send it.
    Ok,
    /// The same certificates would form a chain in another order.
    WrongOrder,
    /// Some certificate is not issued by any other in the bundle (a CA bundle, or a
    /// missing intermediate).
    NotAChain,
}

/// True when `child` names `parent` as its issuer (names, and key identifiers when both
/// are present).
pub fn issued_by(child: &Certificate, parent: &Certificate) -> bool {
    if child.issuer_raw != parent.subject_raw {
        return false;
    }
    match (&child.authority_key_id, &parent.subject_key_id) {
        (Some(a), Some(s)) => a == s,
        _ => true,
    }
}

/// The order of a bundle: leaf first, each issued by the next; the last may be a root.
pub fn chain_order(certs: &[Certificate]) -> ChainOrder {
    if certs.len() < 2 {
        return ChainOrder::Single;
    }
    if certs.windows(2).all(|w| issued_by(&w[0], &w[1])) {
        return ChainOrder::Ok;
    }
    // Could they be chained at all? Every certificate but one (the top) must have its
    // issuer somewhere else in the bundle, and exactly one must be nobody's issuer (the leaf).
    let n = certs.len();
    let has_issuer = |i: usize| (0..n).any(|j| j != i && issued_by(&certs[i], &certs[j]));
    let issues_someone = |j: usize| (0..n).any(|i| i != j && issued_by(&certs[i], &certs[j]));
    let tops = (0..n).filter(|i| !has_issuer(*i)).count();
    let leaves = (0..n).filter(|j| !issues_someone(*j)).count();
    if tops == 1 && leaves == 1 {
        ChainOrder::WrongOrder
    } else {
        ChainOrder::NotAChain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyPair};

    fn pair() -> KeyPair {
        KeyPair::generate().unwrap_or_else(|e| panic!("{e}"))
    }

    fn ca(name: &str, key: &KeyPair) -> (String, CertificateParams) {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| panic!("{e}"));
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = p.clone().self_signed(key).unwrap_or_else(|e| panic!("{e}"));
        (cert.pem(), p)
    }

    fn leaf(name: &str, key: &KeyPair, issuer: &Issuer<'_, &KeyPair>) -> String {
        let mut p = CertificateParams::new(vec![name.to_string(), "10.0.0.1".to_string()])
            .unwrap_or_else(|e| panic!("{e}"));
        p.distinguished_name.push(DnType::CommonName, name);
        p.signed_by(key, issuer)
            .unwrap_or_else(|e| panic!("{e}"))
            .pem()
    }

    fn cert_of(pem: &str) -> Certificate {
        let blocks = pem_blocks(pem.as_bytes());
        parse_certificate(&blocks[0].der).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pem_blocks_are_found_between_other_text() {
        let key = pair();
        let (ca_pem, _) = ca("Test CA", &key);
        let text = format!("Bag Attributes\n  friendlyName: x\n{ca_pem}\ntrailing\n{ca_pem}");
        let blocks = pem_blocks(text.as_bytes());
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert!(has_certificate(text.as_bytes()));
        assert!(!has_certificate(b"password"));
        assert!(
            pem_blocks(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----").is_empty()
        );
        assert!(format!("{:?}", blocks[0]).starts_with("PemBlock(CERTIFICATE, "));
    }

    #[test]
    fn certificate_fields_and_key_match() {
        let ca_key = pair();
        let (ca_pem, ca_params) = ca("Test CA", &ca_key);
        let issuer = Issuer::new(ca_params, &ca_key);
        let leaf_key = pair();
        let leaf_pem = leaf("api.example.test", &leaf_key, &issuer);
        let c = cert_of(&leaf_pem);
        assert_eq!(c.subject, "CN=api.example.test");
        assert_eq!(c.issuer, "CN=Test CA");
        assert_eq!(c.sans, ["api.example.test", "10.0.0.1"]);
        assert!(!c.is_ca && !c.self_issued);
        assert!(c.not_after > c.not_before);
        let root = cert_of(&ca_pem);
        assert!(root.is_ca && root.self_issued);
        assert!(issued_by(&c, &root));
        assert!(!issued_by(&root, &c));

        let key_block = &pem_blocks(leaf_key.serialize_pem().as_bytes())[0];
        assert_eq!(key_block.label, "PRIVATE KEY");
        let public = private_key_public(key_block);
        assert_eq!(public.describe(), "EC P-256");
        assert_eq!(key_matches(&c.public_key, &public), Some(true));
        let other = private_key_public(&pem_blocks(ca_key.serialize_pem().as_bytes())[0]);
        assert_eq!(key_matches(&c.public_key, &other), Some(false));
        assert!(has_private_key(leaf_key.serialize_pem().as_bytes()));
        assert!(!has_private_key(leaf_pem.as_bytes()));
    }

    #[test]
    fn ed25519_keys_match_with_and_without_the_public_key() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap_or_else(|e| panic!("{e}"));
        let (pem, _) = ca("ed", &key);
        let c = cert_of(&pem);
        let block = &pem_blocks(key.serialize_pem().as_bytes())[0];
        assert_eq!(
            key_matches(&c.public_key, &private_key_public(block)),
            Some(true)
        );
        // The v1 form (seed only): derived from the seed.
        let der = key.serialize_der();
        let seed_v1 = [
            &[
                0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            ][..],
            &der[der.len() - 34..],
        ]
        .concat();
        // rcgen writes v1 or v2; either way the last 34 bytes of v1 are OCTET STRING(seed).
        if der.len() == 48 {
            let v1 = PemBlock {
                label: "PRIVATE KEY".into(),
                der: seed_v1,
            };
            assert_eq!(
                key_matches(&c.public_key, &private_key_public(&v1)),
                Some(true)
            );
        }
    }

    #[test]
    fn rsa_pkcs1_and_sec1_shapes() {
        // RSAPrivateKey with tiny numbers: SEQUENCE { 0, n=0x00C5, e=0x010001, d=1 }.
        let der = vec![
            0x30, 0x0e, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0xC5, 0x02, 0x03, 0x01, 0x00, 0x01,
            0x02, 0x01, 0x01,
        ];
        let block = PemBlock {
            label: "RSA PRIVATE KEY".into(),
            der,
        };
        assert_eq!(
            private_key_public(&block),
            PublicKeyMaterial::Rsa {
                modulus: vec![0xC5],
                exponent: vec![1, 0, 1]
            }
        );
        // ECPrivateKey { 1, priv, [1] BIT STRING 00 04 AA }.
        let der = vec![
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x04, 0x01, 0x07, 0xA1, 0x04, 0x03, 0x02, 0x00, 0x04,
        ];
        let block = PemBlock {
            label: "EC PRIVATE KEY".into(),
            der,
        };
        assert_eq!(
            private_key_public(&block),
            PublicKeyMaterial::Ec(vec![0x04])
        );
        let enc = PemBlock {
            label: "ENCRYPTED PRIVATE KEY".into(),
            der: vec![],
        };
        assert_eq!(
            key_matches(&PublicKeyMaterial::Ec(vec![4]), &private_key_public(&enc)),
            None
        );
        let broken = PemBlock {
            label: "RSA PRIVATE KEY".into(),
            der: vec![0x30, 0x05, 0x02],
        };
        assert!(matches!(
            private_key_public(&broken),
            PublicKeyMaterial::Unsupported(_)
        ));
    }

    #[test]
    fn chain_orders() {
        let root_key = pair();
        let (root_pem, root_params) = ca("Root", &root_key);
        let root_issuer = Issuer::new(root_params.clone(), &root_key);
        let mid_key = pair();
        let mut mid_params =
            CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| panic!("{e}"));
        mid_params
            .distinguished_name
            .push(DnType::CommonName, "Intermediate");
        mid_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let mid_pem = mid_params
            .clone()
            .signed_by(&mid_key, &root_issuer)
            .unwrap_or_else(|e| panic!("{e}"))
            .pem();
        let mid_issuer = Issuer::new(mid_params, &mid_key);
        let leaf_pem = leaf("www.example.test", &pair(), &mid_issuer);
        let (leaf, mid, root) = (cert_of(&leaf_pem), cert_of(&mid_pem), cert_of(&root_pem));
        assert_eq!(chain_order(std::slice::from_ref(&leaf)), ChainOrder::Single);
        assert_eq!(
            chain_order(&[leaf.clone(), mid.clone(), root.clone()]),
            ChainOrder::Ok
        );
        assert_eq!(chain_order(&[leaf.clone(), mid.clone()]), ChainOrder::Ok);
        assert_eq!(
            chain_order(&[mid.clone(), leaf.clone()]),
            ChainOrder::WrongOrder
        );
        assert_eq!(
            chain_order(&[leaf.clone(), root.clone()]),
            ChainOrder::NotAChain
        );
        let (other_pem, _) = ca("Other", &pair());
        assert_eq!(
            chain_order(&[root, cert_of(&other_pem)]),
            ChainOrder::NotAChain
        );
    }
}
