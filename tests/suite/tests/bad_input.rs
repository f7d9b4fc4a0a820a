//! The bad-input suite: every plugin's main commands with a malformed or empty kubeconfig,
//! an unknown context, a rejected or expired token, a server that is down, a wrong CA,
//! conflicting flags, a namespace that does not exist, broken archives, hand-edited and
//! stale drain plans, and rotate input files that are missing or invalid for the key.
//!
//! Each case: exit 2 (bad input) or 3 (cluster unreachable / credentials rejected), one
//! `error:` line (with a `hint:` where there is a next step), and nothing changed: the
//! sandbox's objects, uids and resourceVersions are the same after as before.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::LazyLock;

use kube_sandbox::Sandbox;
use suite_tests::kubeconfigs::{self, Variant};
use suite_tests::state::{Admin, ClusterState};
use suite_tests::{assert_one_clean_error, code, dump, hint_line, plugin_bin, run, sandbox};

/// One cluster for the whole file: every case must leave it exactly as it was.
struct World {
    sb: Sandbox,
    dir: tempfile::TempDir,
    archive: PathBuf,
    before: ClusterState,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let sb = sandbox(&[
        "demo",
        "snapshots",
        "backup",
        "rotate/vsphere",
        "drainplan/pools",
        "reliability/auth",
        "reliability/secrets",
    ]);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let archive = suite_tests::hypersdk_archive(&sb, dir.path(), "good.tar.zst");
    let before = Admin::new(&sb).settled();
    World {
        sb,
        dir,
        archive,
        before,
    }
});

/// `kubectl-<plugin> ARGS` with a given kubeconfig (not the sandbox's).
fn with_kubeconfig(name: &str, kubeconfig: &Path, args: &[&str]) -> Output {
    run(Command::new(plugin_bin(name))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1"))
}

fn world_run(name: &str, args: &[&str]) -> Output {
    run(&mut suite_tests::plugin(name, &WORLD.sb, args))
}

/// The contract for one bad input: `exit`, one clean error line containing `says`, a hint
/// when `hint`, and the cluster unchanged.
fn refused(out: &Output, exit: i32, says: &str, hint: bool, what: &str) {
    assert_eq!(code(out), exit, "{what}\n{}", dump(out));
    let error = assert_one_clean_error(out, what);
    assert!(
        error.to_lowercase().contains(&says.to_lowercase()),
        "{what}: error should say {says:?}\n{}",
        dump(out)
    );
    if hint {
        assert!(hint_line(out).is_some(), "{what}: a hint\n{}", dump(out));
    }
    unchanged(what);
}

fn unchanged(what: &str) {
    let now = Admin::new(&WORLD.sb).state();
    let changes = WORLD.before.changes_to(&now);
    assert!(
        changes.is_empty(),
        "{what} changed the cluster: {changes:#?}"
    );
}

/// The main command of each plugin, as a user would run it on this cluster.
fn commands(archive: &str) -> Vec<(&'static str, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        ("triage", s(&["-n", "hypersdk"])),
        (
            "backup",
            s(&[
                "create",
                "-n",
                "hypersdk",
                "--exclude-resources",
                "secrets",
                "-f",
                "-",
            ]),
        ),
        (
            "backup",
            s(&["restore", archive, "--namespace-map", "hypersdk=bad-copy"]),
        ),
        ("drainplan", s(&["node-a", "--ignore-daemonsets"])),
        (
            "drainplan",
            s(&[
                "-l",
                "pool=old",
                "--ignore-daemonsets",
                "--execute",
                "--yes",
            ]),
        ),
        (
            "rotate",
            s(&[
                "secret",
                "vsphere-credentials",
                "-n",
                "vsphere",
                "--from-literal",
                "password=Bad-Input-1",
                "--keep",
                "username",
            ]),
        ),
        (
            "rotate",
            s(&["status", "vsphere-credentials", "-n", "vsphere"]),
        ),
    ]
}

