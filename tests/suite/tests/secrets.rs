//! The secrets test: every command of every plugin, at `-v -v`, in every output format,
//! over `reliability/secrets` (known secret values in Secret data and its last-applied
//! annotation, literal env values, a termination message, logs, an event, a TLS private
//! key and a database dump), plus the admin's token and the backup passphrase.
//!
//! All stdout and stderr is searched for every value; every file a command writes is
//! searched for the values that file must not hold in the clear (an archive stores
//! workloads as they are, env literals included, but Secrets and dumps only encrypted),
//! and such files are mode 0600.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kube_sandbox::Sandbox;
use suite_tests::kubeconfigs::admin_token;
use suite_tests::{code, dump, plugin, run, sandbox, text};

/// Values of Secrets (and their base64 form as stored in `data`), the dump's password and
/// the TLS key: never in any output, never in the clear in any file.
const SECRET_DATA: [&str; 8] = [
    "Sec-Alpha-4f9c1e7b",
    "Sec-Bravo-8d2a6c3e",
    "U2VjLUFscGhhLTRmOWMxZTdi",
    "U2VjLUJyYXZvLThkMmE2YzNl",
    "Dump-Hotel-6c4a2e8f",
    // A line of the body of app-tls's private key, and of its base64 form in `data`.
    "W97PMvq4b+b59G1L2cCaFpMD1VyhRANCAATF4JIxZdyl12cnuopFFkd2h1bBk/vl",
    "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t",
    // The rotated value (`rotate secret --from-literal`).
    "New-Lima-2b8e4f6a",
];

/// Values that live in ordinary objects (env literals, a termination message, logs, an
/// event): never printed, though an archive keeps the objects that hold them.
const SECRET_TEXT: [&str; 7] = [
    "Env-Charlie-5b7d9f1a",
    "Env-Juliet-0d9e8f7a",
    "Term-Delta-2c4e6a8b",
    "Log-Echo-7e1f3d5c",
    "Log-Foxtrot-9a8b7c6d",
    "Log-Kilo-1f2e3d4c",
    "Evt-Golf-3f5e7d9b",
];

/// The backup passphrase, given in an environment variable.
const PASSPHRASE: &str = "Pass-India-9c3b5d7f";

/// `rotate secret` of app-credentials with a new password (the other keys kept).
const ROTATE: [&str; 10] = [
    "secret",
    "app-credentials",
    "-n",
    "vault",
    "--from-literal",
    "password=New-Lima-2b8e4f6a",
    "--keep",
    "username",
    "--keep",
    "api-key",
];

const FORMATS: [&str; 5] = ["table", "wide", "json", "yaml", "name"];

const FIXTURES: [&str; 2] = ["reliability/secrets", "snapshots"];

struct Leaks {
    found: Vec<String>,
}

impl Leaks {
    /// Record every value of `values` that `haystack` (from `source`) contains.
    fn scan(&mut self, source: &str, haystack: &[u8], values: &[&str]) {
        let text = String::from_utf8_lossy(haystack);
        for v in values {
            if text.contains(v) {
                self.found.push(format!("{v} in {source}"));
            }
        }
    }
}

/// Every value no output may carry: the fixtures', the passphrase, the admin token.
fn all_values(token: &str) -> Vec<String> {
    SECRET_DATA
        .iter()
        .chain(SECRET_TEXT.iter())
        .map(|s| s.to_string())
        .chain([PASSPHRASE.to_string(), token.to_string()])
        .collect()
}

/// Run `kubectl-<name> ARGS -v -v` and scan both streams.
fn scan_run(sb: &Sandbox, leaks: &mut Leaks, values: &[&str], name: &str, args: &[&str]) -> Output {
    let mut a = args.to_vec();
    a.extend(["-v", "-v"]);
    let out = run(plugin(name, sb, &a).env("BACKUP_PASSPHRASE", PASSPHRASE));
    let (_, stderr) = text(&out);
    assert!(
        !stderr.contains("panicked"),
        "{name} {a:?} panicked\n{}",
        dump(&out)
    );
    assert!(
        code(&out) != 2,
        "{name} {a:?}: the command itself is wrong\n{}",
        dump(&out)
    );
    let what = format!("{name} {}", a.join(" "));
    leaks.scan(&format!("stdout of {what}"), &out.stdout, values);
    leaks.scan(&format!("stderr of {what}"), &out.stderr, values);
    out
}

/// Mode bits of a file.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Unpack a backup archive and scan every entry (the archive is zstd-compressed tar: the
/// bytes as written say nothing).
fn scan_archive(leaks: &mut Leaks, archive: &Path, values: &[&str]) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ok = Command::new("tar")
        .args(["--zstd", "-xf"])
        .arg(archive)
        .arg("-C")
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "tar --zstd -xf {}", archive.display());
    let mut stack = vec![dir.path().to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{e}")) {
            let p = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{e}"));
                let rel = p
                    .strip_prefix(dir.path())
                    .unwrap_or(&p)
                    .display()
                    .to_string();
                leaks.scan(
                    &format!("{} entry {rel}", archive.display()),
                    &bytes,
                    values,
                );
            }
        }
    }
    assert!(files > 3, "{} unpacked to {files} files", archive.display());
}

