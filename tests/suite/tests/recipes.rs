//! The README's "Recipes" section, run verbatim: each ```sh block under it is
//! executed with bash against kube-sandbox (demo fixtures) with the built
//! plugins first on PATH, and its output checked against the expectation
//! recorded here. A recipe without an expectation (or the reverse) fails.

use std::path::PathBuf;
use std::process::Command;

use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use suite_tests::{kubectl_available, path_with_plugins};

/// What each recipe (by its `# recipe:` title) must print, and its exit code.
const EXPECTATIONS: &[(&str, i32, &[&str])] = &[
    (
        "gate a change on triage (exit 1 = findings at or above --fail-on)",
        0,
        &["hypersdk is unhealthy: hold the deploy", "CrashLoopBackOff"],
    ),
    (
        "the fix commands for critical findings only",
        0,
        &["kubectl logs hypersdk-7c9d8f6b5-r8t5n -c hypersdk -n hypersdk --previous"],
    ),
    (
        "describe every object triage flags (-o name gives kind/namespace/name)",
        0,
        &["Name:", "hypersdk"],
    ),
    (
        "silence a known finding on the object itself, then re-check",
        0,
        &["annotated", "\"warning\": 0", "\"critical\": 1"],
    ),
    (
        "cluster-wide counts for a dashboard or a cron job",
        0,
        &["{\"critical\":1,\"warning\":1,\"requests\":"],
    ),
];

/// The ```sh blocks of the README's Recipes section, with their titles.
fn recipes() -> Vec<(String, String)> {
    let readme = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let text = std::fs::read_to_string(&readme).expect("read README.md");
    let section = text
        .split("\n## Recipes\n")
        .nth(1)
        .expect("README has a Recipes section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut out = Vec::new();
    for block in section.split("```sh\n").skip(1) {
        let body = block.split("\n```").next().unwrap_or_default().to_string();
        let title = body
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# recipe: "))
            .expect("each recipe starts with `# recipe: <title>`")
            .to_string();
        out.push((title, body));
    }
    out
}

#[test]
fn every_readme_recipe_runs_as_documented() {
    if !kubectl_available() {
        return;
    }
    if Command::new("jq").arg("--version").output().is_err() {
        eprintln!("SKIP: jq not found on PATH (the recipes use it)");
        return;
    }
    let found = recipes();
    let titles: Vec<&str> = found.iter().map(|(t, _)| t.as_str()).collect();
    let expected: Vec<&str> = EXPECTATIONS.iter().map(|(t, _, _)| *t).collect();
    assert_eq!(titles, expected, "README recipes and EXPECTATIONS differ");

    // One sandbox per recipe: some recipes change the cluster.
    for ((title, body), (_, code, needles)) in found.iter().zip(EXPECTATIONS) {
        let sandbox = Sandbox::start(SandboxOptions {
            fixtures: vec![fixture_dir("demo")],
            ..Default::default()
        })
        .expect("start sandbox");
        let cache = tempfile::tempdir().expect("tempdir");
        let path = path_with_plugins();
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", body])
            .env("KUBECONFIG", sandbox.kubeconfig())
            .env("KUBECACHEDIR", cache.path())
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .output()
            .expect("run bash");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(*code),
            "recipe {title:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        for needle in *needles {
            assert!(
                stdout.contains(needle),
                "recipe {title:?}: {needle:?} not in stdout:\n{stdout}\nstderr:\n{stderr}"
            );
        }
    }
}
