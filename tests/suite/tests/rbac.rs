//! Least privilege: each plugin mode runs as a sandbox User authorised by RBAC only and
//! bound to exactly its ClusterRole from `deploy/rbac/`, and works; with one permission
//! of that role taken away it reports the forbidden call clearly (exit 3, or the object
//! skipped/failed and exit 4) and does not pretend to have succeeded.

use std::path::{Path, PathBuf};
use std::process::Output;

use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use serde_json::{Value, json};
use suite_tests::kubeconfigs::write_private;
use suite_tests::{code, dump, plugin, run, text};

/// The user every mode runs as (`--context ops`).
const USER: &str = "ops";

/// `deploy/rbac/<file>` as JSON.
fn role(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/rbac")
        .join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The role without `verb` on `resource` (in any rule naming it): one permission less.
fn without(mut role: Value, resource: &str, verb: &str) -> Value {
    let mut removed = false;
    for rule in role["rules"].as_array_mut().into_iter().flatten() {
        let names = rule["resources"].as_array().cloned().unwrap_or_default();
        if !names.iter().any(|r| r == resource) {
            continue;
        }
        if let Some(verbs) = rule["verbs"].as_array_mut() {
            let before = verbs.len();
            verbs.retain(|v| v != verb);
            removed |= verbs.len() != before;
        }
    }
    assert!(removed, "no rule grants {verb} {resource}");
    role
}

/// A sandbox on `folders` plus an RBAC-only user bound to `role` cluster-wide.
fn sandbox_as_user(folders: &[&str], role: &Value, dir: &Path) -> Sandbox {
    let name = role["metadata"]["name"].as_str().unwrap_or("").to_string();
    let docs = [
        json!({"apiVersion": "sandbox.test/v1", "kind": "User", "metadata": {"name": USER}, "rbac": true}),
        role.clone(),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": format!("{USER}-{}", name.replace(':', "-"))},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}],
        }),
    ];
    // JSON documents are YAML; one file, `---` between them.
    let text = docs
        .iter()
        .map(|d| serde_json::to_string(d).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n---\n");
    let rbac_dir = dir.join("rbac");
    std::fs::create_dir_all(&rbac_dir).unwrap_or_else(|e| panic!("{e}"));
    write_private(&rbac_dir.join("zz-user.yaml"), &text);
    let mut fixtures: Vec<PathBuf> = folders.iter().map(|f| fixture_dir(f)).collect();
    fixtures.push(rbac_dir);
    Sandbox::start(SandboxOptions {
        fixtures,
        ..SandboxOptions::default()
    })
    .unwrap_or_else(|e| panic!("sandbox starts: {e:#}"))
}

/// Run `kubectl-<name> ARGS` as the user.
fn as_user(sb: &Sandbox, name: &str, args: &[&str]) -> Output {
    let mut a = vec!["--context", USER, "--request-timeout", "10s"];
    a.extend(args);
    run(plugin(name, sb, &a).env("BACKUP_PASSPHRASE", "rbac-test-passphrase"))
}

/// One mode: works with its role (exit `works`); with `verb` on `resource` removed it
/// stops or reports the object with exit 3 or 4 and says "forbidden" and the resource.
struct Mode {
    role_file: &'static str,
    folders: &'static [&'static str],
    plugin: &'static str,
    args: Vec<String>,
    works: i32,
    remove: (&'static str, &'static str),
    /// Prepare the cluster (as the admin) before the run.
    setup: Option<fn(&Sandbox, &Path) -> Vec<String>>,
}

