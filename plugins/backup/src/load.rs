//! Reading a whole archive for inspect, verify, diff and restore: one pass that hashes
//! every entry, keeps what the command needs, and checks the result against the manifest.

use std::collections::BTreeMap;
use std::io::Read;

use common::{Error, Result};
use sha2::{Digest, Sha256};

use crate::archive::read::{Visitor, Walk, walk};
use crate::archive::verify::{Seen, check};
use crate::archive::{HEADER_KIND, HEADER_PATH, Header, MANIFEST_PATH, hex};
use crate::crypto::{ArchiveKey, Keys};
use crate::report::{BackupManifest, Problem, SCHEMA_VERSION};

/// What to keep besides the header, manifest, keys and snapshot records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Only digests (inspect, verify).
    Digests,
    /// Object entries' bytes too (diff, restore).
    Objects,
}

/// One archive, read.
#[derive(Debug, Default)]
pub struct Scanned {
    pub header: Option<Header>,
    pub manifest: Option<std::result::Result<BackupManifest, String>>,
    /// Kept entries' bytes by path: objects (with Keep::Objects), keys, snapshot records.
    pub kept: BTreeMap<String, Vec<u8>>,
    pub seen: Vec<Seen>,
    pub walk: Walk,
    pub problems: Vec<Problem>,
}

impl Scanned {
    /// The manifest, when it was read and parsed.
    pub fn manifest(&self) -> Option<&BackupManifest> {
        self.manifest.as_ref().and_then(|m| m.as_ref().ok())
    }
}

struct ScanVisitor {
    keep: Keep,
    out: Scanned,
}

/// The visitor's own refusal (not damage): the file is a tar but not a backup.
#[derive(Debug)]
struct NotABackup(String);

impl std::fmt::Display for NotABackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotABackup {}

impl Visitor for ScanVisitor {
    fn entry(&mut self, path: &str, size: u64, body: &mut dyn Read) -> std::io::Result<()> {
        if self.out.seen.is_empty() && path != HEADER_PATH {
            return Err(std::io::Error::other(NotABackup(format!(
                "its first entry is {path:?}, not {HEADER_PATH}"
            ))));
        }
        let keep = path == HEADER_PATH
            || path == MANIFEST_PATH
            || path.starts_with("keys/")
            || path.starts_with("snapshots/")
            || (self.keep == Keep::Objects && path.starts_with("objects/"));
        let mut hash = Sha256::new();
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        let mut complete = true;
        let outcome = loop {
            match body.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    hash.update(&buf[..n]);
                    total += n as u64;
                    if keep {
                        kept.extend_from_slice(&buf[..n]);
                    }
                }
                Err(e) => {
                    complete = false;
                    break Err(e);
                }
            }
        };
        let _ = size;
        self.out.seen.push(Seen {
            path: path.to_string(),
            size: total,
            sha256: hex(&hash.finalize()),
            complete,
        });
        if complete {
            if path == HEADER_PATH {
                match serde_json::from_slice::<Header>(&kept) {
                    Ok(h) if h.kind == HEADER_KIND => self.out.header = Some(h),
                    _ => {
                        return Err(std::io::Error::other(NotABackup(format!(
                            "its {HEADER_PATH} is not a backup header"
                        ))));
                    }
                }
            } else if path == MANIFEST_PATH {
                self.out.manifest = Some(
                    serde_json::from_slice::<BackupManifest>(&kept).map_err(|e| e.to_string()),
                );
                return outcome;
            }
            if keep {
                self.out.kept.insert(path.to_string(), kept);
            }
        }
        outcome
    }
}

/// Read the archive `file` (`-` = stdin) completely.
///
/// Errors (exit 2): the file cannot be opened, is not a tar/zstd file, is a tar that is not
/// a backup, or has a newer schema. Damage is not an error here: see [`Scanned::problems`].
pub fn scan(file: &str, keep: Keep) -> Result<Scanned> {
    let input = common::files::open_input(file)?;
    scan_reader(file, input, keep)
}

/// [`scan`] over any reader.
pub fn scan_reader(file: &str, input: impl Read, keep: Keep) -> Result<Scanned> {
    let mut v = ScanVisitor {
        keep,
        out: Scanned::default(),
    };
    let walked = walk(input, &mut v).map_err(|e| not_archive(file, &e.0))?;
    let w = match walked {
        Ok(w) => w,
        Err(e) => {
            let inner = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<NotABackup>())
                .map(|n| n.0.clone());
            return Err(match inner {
                Some(why) => not_archive(file, &why),
                None => Error::Io(e),
            });
        }
    };
    let mut out = v.out;
    out.walk = w;
    if out.seen.is_empty() {
        return Err(not_archive(file, "it holds no entries"));
    }
    if let Some(h) = &out.header {
        newer_schema(file, h.schema_version)?;
    }
    if let Some(m) = out.manifest() {
        newer_schema(file, m.schema_version)?;
    }
    out.problems = check(
        &out.seen,
        &out.walk,
        out.manifest
            .as_ref()
            .map(|m| m.as_ref().map_err(String::clone)),
    );
    Ok(out)
}