#[test]
fn broken_kubeconfigs_and_clusters_are_refused_before_anything_changes() {
    let w = &*WORLD;
    let archive = w.archive.to_string_lossy().to_string();
    for variant in Variant::BAD {
        let kc = kubeconfigs::write(&w.sb, w.dir.path(), variant);
        let says = match variant {
            Variant::Malformed | Variant::Empty => "kubeconfig",
            Variant::WrongToken | Variant::ExpiredToken => "401",
            Variant::ServerDown => "connection refused",
            Variant::WrongCa => "TLS",
            Variant::InsecureSkipVerify => "",
        };
        for (name, args) in commands(&archive) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = with_kubeconfig(
                name,
                &kc,
                &[&args[..], &["--request-timeout", "5s"]].concat(),
            );
            let what = format!("{name} {args:?} with a {variant:?} kubeconfig");
            // Exit 3 cases name the next step; a kubeconfig that cannot be read says which.
            refused(&out, variant.exit(), says, variant.exit() == 3, &what);
        }
    }
}

#[test]
fn insecure_skip_tls_verify_is_honoured_only_when_the_kubeconfig_says_so() {
    let w = &*WORLD;
    let kc = kubeconfigs::write(&w.sb, w.dir.path(), Variant::InsecureSkipVerify);
    let out = with_kubeconfig("triage", &kc, &["-n", "hypersdk", "-o", "json"]);
    assert_eq!(code(&out), 1, "works (findings: exit 1)\n{}", dump(&out));
    unchanged("triage with insecure-skip-tls-verify");
}

#[test]
fn unknown_context_is_exit_2_with_the_contexts_as_hint() {
    let archive = WORLD.archive.to_string_lossy().to_string();
    for (name, args) in commands(&archive) {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(["--context", "no-such-context"]);
        let out = world_run(name, &a);
        refused(&out, 2, "no-such-context", true, &format!("{name} {a:?}"));
    }
}

#[test]
fn conflicting_flags_are_exit_2() {
    for (name, args) in [
        (
            "backup",
            vec![
                "create",
                "-n",
                "hypersdk",
                "--plaintext-secrets",
                "--recipient",
                "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
            ],
        ),
        (
            "backup",
            vec!["create", "-n", "hypersdk", "--snapshot-class", "x"],
        ),
        ("drainplan", vec!["--plan", "plan.json"]),
        ("drainplan", vec!["node-a", "--timeout", "0s", "--execute"]),
        (
            "rotate",
            vec![
                "restart",
                "--secret",
                "a",
                "--configmap",
                "b",
                "-n",
                "vsphere",
            ],
        ),
        (
            "rotate",
            vec![
                "secret",
                "vsphere-credentials",
                "-n",
                "vsphere",
                "--from-literal",
                "password=a",
                "--from-literal",
                "password=b",
            ],
        ),
        ("triage", vec!["-n", "hypersdk", "--as-group", "ops"]),
        ("triage", vec!["-n", "hypersdk", "--fail-on", "sometimes"]),
    ] {
        let out = world_run(name, &args);
        assert_eq!(code(&out), 2, "{name} {args:?}\n{}", dump(&out));
        assert_one_clean_error(&out, &format!("{name} {args:?}"));
        unchanged(&format!("{name} {args:?}"));
    }
}

#[test]
fn a_namespace_that_does_not_exist_is_exit_2() {
    for (name, args) in [
        ("triage", vec!["-n", "no-such-ns"]),
        (
            "backup",
            vec![
                "create",
                "-n",
                "no-such-ns",
                "--exclude-resources",
                "secrets",
                "-f",
                "-",
            ],
        ),
        (
            "rotate",
            vec![
                "secret",
                "vsphere-credentials",
                "-n",
                "no-such-ns",
                "--from-literal",
                "password=x1",
            ],
        ),
        (
            "rotate",
            vec!["status", "vsphere-credentials", "-n", "no-such-ns"],
        ),
        ("rotate", vec!["certs", "-n", "no-such-ns"]),
    ] {
        let out = world_run(name, &args);
        refused(&out, 2, "no-such-ns", true, &format!("{name} {args:?}"));
    }
}

