//! The archive format: a tar stream in independent zstd frames (readable with
//! `tar --zstd`), entries named by namespace/group/kind/name, `manifest.json` last.
//!
//! Layout (see the README for the whole schema):
//!
//! ```text
//! backup.json                                   header: schema version, tool, time (first)
//! keys/archive-key.recipients.age               the archive key for the --recipient keys
//! keys/archive-key.passphrase.age               the archive key for the passphrase
//! objects/<namespace|_cluster>/<group|core>/<Kind>/<name>.yaml[.age]
//! dumps/<namespace>/<name>.<ext>[.age]
//! snapshots/<namespace>/<claim>.json
//! manifest.json                                 every entry's sha256 and size, counts (last)
//! ```

pub mod read;
pub mod verify;
pub mod write;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The first entry: tells a backup archive from any other tar early.
pub const HEADER_PATH: &str = "backup.json";
/// The last entry.
pub const MANIFEST_PATH: &str = "manifest.json";
/// The `kind` of the header document.
pub const HEADER_KIND: &str = "BackupHeader";

/// `backup.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub api_version: String,
    pub kind: String,
    pub schema_version: u32,
    pub tool: crate::report::Tool,
    pub created_at: jiff::Timestamp,
}

/// `objects/<namespace or _cluster>/<group or core>/<Kind>/<name>.yaml`, `.age` appended
/// when encrypted.
pub fn object_path(
    namespace: Option<&str>,
    group: &str,
    kind: &str,
    name: &str,
    encrypted: bool,
) -> String {
    let ns = namespace.filter(|n| !n.is_empty()).unwrap_or("_cluster");
    let group = if group.is_empty() { "core" } else { group };
    let age = if encrypted { ".age" } else { "" };
    format!("objects/{ns}/{group}/{kind}/{name}.yaml{age}")
}

/// `dumps/<namespace>/<name>.<ext>`, `.age` appended when encrypted.
pub fn dump_path(namespace: &str, name: &str, ext: &str, encrypted: bool) -> String {
    let age = if encrypted { ".age" } else { "" };
    format!("dumps/{namespace}/{name}.{ext}{age}")
}

/// `snapshots/<namespace>/<claim>.json`.
pub fn snapshot_path(namespace: &str, claim: &str) -> String {
    format!("snapshots/{namespace}/{claim}.json")
}

/// Lower-case hex of bytes (sha256 digests in the manifest).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_show_namespace_group_kind_name() {
        assert_eq!(
            object_path(Some("shop"), "apps", "Deployment", "api", false),
            "objects/shop/apps/Deployment/api.yaml"
        );
        assert_eq!(
            object_path(Some("shop"), "", "Secret", "db", true),
            "objects/shop/core/Secret/db.yaml.age"
        );
        assert_eq!(
            object_path(None, "storage.k8s.io", "StorageClass", "gp3", false),
            "objects/_cluster/storage.k8s.io/StorageClass/gp3.yaml"
        );
        assert_eq!(
            dump_path("shop", "db", "sql", true),
            "dumps/shop/db.sql.age"
        );
        assert_eq!(
            snapshot_path("shop", "data-0"),
            "snapshots/shop/data-0.json"
        );
    }

    #[test]
    fn hex_digests() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