fn check(mode: &Mode) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let granted = role(mode.role_file);
    for (variant, role) in [
        ("the role", granted.clone()),
        (
            "one permission less",
            without(granted.clone(), mode.remove.0, mode.remove.1),
        ),
    ] {
        let sub = dir.path().join(variant.replace(' ', "-"));
        std::fs::create_dir_all(&sub).unwrap_or_else(|e| panic!("{e}"));
        let sb = sandbox_as_user(mode.folders, &role, &sub);
        let mut args = mode.args.clone();
        if let Some(setup) = mode.setup {
            args.extend(setup(&sb, &sub));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = as_user(&sb, mode.plugin, &args);
        let what = format!(
            "{} {args:?} as {USER} with {} ({variant})",
            mode.plugin, mode.role_file
        );
        let (stdout, stderr) = text(&out);
        assert!(!stderr.contains("panicked"), "{what}\n{}", dump(&out));
        if variant == "the role" {
            assert_eq!(code(&out), mode.works, "{what}\n{}", dump(&out));
            assert!(
                !stdout.contains("forbidden") && !stderr.contains("forbidden"),
                "{what}: nothing is forbidden\n{}",
                dump(&out)
            );
        } else {
            let c = code(&out);
            assert!(c == 3 || c == 4, "{what}: exit 3 or 4\n{}", dump(&out));
            let all = format!("{stdout}\n{stderr}").to_lowercase();
            let resource = mode.remove.0.split('/').next().unwrap_or("");
            assert!(
                all.contains("forbidden") && (resource == "*" || all.contains(resource)),
                "{what}: the forbidden call ({} {}) is named\n{}",
                mode.remove.1,
                mode.remove.0,
                dump(&out)
            );
            if c == 3 {
                suite_tests::assert_one_clean_error(&out, &what);
            }
            // For RELIABILITY.md (`--nocapture`): what the user is told.
            let first = all.lines().find(|l| l.contains("forbidden")).unwrap_or("");
            eprintln!("{what}: exit {c}: {}", first.trim());
        }
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn triage_runs_read_only() {
    check(&Mode {
        role_file: "triage.yaml",
        folders: &["demo"],
        plugin: "triage",
        args: strings(&["-n", "hypersdk"]),
        works: 1, // findings
        remove: ("pods", "list"),
        setup: None,
    });
}

/// A backup of hypersdk made by the admin, for restore.
fn admin_archive(sb: &Sandbox, dir: &Path) -> Vec<String> {
    let archive = suite_tests::hypersdk_archive(sb, dir, "hypersdk.tar.zst");
    vec![archive.to_string_lossy().to_string()]
}

#[test]
fn backup_create_with_a_dump() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let f = dir.path().join("b.tar.zst").to_string_lossy().to_string();
    check(&Mode {
        role_file: "backup-create.yaml",
        folders: &["demo", "snapshots", "backup"],
        plugin: "backup",
        args: strings(&[
            "create",
            "-n",
            "hypersdk",
            "--passphrase-env",
            "BACKUP_PASSPHRASE",
            "--dump",
            "sqlite:catalog-0/catalog:/data/catalog.db",
            "-f",
            &f,
        ]),
        works: 0,
        remove: ("pods/exec", "get"),
        setup: None,
    });
}

#[test]
fn backup_restore_into_a_new_namespace() {
    check(&Mode {
        role_file: "backup-restore.yaml",
        folders: &["demo", "snapshots", "backup"],
        plugin: "backup",
        args: strings(&["restore", "--namespace-map", "hypersdk=restored", "--yes"]),
        works: 0,
        remove: ("*", "create"),
        setup: Some(admin_archive),
    });
}

#[test]
fn drainplan_plans() {
    check(&Mode {
        role_file: "drainplan-plan.yaml",
        folders: &["drainplan/pools"],
        plugin: "drainplan",
        args: strings(&["-l", "pool=old", "--ignore-daemonsets"]),
        works: 0,
        remove: ("poddisruptionbudgets", "list"),
        setup: None,
    });
}

#[test]
fn drainplan_executes() {
    check(&Mode {
        role_file: "drainplan-execute.yaml",
        folders: &["drainplan/pools"],
        plugin: "drainplan",
        args: strings(&[
            "-l",
            "pool=old",
            "--ignore-daemonsets",
            "--execute",
            "--yes",
            "--pod-timeout",
            "5s",
        ]),
        works: 0,
        remove: ("pods/eviction", "create"),
        setup: None,
    });
}

#[test]
fn rotate_rotates_a_secret() {
    check(&Mode {
        role_file: "rotate.yaml",
        folders: &["rotate/vsphere"],
        plugin: "rotate",
        args: strings(&[
            "secret",
            "vsphere-credentials",
            "-n",
            "vsphere",
            "--from-literal",
            "password=Rbac-Passw0rd-1",
            "--keep",
            "username",
        ]),
        works: 0,
        remove: ("secrets", "create"),
        setup: None,
    });
}

#[test]
fn the_roles_hold_only_what_the_tests_grant() {
    // Every file of deploy/rbac is one ClusterRole named kubectl-plugins:<file stem> and
    // is exercised above: a new role without a test fails here.
    let tested = [
        "triage",
        "backup-create",
        "backup-restore",
        "drainplan-plan",
        "drainplan-execute",
        "rotate",
    ];
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/rbac");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    found.sort();
    let mut want: Vec<String> = tested.iter().map(|t| format!("{t}.yaml")).collect();
    want.sort();
    assert_eq!(found, want);
    for t in tested {
        let r = role(&format!("{t}.yaml"));
        assert_eq!(r["kind"], "ClusterRole");
        assert_eq!(r["metadata"]["name"], format!("kubectl-plugins:{t}"));
        // Never a write verb on everything (restore's create is the one deliberate `*`).
        for rule in r["rules"].as_array().cloned().unwrap_or_default() {
            let verbs = rule["verbs"].to_string();
            assert!(!verbs.contains("\"*\""), "{t}: no verb wildcard: {rule}");
            for bad in [
                "delete",
                "deletecollection",
                "escalate",
                "bind",
                "impersonate",
            ] {
                assert!(!verbs.contains(bad), "{t}: {bad} is never needed: {rule}");
            }
        }
    }
}
