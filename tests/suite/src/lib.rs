//! Shared harness of every plugin's CLI tests and the cross-plugin suites: where the
//! built plugin binaries are, how to start a kube-sandbox on scenario fixtures, and how to
//! run a plugin the way a user does (`kubectl <plugin>` via PATH) or directly.

pub mod kubeconfigs;
pub mod state;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use serde_json::Value;

/// The four plugins of the suite, by their kubectl name.
pub const PLUGINS: [&str; 4] = ["triage", "backup", "drainplan", "rotate"];

/// The cargo target directory holding the built `kubectl-*` binaries
/// (`make test` builds them before the tests run).
pub fn bin_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target.join("debug")
}

/// Path of the built `kubectl-<plugin>` binary; panics with the fix if it is missing.
pub fn plugin_bin(plugin: &str) -> PathBuf {
    let path = bin_dir().join(format!("kubectl-{plugin}"));
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --bins` (make test does)",
        path.display()
    );
    path
}

/// True when `REQUIRE_KUBECTL` is set (CI): a missing kubectl fails tests instead of
/// skipping them, so the oracle can never silently drop out.
pub fn kubectl_required() -> bool {
    std::env::var_os("REQUIRE_KUBECTL").is_some_and(|v| !v.is_empty() && v != "0")
}

/// True when the real kubectl is on PATH; otherwise prints why the caller skips, or
/// panics when `REQUIRE_KUBECTL` is set.
pub fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        assert!(
            !kubectl_required(),
            "kubectl not found on PATH and REQUIRE_KUBECTL is set"
        );
        eprintln!("SKIP: kubectl not found on PATH");
    }
    found
}

/// PATH with the plugin binaries first, as after a Krew install.
pub fn path_with_plugins() -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(bin_dir()).chain(std::env::split_paths(&path));
    std::env::join_paths(dirs).unwrap_or(path)
}

/// `kubectl <args>` with the plugin binaries first on PATH.
pub fn kubectl() -> Command {
    let mut cmd = Command::new("kubectl");
    cmd.env("PATH", path_with_plugins());
    cmd
}

/// A kube-sandbox serving the scenario folders under `tests/fixtures/` (later folders
/// override earlier ones); stopped when dropped.
pub fn sandbox(folders: &[&str]) -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: folders.iter().map(|f| fixture_dir(f)).collect(),
        ..SandboxOptions::default()
    })
    .unwrap_or_else(|e| panic!("sandbox on {folders:?} starts: {e:#}"))
}

/// A kube-sandbox on the scenario folders with `--fault` SPECs (tests/sandbox/README.md,
/// "Faults"); faults count from the first request, so start one per scenario.
pub fn sandbox_with_faults(folders: &[&str], faults: &[&str]) -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: folders.iter().map(|f| fixture_dir(f)).collect(),
        faults: faults.iter().map(|f| f.to_string()).collect(),
        ..SandboxOptions::default()
    })
    .unwrap_or_else(|e| panic!("sandbox on {folders:?} with {faults:?} starts: {e:#}"))
}

/// `kubectl-<plugin> --kubeconfig <sandbox> ARGS`, run directly, without colour and
/// without the caller's KUBECONFIG.
pub fn plugin(plugin: &str, sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = Command::new(plugin_bin(plugin));
    cmd.arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args(args)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1");
    cmd
}

/// `kubectl <plugin> --kubeconfig <sandbox> ARGS` the way a user runs it: the real kubectl
/// finds the built plugin on PATH and execs it (stdout and exit code are the plugin's).
/// Without kubectl (and without `REQUIRE_KUBECTL`), says so and runs the binary directly.
pub fn kubectl_plugin(plugin_name: &str, sb: &Sandbox, args: &[&str]) -> Command {
    if !kubectl_available() {
        eprintln!("running kubectl-{plugin_name} directly instead of through kubectl");
        return plugin(plugin_name, sb, args);
    }
    let mut cmd = kubectl();
    cmd.arg(plugin_name)
        .arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args(args)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1");
    cmd
}

/// Run a command to completion; panics only if it cannot be started.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{cmd:?} cannot run: {e}"))
}

/// stdout parsed as JSON, with both streams in the panic message when it is not.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// stdout and stderr as text, for asserting.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run a command and measure how long it took.
pub fn run_timed(cmd: &mut Command) -> (Output, Duration) {
    let started = Instant::now();
    let out = run(cmd);
    (out, started.elapsed())
}

/// The exit code (-1 when killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Both streams, for assertion messages.
pub fn dump(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    format!(
        "exit {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        code(out)
    )
}

/// The `error:` lines of stderr.
pub fn error_lines(out: &Output) -> Vec<String> {
    text(out)
        .1
        .lines()
        .filter(|l| l.starts_with("error:"))
        .map(str::to_string)
        .collect()
}

/// The contract for a failure: exactly one `error:` line, no panic, no backtrace, no Debug
/// dump of a Rust value; returns the error line.
pub fn assert_one_clean_error(out: &Output, what: &str) -> String {
    let errors = error_lines(out);
    assert_eq!(errors.len(), 1, "{what}: one error line\n{}", dump(out));
    let (_, stderr) = text(out);
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "stack backtrace",
        "Error {",
        "Some(\"",
        "Os {",
    ] {
        assert!(
            !stderr.contains(bad),
            "{what}: {bad:?} on stderr\n{}",
            dump(out)
        );
    }
    errors[0].clone()
}

/// The `hint:` line of stderr, if any.
pub fn hint_line(out: &Output) -> Option<String> {
    text(out)
        .1
        .lines()
        .find(|l| l.starts_with("hint:"))
        .map(str::to_string)
}

/// A JSON report with what legitimately differs between two runs of one command removed:
/// timings, request counts, timestamps, and ages inside text (`61s ago`, `5m10s`).
pub fn comparable(doc: &Value) -> Value {
    const VOLATILE: [&str; 11] = [
        "stats",
        "durationMs",
        "generatedAt",
        "startedAt",
        "finishedAt",
        "requests",
        "createdAt",
        "at",
        "now",
        "seconds",
        "archive",
    ];
    static AGE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"\b\d{4}-\d\d-\d\dT[0-9:.]+Z\b|\b\d+(?:\.\d+)?(?:ms|s|m|h|d|y)(?:\d+(?:ms|s|m|h|d))*\b",
        )
        .ok()
    });
    match doc {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !VOLATILE.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), comparable(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(comparable).collect()),
        Value::String(s) => match AGE.as_ref() {
            Some(re) => Value::String(re.replace_all(s, "<t>").into_owned()),
            None => doc.clone(),
        },
        other => other.clone(),
    }
}

/// `backup create -n hypersdk --exclude-resources secrets` into `dir/name` as the admin
/// (asserting it works): the archive the restore, interruption and bad-input suites use.
pub fn hypersdk_archive(sb: &Sandbox, dir: &std::path::Path, name: &str) -> PathBuf {
    let archive = dir.join(name);
    let made = run(plugin(
        "backup",
        sb,
        &["create", "-n", "hypersdk", "--exclude-resources", "secrets"],
    )
    .arg("-f")
    .arg(&archive));
    assert_eq!(code(&made), 0, "{}", dump(&made));
    archive
}