#[test]
fn no_command_prints_logs_or_writes_a_secret_value() {
    let sb = sandbox(&FIXTURES);
    let token = admin_token(&sb);
    let all = all_values(&token);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut leaks = Leaks { found: Vec::new() };
    let mut archives: Vec<PathBuf> = Vec::new();

    for fmt in FORMATS {
        let o = ["-o", fmt];
        // triage: the crash-looping worker's logs, events, termination message.
        scan_run(
            &sb,
            &mut leaks,
            &all,
            "triage",
            &[&["-n", "vault"][..], &o].concat(),
        );
        // backup create with Secrets and the dump encrypted under a passphrase.
        let archive = dir.path().join(format!("vault-{fmt}.tar.zst"));
        let a = archive.to_string_lossy().to_string();
        let made = scan_run(
            &sb,
            &mut leaks,
            &all,
            "backup",
            &[
                &[
                    "create",
                    "-n",
                    "vault",
                    "--passphrase-env",
                    "BACKUP_PASSPHRASE",
                    "--encrypt-dumps",
                    "--dump",
                    "sqlite:db-0/db:/data/app.db",
                    "-f",
                    &a,
                ][..],
                &o,
            ]
            .concat(),
        );
        assert_eq!(code(&made), 0, "{}", dump(&made));
        // Every reading command, with the passphrase (they may decrypt).
        for sub in [
            vec!["inspect", &a],
            vec!["verify", &a],
            vec!["diff", &a, "--passphrase-env", "BACKUP_PASSPHRASE"],
            vec![
                "restore",
                &a,
                "--namespace-map",
                "vault=vault-copy",
                "--passphrase-env",
                "BACKUP_PASSPHRASE",
                "--dry-run=server",
            ],
        ] {
            scan_run(&sb, &mut leaks, &all, "backup", &[&sub[..], &o].concat());
        }
        archives.push(archive);
        // drainplan: the plan of the nodes the vault pods run on.
        scan_run(
            &sb,
            &mut leaks,
            &all,
            "drainplan",
            &[&["-l", "pool=rel", "--ignore-daemonsets"][..], &o].concat(),
        );
        // rotate: status, certificates, and a rotation validated by the server.
        scan_run(
            &sb,
            &mut leaks,
            &all,
            "rotate",
            &[&["status", "app-credentials", "-n", "vault"][..], &o].concat(),
        );
        scan_run(
            &sb,
            &mut leaks,
            &all,
            "rotate",
            &[&["certs", "-n", "vault"][..], &o].concat(),
        );
        scan_run(
            &sb,
            &mut leaks,
            &all,
            "rotate",
            &[&ROTATE[..], &["--dry-run=server"], &o].concat(),
        );
    }

    // The writes, once each: a restore with the dumps, a real rotation (the worker never
    // becomes healthy: rolled back), a drain with its evictions.
    let a = archives[0].to_string_lossy().to_string();
    for (name, args) in [
        (
            "backup",
            vec![
                "restore",
                a.as_str(),
                "--namespace-map",
                "vault=vault-copy",
                "--passphrase-env",
                "BACKUP_PASSPHRASE",
                "--dumps",
                "--yes",
                "-o",
                "json",
            ],
        ),
        ("rotate", [&ROTATE[..], &["--timeout", "5s"]].concat()),
        (
            "drainplan",
            vec![
                "-l",
                "pool=rel",
                "--ignore-daemonsets",
                "--execute",
                "--yes",
                "--pod-timeout",
                "5s",
            ],
        ),
        ("drainplan", vec!["uncordon", "-l", "pool=rel"]),
    ] {
        scan_run(&sb, &mut leaks, &all, name, &args);
    }

    // The archives: Secrets and the dump only encrypted; private, 0600.
    let data: Vec<&str> = SECRET_DATA
        .iter()
        .copied()
        .chain([PASSPHRASE, token.as_str()])
        .collect();
    for archive in &archives {
        assert_eq!(mode(archive), 0o600, "{} is mode 0600", archive.display());
        scan_archive(&mut leaks, archive, &data);
    }

    assert!(
        leaks.found.is_empty(),
        "secret values leaked:\n{}",
        leaks.found.join("\n")
    );
}

#[test]
fn the_scan_finds_what_it_looks_for() {
    // The test above can fail: a plaintext backup holds the Secret values, and the scan
    // finds them in the unpacked archive.
    let sb = sandbox(&FIXTURES);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let archive = dir.path().join("plain.tar.zst");
    let a = archive.to_string_lossy().to_string();
    let out = run(&mut plugin(
        "backup",
        &sb,
        &["create", "-n", "vault", "--plaintext-secrets", "-f", &a],
    ));
    assert_eq!(code(&out), 0, "{}", dump(&out));
    // Even a plaintext archive is private.
    assert_eq!(mode(&archive), 0o600);
    let mut leaks = Leaks { found: Vec::new() };
    scan_archive(&mut leaks, &archive, &SECRET_DATA);
    assert!(
        leaks
            .found
            .iter()
            .any(|l| l.starts_with("Sec-Alpha-4f9c1e7b in ")),
        "{:?}",
        leaks.found
    );
}
