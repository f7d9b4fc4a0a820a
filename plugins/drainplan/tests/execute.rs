//! `--execute` against kube-sandbox: draining while budgets hold (checked at every budget
//! change), waves one after the other, a budget that never recovers (timeout), Ctrl-C,
//! `uncordon` undoing only our cordons, and plans that are stale, edited or foreign
//! refused with nothing changed.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

fn node_unschedulable(sb: &kube_sandbox::Sandbox, node: &str) -> bool {
    get_json(sb, &["node", node])["spec"]["unschedulable"] == true
}

fn pods_on(sb: &kube_sandbox::Sandbox, node: &str) -> Vec<String> {
    let doc = get_json(
        sb,
        &[
            "pods",
            "-A",
            "--field-selector",
            &format!("spec.nodeName={node}"),
        ],
    );
    let mut names: Vec<String> = doc["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    names.sort();
    names
}

fn evicted(report: &Value, wave: usize) -> Vec<String> {
    serde_json::from_value(report["waves"][wave]["evicted"].clone()).expect("evicted")
}

fn all_healthy(statuses: &[(i64, i64)]) {
    for (healthy, needed) in statuses {
        assert!(healthy >= needed, "the budget was broken: {statuses:?}");
    }
}

#[test]
fn demo_node_drains_while_its_budget_holds_and_uncordon_restores_only_ours() {
    let sb = sandbox(&["demo", "drainplan/demo-agents"]);
    if !suite_tests::kubectl_available() {
        return;
    }
    // Someone else cordoned node-a before the maintenance.
    assert!(kubectl(&sb, &["cordon", "node-a"]).status.success());
    let watch = BudgetWatch::start(&sb, "hypersdk", "hypersdk").expect("watch");
    let out = kubectl_drainplan(
        &sb,
        &[
            "node-c",
            "--execute",
            "--ignore-daemonsets",
            "--yes",
            "-o",
            "json",
        ],
    );
    let statuses = watch.stop();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    assert_eq!(report["kind"], "DrainReport");
    assert_eq!(report["outcome"], "drained");
    assert_eq!(evicted(&report, 0), ["hypersdk/hypersdk-7c9d8f6b5-r8t5n"]);
    assert_eq!(
        report["cordoned"],
        serde_json::json!([{"node": "node-c", "byDrainplan": true}])
    );
    assert!(report["remaining"].as_array().is_some_and(Vec::is_empty));
    let changes = report["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2, "one cordon, one eviction: {changes:#?}");
    assert_eq!(changes[0]["object"]["name"], "node-c");
    assert_eq!(changes[1]["action"], "evict");
    // The budget never went below what it needs (it saw the eviction and the replacement).
    assert!(!statuses.is_empty(), "the watch saw the budget change");
    all_healthy(&statuses);

    // Cordoned and empty but its DaemonSet pod; the replacement Ready elsewhere.
    assert!(node_unschedulable(&sb, "node-c"));
    assert_eq!(pods_on(&sb, "node-c"), ["node-exporter-c"]);
    let web = get_json(&sb, &["pods", "-n", "hypersdk", "-l", "app=hypersdk"]);
    let web = web["items"].as_array().expect("items");
    assert_eq!(web.len(), 3);
    for p in web {
        assert_ne!(p["spec"]["nodeName"], "node-c");
    }
    let pdb = get_json(&sb, &["pdb", "hypersdk", "-n", "hypersdk"]);
    assert_eq!(pdb["status"]["currentHealthy"], 3, "healthier than before");

    // uncordon: ours goes, node-a (cordoned by someone else) stays.
    let out = kubectl_drainplan(&sb, &["uncordon", "node-a", "node-c", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let u = json(&out);
    assert_eq!(u["kind"], "UncordonReport");
    assert_eq!(u["nodes"][0]["result"], "leftCordoned");
    assert_eq!(u["nodes"][1]["result"], "uncordoned");
    assert!(node_unschedulable(&sb, "node-a"));
    assert!(!node_unschedulable(&sb, "node-c"));
    let c = get_json(&sb, &["node", "node-c"]);
    assert!(
        c["metadata"]["annotations"]
            .get("drainplan.kubectl-plugins.dev/cordoned")
            .is_none()
    );
    // A second uncordon has nothing of ours left to undo.
    let again = json(&drainplan(&sb, &["uncordon", "node-c", "-o", "json"]));
    assert_eq!(again["nodes"][0]["result"], "notCordoned");
    assert!(again["changes"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn waves_drain_one_after_the_other_within_the_budget() {
    let sb = sandbox(&["drainplan/waves"]);
    let watch = BudgetWatch::start(&sb, "waves", "web");
    let out = drainplan(&sb, &["t1", "t2", "--execute", "--yes", "-o", "json"]);
    let statuses = watch.map(BudgetWatch::stop);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    assert_eq!(report["outcome"], "drained");
    assert_eq!(
        evicted(&report, 0),
        ["waves/api-9d0e1-m1m1m", "waves/web-8c9d0-k1k1k"]
    );
    assert_eq!(
        evicted(&report, 1),
        ["waves/api-9d0e1-m2m2m", "waves/web-8c9d0-k2k2k"]
    );
    // t2 is cordoned only after wave 1's evictions: waves, not "cordon everything first".
    let changes = report["changes"].as_array().expect("changes");
    let seq = |pred: &dyn Fn(&Value) -> bool| {
        changes
            .iter()
            .find(|c| pred(c))
            .and_then(|c| c["seq"].as_u64())
            .expect("change")
    };
    let cordon_t2 = seq(&|c| c["object"]["name"] == "t2");
    let evict_k1 = seq(&|c| c["object"]["name"] == "web-8c9d0-k1k1k");
    let evict_k2 = seq(&|c| c["object"]["name"] == "web-8c9d0-k2k2k");
    assert!(evict_k1 < cordon_t2 && cordon_t2 < evict_k2, "{changes:#?}");
    if let Some(statuses) = statuses {
        assert!(statuses.len() >= 2, "both evictions seen: {statuses:?}");
        all_healthy(&statuses);
    }
    // Both nodes empty, three web pods Ready elsewhere.
    assert!(pods_on(&sb, "t1").is_empty() && pods_on(&sb, "t2").is_empty());
    let web = get_json(&sb, &["pods", "-n", "waves", "-l", "app=web"]);
    let ready = web["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|p| {
            p["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        })
        .count();
    assert_eq!(ready, 3);
}

#[test]
fn a_budget_that_does_not_recover_times_out_saying_what_it_waits_for() {
    let sb = sandbox(&["drainplan/twins", "drainplan/twins-stuck"]);
    let started = Instant::now();
    let out = drainplan(
        &sb,
        &[
            "t1",
            "--execute",
            "--yes",
            "--pod-timeout",
            "4s",
            "-o",
            "json",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        stderr.contains("waiting: PDB twins/web needs 2 healthy, has 2"),
        "{stderr}"
    );
    let report = json(&out);
    assert_eq!(report["outcome"], "timedOut");
    assert_eq!(report["waves"][0]["status"], "stopped");
    assert_eq!(evicted(&report, 0).len(), 1, "one went, one waits");
    assert_eq!(report["remaining"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        report["cordoned"],
        serde_json::json!([{"node": "t1", "byDrainplan": true}])
    );
    assert!(node_unschedulable(&sb, "t1"));
}

#[test]
fn ctrl_c_stops_at_a_safe_point_and_reports() {
    let sb = sandbox(&["drainplan/twins", "drainplan/twins-stuck"]);
    let mut child = Command::new(suite_tests::plugin_bin("drainplan"))
        .arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args([
            "t1",
            "--execute",
            "--yes",
            "--pod-timeout",
            "60s",
            "-o",
            "json",
        ])
        .env_remove("KUBECONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap_or(0) > 0,
            "ended early: {seen}"
        );
        seen.push_str(&line);
        if line.starts_with("waiting: PDB") {
            break;
        }
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let started = Instant::now();
    let status = child.wait().expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped promptly"
    );
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .ok();
    assert_eq!(status.code(), Some(130), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("a report on stdout");
    assert_eq!(report["outcome"], "interrupted");
    assert_eq!(report["remaining"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["cordoned"][0]["node"], "t1");
}

fn plan_file(
    sb: &kube_sandbox::Sandbox,
    dir: &std::path::Path,
    args: &[&str],
) -> std::path::PathBuf {
    let mut a = args.to_vec();
    a.extend_from_slice(&["-o", "json"]);
    let out = drainplan(sb, &a);
    assert!(out.status.success(), "{out:?}");
    let path = dir.join("plan.json");
    std::fs::write(&path, &out.stdout).expect("write plan");
    path
}

fn refused(sb: &kube_sandbox::Sandbox, args: &[&str], needle: &str) {
    let before = versions(sb);
    let out = drainplan(sb, args);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(needle),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: ") || !needle.contains("stale"),
        "{stderr}"
    );
    assert_eq!(versions(sb), before, "nothing changed");
}

#[test]
fn stale_edited_or_foreign_plans_are_refused_and_nothing_changes() {
    let sb = sandbox(&["drainplan/pools"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = plan_file(&sb, dir.path(), &["-l", "pool=old", "--ignore-daemonsets"]);
    let file = path.to_str().expect("utf8");

    let original: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    // Write `doc` as a plan file and check it is refused with `needle`.
    let refused_doc = |doc: &Value, needle: &str| {
        let other = dir.path().join("other.json");
        std::fs::write(&other, doc.to_string()).expect("write");
        refused(
            &sb,
            &[
                "--execute",
                "--plan",
                other.to_str().expect("utf8"),
                "--yes",
            ],
            needle,
        );
    };
    // Edited: a decision changed by hand no longer matches the fingerprint.
    let mut doc = original.clone();
    doc["pods"][0]["action"] = "stay".into();
    refused_doc(&doc, "was changed after it was made");
    // Another schema or kind.
    let mut doc = original.clone();
    doc["extra"] = true.into();
    refused_doc(&doc, "does not match the DrainPlan schema");
    refused_doc(
        &serde_json::json!({"apiVersion": "triage.kubectl-plugins.dev/v1", "kind": "TriageReport"}),
        "is not a DrainPlan",
    );
    refused(
        &sb,
        &["--execute", "--plan", "/nonexistent/plan.json", "--yes"],
        "cannot read",
    );
    // Flags the plan was not made with.
    refused(
        &sb,
        &["--execute", "--plan", file, "--force", "--yes"],
        "made without --force",
    );
    refused(
        &sb,
        &["new-1", "--execute", "--plan", file, "--yes"],
        "the plan drains old-1 old-2",
    );

    // Stale: a pod on a target node changed after the plan was made.
    let out = kubectl(
        &sb,
        &[
            "label",
            "pod",
            "-n",
            "pools",
            "web-1a2b3-w1w1w",
            "touched=yes",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    refused(
        &sb,
        &["--execute", "--plan", file, "--yes"],
        "is stale: the cluster changed since it was made (pod pools/web-1a2b3-w1w1w changed",
    );
}

#[test]
fn a_plan_from_stdin_executes_exactly_that_plan() {
    let sb = sandbox(&["drainplan/pools"]);
    let plan = drainplan(
        &sb,
        &["-l", "pool=old", "--ignore-daemonsets", "-o", "json"],
    );
    assert!(plan.status.success());
    let planned = json(&plan);
    let mut child = suite_tests::kubectl_plugin(
        "drainplan",
        &sb,
        &["--execute", "--plan", "-", "--yes", "-o", "json"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&plan.stdout)
        .expect("write plan");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    assert_eq!(
        report["plan"], planned,
        "the plan executed is the plan given"
    );
    assert_eq!(report["outcome"], "drained");
    assert_eq!(report["waves"].as_array().map(Vec::len), Some(2));
    for node in ["old-1", "old-2"] {
        assert!(node_unschedulable(&sb, node));
        assert_eq!(pods_on(&sb, node), [format!("agent-{node}")]);
    }
}

#[test]
fn a_blocked_plan_is_not_executed() {
    let sb = sandbox(&["drainplan/reasons"]);
    let before = versions(&sb);
    let out = drainplan(&sb, &["t1", "--execute", "--yes", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json(&out);
    assert_eq!(report["outcome"], "blocked");
    assert_eq!(report["plan"]["verdict"], "blocked");
    assert!(report["changes"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(versions(&sb), before);
    // The table says so too.
    let (stdout, _) = text(&drainplan(&sb, &["t1", "--execute", "--yes"]));
    assert!(
        stdout.contains("blocked: the plan is not safe, nothing was changed"),
        "{stdout}"
    );
}

#[test]
fn dry_runs_change_nothing_and_list_what_would_be_done() {
    let sb = sandbox(&["drainplan/waves"]);
    let before = versions(&sb);
    for (mode, outcome) in [("client", "planned"), ("server", "validated")] {
        let out = drainplan(
            &sb,
            &[
                "t1",
                "t2",
                "--execute",
                &format!("--dry-run={mode}"),
                "-o",
                "json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{mode}: {out:?}");
        let report = json(&out);
        assert_eq!(report["dryRun"], mode);
        let changes = report["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 6, "2 cordons + 4 evictions: {changes:#?}");
        assert!(
            changes.iter().all(|c| c["outcome"] == outcome),
            "{changes:#?}"
        );
        assert!(
            report["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("dry run")
        );
        assert_eq!(versions(&sb), before, "{mode}: nothing changed");
    }
}

#[test]
fn without_yes_and_without_a_terminal_it_refuses() {
    let sb = sandbox(&["drainplan/waves"]);
    refused(
        &sb,
        &["t1", "--execute"],
        "refusing to go on without confirmation",
    );
}
