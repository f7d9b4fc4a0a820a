//! The new version's data, assembled from the command line (`--from-literal`, `--from-file`,
//! `--from-env-file`, `--generate`, `--keep`) the way `kubectl create secret` reads them.
//! File reads and random bytes are passed in, so the assembly itself is a pure function.

use std::collections::BTreeMap;

use common::Error;
use serde::Serialize;

use crate::snapshot::SecretData;

/// Where a key's value comes from (shown in the plan instead of the value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "camelCase")]
pub enum KeySource {
    /// `--from-literal KEY=VALUE`.
    Literal,
    /// `--from-file [KEY=]PATH`.
    File {
        /// The file.
        path: String,
    },
    /// `--from-env-file PATH`.
    EnvFile {
        /// The file.
        path: String,
    },
    /// `--generate KEY[:LENGTH]`: random letters and digits.
    Generated {
        /// How many characters.
        length: usize,
    },
    /// `--keep KEY`: copied from the current version.
    Kept {
        /// The version it is copied from.
        version: String,
    },
}

/// One key of the new version: its name, origin and size (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyPlan {
    /// The key.
    pub key: String,
    /// Where the value comes from.
    #[serde(flatten)]
    pub source: KeySource,
    /// The value's length in bytes.
    pub bytes: usize,
}

/// The data flags of `rotate secret`, as given.
#[derive(Debug, Clone, Default)]
pub struct DataFlags {
    /// `--from-literal KEY=VALUE`.
    pub literals: Vec<String>,
    /// `--from-file [KEY=]PATH`.
    pub files: Vec<String>,
    /// `--from-env-file PATH`.
    pub env_files: Vec<String>,
    /// `--generate KEY[:LENGTH]`.
    pub generate: Vec<String>,
    /// `--keep KEY`.
    pub keep: Vec<String>,
}

impl DataFlags {
    /// True when no flag gives any data.
    pub fn is_empty(&self) -> bool {
        self.literals.is_empty()
            && self.files.is_empty()
            && self.env_files.is_empty()
            && self.generate.is_empty()
            && self.keep.is_empty()
    }
}

/// Length of `--generate KEY` without `:LENGTH`.
pub const DEFAULT_GENERATED_LENGTH: usize = 32;

/// A valid Secret key: `[-._a-zA-Z0-9]+`, at most 253 characters (IsConfigMapKey).
pub fn check_key(key: &str) -> common::Result<()> {
    let valid = !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "\"{key}\" is not a valid Secret key: use letters, digits, '-', '_' or '.'"
        )))
    }
}

/// Assemble the data. `read` reads a file (or `-` for stdin); `random` gives `n` random
/// alphanumeric bytes; `current` is the version `--keep` copies from (name and data).
pub fn assemble(
    flags: &DataFlags,
    current: Option<(&str, &SecretData)>,
    read: &mut dyn FnMut(&str) -> common::Result<Vec<u8>>,
    random: &mut dyn FnMut(usize) -> common::Result<Vec<u8>>,
) -> common::Result<(SecretData, Vec<KeyPlan>)> {
    let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut plan = Vec::new();
    let mut add = |key: String, value: Vec<u8>, source: KeySource| -> common::Result<()> {
        check_key(&key)?;
        if data.contains_key(&key) {
            return Err(Error::usage(format!(
                "key \"{key}\" is given more than once"
            )));
        }
        plan.push(KeyPlan {
            key: key.clone(),
            source,
            bytes: value.len(),
        });
        data.insert(key, value);
        Ok(())
    };
    for lit in &flags.literals {
        // The value stays out of the message: only the part before '=' is shown.
        let Some((key, value)) = lit.split_once('=') else {
            return Err(Error::usage(
                "--from-literal needs KEY=VALUE (one of them has no '=')",
            ));
        };
        add(
            key.to_string(),
            value.as_bytes().to_vec(),
            KeySource::Literal,
        )?;
    }
    for spec in &flags.files {
        let (key, path) = match spec.split_once('=') {
            Some((k, p)) => (k.to_string(), p.to_string()),
            None => {
                let name = std::path::Path::new(spec)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (name, spec.clone())
            }
        };
        let value = read(&path)?;
        add(key, value, KeySource::File { path })?;
    }
    for path in &flags.env_files {
        let text = read(path)?;
        let text = String::from_utf8(text)
            .map_err(|_| Error::usage(format!("{path}: an env file must be UTF-8 text")))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(Error::usage(format!(
                    "{path}:{}: expected KEY=VALUE",
                    n + 1
                )));
            };
            add(
                key.trim().to_string(),
                value.as_bytes().to_vec(),
                KeySource::EnvFile { path: path.clone() },
            )?;
        }
    }
    for spec in &flags.generate {
        let (key, length) = match spec.split_once(':') {
            Some((k, l)) => {
                let n: usize = l.parse().map_err(|_| {
                    Error::usage(format!("--generate {spec}: LENGTH must be a number"))
                })?;
                if !(8..=4096).contains(&n) {
                    return Err(Error::usage(format!(
                        "--generate {spec}: LENGTH must be between 8 and 4096"
                    )));
                }
                (k.to_string(), n)
            }
            None => (spec.clone(), DEFAULT_GENERATED_LENGTH),
        };
        let value = random(length)?;
        add(key, value, KeySource::Generated { length })?;
    }
    for key in &flags.keep {
        let Some((version, current)) = current else {
            return Err(Error::usage(format!(
                "--keep {key}: there is no current version to keep it from"
            )));
        };
        let Some(value) = current.0.get(key) else {
            return Err(Error::usage(format!(
                "--keep {key}: the current version {version} has no key \"{key}\""
            ))
            .with_hint(format!("its keys: {}", current.keys().join(", "))));
        };
        add(
            key.clone(),
            value.clone(),
            KeySource::Kept {
                version: version.to_string(),
            },
        )?;
    }
    Ok((SecretData(data), plan))
}

