//! Completion the kubectl way: with the `kubectl_complete-<plugin>` shims on PATH, the real
//! kubectl's `__complete` reaches each plugin, which answers from the live sandbox (or the
//! kubeconfig, or its own flags); `completion SHELL` prints a script for direct use; man
//! pages render.

use std::path::Path;
use std::process::Command;

use suite_tests::{bin_dir, kubectl_available, plugin_bin, sandbox};

/// A PATH with the shims (written by the same script `make install` and the archives use)
/// and the built plugins.
fn path_with_shims(dir: &Path) -> std::ffi::OsString {
    for plugin in suite_tests::PLUGINS {
        let ok = Command::new("bash")
            .arg(krew_script("completion-shim.sh"))
            .arg(plugin)
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "shim for {plugin}");
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = [dir.to_path_buf(), bin_dir()]
        .into_iter()
        .chain(std::env::split_paths(&path));
    std::env::join_paths(dirs).unwrap_or(path)
}

fn krew_script(file: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../krew")
        .join(file)
}

/// `kubectl __complete <args>` (what the shell runs on TAB), candidates and directive.
fn complete(path: &std::ffi::OsString, kubeconfig: &Path, args: &[&str]) -> (Vec<String>, String) {
    let out = Command::new("kubectl")
        .arg("__complete")
        .args(args)
        .env("PATH", path)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .unwrap_or_else(|e| panic!("kubectl __complete: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_string())
        .collect();
    let directive = lines.pop().unwrap_or_default();
    (lines, directive)
}

#[test]
fn kubectl_completes_triage_through_the_shim() {
    if !kubectl_available() {
        return;
    }
    let sb = sandbox(&["demo"]);
    let shims = tempfile::tempdir().expect("tempdir");
    let path = path_with_shims(shims.path());
    let (names, directive) = complete(&path, sb.kubeconfig(), &["triage", "-n", ""]);
    assert!(
        names.contains(&"hypersdk".to_string()) && names.contains(&"kube-system".to_string()),
        "{names:?}"
    );
    assert_eq!(directive, ":4");
    let (names, _) = complete(&path, sb.kubeconfig(), &["triage", "-n", "hyp"]);
    assert_eq!(names, ["hypersdk"]);
    let (flags, _) = complete(&path, sb.kubeconfig(), &["triage", "--fa"]);
    assert_eq!(flags, ["--fail-on"]);
    let (values, _) = complete(&path, sb.kubeconfig(), &["triage", "-o", ""]);
    assert_eq!(values, ["table", "wide", "json", "yaml", "name"]);
    let (contexts, _) = complete(&path, sb.kubeconfig(), &["triage", "--context", ""]);
    assert!(contexts.contains(&"sandbox".to_string()), "{contexts:?}");
}

#[test]
fn kubectl_completes_rotate_secrets_of_the_namespace() {
    if !kubectl_available() {
        return;
    }
    let sb = sandbox(&["demo"]);
    let shims = tempfile::tempdir().expect("tempdir");
    let path = path_with_shims(shims.path());
    let (subcommands, _) = complete(&path, sb.kubeconfig(), &["rotate", ""]);
    for s in ["secret", "cleanup", "status", "restart", "certs"] {
        assert!(subcommands.contains(&s.to_string()), "{subcommands:?}");
    }
    let (secrets, directive) = complete(
        &path,
        sb.kubeconfig(),
        &["rotate", "secret", "-n", "hypersdk", ""],
    );
    assert!(
        secrets.contains(&"vsphere-credentials".to_string()),
        "{secrets:?}"
    );
    assert_eq!(directive, ":4");
    let (configmaps, _) = complete(
        &path,
        sb.kubeconfig(),
        &["rotate", "restart", "-n", "hypersdk", "--configmap", ""],
    );
    assert!(
        !configmaps.is_empty() && !configmaps.contains(&"vsphere-credentials".to_string()),
        "{configmaps:?}"
    );
}

#[test]
fn kubectl_completes_drainplan_nodes() {
    if !kubectl_available() {
        return;
    }
    let sb = sandbox(&["demo"]);
    let shims = tempfile::tempdir().expect("tempdir");
    let path = path_with_shims(shims.path());
    let (names, directive) = complete(&path, sb.kubeconfig(), &["drainplan", ""]);
    for n in ["uncordon", "node-a", "node-b", "node-c"] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    assert_eq!(directive, ":4");
    let (nodes, _) = complete(&path, sb.kubeconfig(), &["drainplan", "node-a", "node-"]);
    assert!(nodes.contains(&"node-c".to_string()), "{nodes:?}");
    let (plan, directive) = complete(
        &path,
        sb.kubeconfig(),
        &["drainplan", "--execute", "--plan", ""],
    );
    assert_eq!(
        (plan.len(), directive.as_str()),
        (0, ":0"),
        "file names are left to the shell"
    );
}

#[test]
fn completion_scripts_and_man_pages() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(plugin_bin("triage"))
            .args(["completion", shell])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("kubectl-triage"),
            "{shell}"
        );
    }
    let bad = Command::new(plugin_bin("triage"))
        .args(["completion", "tcsh"])
        .output();
    assert_eq!(bad.ok().and_then(|o| o.status.code()), Some(2));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(plugin_bin("triage"))
        .arg("__manpages")
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success());
    let page = std::fs::read_to_string(dir.path().join("kubectl-triage.1")).unwrap_or_default();
    assert!(page.contains(".TH") && page.contains("fail\\-on"), "{page}");
    let version = Command::new(plugin_bin("triage"))
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let v = String::from_utf8_lossy(&version.stdout);
    assert!(
        v.starts_with("kubectl triage 0.") && v.contains("(commit "),
        "{v}"
    );
}
