//! Shared harness of the cross-plugin suites: where the built plugin binaries
//! are, and how to run one the way a user does (`kubectl <plugin>` via PATH).

use std::path::PathBuf;
use std::process::Command;

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

/// True when the real kubectl is on PATH; otherwise prints why the caller skips.
pub fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
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
