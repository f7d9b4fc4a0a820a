//! The `kube-sandbox` binary: `ready <url>` on stdout, the kubeconfig written,
//! one-line errors with exit code 2.

use kube_sandbox::fixture_dir;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kube-sandbox"))
}

#[test]
fn prints_ready_and_writes_kubeconfig() {
    let dir = std::env::temp_dir().join(format!("sandbox-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let kubeconfig = dir.join("config");
    let mut child = bin()
        .arg("--fixtures")
        .arg(fixture_dir("sandbox-api").join("basic"))
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .args(["--port", "0", "--fault", "verb=list,status=503,count=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let url = line
        .trim()
        .strip_prefix("ready ")
        .expect("ready line")
        .to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{line}");
    let text = std::fs::read_to_string(&kubeconfig).expect("kubeconfig written");
    assert!(text.contains(&url));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kubeconfig)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "kubeconfig holds a token: not readable by others"
        );
    }
    child.kill().expect("kill");
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let out = bin()
        .arg("--fixtures")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/malformed"))
        .args(["--kubeconfig-out", "/dev/null"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("bad.yaml:11:"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    for args in [
        &["--bogus"][..],
        &[
            "--fixtures",
            ".",
            "--kubeconfig-out",
            "x",
            "--fault",
            "status=99",
        ][..],
    ] {
        let out = bin().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}
