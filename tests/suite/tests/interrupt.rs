//! SIGINT and SIGTERM in the middle of a long wait, sent to a real process: the run stops
//! at a safe point, prints the change journal and exits 130; a second signal stops it at
//! once, still printing the journal. Drives `common::run::main_with_session` through the
//! write-probe test plugin.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kube_sandbox::{Sandbox, SandboxOptions};

fn sandbox(dir: &std::path::Path) -> Sandbox {
    let path = dir.join("ns.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: t}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    Sandbox::start(SandboxOptions {
        fixtures: vec![path],
        ..SandboxOptions::default()
    })
    .unwrap_or_else(|e| panic!("sandbox: {e:#}"))
}

/// Start the probe and return once it is waiting (it said so on stderr).
fn start_waiting(
    sb: &Sandbox,
    name: &str,
    extra: &[&str],
) -> (Child, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_write-probe"))
        .arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args(["-n", "t", name, "never-set"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut stderr = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("stderr")));
    let mut line = String::new();
    loop {
        line.clear();
        let n = stderr.read_line(&mut line).unwrap_or(0);
        assert!(n > 0, "probe ended before waiting");
        if line.starts_with("waiting for key") {
            break;
        }
    }
    (child, stderr)
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -{sig}");
}

fn finish(
    mut child: Child,
    mut stderr: BufReader<std::process::ChildStderr>,
) -> (i32, String, Duration) {
    let started = Instant::now();
    let status = child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).ok();
    (status.code().unwrap_or(-1), rest, started.elapsed())
}

#[test]
fn sigterm_and_sigint_stop_a_wait_with_the_journal() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sb = sandbox(dir.path());
    for (sig, name) in [("TERM", "probe-term"), ("INT", "probe-int")] {
        let (child, stderr) = start_waiting(&sb, name, &[]);
        signal(&child, sig);
        let (code, text, took) = finish(child, stderr);
        assert_eq!(code, 130, "SIG{sig}: {text}");
        assert!(
            text.contains("stopping: finishing the step in flight"),
            "{text}"
        );
        assert!(
            text.contains("changes (1 applied):"),
            "SIG{sig}: journal printed: {text}"
        );
        assert!(text.contains(&format!("configmap/t/{name}")), "{text}");
        assert!(text.trim_end().ends_with("interrupted"), "{text}");
        assert!(took < Duration::from_secs(10), "{took:?}");
    }
}

#[test]
fn a_second_signal_stops_at_once() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sb = sandbox(dir.path());
    // After the first signal the probe takes 60 s to "finish its step"; the second one
    // must not wait for that.
    let (child, stderr) = start_waiting(&sb, "probe-twice", &["--finish-step", "60s"]);
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    let (code, text, took) = finish(child, stderr);
    assert_eq!(code, 130, "{text}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        text.contains("configmap/t/probe-twice"),
        "journal printed: {text}"
    );
    assert!(text.contains("stopped at once"), "{text}");
}

#[test]
fn client_dry_run_creates_nothing_and_a_timeout_is_an_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sb = sandbox(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_write-probe"))
        .arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args([
            "-n",
            "t",
            "dry",
            "never-set",
            "--dry-run",
            "--timeout",
            "1s",
        ])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let text = String::from_utf8_lossy(&out.stderr);
    // Nothing was applied, so the timeout keeps its own code (1), not 4.
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("would create") && text.contains("gave up"),
        "{text}"
    );
    let live = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args(["get", "configmap", "dry", "-n", "t"])
        .output();
    if let Ok(live) = live {
        assert!(!live.status.success(), "the dry run created nothing");
    }
    // With a real write, the same timeout after a change is partial: exit 4.
    let out = Command::new(env!("CARGO_BIN_EXE_write-probe"))
        .arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args(["-n", "t", "real", "never-set", "--timeout", "1s"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("changes (1 applied)"), "{text}");
}