/// `n` random characters from `[A-Za-z0-9]`, from the system's secure random source.
pub fn random_alphanumeric(n: usize) -> common::Result<Vec<u8>> {
    use ring::rand::SecureRandom;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let rng = ring::rand::SystemRandom::new();
    let mut out = Vec::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        rng.fill(&mut buf)
            .map_err(|_| Error::other("the system random source failed"))?;
        // Rejection sampling: 248 = 62 * 4, so every character is equally likely.
        out.extend(
            buf.iter()
                .filter(|b| **b < 248)
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()])
                .take(n - out.len()),
        );
    }
    Ok(out)
}

/// Read `path` (`-` = stdin) for `--from-file` / `--from-env-file`.
pub fn read_file(path: &str) -> common::Result<Vec<u8>> {
    common::files::read_input(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(p: &str) -> common::Result<Vec<u8>> {
        match p {
            "/ca.pem" => Ok(b"CA".to_vec()),
            "/app.env" => Ok(b"# comment\nUSER=app\n\nTOKEN=a=b\n".to_vec()),
            other => Err(Error::usage(format!("{other}: no such file"))),
        }
    }

    fn run(flags: &DataFlags) -> common::Result<(SecretData, Vec<KeyPlan>)> {
        let current = SecretData([("username".to_string(), b"svc".to_vec())].into());
        assemble(flags, Some(("db", &current)), &mut no_files, &mut |n| {
            Ok(vec![b'x'; n])
        })
    }

    #[test]
    fn every_source() {
        let flags = DataFlags {
            literals: vec!["password=hunter2=x".into()],
            files: vec!["/ca.pem".into(), "bundle=/ca.pem".into()],
            env_files: vec!["/app.env".into()],
            generate: vec!["api-key".into(), "pin:8".into()],
            keep: vec!["username".into()],
        };
        let (data, plan) = run(&flags).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            data.keys(),
            [
                "TOKEN", "USER", "api-key", "bundle", "ca.pem", "password", "pin", "username"
            ]
        );
        assert_eq!(data.0["password"], b"hunter2=x");
        assert_eq!(data.0["TOKEN"], b"a=b");
        assert_eq!(data.0["api-key"].len(), 32);
        assert_eq!(data.0["username"], b"svc");
        let sources: Vec<String> = plan
            .iter()
            .map(|k| serde_json::to_string(k).unwrap_or_default())
            .collect();
        assert_eq!(
            sources[0],
            r#"{"key":"password","from":"literal","bytes":9}"#
        );
        assert!(
            sources
                .iter()
                .any(|s| s == r#"{"key":"pin","from":"generated","length":8,"bytes":8}"#)
        );
        assert!(
            sources
                .iter()
                .any(|s| s == r#"{"key":"username","from":"kept","version":"db","bytes":3}"#)
        );
        assert!(!sources.concat().contains("hunter2"));
    }

    #[test]
    fn bad_input_is_a_usage_error_without_the_value() {
        let err = |f: DataFlags| run(&f).err().map(|e| (e.exit(), e.to_string()));
        let (code, msg) = err(DataFlags {
            literals: vec!["hunter2".into()],
            ..Default::default()
        })
        .unwrap_or_else(|| panic!("error"));
        assert_eq!(code, common::Exit::Usage);
        assert!(!msg.contains("hunter2"), "{msg}");
        let dup = DataFlags {
            literals: vec!["a=1".into(), "a=2".into()],
            ..Default::default()
        };
        assert!(err(dup).is_some_and(|(_, m)| m.contains("more than once")));
        let keep = DataFlags {
            keep: vec!["password".into()],
            ..Default::default()
        };
        assert!(err(keep).is_some_and(|(_, m)| m.contains("has no key \"password\"")));
        let badkey = DataFlags {
            literals: vec!["a/b=1".into()],
            ..Default::default()
        };
        assert!(err(badkey).is_some_and(|(_, m)| m.contains("not a valid Secret key")));
        let short = DataFlags {
            generate: vec!["k:3".into()],
            ..Default::default()
        };
        assert!(err(short).is_some());
        let missing = DataFlags {
            files: vec!["/nope".into()],
            ..Default::default()
        };
        assert!(err(missing).is_some_and(|(_, m)| m.contains("no such file")));
        assert!(DataFlags::default().is_empty());
    }

    #[test]
    fn random_values_are_alphanumeric_and_differ() {
        let a = random_alphanumeric(40).unwrap_or_default();
        let b = random_alphanumeric(40).unwrap_or_default();
        assert_eq!(a.len(), 40);
        assert!(a.iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(a, b);
    }
}
