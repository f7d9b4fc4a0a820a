//! The fault suite: every plugin's main commands against kube-sandbox's injected faults
//! (429 with Retry-After, bursts of 500/503, dropped connections, 2 s of latency) on lists,
//! logs, exec, evictions, patches and creates.
//!
//! - Reads recover: the faulted run's report equals a clean run's on the same cluster (the
//!   fault's `after=N` lets the clean run through first; `-v -v` shows the retries).
//! - Writes are never duplicated: a write refused with 429 + Retry-After is retried and the
//!   cluster ends as after a clean run, with the same number of writes (the sandbox's
//!   write counter); a 5xx on a write is not retried: the run reports it, and running the
//!   command again completes the job.
//! - Faults that outlast `--request-timeout` end the run with exit 3 or 4 and an error
//!   naming the failing call, within the timeout plus [`MARGIN`].

use std::process::Output;
use std::time::Duration;

use kube_sandbox::Sandbox;
use serde_json::Value;
use suite_tests::state::Admin;
use suite_tests::{
    code, comparable, dump, json, plugin, run, run_timed, sandbox, sandbox_with_faults, text,
};

/// What a run may take beyond `--request-timeout` when one call fails for good: process
/// start, the calls made before it, the error path (debug build, shared 2-core machine).
const MARGIN: Duration = Duration::from_secs(4);

/// The retry layer's debug line (`-v -v`): the fault fired and the call was sent again.
const RETRIED: &str = "retrying API request";

const DEMO: [&str; 3] = ["demo", "snapshots", "backup"];

fn go(plugin_name: &str, sb: &Sandbox, args: &[&str]) -> Output {
    run(&mut plugin(plugin_name, sb, args))
}

fn with_verbose<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(["-v", "-v"]);
    v
}

/// A read command recovers from `fault`: the first run (let through by the fault's
/// `after`) is clean, the second meets the fault, and both reports are equal.
fn read_recovers(plugin_name: &str, folders: &[&str], args: &[&str], fault: &str, exit: i32) {
    let sb = sandbox_with_faults(folders, &[fault]);
    let args = with_verbose(args);
    let clean = go(plugin_name, &sb, &args);
    assert_eq!(code(&clean), exit, "clean run, {fault}\n{}", dump(&clean));
    assert!(
        !text(&clean).1.contains(RETRIED),
        "the clean run met the fault {fault}: raise its after=\n{}",
        dump(&clean)
    );
    let (faulted, took) = run_timed(&mut plugin(plugin_name, &sb, &args));
    assert_eq!(
        code(&faulted),
        exit,
        "faulted run, {fault}\n{}",
        dump(&faulted)
    );
    if fault.contains("delay-ms=2000") {
        assert!(
            took >= Duration::from_secs(2),
            "{fault} did not fire: {took:?}"
        );
    } else {
        assert!(
            text(&faulted).1.contains(RETRIED),
            "{fault} did not fire\n{}",
            dump(&faulted)
        );
    }
    assert_eq!(
        comparable(&json(&clean)),
        comparable(&json(&faulted)),
        "{plugin_name} {args:?} under {fault}: the report differs from a clean run's"
    );
}

/// A fault that never stops: the run gives up with exit 3 or 4 naming `call`, within
/// `--request-timeout` plus [`MARGIN`].
fn gives_up_in_time(plugin_name: &str, folders: &[&str], args: &[&str], fault: &str, call: &str) {
    let sb = sandbox_with_faults(folders, &[fault]);
    let timeout = Duration::from_secs(2);
    let mut a = args.to_vec();
    a.extend(["--request-timeout", "2s"]);
    let (out, took) = run_timed(&mut plugin(plugin_name, &sb, &a));
    let c = code(&out);
    assert!(
        c == 3 || c == 4,
        "{plugin_name} {a:?} under {fault}\n{}",
        dump(&out)
    );
    // Exit 3: one error line. Exit 4 (partial): the report says what failed, object by
    // object, and there may be no error line at all.
    if c == 3 {
        suite_tests::assert_one_clean_error(&out, &format!("{plugin_name} {fault}"));
    }
    let (stdout, stderr) = text(&out);
    assert!(!stderr.contains("panicked"), "{}", dump(&out));
    assert!(
        stdout.contains(call) || stderr.contains(call),
        "{plugin_name} under {fault}: the failing call {call:?} is not named\n{}",
        dump(&out)
    );
    assert!(
        took < timeout + MARGIN,
        "{plugin_name} under {fault} took {took:?} (timeout {timeout:?} + margin {MARGIN:?})"
    );
}

