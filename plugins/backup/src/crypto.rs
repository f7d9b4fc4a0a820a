//! Encryption of Secret entries (and dumps) with age: one random X25519 archive key per
//! backup, itself age-encrypted to the --recipient keys and/or the passphrase (scrypt).
//!
//! Why a per-archive key: age's scrypt recipient costs about a second per file by design;
//! wrapping one archive key with it keeps passphrase backups fast, while every Secret is
//! still a standard age file (`age -d -i archive.key`) on its own.

use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use common::{Error, Result};

use crate::args::KeyArgs;

/// Entry holding the archive key for the recipients.
pub const RECIPIENTS_KEY_PATH: &str = "keys/archive-key.recipients.age";
/// Entry holding the archive key for the passphrase.
pub const PASSPHRASE_KEY_PATH: &str = "keys/archive-key.passphrase.age";

/// The key every encrypted entry of one archive is encrypted to.
pub struct ArchiveKey {
    identity: x25519::Identity,
    recipient: x25519::Recipient,
}

impl std::fmt::Debug for ArchiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ArchiveKey({})", self.recipient)
    }
}

impl ArchiveKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let identity = x25519::Identity::generate();
        let recipient = identity.to_public();
        ArchiveKey {
            identity,
            recipient,
        }
    }

    fn from_identity(identity: x25519::Identity) -> Self {
        let recipient = identity.to_public();
        ArchiveKey {
            identity,
            recipient,
        }
    }

    /// A copy of the key (for a reader thread).
    pub fn clone_key(&self) -> ArchiveKey {
        ArchiveKey::from_identity(self.identity.clone())
    }

    /// The public half, for streaming encryption.
    pub fn recipient_ref(&self) -> &dyn age::Recipient {
        &self.recipient
    }

    /// Encrypt one entry's bytes (a standard binary age file).
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        age::encrypt(&self.recipient, plaintext)
            .map_err(|e| Error::other(format!("cannot encrypt an entry: {e}")))
    }

    /// Streaming encryption of a large entry (a dump) into `out`.
    pub fn encrypt_stream(&self, input: &mut dyn Read, out: impl std::io::Write) -> Result<()> {
        let encryptor = age::Encryptor::with_recipients(std::iter::once(
            &self.recipient as &dyn age::Recipient,
        ))
        .map_err(|e| Error::other(format!("cannot encrypt a dump: {e}")))?;
        let mut w = encryptor
            .wrap_output(out)
            .map_err(|e| Error::other(format!("cannot encrypt a dump: {e}")))?;
        std::io::copy(input, &mut w)?;
        w.finish()?;
        Ok(())
    }

    /// Decrypt one entry's bytes.
    pub fn decrypt(&self, ciphertext: &[u8]) -> std::result::Result<Vec<u8>, String> {
        age::decrypt(&self.identity, ciphertext).map_err(|e| e.to_string())
    }

    /// A reader of a large encrypted entry (a dump) decrypted on the fly.
    pub fn decrypt_stream<'a>(&self, input: impl Read + 'a) -> Result<Box<dyn Read + 'a>> {
        let d = age::Decryptor::new(input)
            .map_err(|e| Error::usage(format!("cannot decrypt a dump: {e}")))?;
        let r = d
            .decrypt(std::iter::once(&self.identity as &dyn age::Identity))
            .map_err(|e| Error::usage(format!("cannot decrypt a dump: {e}")))?;
        Ok(Box::new(r))
    }

    /// The key entry for `recipients`: an age file holding this key's secret string.
    pub fn wrap_for(&self, recipients: &[x25519::Recipient]) -> Result<Vec<u8>> {
        let encryptor =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| Error::other(format!("cannot encrypt the archive key: {e}")))?;
        self.wrap(encryptor)
    }

    /// The key entry for a passphrase (age scrypt, about a second of work by design).
    pub fn wrap_with_passphrase(&self, passphrase: &SecretString) -> Result<Vec<u8>> {
        self.wrap(age::Encryptor::with_user_passphrase(passphrase.clone()))
    }

    fn wrap(&self, encryptor: age::Encryptor) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut w = encryptor
            .wrap_output(&mut out)
            .map_err(|e| Error::other(format!("cannot encrypt the archive key: {e}")))?;
        std::io::Write::write_all(&mut w, self.identity.to_string().expose_secret().as_bytes())?;
        w.finish()?;
        Ok(out)
    }

    /// Recover the archive key from a key entry with the user's keys; `None` when none of
    /// them opens it.
    pub fn unwrap(entry: &[u8], keys: &Keys) -> Option<Self> {
        let decryptor = age::Decryptor::new_buffered(entry).ok()?;
        let mut ids: Vec<&dyn age::Identity> = keys
            .identities
            .iter()
            .map(|i| i as &dyn age::Identity)
            .collect();
        let scrypt = keys
            .passphrase
            .as_ref()
            .map(|p| age::scrypt::Identity::new(p.clone()));
        if let Some(s) = &scrypt
            && decryptor.is_scrypt()
        {
            ids = vec![s as &dyn age::Identity];
        } else if decryptor.is_scrypt() {
            return None;
        }
        let mut reader = decryptor.decrypt(ids.into_iter()).ok()?;
        let mut text = String::new();
        reader.read_to_string(&mut text).ok()?;
        let identity = x25519::Identity::from_str(text.trim()).ok()?;
        Some(ArchiveKey::from_identity(identity))
    }
}