/// The good archive cut, flipped, emptied, replaced, or marked with a newer schema.
fn broken_archives(dir: &Path, good: &Path) -> Vec<(&'static str, PathBuf, &'static str)> {
    let bytes = std::fs::read(good).unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, data: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap_or_else(|e| panic!("{e}"));
        p
    };
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x5a;
    // A newer schema: unpack, raise schemaVersion in the header and manifest, repack as
    // a plain tar (which the reader accepts, as re-packed by hand).
    let unpacked = dir.join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap_or_else(|e| panic!("{e}"));
    let ok = Command::new("tar")
        .args(["--zstd", "-xf"])
        .arg(good)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "tar --zstd -xf");
    for f in ["backup.json", "manifest.json"] {
        let p = unpacked.join(f);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{e}"));
        let raised = text
            .replacen("\"schemaVersion\": 1", "\"schemaVersion\": 99", 1)
            .replacen("\"schemaVersion\":1", "\"schemaVersion\":99", 1);
        assert_ne!(raised, text, "{f} has a schemaVersion");
        std::fs::write(&p, raised).unwrap_or_else(|e| panic!("{e}"));
    }
    let newer = dir.join("newer.tar");
    let ok = Command::new("tar")
        .arg("-cf")
        .arg(&newer)
        .arg("-C")
        .arg(&unpacked)
        .arg(".")
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "tar -cf");
    vec![
        (
            "empty",
            write("empty.tar.zst", b""),
            "not a kubectl backup archive",
        ),
        (
            "truncated",
            write("truncated.tar.zst", &bytes[..bytes.len() / 2]),
            "damaged",
        ),
        ("tampered", write("tampered.tar.zst", &flipped), "damaged"),
        (
            "not an archive",
            write("notes.txt", b"apiVersion: v1\nkind: ConfigMap\n"),
            "not a kubectl backup archive",
        ),
        ("newer schema", newer, "newer"),
    ]
}

#[test]
fn broken_archives_are_exit_2_and_restore_nothing() {
    let w = &*WORLD;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (what, path, says) in broken_archives(dir.path(), &w.archive) {
        let p = path.to_string_lossy().to_string();
        for args in [
            vec![
                "restore",
                p.as_str(),
                "--namespace-map",
                "hypersdk=bad-copy",
                "--yes",
            ],
            vec!["restore", p.as_str(), "--dry-run=server"],
            vec!["diff", p.as_str()],
            vec!["inspect", p.as_str()],
        ] {
            // inspect reads damaged archives by design (it shows what is there); it
            // refuses only what is not an archive or too new.
            if args[0] == "inspect" && (what == "truncated" || what == "tampered") {
                continue;
            }
            let out = world_run("backup", &args);
            refused(
                &out,
                2,
                says,
                true,
                &format!("backup {args:?} on a {what} archive"),
            );
        }
    }
}