// ---- triage (lists, logs) ----

const TRIAGE: [&str; 4] = ["-n", "hypersdk", "-o", "json"];

#[test]
fn triage_recovers_from_faults_on_lists_and_logs() {
    // Per run: 19 lists in hypersdk, two of them of `pods` (core and metrics.k8s.io, which
    // a fault's `resource=pods` both matches), the crash-looping pod's previous log once.
    for fault in [
        "verb=list,resource=pods,namespace=hypersdk,status=429,retry-after=1,count=2,after=2",
        "verb=list,resource=pods,namespace=hypersdk,status=500,count=3,after=2",
        "verb=list,namespace=hypersdk,status=503,fraction=0.5,count=6,after=19",
        "verb=list,resource=pods,namespace=hypersdk,action=drop,count=2,after=2",
        "verb=list,resource=pods,namespace=hypersdk,delay-ms=2000,count=1,after=2",
        "resource=pods/log,namespace=hypersdk,status=503,count=2,after=1",
        "resource=pods/log,namespace=hypersdk,action=drop,count=1,after=1",
    ] {
        read_recovers("triage", &["demo"], &TRIAGE, fault, 1);
    }
}

#[test]
fn triage_gives_up_in_time_naming_the_call() {
    gives_up_in_time(
        "triage",
        &["demo"],
        &TRIAGE,
        "verb=list,resource=pods,namespace=hypersdk,status=503",
        "list pods in namespace hypersdk",
    );
    gives_up_in_time(
        "triage",
        &["demo"],
        &TRIAGE,
        "verb=list,resource=pods,namespace=hypersdk,delay-ms=30000",
        "list pods in namespace hypersdk",
    );
}

// ---- backup create (lists, exec) and restore (creates) ----

const CREATE: [&str; 9] = [
    "create",
    "-n",
    "hypersdk",
    "--exclude-resources",
    "secrets",
    "--dump",
    "sqlite:catalog-0/catalog:/data/catalog.db",
    "-o",
    "json",
];

/// `backup create` into a fresh file of `dir`; the manifest's entries (path and sha256)
/// are what must not change under faults.
fn backup_entries(
    sb: &Sandbox,
    dir: &std::path::Path,
    name: &str,
    extra: &[&str],
) -> (Output, Value) {
    let file = dir.join(name);
    let mut args = CREATE.to_vec();
    let f = file.to_string_lossy().to_string();
    args.extend(["-f", &f]);
    args.extend(extra);
    let out = go("backup", sb, &args);
    let entries = if code(&out) == 0 {
        let doc = json(&out);
        Value::Array(
            doc["entries"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                // backup.json holds the run's own timestamps; every other entry must match.
                .filter(|e| e["path"] != "backup.json")
                .map(|e| serde_json::json!([e["path"], e["sha256"]]))
                .collect(),
        )
    } else {
        Value::Null
    };
    (out, entries)
}

#[test]
fn backup_create_recovers_from_faults_on_lists_and_exec() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Per run: 26 lists in hypersdk, one exec.
    for (i, fault) in [
        "verb=list,namespace=hypersdk,status=429,retry-after=1,count=3,after=26",
        "verb=list,namespace=hypersdk,status=500,count=3,after=26",
        "verb=list,namespace=hypersdk,action=drop,count=2,after=26",
        "verb=list,namespace=hypersdk,delay-ms=2000,count=2,after=26",
        "resource=pods/exec,status=503,count=2,after=1",
        "resource=pods/exec,action=drop,count=1,after=1",
    ]
    .iter()
    .enumerate()
    {
        let sb = sandbox_with_faults(&DEMO, &[fault]);
        let (clean, a) = backup_entries(
            &sb,
            dir.path(),
            &format!("clean-{i}.tar.zst"),
            &["-v", "-v"],
        );
        assert_eq!(code(&clean), 0, "{}", dump(&clean));
        assert!(
            !text(&clean).1.contains(RETRIED),
            "clean run met {fault}: raise after=\n{}",
            dump(&clean)
        );
        let (faulted, b) = backup_entries(
            &sb,
            dir.path(),
            &format!("faulted-{i}.tar.zst"),
            &["-v", "-v"],
        );
        assert_eq!(code(&faulted), 0, "{fault}\n{}", dump(&faulted));
        let differ: Vec<_> = a
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| !b.as_array().is_some_and(|b| b.contains(e)))
            .collect();
        assert!(
            differ.is_empty() && a.as_array().map(Vec::len) == b.as_array().map(Vec::len),
            "{fault}: the archive differs from a clean run's: {differ:?}"
        );
    }
}

