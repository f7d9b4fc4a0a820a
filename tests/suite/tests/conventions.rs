//! What CONVENTIONS.md promises for every plugin, checked on the built binaries:
//! usage names `kubectl <plugin>`, bad usage exits 2 with one `error:` line,
//! and kubectl itself finds every plugin on PATH.

use assert_cmd::Command;
use predicates::prelude::*;
use suite_tests::{PLUGINS, kubectl, kubectl_available, plugin_bin};

#[test]
fn help_names_the_kubectl_command() {
    for plugin in PLUGINS {
        Command::new(plugin_bin(plugin))
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("kubectl {plugin}")))
            .stdout(predicate::str::contains(format!("kubectl-{plugin}")).not());
    }
}

#[test]
fn version_flag_prints_the_workspace_version() {
    for plugin in PLUGINS {
        Command::new(plugin_bin(plugin))
            .arg("--version")
            .assert()
            .success()
            .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn unknown_flag_is_usage_error_exit_2() {
    for plugin in PLUGINS {
        let out = Command::new(plugin_bin(plugin))
            .arg("--no-such-flag")
            .output()
            .expect("run plugin");
        assert_eq!(out.status.code(), Some(2), "{plugin}: {out:?}");
        assert!(
            out.stdout.is_empty(),
            "{plugin}: stdout must carry data only"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error:"), "{plugin}: {stderr}");
        assert!(!stderr.contains("panicked"), "{plugin}: {stderr}");
    }
}

#[test]
fn backup_rejects_an_unknown_command_with_exit_2() {
    Command::new(plugin_bin("backup"))
        .args(["--kubeconfig", "/nonexistent", "anything"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with("error: "));
}

#[test]
fn kubectl_finds_every_plugin_on_path() {
    if !kubectl_available() {
        return;
    }
    let out = kubectl()
        .args(["plugin", "list"])
        .output()
        .expect("kubectl plugin list");
    let listed = String::from_utf8_lossy(&out.stdout);
    for plugin in PLUGINS {
        assert!(
            listed.contains(&format!("kubectl-{plugin}")),
            "kubectl plugin list does not show kubectl-{plugin}:\n{listed}"
        );
        kubectl()
            .args([plugin, "--help"])
            .output()
            .map(|o| assert!(o.status.success(), "kubectl {plugin} --help: {o:?}"))
            .expect("kubectl <plugin> --help");
    }
}