fn not_archive(file: &str, why: &str) -> Error {
    Error::usage(format!("{file} is not a kubectl backup archive: {why}"))
        .with_hint("kubectl backup create writes one; check the file name")
}

fn newer_schema(file: &str, version: u32) -> Result<()> {
    if version > SCHEMA_VERSION {
        return Err(Error::usage(format!(
            "{file} has archive schema version {version}, newer than this kubectl backup reads ({SCHEMA_VERSION})"
        ))
        .with_hint("upgrade kubectl-backup to read it"));
    }
    Ok(())
}

/// Refuse a damaged archive (exit 2) with its first problem and the count.
pub fn require_intact(file: &str, scanned: &Scanned) -> Result<()> {
    let Some(first) = scanned.problems.first() else {
        return Ok(());
    };
    let more = scanned.problems.len() - 1;
    let tail = if more > 0 {
        format!(
            " (and {more} more problem{})",
            if more == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    Err(Error::usage(format!(
        "{file} is damaged: {}{tail}; nothing was changed",
        first.message
    ))
    .with_hint(format!("kubectl backup verify {file} lists every problem")))
}

/// Open the archive key with the user's keys.
///
/// `Ok(None)` when the archive has no encrypted entries. Without keys: an error naming the
/// flags when `required`, else `Ok(None)`. Keys that open nothing: exit 2.
pub fn archive_key(scanned: &Scanned, keys: &Keys, required: bool) -> Result<Option<ArchiveKey>> {
    let Some(m) = scanned.manifest() else {
        return Ok(None);
    };
    if m.encryption.key_entries.is_empty() {
        return Ok(None);
    }
    let to_whom = || {
        let mut who: Vec<String> = m.encryption.recipients.clone();
        if m.encryption.passphrase {
            who.push("a passphrase".into());
        }
        who.join(", ")
    };
    if keys.is_empty() {
        if required {
            return Err(Error::usage(format!(
                "the archive's Secrets are encrypted (to {}): a key is needed",
                to_whom()
            ))
            .with_hint("pass --identity FILE or --passphrase-env VAR"));
        }
        return Ok(None);
    }
    for path in &m.encryption.key_entries {
        let Some(entry) = scanned.kept.get(path) else {
            continue;
        };
        if let Some(k) = ArchiveKey::unwrap(entry, keys) {
            return Ok(Some(k));
        }
    }
    Err(Error::usage(format!(
        "cannot open the archive's key: the given identity or passphrase does not match (it is encrypted to {})",
        to_whom()
    ))
    .with_hint("check --identity / --passphrase-env; nothing was changed"))
}

/// One archived object, decoded.
#[derive(Debug, Clone)]
pub struct ArchivedObject {
    pub entry: crate::report::Entry,
    /// The object; `None` when it is encrypted and no key was given.
    pub value: Option<serde_json::Value>,
}

/// Decode every object entry the scan kept (decrypting with `key` where needed).
/// Fails (exit 2) on an entry that does not decrypt or parse: the archive is checked whole
/// before anything is done with it.
pub fn objects(scanned: &Scanned, key: Option<&ArchiveKey>) -> Result<Vec<ArchivedObject>> {
    let Some(m) = scanned.manifest() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in m
        .entries
        .iter()
        .filter(|e| e.entry_type == crate::report::EntryType::Object)
    {
        let Some(bytes) = scanned.kept.get(&e.path) else {
            continue;
        };
        let plain = match (e.encrypted, key) {
            (false, _) => std::borrow::Cow::Borrowed(bytes.as_slice()),
            (true, Some(k)) => std::borrow::Cow::Owned(k.decrypt(bytes).map_err(|_| {
                Error::usage(format!(
                    "{} cannot be decrypted with the archive key: the archive is damaged or was altered",
                    e.path
                ))
            })?),
            (true, None) => {
                out.push(ArchivedObject {
                    entry: e.clone(),
                    value: None,
                });
                continue;
            }
        };
        let value: serde_json::Value = serde_saphyr::from_slice(&plain)
            .map_err(|_| Error::usage(format!("{} is not a valid YAML object", e.path)))?;
        out.push(ArchivedObject {
            entry: e.clone(),
            value: Some(value),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_that_is_not_a_backup() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "etc/hosts", &b"hi"[..])
            .unwrap_or_else(|e| panic!("{e}"));
        let bytes = b.into_inner().unwrap_or_else(|e| panic!("{e}"));
        let err = scan_reader("x.tar", bytes.as_slice(), Keep::Digests)
            .err()
            .map(|e| (e.exit(), e.to_string()));
        assert_eq!(
            err,
            Some((
                common::Exit::Usage,
                "x.tar is not a kubectl backup archive: its first entry is \"etc/hosts\", not backup.json".into()
            ))
        );
    }
}
