//! The Krew index the release publishes, validated by Krew's rules: krew/pack.sh builds
//! the archives, krew/render.sh renders `plugins/<name>.yaml` for every target, and each
//! manifest must pass `validate` — which must also reject broken manifests (an uppercase
//! sha256, overlapping selectors, no LICENSE, a bin missing from the archive, a sha256 that
//! is not the archive's). The host archive unpacks to a binary that runs `--help`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use suite_tests::PLUGINS;

const VERSION: &str = "9.8.7";
const HOST: &str = "x86_64-unknown-linux-gnu";
/// The release targets: one per Krew platform.
const TARGETS: [&str; 5] = [
    HOST,
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sh(cmd: &mut Command) -> std::process::Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// The archives of every target, packed once for all tests of this file.
fn packed() -> &'static Path {
    static DIST: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIST.get_or_init(|| {
        let dist = tempfile::tempdir().expect("tempdir");
        pack_all(dist.path());
        dist
    })
    .path()
}

/// Archives for every target: the real debug binaries for the host, small stand-ins for
/// the targets this machine cannot build.
fn pack_all(dist: &Path) {
    let fake = tempfile::tempdir().expect("tempdir");
    for plugin in PLUGINS {
        for exe in ["", ".exe"] {
            let path = fake.path().join(format!("kubectl-{plugin}{exe}"));
            std::fs::write(&path, "#!/bin/sh\necho stand-in\n").expect("write");
        }
    }
    for target in TARGETS {
        let bin_dir = if target == HOST {
            suite_tests::bin_dir()
        } else {
            fake.path().to_path_buf()
        };
        let out = sh(Command::new("bash")
            .arg(repo().join("krew/pack.sh"))
            .args([VERSION, target])
            .arg(&bin_dir)
            .arg(dist)
            .args(PLUGINS));
        assert!(
            out.status.success(),
            "pack {target}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn render(dist: &Path, out: &Path, targets: &[&str]) -> std::process::Output {
    sh(Command::new("bash")
        .arg(repo().join("krew/render.sh"))
        .arg("--dist")
        .arg(dist)
        .arg("--out")
        .arg(out)
        .args(["--base-url", "https://example.test/dl", VERSION])
        .args(targets))
}

/// The members of a tar.gz archive.
fn members(archive: &Path) -> BTreeSet<String> {
    let out = sh(Command::new("tar").arg("-tzf").arg(archive));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .collect()
}

fn sha256(path: &Path) -> String {
    let out = sh(Command::new("sha256sum").arg(path));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn is_semver_v(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Krew's manifest rules (krew's `validation` package, plus the index's own guidance of a
/// shortDescription ≤ 50 characters and no usage examples in the description), and the
/// archives behind each platform. Returns every violation.
fn validate(text: &str, dist: &Path) -> Vec<String> {
    let mut errors = Vec::new();
    let doc: Value = match serde_saphyr::from_str(text) {
        Ok(d) => d,
        Err(e) => return vec![format!("not YAML: {e}")],
    };
    let mut expect = |ok: bool, what: &str| {
        if !ok {
            errors.push(what.to_string());
        }
    };
    expect(
        doc["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2",
        "apiVersion",
    );
    expect(doc["kind"] == "Plugin", "kind");
    let name = doc["metadata"]["name"].as_str().unwrap_or("");
    expect(
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-'),
        "metadata.name: a safe plugin name",
    );
    let spec = &doc["spec"];
    expect(
        spec["version"].as_str().is_some_and(is_semver_v),
        "spec.version: semver with v",
    );
    expect(
        spec["homepage"]
            .as_str()
            .is_some_and(|h| h.starts_with("https://")),
        "spec.homepage",
    );
    let short = spec["shortDescription"].as_str().unwrap_or("");
    expect(
        !short.is_empty() && short.chars().count() <= 50,
        "spec.shortDescription ≤ 50",
    );
    let description = spec["description"].as_str().unwrap_or("");
    expect(
        !description.is_empty()
            && !description.lines().any(|l| {
                l.trim_start().starts_with("$ ")
                    || l.trim_start().starts_with(&format!("kubectl {name} "))
            }),
        "spec.description: present, without usage examples",
    );
    let platforms = spec["platforms"].as_array().cloned().unwrap_or_default();
    expect(!platforms.is_empty(), "spec.platforms: at least one");
    let mut selectors = BTreeSet::new();
    for (i, p) in platforms.iter().enumerate() {
        let labels = p["selector"]["matchLabels"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let keys: BTreeSet<&str> = labels.keys().map(String::as_str).collect();
        if !keys.iter().all(|k| *k == "os" || *k == "arch") || keys.is_empty() {
            errors.push(format!("platforms[{i}].selector: os/arch keys only"));
        }
        if p["selector"].get("matchExpressions").is_some() {
            errors.push(format!("platforms[{i}].selector: matchLabels only"));
        }
        let key = (
            labels
                .get("os")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_string(),
            labels
                .get("arch")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_string(),
        );
        // Overlap: the same os/arch, or a wildcard on one side matching the other.
        for (os, arch) in &selectors {
            let os_overlap = os == &key.0 || os == "*" || key.0 == "*";
            let arch_overlap = arch == &key.1 || arch == "*" || key.1 == "*";
            if os_overlap && arch_overlap {
                errors.push(format!("platforms[{i}]: selector overlaps {os}/{arch}"));
            }
        }
        selectors.insert(key);
        let sha = p["sha256"].as_str().unwrap_or("");
        if sha.len() != 64
            || !sha
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            errors.push(format!("platforms[{i}].sha256: 64 lowercase hex digits"));
        }
        let uri = p["uri"].as_str().unwrap_or("");
        if !uri.starts_with("https://") {
            errors.push(format!("platforms[{i}].uri: https"));
        }
        let bin = p["bin"].as_str().unwrap_or("");
        if bin.is_empty() {
            errors.push(format!("platforms[{i}].bin: required"));
        }
        let files = p["files"].as_array().cloned().unwrap_or_default();
        let froms: BTreeSet<String> = files
            .iter()
            .filter_map(|f| f["from"].as_str().map(str::to_string))
            .collect();
        if !froms.contains("LICENSE") {
            errors.push(format!("platforms[{i}].files: LICENSE is extracted"));
        }
        // The archive behind the URI: its checksum and its members.
        let archive = dist.join(uri.rsplit('/').next().unwrap_or(""));
        if !archive.is_file() {
            errors.push(format!(
                "platforms[{i}]: archive {} missing",
                archive.display()
            ));
            continue;
        }
        if sha256(&archive) != sha {
            errors.push(format!("platforms[{i}].sha256: not the archive's"));
        }
        let inside = members(&archive);
        for from in &froms {
            if !inside.contains(from) {
                errors.push(format!("platforms[{i}].files: {from} not in the archive"));
            }
        }
        if !froms.contains(bin) || !inside.contains(bin) {
            errors.push(format!(
                "platforms[{i}].bin: {bin} not extracted from the archive"
            ));
        }
    }
    errors
}

fn rendered(out: &Path, plugin: &str) -> String {
    std::fs::read_to_string(out.join(format!("plugins/{plugin}.yaml"))).expect("rendered manifest")
}

#[test]
fn the_index_for_every_platform_passes_krews_rules() {
    let dist = packed();
    let out = tempfile::tempdir().expect("tempdir");
    let r = render(dist, out.path(), &TARGETS);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for plugin in PLUGINS {
        let text = rendered(out.path(), plugin);
        assert_eq!(
            validate(&text, dist),
            Vec::<String>::new(),
            "{plugin}:\n{text}"
        );
        let doc: Value = serde_saphyr::from_str(&text).expect("yaml");
        let platforms: BTreeSet<String> = doc["spec"]["platforms"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "{}/{}",
                    p["selector"]["matchLabels"]["os"].as_str().unwrap_or(""),
                    p["selector"]["matchLabels"]["arch"].as_str().unwrap_or("")
                )
            })
            .collect();
        let want: BTreeSet<String> = [
            "linux/amd64",
            "linux/arm64",
            "darwin/amd64",
            "darwin/arm64",
            "windows/amd64",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(platforms, want, "{plugin}");
        assert!(
            text.contains(&format!("bin: kubectl-{plugin}.exe")),
            "windows bin: {text}"
        );
        assert!(text.contains("caveats:"), "completion caveats");
    }
}

#[test]
fn broken_manifests_are_rejected() {
    let dist = packed();
    let out = tempfile::tempdir().expect("tempdir");
    let r = render(dist, out.path(), &TARGETS);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let good = rendered(out.path(), "triage");
    let doc: Value = serde_saphyr::from_str(&good).expect("yaml");
    let sha = doc["spec"]["platforms"][0]["sha256"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let cases: Vec<(&str, String)> = vec![
        (
            "uppercase sha256",
            good.replacen(&sha, &sha.to_uppercase(), 1),
        ),
        (
            "another archive's sha256",
            good.replacen(&sha, &"0".repeat(64), 1),
        ),
        (
            "overlapping selector",
            good.replacen(
                "os: darwin\n        arch: arm64",
                "os: linux\n        arch: amd64",
                1,
            ),
        ),
        (
            "no LICENSE",
            good.replace("    - from: LICENSE\n      to: .\n", ""),
        ),
        (
            "bin not in the archive",
            good.replacen("bin: kubectl-triage\n", "bin: kubectl-nope\n", 1),
        ),
        (
            "version without v",
            good.replacen("version: v9.8.7", "version: 9.8.7", 1),
        ),
        (
            "long short description",
            good.replacen(
                "shortDescription: ",
                "shortDescription: far too long a description for the index guidance ",
                1,
            ),
        ),
        (
            "selector with another key",
            good.replacen("os: linux\n", "os: linux\n        distro: debian\n", 1),
        ),
    ];
    for (what, text) in cases {
        assert_ne!(text, good, "{what}: the mutation applies");
        assert!(
            !validate(&text, dist).is_empty(),
            "{what} must be rejected:\n{text}"
        );
    }
}

#[test]
fn overlapping_targets_and_missing_archives_are_render_errors() {
    let empty = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let r = render(empty.path(), out.path(), &[HOST]);
    assert_eq!(r.status.code(), Some(2), "no archives");
    assert!(String::from_utf8_lossy(&r.stderr).starts_with("error: "));
    let r = render(packed(), out.path(), &[HOST, "x86_64-unknown-linux-musl"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("overlap"));
}

#[test]
fn the_host_archive_unpacks_to_working_plugins_and_shims() {
    let dist = packed();
    for plugin in PLUGINS {
        let archive = dist.join(format!("kubectl-{plugin}-v{VERSION}-{HOST}.tar.gz"));
        let inside = members(&archive);
        let want: BTreeSet<String> = [
            format!("kubectl-{plugin}"),
            format!("kubectl_complete-{plugin}"),
            "LICENSE".to_string(),
        ]
        .into_iter()
        .collect();
        assert_eq!(inside, want, "{plugin}");
        let unpack = tempfile::tempdir().expect("tempdir");
        let x = sh(Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(unpack.path()));
        assert!(x.status.success());
        let help = sh(Command::new(unpack.path().join(format!("kubectl-{plugin}"))).arg("--help"));
        assert!(help.status.success(), "{plugin} --help");
        assert!(
            String::from_utf8_lossy(&help.stdout).contains(&format!("kubectl {plugin}")),
            "usage names the kubectl command"
        );
    }
}
