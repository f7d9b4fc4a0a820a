//! Shared harness of the fidelity suites: run the real `kubectl` against an
//! in-process kube-sandbox, one private `--cache-dir` per call site.

#![allow(dead_code)]

use kube_sandbox::{Sandbox, SandboxOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the versioned kubectl binaries live (the PATH `kubectl` dispatches to them).
pub const VERSIONED_DIR: &str = "/usr/lib/google-cloud-sdk/bin";

/// `kubectl` on PATH, if any.
pub fn kubectl_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
}

/// True when `REQUIRE_KUBECTL` is set (CI sets it): a missing kubectl is a failure, so
/// the oracle never silently drops out of the run.
pub fn kubectl_required() -> bool {
    std::env::var_os("REQUIRE_KUBECTL").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Returns the kubectl binary, or prints the SKIP line and returns None (a failure under
/// `REQUIRE_KUBECTL`).
pub fn kubectl_or_skip() -> Option<PathBuf> {
    let k = kubectl_on_path();
    if k.is_none() {
        assert!(
            !kubectl_required(),
            "kubectl not found on PATH and REQUIRE_KUBECTL is set"
        );
        eprintln!("SKIP: kubectl not found on PATH");
    }
    k
}

/// `kubectl.1.27` ... `kubectl.1.33` that exist, as (version, path).
pub fn versioned_kubectls() -> Vec<(String, PathBuf)> {
    (27..=33)
        .map(|minor| {
            let v = format!("1.{minor}");
            let p = Path::new(VERSIONED_DIR).join(format!("kubectl.{v}"));
            (v, p)
        })
        .filter(|(_, p)| p.is_file())
        .collect()
}

/// Starts a sandbox on the fidelity fixtures.
pub fn start_sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![kube_sandbox::fixture_dir("fidelity")],
        ..Default::default()
    })
    .expect("sandbox starts on the fidelity fixtures")
}

/// The outcome of one kubectl run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the whole output unless the command exited 0.
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "kubectl failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics with the whole output unless the command failed.
    pub fn failed(self) -> Run {
        assert_ne!(
            self.code, 0,
            "kubectl unexpectedly succeeded:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The data rows of a table (header dropped), split on runs of spaces.
    pub fn table_rows(&self) -> Vec<Vec<String>> {
        self.stdout.lines().skip(1).map(split_columns).collect()
    }

    pub fn header(&self) -> Vec<String> {
        self.stdout
            .lines()
            .next()
            .map(split_columns)
            .unwrap_or_default()
    }

    /// The row whose first column is `name`.
    pub fn row(&self, name: &str) -> Vec<String> {
        self.table_rows()
            .into_iter()
            .find(|r| r.first().map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("no row {name} in:\n{}", self.stdout))
    }
}

/// Table columns are separated by at least two spaces (cells like
/// `5 (2m ago)` hold single spaces).
pub fn split_columns(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A kubectl bound to one sandbox kubeconfig with its own discovery cache.
pub struct Kubectl {
    pub bin: PathBuf,
    pub kubeconfig: PathBuf,
    cache: tempfile::TempDir,
    pub extra_path: Option<PathBuf>,
}

impl Kubectl {
    pub fn new(bin: &Path, sandbox: &Sandbox) -> Kubectl {
        Kubectl {
            bin: bin.to_path_buf(),
            kubeconfig: sandbox.kubeconfig().to_path_buf(),
            cache: tempfile::tempdir().expect("temp cache dir"),
            extra_path: None,
        }
    }

    pub fn cache_dir(&self) -> &Path {
        self.cache.path()
    }

    /// Runs `kubectl --kubeconfig K --cache-dir D <args>`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut full: Vec<String> = vec![
            "--kubeconfig".into(),
            self.kubeconfig.display().to_string(),
            "--cache-dir".into(),
            self.cache.path().display().to_string(),
        ];
        full.extend(args.iter().map(|s| s.to_string()));
        self.raw(&full, stdin)
    }

    /// Runs kubectl with exactly `args` (no flags added).
    pub fn raw(&self, args: &[String], stdin: Option<&str>) -> Run {
        use std::io::Write;
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env_remove("KUBECONFIG")
            .env("HOME", self.cache.path())
            .stdin(if stdin.is_some() {
                std::process::Stdio::piped()
            } else {
                std::process::Stdio::null()
            })
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(extra) = &self.extra_path {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut dirs = vec![extra.clone()];
            dirs.extend(std::env::split_paths(&path));
            cmd.env("PATH", std::env::join_paths(dirs).expect("PATH joins"));
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.bin.display()));
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin piped");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("kubectl finishes");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
