//! The Krew manifests `make krew` publishes: krew/render.sh fills each
//! template in krew/plugins/ with the version, URI and sha256 of its archive,
//! and the result must be a complete krew.googlecontainertools.github.com/v1alpha2 Plugin.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use suite_tests::PLUGINS;

const TARGET: &str = "x86_64-unknown-linux-gnu";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).expect("copy");
        }
    }
}

fn render(work: &Path, version: &str) -> std::process::Output {
    Command::new("bash")
        .args(["krew/render.sh", version, TARGET, "https://example.test/dl"])
        .current_dir(work)
        .output()
        .expect("run render.sh")
}

#[test]
fn every_plugin_renders_a_complete_manifest() {
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&repo().join("krew"), &work.path().join("krew"));
    std::fs::create_dir_all(work.path().join("dist")).expect("dist");
    for plugin in PLUGINS {
        let archive = format!("dist/kubectl-{plugin}-v9.8.7-{TARGET}.tar.gz");
        std::fs::write(work.path().join(&archive), format!("archive of {plugin}")).expect("write");
    }
    let out = render(work.path(), "9.8.7");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for plugin in PLUGINS {
        let text = std::fs::read_to_string(work.path().join(format!("dist/krew/{plugin}.yaml")))
            .expect("rendered manifest");
        assert!(!text.contains("{{"), "placeholder left in {plugin}: {text}");
        let doc: Value = serde_saphyr::from_str(&text).expect("manifest is YAML");
        assert_eq!(
            doc["apiVersion"],
            "krew.googlecontainertools.github.com/v1alpha2"
        );
        assert_eq!(doc["kind"], "Plugin");
        assert_eq!(doc["metadata"]["name"], plugin);
        assert_eq!(doc["spec"]["version"], "v9.8.7");
        assert!(
            doc["spec"]["shortDescription"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
        let platform = &doc["spec"]["platforms"][0];
        assert_eq!(platform["bin"], format!("kubectl-{plugin}"));
        assert_eq!(
            platform["uri"],
            format!("https://example.test/dl/kubectl-{plugin}-v9.8.7-{TARGET}.tar.gz")
        );
        let sha = platform["sha256"].as_str().expect("sha256");
        assert_eq!(sha.len(), 64, "{sha}");
        assert!(sha.chars().all(|c| c.is_ascii_hexdigit()), "{sha}");
    }
}

#[test]
fn a_missing_archive_is_an_error_not_a_broken_manifest() {
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&repo().join("krew"), &work.path().join("krew"));
    let out = render(work.path(), "9.8.7");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}