#[test]
fn backup_create_gives_up_in_time_naming_the_call() {
    gives_up_in_time(
        "backup",
        &DEMO,
        &[
            "create",
            "-n",
            "hypersdk",
            "--exclude-resources",
            "secrets",
            "-f",
            "/dev/null",
        ],
        "verb=list,resource=configmaps,namespace=hypersdk,status=500",
        "list configmaps in namespace hypersdk",
    );
}

/// Restore `archive` into `target` (from hypersdk); returns the report and the number of
/// writes the cluster saw until it settled.
fn restore_into(admin: &Admin, sb: &Sandbox, archive: &str, target: &str) -> (Output, u64) {
    let before = admin.settled();
    let map = format!("hypersdk={target}");
    let out = go(
        "backup",
        sb,
        &[
            "restore",
            archive,
            "--namespace-map",
            &map,
            "-o",
            "json",
            "-v",
            "-v",
        ],
    );
    let after = admin.settled();
    (out, after.resource_version - before.resource_version)
}

/// The restore report's objects as (object with the target namespace cut out, outcome).
fn outcomes(doc: &Value, target: &str) -> Vec<(String, String)> {
    doc["objects"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let obj = o["object"].to_string().replace(target, "<ns>");
            (obj, o["outcome"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

#[test]
fn backup_restore_writes_are_never_duplicated() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Faults only in the namespaces restored under faults; the clean restore goes first.
    let sb = sandbox_with_faults(
        &DEMO,
        &[
            "verb=create,namespace=copy-429,status=429,retry-after=1,count=3",
            "verb=create,namespace=copy-latency,delay-ms=2000,count=2",
            "verb=create,namespace=copy-503,status=503,count=2",
        ],
    );
    let admin = Admin::new(&sb);
    let archive = suite_tests::hypersdk_archive(&sb, dir.path(), "b.tar.zst");
    let a = archive.to_string_lossy().to_string();

    let (clean, clean_writes) = restore_into(&admin, &sb, &a, "copy-clean");
    assert_eq!(code(&clean), 0, "{}", dump(&clean));
    let want = outcomes(&json(&clean), "copy-clean");

    // 429 with Retry-After and latency: retried or waited for, the same writes as clean.
    for target in ["copy-429", "copy-latency"] {
        let (out, writes) = restore_into(&admin, &sb, &a, target);
        assert_eq!(code(&out), 0, "{target}\n{}", dump(&out));
        assert_eq!(outcomes(&json(&out), target), want, "{target}");
        assert_eq!(
            writes, clean_writes,
            "{target}: writes differ from a clean restore"
        );
    }
    // Restoring again over what is there writes nothing: every object is skipped.
    let (again, writes) = restore_into(&admin, &sb, &a, "copy-429");
    assert_eq!(code(&again), 0, "{}", dump(&again));
    assert!(
        outcomes(&json(&again), "copy-429")
            .iter()
            .all(|(_, o)| o == "skipped"),
        "{}",
        dump(&again)
    );
    assert_eq!(writes, 0, "a second restore wrote nothing");

    // 503 on creates: not retried (it may have been stored); reported per object, exit 4;
    // a second run restores the rest and nothing twice.
    let (out, _) = restore_into(&admin, &sb, &a, "copy-503");
    assert_eq!(code(&out), 4, "{}", dump(&out));
    let doc = json(&out);
    let failed: Vec<_> = outcomes(&doc, "copy-503")
        .into_iter()
        .filter(|(_, o)| o == "failed")
        .collect();
    assert_eq!(failed.len(), 2, "two creates met the 503: {doc:#}");
    let again = go(
        "backup",
        &sb,
        &[
            "restore",
            &a,
            "--namespace-map",
            "hypersdk=copy-503",
            "-o",
            "json",
        ],
    );
    assert_eq!(code(&again), 0, "{}", dump(&again));
    let state = admin.settled();
    // What the restore creates (controllers' pods, replica sets and events have
    // generated names and are left out).
    let generated = [
        "events/",
        "events.events.k8s.io/",
        "pods/",
        "replicasets.apps/",
        "endpointslices.discovery.k8s.io/",
    ];
    let names = |ns: &str| {
        let mut v: Vec<String> = state
            .objects
            .keys()
            .filter(|k| k.contains(&format!("/{ns}/")))
            .filter(|k| !generated.iter().any(|g| k.starts_with(g)))
            .map(|k| k.replace(ns, "<ns>"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names("copy-503"),
        names("copy-clean"),
        "same objects as a clean restore"
    );
}

// ---- drainplan (lists; cordon patches and evictions) ----

const PLAN: [&str; 5] = ["-l", "pool=old", "--ignore-daemonsets", "-o", "json"];

#[test]
fn drainplan_plan_recovers_from_faults_on_lists() {
    // Per run: 5 lists, two of them of nodes.
    for fault in [
        "verb=list,resource=pods,status=429,retry-after=1,count=2,after=1",
        "verb=list,resource=nodes,status=500,count=3,after=2",
        "verb=list,status=503,fraction=0.5,count=3,after=5",
        "verb=list,resource=pods,action=drop,count=2,after=1",
        "verb=list,resource=poddisruptionbudgets,delay-ms=2000,count=1,after=1",
    ] {
        read_recovers("drainplan", &["drainplan/pools"], &PLAN, fault, 0);
    }
}

#[test]
fn drainplan_gives_up_in_time_naming_the_call() {
    gives_up_in_time(
        "drainplan",
        &["drainplan/pools"],
        &PLAN,
        "verb=list,resource=nodes,action=drop",
        "list nodes",
    );
    // Evictions refused forever after the first cordon: exit 4 (a node was cordoned).
    gives_up_in_time(
        "drainplan",
        &["drainplan/pools"],
        &[
            "-l",
            "pool=old",
            "--ignore-daemonsets",
            "--execute",
            "--yes",
            "--pod-timeout",
            "3s",
        ],
        "resource=pods/eviction,status=500",
        "create pods/eviction",
    );
}

/// Execute the pools drain; returns the report and the cluster's writes until settled.
fn drain(sb: &Sandbox) -> (Output, u64, suite_tests::state::ClusterState) {
    let admin = Admin::new(sb);
    let before = admin.settled();
    let out = go(
        "drainplan",
        sb,
        &[
            "-l",
            "pool=old",
            "--ignore-daemonsets",
            "--execute",
            "--yes",
            "-o",
            "json",
            "-v",
            "-v",
        ],
    );
    let after = admin.settled();
    let writes = after.resource_version - before.resource_version;
    (out, writes, after)
}

/// Where the drain left things: evicted pods, cordoned nodes, pods per node.
fn drained(doc: &Value, state: &suite_tests::state::ClusterState) -> Value {
    let mut per_node = std::collections::BTreeMap::new();
    for key in state.objects.keys().filter(|k| k.starts_with("pods/")) {
        *per_node
            .entry(key.split('/').nth(1).unwrap_or("").to_string())
            .or_insert(0) += 1;
    }
    serde_json::json!({
        "outcome": doc["outcome"],
        "evicted": doc["waves"].as_array().map(|w| w.iter().map(|w| w["evicted"].clone()).collect::<Vec<_>>()),
        "cordoned": doc["cordoned"],
        "podsPerNamespace": per_node,
    })
}

#[test]
fn drainplan_execute_writes_are_never_duplicated() {
    let clean_sb = sandbox(&["drainplan/pools"]);
    let (clean, clean_writes, clean_state) = drain(&clean_sb);
    assert_eq!(code(&clean), 0, "{}", dump(&clean));
    let want = drained(&json(&clean), &clean_state);
    for fault in [
        "resource=pods/eviction,status=429,retry-after=1,count=3",
        "verb=patch,resource=nodes,status=429,retry-after=1,count=1",
        "resource=pods/eviction,delay-ms=2000,count=1",
    ] {
        let sb = sandbox_with_faults(&["drainplan/pools"], &[fault]);
        let (out, writes, state) = drain(&sb);
        assert_eq!(code(&out), 0, "{fault}\n{}", dump(&out));
        if !fault.contains("delay-ms") {
            assert!(
                text(&out).1.contains(RETRIED),
                "{fault} did not fire\n{}",
                dump(&out)
            );
        }
        assert_eq!(drained(&json(&out), &state), want, "{fault}");
        assert_eq!(
            writes, clean_writes,
            "{fault}: writes differ from a clean drain"
        );
    }
}

#[test]
fn drainplan_execute_503_on_evictions_then_a_rerun_completes() {
    let sb = sandbox_with_faults(
        &["drainplan/pools"],
        &["resource=pods/eviction,status=503,count=1"],
    );
    let (out, _, _) = drain(&sb);
    let c = code(&out);
    // An eviction is guarded by the pod's UID: retrying it is safe, so a drain may ride
    // out the 503; if it does not, it stops with the cordons listed (exit 4).
    assert!(c == 0 || c == 4, "{}", dump(&out));
    let again = go(
        "drainplan",
        &sb,
        &[
            "-l",
            "pool=old",
            "--ignore-daemonsets",
            "--execute",
            "--yes",
            "-o",
            "json",
        ],
    );
    assert_eq!(code(&again), 0, "{}", dump(&again));
    let state = Admin::new(&sb).settled();
    let on_old = state
        .objects
        .keys()
        .filter(|k| k.starts_with("pods/"))
        .count();
    assert!(on_old > 0);
}

// ---- rotate (lists; secret create, consumer patches) ----

const ROTATE: [&str; 10] = [
    "secret",
    "vsphere-credentials",
    "-n",
    "vsphere",
    "--from-literal",
    "password=Fault-Passw0rd-1",
    "--keep",
    "username",
    "-o",
    "json",
];

#[test]
fn rotate_status_recovers_from_faults_on_lists() {
    let args = [
        "status",
        "vsphere-credentials",
        "-n",
        "vsphere",
        "-o",
        "json",
    ];
    // Per run: 9 lists in vsphere, one of each resource.
    for fault in [
        "verb=list,resource=deployments,namespace=vsphere,status=429,retry-after=1,count=2,after=1",
        "verb=list,namespace=vsphere,status=500,count=3,after=9",
        "verb=list,resource=pods,namespace=vsphere,action=drop,count=1,after=1",
        "verb=list,resource=pods,namespace=vsphere,delay-ms=2000,count=1,after=1",
    ] {
        read_recovers("rotate", &["rotate/vsphere"], &args, fault, 0);
    }
}

/// Rotate on `sb`; returns the report, the writes until settled, and where each consumer
/// points.
fn rotation(sb: &Sandbox) -> (Output, u64, Value) {
    let admin = Admin::new(sb);
    let before = admin.settled();
    let out = go("rotate", sb, &with_verbose(&ROTATE));
    let after = admin.settled();
    let mut refs = serde_json::Map::new();
    let versioned =
        regex::Regex::new(r"vsphere-credentials(-[0-9a-f]{10})?").unwrap_or_else(|e| panic!("{e}"));
    for (kind, path) in [
        (
            "deployment/exporter",
            "/apis/apps/v1/namespaces/vsphere/deployments/exporter",
        ),
        (
            "deployment/uploader",
            "/apis/apps/v1/namespaces/vsphere/deployments/uploader",
        ),
        (
            "statefulset/inventory",
            "/apis/apps/v1/namespaces/vsphere/statefulsets/inventory",
        ),
        (
            "cronjob/nightly-report",
            "/apis/batch/v1/namespaces/vsphere/cronjobs/nightly-report",
        ),
    ] {
        let obj = admin.get(path).unwrap_or(Value::Null);
        let text = obj.to_string();
        let names: std::collections::BTreeSet<String> = versioned
            .find_iter(&text)
            .map(|m| m.as_str().to_string())
            .collect();
        refs.insert(kind.into(), serde_json::json!(names));
    }
    let secrets = after.names("secrets", "vsphere").len();
    refs.insert("secrets".into(), serde_json::json!(secrets));
    (
        out,
        after.resource_version - before.resource_version,
        Value::Object(refs),
    )
}

#[test]
fn rotate_secret_writes_are_never_duplicated() {
    let clean_sb = sandbox(&["rotate/vsphere"]);
    let (clean, clean_writes, want) = rotation(&clean_sb);
    assert_eq!(code(&clean), 0, "{}", dump(&clean));
    for fault in [
        "verb=create,resource=secrets,namespace=vsphere,status=429,retry-after=1,count=2",
        "verb=patch,namespace=vsphere,status=429,retry-after=1,count=3",
        "verb=patch,resource=deployments,namespace=vsphere,delay-ms=2000,count=1",
        "verb=list,namespace=vsphere,status=503,count=3",
    ] {
        let sb = sandbox_with_faults(&["rotate/vsphere"], &[fault]);
        let (out, writes, got) = rotation(&sb);
        assert_eq!(code(&out), 0, "{fault}\n{}", dump(&out));
        assert_eq!(got, want, "{fault}: consumers differ from a clean rotation");
        assert_eq!(
            writes, clean_writes,
            "{fault}: writes differ from a clean rotation"
        );
    }
}

#[test]
fn rotate_secret_500_on_a_patch_rolls_back_then_a_rerun_completes() {
    let clean_sb = sandbox(&["rotate/vsphere"]);
    let (_, _, want) = rotation(&clean_sb);
    // The second consumer's patch fails: not retried; the first is rolled back.
    let sb = sandbox_with_faults(
        &["rotate/vsphere"],
        &["verb=patch,resource=deployments,namespace=vsphere,name=uploader,status=500,count=1"],
    );
    let admin = Admin::new(&sb);
    let before = admin.settled();
    let out = go("rotate", &sb, &ROTATE);
    assert_eq!(code(&out), 1, "failed and rolled back\n{}", dump(&out));
    let doc = json(&out);
    assert_eq!(doc["outcome"], "rolledBack", "{doc:#}");
    assert!(
        doc["cause"]
            .as_str()
            .unwrap_or("")
            .contains("patch deployments.apps uploader in namespace vsphere"),
        "the cause names the failing call: {doc:#}"
    );
    let after = admin.settled();
    for (kind, path) in [
        (
            "exporter",
            "/apis/apps/v1/namespaces/vsphere/deployments/exporter",
        ),
        (
            "uploader",
            "/apis/apps/v1/namespaces/vsphere/deployments/uploader",
        ),
    ] {
        let obj = admin.get(path).unwrap_or(Value::Null);
        assert!(
            !obj["spec"].to_string().contains("vsphere-credentials-"),
            "{kind} is back on the old Secret: {}",
            obj["spec"]
        );
    }
    // The consumers and the old Secret are all still there (pods come and go with the
    // restarts of the rotation and of its rollback).
    let lost: Vec<String> = before
        .changes_to(&after)
        .into_iter()
        .filter(|c| {
            c.starts_with("deleted")
                && !c.contains(" pods/")
                && !c.contains(" replicasets.apps/")
                && !c.contains(" controllerrevisions.apps/")
        })
        .collect();
    assert!(lost.is_empty(), "{lost:#?}");
    let (again, _, got) = rotation(&sb);
    assert_eq!(code(&again), 0, "{}", dump(&again));
    assert_eq!(got, want, "the rerun ends where a clean rotation does");
}

#[test]
fn rotate_gives_up_in_time_naming_the_call() {
    gives_up_in_time(
        "rotate",
        &["rotate/vsphere"],
        &ROTATE,
        "verb=list,resource=statefulsets,namespace=vsphere,status=503",
        "list statefulsets.apps in namespace vsphere",
    );
}