#[test]
fn hand_edited_foreign_and_stale_plans_are_exit_2() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let made = world_run(
        "drainplan",
        &["-l", "pool=old", "--ignore-daemonsets", "-o", "json"],
    );
    assert_eq!(code(&made), 0, "{}", dump(&made));
    let plan = String::from_utf8_lossy(&made.stdout).to_string();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
        p.to_string_lossy().to_string()
    };
    let edited = plan.replacen("\"action\": \"evict\"", "\"action\": \"stay\"", 1);
    assert_ne!(edited, plan);
    let cases = [
        (
            "edited",
            write("edited.json", &edited),
            "changed after it was made",
        ),
        (
            "not a plan",
            write(
                "triage.json",
                "{\"apiVersion\":\"triage.kubectl-plugins.dev/v1\",\"kind\":\"TriageReport\"}",
            ),
            "not a DrainPlan",
        ),
        (
            "not JSON or YAML",
            write("garbage.json", "{{{ [[[ nope"),
            "neither JSON",
        ),
        (
            "missing",
            dir.path().join("nope.json").to_string_lossy().to_string(),
            "nope.json",
        ),
    ];
    for (what, path, says) in cases {
        let out = world_run("drainplan", &["--execute", "--plan", &path, "--yes"]);
        refused(
            &out,
            2,
            says,
            what != "missing",
            &format!("drainplan plan {what}"),
        );
    }
    // Stale: the cluster moves on after the plan was made (a pod of the plan is labelled
    // by someone else), then the plan is refused; the label is the only change. On a
    // cluster of its own: the shared one must stay as it was.
    let sb = sandbox(&["drainplan/pools"]);
    let fresh = run(&mut suite_tests::plugin(
        "drainplan",
        &sb,
        &["-l", "pool=old", "--ignore-daemonsets", "-o", "json"],
    ));
    assert_eq!(code(&fresh), 0, "{}", dump(&fresh));
    let good = write("plan.json", &String::from_utf8_lossy(&fresh.stdout));
    let admin = Admin::new(&sb);
    let pod = "/api/v1/namespaces/pools/pods/web-1a2b3-w1w1w";
    admin
        .send(
            http::Method::PATCH,
            pod,
            "application/merge-patch+json",
            &serde_json::json!({"metadata": {"labels": {"touched": "yes"}}}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let moved = admin.settled();
    let out = run(&mut suite_tests::plugin(
        "drainplan",
        &sb,
        &["--execute", "--plan", &good, "--yes"],
    ));
    assert_eq!(code(&out), 2, "{}", dump(&out));
    let error = assert_one_clean_error(&out, "stale plan");
    assert!(error.contains("stale"), "{}", dump(&out));
    assert!(hint_line(&out).is_some());
    let changes = moved.changes_to(&admin.settled());
    assert!(
        changes.is_empty(),
        "a stale plan changed nothing: {changes:#?}"
    );
    unchanged("drainplan with a stale plan");
}

#[test]
fn rotate_input_files_that_are_missing_or_invalid_for_the_key_are_exit_2() {
    let w = &*WORLD;
    let dir = w.dir.path();
    let file = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
        p.to_string_lossy().to_string()
    };
    let not_a_cert = file(
        "not-a-cert.pem",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
    );
    let other_key = file("other.key", OTHER_KEY);
    let crt = file("app.crt", &cert_of_fixture());
    let missing = dir.join("missing.txt").to_string_lossy().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--from-file".into(), format!("password={missing}")],
            "missing.txt",
        ),
        (
            vec!["--from-env-file".into(), missing.clone()],
            "missing.txt",
        ),
        (
            vec![
                "--from-file".into(),
                format!("tls.crt={not_a_cert}"),
                "--keep".into(),
                "tls.key".into(),
            ],
            "tls.crt",
        ),
        (
            vec![
                "--from-file".into(),
                format!("tls.crt={crt}"),
                "--from-file".into(),
                format!("tls.key={other_key}"),
            ],
            "tls.key",
        ),
    ];
    for (extra, says) in cases {
        let secret = if extra.iter().any(|a| a.starts_with("tls.")) {
            "app-tls"
        } else {
            "vsphere-credentials"
        };
        let ns = if secret == "app-tls" {
            "vault"
        } else {
            "vsphere"
        };
        let mut args = vec!["secret", secret, "-n", ns];
        args.extend(extra.iter().map(String::as_str));
        let out = world_run("rotate", &args);
        // A file that is not there needs no hint; a file that does not fit the key says why.
        let missing_file = says == "missing.txt";
        refused(&out, 2, says, !missing_file, &format!("rotate {args:?}"));
        assert!(
            !suite_tests::text(&out).1.contains("BEGIN PRIVATE KEY"),
            "no key material in errors"
        );
    }
}

/// The certificate of the `app-tls` fixture Secret (reliability/secrets).
fn cert_of_fixture() -> String {
    use base64::Engine;
    let secret = Admin::new(&WORLD.sb)
        .get("/api/v1/namespaces/vault/secrets/app-tls")
        .unwrap_or_else(|| panic!("app-tls"));
    let b64 = secret["data"]["tls.crt"].as_str().unwrap_or("");
    let pem = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(pem).unwrap_or_else(|e| panic!("{e}"))
}

/// An EC P-256 key that is not the fixture certificate's.
const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgq8puCtqpweobUdv4
IQkZo8aj2yKqsyWawNq2D2Nf2ymhRANCAATo6EKa68zcHexp7VcuwZxHtVJKwhPT
9dxJW4PCrHVkdX06B5z91UcUKc5/Y6/S/arkpOx/SojjnK7mKeii00Lt
-----END PRIVATE KEY-----
";