/// What the user gave to open an archive.
#[derive(Default)]
pub struct Keys {
    pub identities: Vec<x25519::Identity>,
    pub passphrase: Option<SecretString>,
}

impl Keys {
    /// True when neither an identity nor a passphrase was given.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty() && self.passphrase.is_none()
    }
}

/// Read `--identity` files and `--passphrase-env`.
pub fn load_keys(args: &KeyArgs) -> Result<Keys> {
    let mut keys = Keys::default();
    for path in &args.identity {
        keys.identities.extend(read_identity_file(path)?);
    }
    if let Some(var) = &args.passphrase_env {
        keys.passphrase = Some(passphrase_from_env(var)?);
    }
    Ok(keys)
}

/// The passphrase in environment variable `var` (exit 2 when unset or empty).
pub fn passphrase_from_env(var: &str) -> Result<SecretString> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(SecretString::from(v)),
        Ok(_) => Err(Error::usage(format!(
            "environment variable {var} (--passphrase-env) is empty"
        ))),
        Err(_) => Err(Error::usage(format!(
            "environment variable {var} (--passphrase-env) is not set"
        ))
        .with_hint(format!(
            "export {var}=... before running, or pass --identity FILE"
        ))),
    }
}

/// Parse an age identity file: `AGE-SECRET-KEY-1...` lines, `#` comments, blank lines.
/// Errors name the file and line, never the line's content.
pub fn read_identity_file(path: &Path) -> Result<Vec<x25519::Identity>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read identity file {}: {e}", path.display())))?;
    parse_identities(&text, &path.display().to_string())
}

fn parse_identities(text: &str, name: &str) -> Result<Vec<x25519::Identity>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let id = x25519::Identity::from_str(line).map_err(|_| {
            Error::usage(format!(
                "{name}:{}: not an age X25519 identity (expected AGE-SECRET-KEY-1...)",
                i + 1
            ))
        })?;
        out.push(id);
    }
    if out.is_empty() {
        return Err(Error::usage(format!("{name}: no age identity found")));
    }
    Ok(out)
}

/// Parse `--recipient` values (age X25519 public keys, `age1...`).
pub fn parse_recipients(list: &[String]) -> Result<Vec<x25519::Recipient>> {
    list.iter()
        .map(|r| {
            x25519::Recipient::from_str(r.trim()).map_err(|_| {
                Error::usage(format!(
                    "--recipient {r:?} is not an age X25519 public key (age1...)"
                ))
                .with_hint("create a key pair with age-keygen; pass the public key (age1...)")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_the_archive_key() {
        let k = ArchiveKey::generate();
        let secret = b"password: hunter2";
        let c = k.encrypt(secret).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(k.decrypt(&c).ok().as_deref(), Some(&secret[..]));
        assert!(ArchiveKey::generate().decrypt(&c).is_err(), "another key");
        let mut streamed = Vec::new();
        k.encrypt_stream(&mut &secret[..], &mut streamed)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut back = Vec::new();
        k.decrypt_stream(streamed.as_slice())
            .and_then(|mut r| Ok(r.read_to_end(&mut back)?))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, secret);
    }

    #[test]
    fn the_archive_key_opens_only_for_its_recipients() {
        let k = ArchiveKey::generate();
        let me = x25519::Identity::generate();
        let entry = k
            .wrap_for(&[me.to_public()])
            .unwrap_or_else(|e| panic!("{e}"));
        let mine = Keys {
            identities: vec![me],
            passphrase: None,
        };
        let opened = ArchiveKey::unwrap(&entry, &mine).map(|o| o.recipient.to_string());
        assert_eq!(opened, Some(k.recipient.to_string()));
        let other = Keys {
            identities: vec![x25519::Identity::generate()],
            passphrase: None,
        };
        assert!(ArchiveKey::unwrap(&entry, &other).is_none());
    }

    #[test]
    fn the_archive_key_opens_with_its_passphrase() {
        let k = ArchiveKey::generate();
        let pass = SecretString::from("correct horse".to_string());
        // A low work factor keeps the test fast; the real one targets ~1 s.
        let mut r = age::scrypt::Recipient::new(pass.clone());
        r.set_work_factor(10);
        let entry = k
            .wrap(
                age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let right = Keys {
            identities: vec![],
            passphrase: Some(pass),
        };
        assert!(ArchiveKey::unwrap(&entry, &right).is_some());
        let wrong = Keys {
            identities: vec![],
            passphrase: Some(SecretString::from("wrong".to_string())),
        };
        assert!(ArchiveKey::unwrap(&entry, &wrong).is_none());
    }

    #[test]
    fn identity_files_and_recipients_parse_without_echoing_secrets() {
        let id = x25519::Identity::generate();
        let text = format!("# created: now\n\n{}\n", id.to_string().expose_secret());
        assert_eq!(
            parse_identities(&text, "me.key").map(|v| v.len()).ok(),
            Some(1)
        );
        let err = parse_identities("AGE-SECRET-KEY-1NOTAKEYATALLsecretish\n", "me.key")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            err,
            "me.key:1: not an age X25519 identity (expected AGE-SECRET-KEY-1...)"
        );
        assert!(parse_recipients(&[id.to_public().to_string()]).is_ok());
        assert!(parse_recipients(&["age1nope".into()]).is_err());
    }
}
