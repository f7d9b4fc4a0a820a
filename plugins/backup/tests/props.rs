//! Property tests of the archive reader and the manifest parser: arbitrary bytes, cut or
//! damaged archives never panic and are refused with exit 2 (or reported as damage); an
//! archive written by `ArchiveWriter` reads back entry for entry with the same manifest.
//! `make test` runs a few dozen cases each; `make fuzz` runs PROPTEST_CASES of them.

use common::Exit;
use kubectl_backup::archive::write::{ArchiveWriter, EntryMeta};
use kubectl_backup::load::{Keep, require_intact, scan_reader};
use kubectl_backup::report::{BackupManifest, EntryType};
use proptest::prelude::*;
use serde_json::json;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The manifest head `create` would pass to `finish` (counts and entries are filled in).
fn head() -> BackupManifest {
    serde_json::from_value(json!({
        "apiVersion": "backup.kubectl-plugins.dev/v1",
        "kind": "BackupManifest",
        "schemaVersion": 1,
        "tool": {"name": "kubectl-backup", "version": "0.1.0"},
        "createdAt": "2026-01-01T00:00:00Z",
        "source": {"context": "props", "server": "https://127.0.0.1:1", "serverVersion": "v1.33.1"},
        "scope": {"namespaces": ["props"], "allNamespaces": false, "includeClusterResources": false, "resources": []},
        "encryption": {"secrets": "excluded", "dumpsEncrypted": false, "passphrase": false},
        "counts": {"entries": 0, "objects": 0, "bytes": 0, "encrypted": 0, "dumps": 0,
                   "snapshots": 0, "byKind": {}, "byNamespace": {}, "excluded": {}},
    }))
    .unwrap_or_else(|e| panic!("manifest head: {e}"))
}

/// An archive of ConfigMaps named after `names`, each with `body` bytes of data.
fn archive(objects: &[(String, Vec<u8>)]) -> (Vec<u8>, BackupManifest) {
    let mut w = ArchiveWriter::new(
        Vec::new(),
        jiff::Timestamp::from_second(1_767_225_600).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
    )
    .unwrap_or_else(|e| panic!("writer: {e}"));
    for (name, data) in objects {
        w.add(
            &format!("objects/props/core/ConfigMap/{name}.yaml"),
            EntryType::Object,
            data,
            EntryMeta {
                api_version: Some("v1".into()),
                kind: Some("ConfigMap".into()),
                namespace: Some("props".into()),
                name: Some(name.clone()),
                encrypted: false,
            },
        )
        .unwrap_or_else(|e| panic!("add: {e}"));
    }
    let written = w.finish(head()).unwrap_or_else(|e| panic!("finish: {e}"));
    (written.inner, written.manifest)
}

fn objects() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    proptest::collection::btree_map(
        "[a-z][a-z0-9-]{0,40}",
        proptest::collection::vec(any::<u8>(), 0..2048),
        0..6,
    )
    .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_are_refused_with_exit_2(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        match scan_reader("fuzz.tar.zst", bytes.as_slice(), Keep::Objects) {
            Err(e) => prop_assert_eq!(e.exit(), Exit::Usage, "{}", e),
            // A random tar that happens to parse still has no manifest: refused as damaged.
            Ok(scanned) => prop_assert!(require_intact("fuzz.tar.zst", &scanned).is_err()),
        }
    }

    #[test]
    fn zstd_framed_noise_is_refused_with_exit_2(noise in proptest::collection::vec(any::<u8>(), 0..2048)) {
        // Noise behind a zstd magic number goes deeper into the frame reader.
        let mut bytes = vec![0x28, 0xb5, 0x2f, 0xfd];
        bytes.extend(noise);
        match scan_reader("fuzz.tar.zst", bytes.as_slice(), Keep::Digests) {
            Err(e) => prop_assert_eq!(e.exit(), Exit::Usage, "{}", e),
            Ok(scanned) => prop_assert!(require_intact("fuzz.tar.zst", &scanned).is_err()),
        }
    }

    #[test]
    fn archives_round_trip(objs in objects()) {
        let (bytes, written) = archive(&objs);
        let scanned = scan_reader("rt.tar.zst", bytes.as_slice(), Keep::Objects)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(scanned.problems.is_empty(), "{:?}", scanned.problems);
        require_intact("rt.tar.zst", &scanned).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let manifest = scanned.manifest().ok_or_else(|| TestCaseError::fail("no manifest"))?;
        prop_assert_eq!(&manifest.counts, &written.counts);
        prop_assert_eq!(manifest.entries.len(), objs.len() + 1, "header + objects");
        for (name, data) in &objs {
            let path = format!("objects/props/core/ConfigMap/{name}.yaml");
            prop_assert_eq!(scanned.kept.get(&path), Some(data), "{}", path);
        }
        // The manifest itself round-trips through its JSON form.
        let text = serde_json::to_string(manifest).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: BackupManifest = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.entries, manifest.entries.clone());
        prop_assert_eq!(back.counts, manifest.counts.clone());
    }

    #[test]
    fn a_cut_archive_is_refused(objs in objects(), cut in 0.0f64..1.0) {
        let (bytes, _) = archive(&objs);
        let keep = ((bytes.len() as f64) * cut) as usize;
        let short = &bytes[..keep.min(bytes.len() - 1)];
        match scan_reader("cut.tar.zst", short, Keep::Objects) {
            Err(e) => prop_assert_eq!(e.exit(), Exit::Usage, "{}", e),
            Ok(scanned) => match require_intact("cut.tar.zst", &scanned) {
                Err(e) => prop_assert_eq!(e.exit(), Exit::Usage),
                // A cut inside the end-of-archive trailer (the tar's zero blocks, after the
                // manifest) loses nothing: every entry is there and matches its sha256.
                // Then each object must read back unchanged.
                Ok(()) => {
                    prop_assert!(short.len() + 16 >= bytes.len(), "{} of {} bytes accepted", short.len(), bytes.len());
                    for (name, data) in &objs {
                        let path = format!("objects/props/core/ConfigMap/{name}.yaml");
                        prop_assert_eq!(scanned.kept.get(&path), Some(data), "{}", path);
                    }
                }
            },
        }
    }

    #[test]
    fn a_changed_byte_is_found_or_harmless(objs in objects(), at in 0.0f64..1.0, xor in 1u8..=255) {
        let (mut bytes, _) = archive(&objs);
        let i = ((bytes.len() as f64) * at) as usize % bytes.len();
        bytes[i] ^= xor;
        match scan_reader("flip.tar.zst", bytes.as_slice(), Keep::Objects) {
            Err(e) => prop_assert_eq!(e.exit(), Exit::Usage, "{}", e),
            Ok(scanned) => {
                if require_intact("flip.tar.zst", &scanned).is_ok() {
                    // Only a byte zstd and tar ignore (padding) may pass: then every
                    // object reads back unchanged.
                    for (name, data) in &objs {
                        let path = format!("objects/props/core/ConfigMap/{name}.yaml");
                        prop_assert_eq!(scanned.kept.get(&path), Some(data), "byte {} changed {}", i, path);
                    }
                }
            }
        }
    }

    #[test]
    fn arbitrary_manifest_json_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = serde_json::from_slice::<BackupManifest>(&bytes);
    }
}
