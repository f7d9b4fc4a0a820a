//! Plans against kube-sandbox fixture clusters: every reason code on its pod, flags that
//! change the verdict as they change kubectl drain's (kubectl is the oracle for its five
//! filters), waves from budgets, room, outputs and bad input.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use support::*;

fn owned(v: &[(&str, &str, &str, bool)]) -> BTreeMap<String, (String, String, bool)> {
    v.iter()
        .map(|(n, r, a, b)| (n.to_string(), (r.to_string(), a.to_string(), *b)))
        .collect()
}

#[test]
fn every_reason_lands_on_its_pod() {
    let sb = sandbox(&["drainplan/reasons"]);
    let out = kubectl_drainplan(&sb, &["t1", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "blocked: {out:?}");
    let plan = json(&out);
    assert_eq!(plan["apiVersion"], "drainplan.kubectl-plugins.dev/v1");
    assert_eq!(plan["kind"], "DrainPlan");
    assert_eq!(plan["verdict"], "blocked");
    assert_eq!(
        decisions(&plan),
        owned(&[
            ("agent-t1", "DaemonSetPod", "stay", true),
            ("orphan-t1", "Unreplicated", "blocked", true),
            ("kube-proxy-t1", "MirrorPod", "stay", false),
            ("report-x7k2p", "TerminalPod", "delete", false),
            ("debug-shell", "Unreplicated", "blocked", true),
            ("scratch-pad", "LocalStorage", "blocked", true),
            ("cache-5d8f7-q2w9x", "LocalStorage", "blocked", true),
            ("logs-7c4b9-h8d3k", "LocalPersistentVolume", "blocked", true),
            ("db-0", "LocalPersistentVolume", "blocked", true),
            ("batch-6f9d2-m5n7b", "DoNotDisrupt", "blocked", true),
            ("train-8b2c4-z9x8c", "DoNotDisrupt", "blocked", true),
            ("ledger-4d7f8-p3q2r", "PDBBlocked", "blocked", true),
            ("shop-9c8d7-a1b2c", "PDBBlocked", "blocked", true),
            ("solver-2e5f8-k4l6m", "NoCapacity", "blocked", true),
            ("api-6b7c8-r4s5t", "Evict", "evict", false),
        ])
    );
    // Blockers first.
    let pods = plan["pods"].as_array().expect("pods");
    let first_free = pods
        .iter()
        .position(|p| p["blocking"] == false)
        .unwrap_or(0);
    assert!(pods[first_free..].iter().all(|p| p["blocking"] == false));

    // Budgets: named, needed vs healthy, permanent vs transient.
    let ledger = pod(&plan, "ledger-4d7f8-p3q2r");
    let msg = ledger["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("PDB reasons/ledger needs 1 healthy, has 1"),
        "{msg}"
    );
    assert!(msg.ends_with("[permanent]"), "{msg}");
    let shop = pod(&plan, "shop-9c8d7-a1b2c")["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        shop.contains("shop-9c8d7-g5h6j on d1") && shop.ends_with("[transient]"),
        "{shop}"
    );
    let pdbs: BTreeMap<String, &Value> = plan["pdbs"]
        .as_array()
        .expect("pdbs")
        .iter()
        .map(|b| (b["name"].as_str().unwrap_or("").to_string(), b))
        .collect();
    assert_eq!(pdbs["ledger"]["blocked"], "permanent");
    assert_eq!(pdbs["shop"]["blocked"], "transient");
    assert_eq!(pdbs["shop"]["needed"], 2);
    assert_eq!(pdbs["shop"]["healthy"], 2);
    assert_eq!(
        pdbs["shop"]["blocks"],
        serde_json::json!(["reasons/shop-9c8d7-a1b2c"])
    );

    // Room: the scheduler's words; the mover names a node the scheduler would accept.
    assert_eq!(
        pod(&plan, "solver-2e5f8-k4l6m")["message"],
        "fits on no node outside the drain: 0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable."
    );
    let api = pod(&plan, "api-6b7c8-r4s5t");
    assert_eq!(api["destination"], "d1");
    assert!(
        api["message"]
            .as_str()
            .unwrap_or("")
            .contains("the scheduler picks")
    );
    assert_eq!(api["owner"]["kind"], "ReplicaSet");
    assert_eq!(pod(&plan, "db-0")["owner"]["kind"], "StatefulSet");
    let fp = plan["fingerprint"].as_str().unwrap_or("");
    assert!(fp.starts_with("sha256:") && fp.len() == 71, "{fp}");
}

#[test]
fn the_three_flags_change_the_verdict_like_kubectl_drains() {
    let sb = sandbox(&["drainplan/reasons"]);
    let plan = json(&drainplan(
        &sb,
        &[
            "t1",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--force",
            "-o",
            "json",
        ],
    ));
    let d = decisions(&plan);
    assert_eq!(d["agent-t1"], ("DaemonSetPod".into(), "stay".into(), false));
    assert_eq!(
        d["orphan-t1"],
        ("Unreplicated".into(), "delete".into(), false)
    );
    assert_eq!(
        d["debug-shell"],
        ("Unreplicated".into(), "delete".into(), false)
    );
    assert_eq!(
        d["scratch-pad"],
        ("Unreplicated".into(), "delete".into(), false)
    );
    assert_eq!(
        pod(&plan, "scratch-pad")["warnings"][0]
            .as_str()
            .map(|w| w.starts_with("LocalStorage: emptyDir data")),
        Some(true)
    );
    assert_eq!(
        d["cache-5d8f7-q2w9x"],
        ("LocalStorage".into(), "evict".into(), false)
    );
    // Rules kubectl does not have are not overridden by its flags.
    assert_eq!(d["db-0"].0, "LocalPersistentVolume");
    assert_eq!(d["train-8b2c4-z9x8c"].0, "DoNotDisrupt");
    assert_eq!(plan["verdict"], "blocked");
    let cache = pod(&plan, "cache-5d8f7-q2w9x");
    assert!(
        cache["message"].as_str().unwrap_or("").contains("is lost"),
        "{cache}"
    );
    assert_eq!(cache["destination"], "d1");
}

/// kubectl drain's answer on the same cluster: the pods it refuses by reason (exit 1), or
/// the pods it evicts (exit 0).
enum Drain {
    Refused(BTreeSet<(String, String)>),
    Evicted(BTreeSet<String>),
}

fn kubectl_drain(sb: &kube_sandbox::Sandbox, node: &str, flags: &[&str]) -> Drain {
    let mut args = vec!["drain", node, "--dry-run=client"];
    args.extend_from_slice(flags);
    let out = kubectl(sb, &args);
    let (stdout, stderr) = text(&out);
    if out.status.success() {
        return Drain::Evicted(
            stdout
                .lines()
                .filter_map(|l| l.strip_prefix("evicting pod "))
                .map(|l| l.trim_end_matches(" (dry run)").to_string())
                .collect(),
        );
    }
    assert_eq!(out.status.code(), Some(1), "kubectl drain: {stderr}");
    let mut refused = BTreeSet::new();
    for line in stderr.lines().filter(|l| l.starts_with("cannot delete ")) {
        let (category, pods) = line.rsplit_once(": ").expect("category: pods");
        let reason = if category.contains("DaemonSet-managed") {
            "DaemonSetPod"
        } else if category.contains("local storage") {
            "LocalStorage"
        } else if category.contains("no controller")
            || category.contains("not managed by")
            || category.contains("not found")
        {
            "Unreplicated"
        } else {
            panic!("unknown kubectl drain category: {line}");
        };
        for p in pods.split(", ") {
            refused.insert((reason.to_string(), p.trim().to_string()));
        }
    }
    assert!(
        !refused.is_empty(),
        "kubectl drain failed without refusals: {stderr}"
    );
    Drain::Refused(refused)
}

#[test]
fn kubectl_drain_is_the_oracle_for_its_five_filters() {
    if !suite_tests::kubectl_available() {
        return;
    }
    let sb = sandbox(&["drainplan/reasons"]);
    let kubectl_reasons = [
        "DaemonSetPod",
        "MirrorPod",
        "TerminalPod",
        "Unreplicated",
        "LocalStorage",
    ];
    let mut combos = 0;
    for mask in 0..8u8 {
        let mut flags = Vec::new();
        if mask & 1 != 0 {
            flags.push("--ignore-daemonsets");
        }
        if mask & 2 != 0 {
            flags.push("--delete-emptydir-data");
        }
        if mask & 4 != 0 {
            flags.push("--force");
        }
        let mut args = vec!["t1", "-o", "json"];
        args.extend_from_slice(&flags);
        let plan = json(&drainplan(&sb, &args));
        let pods = plan["pods"].as_array().expect("pods");
        let key = |p: &Value| {
            format!(
                "{}/{}",
                p["namespace"].as_str().unwrap_or(""),
                p["name"].as_str().unwrap_or("")
            )
        };
        let ours_refused: BTreeSet<(String, String)> = pods
            .iter()
            .filter(|p| {
                p["blocking"] == true
                    && kubectl_reasons.contains(&p["reason"].as_str().unwrap_or(""))
            })
            .map(|p| (p["reason"].as_str().unwrap_or("").to_string(), key(p)))
            .collect();
        match kubectl_drain(&sb, "t1", &flags) {
            Drain::Refused(theirs) => {
                assert_eq!(ours_refused, theirs, "refusals with {flags:?}");
            }
            Drain::Evicted(theirs) => {
                assert!(
                    ours_refused.is_empty(),
                    "kubectl proceeds with {flags:?}, we refuse {ours_refused:?}"
                );
                // kubectl evicts what we evict or delete, plus what only our extra checks
                // (local volumes, opt-outs, budgets, room) hold back; it leaves mirror and
                // DaemonSet pods alone, as we do.
                let ours: BTreeSet<String> = pods
                    .iter()
                    .filter(|p| {
                        matches!(p["action"].as_str(), Some("evict" | "delete"))
                            || (p["action"] == "blocked"
                                && !kubectl_reasons.contains(&p["reason"].as_str().unwrap_or("")))
                    })
                    .map(key)
                    .collect();
                assert_eq!(ours, theirs, "evictions with {flags:?}");
            }
        }
        combos += 1;
    }
    assert_eq!(combos, 8);
}

#[test]
fn kubectl_server_dry_run_passes_what_the_budget_spreads_over_two_waves() {
    let sb = sandbox(&["drainplan/waves"]);
    let plan = json(&kubectl_drainplan(&sb, &["t1", "t2", "-o", "json"]));
    assert_eq!(plan["verdict"], "safe");
    let waves: Vec<Vec<String>> = plan["waves"]
        .as_array()
        .expect("waves")
        .iter()
        .map(|w| serde_json::from_value(w["nodes"].clone()).expect("nodes"))
        .collect();
    assert_eq!(waves, [vec!["t1".to_string()], vec!["t2".to_string()]]);
    assert_eq!(pod(&plan, "web-8c9d0-k1k1k")["wave"], 1);
    assert_eq!(pod(&plan, "web-8c9d0-k2k2k")["wave"], 2);
    let web = &plan["pdbs"][0];
    assert_eq!(
        (web["allowed"].as_i64(), web["evictions"].as_i64()),
        (Some(1), Some(2))
    );
    // Room shrinks wave by wave on the receiving nodes, never below zero.
    let free = |w: usize| {
        plan["waves"][w]["capacityAfter"]["total"]["cpuMillis"]["free"]
            .as_i64()
            .unwrap_or(-1)
    };
    let before = plan["capacityBefore"]["cpuMillis"]["free"]
        .as_i64()
        .unwrap_or(-1);
    assert_eq!(before - free(0), 350, "web 250m + api 100m");
    assert_eq!(free(0) - free(1), 350);
    assert!(
        !plan["waves"][0]["capacityAfter"]["nodes"]
            .as_array()
            .expect("nodes")
            .is_empty()
    );

    // kubectl's server-side dry run lets both budgeted evictions through at once: a dry-run
    // eviction does not charge the budget.
    if suite_tests::kubectl_available() {
        let out = kubectl(
            &sb,
            &["drain", "t1", "t2", "--dry-run=server", "--timeout=20s"],
        );
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        for p in ["waves/web-8c9d0-k1k1k", "waves/web-8c9d0-k2k2k"] {
            assert!(
                stdout.contains(&format!("evicting pod {p} (server dry run)")),
                "{stdout}"
            );
        }
    }
}

#[test]
fn too_little_room_names_the_constraint_like_the_scheduler() {
    let sb = sandbox(&["drainplan/nocapacity"]);
    let plan = json(&drainplan(&sb, &["t", "-o", "json"]));
    let msg = |name: &str| {
        pod(&plan, name)["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let prefix = "fits on no node outside the drain: 0/4 nodes are available: ";
    assert_eq!(
        msg("hungry-2c3d4-bbbbb"),
        format!(
            "{prefix}1 Insufficient cpu, 1 Too many pods, 1 node(s) had untolerated taint {{gpu: true}}, 1 node(s) were unschedulable."
        )
    );
    assert_eq!(
        msg("trainer-3d4e5-ccccc"),
        format!(
            "{prefix}1 Too many pods, 1 node(s) were unschedulable, 3 Insufficient nvidia.com/gpu."
        )
    );
    assert_eq!(
        msg("picky-4e5f6-ddddd"),
        format!(
            "{prefix}1 Too many pods, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {{gpu: true}}, 1 node(s) were unschedulable."
        )
    );
    assert_eq!(
        msg("lonely-5f6a7-eeeee"),
        format!(
            "{prefix}1 Too many pods, 1 node(s) didn't match pod anti-affinity rules, 1 node(s) had untolerated taint {{gpu: true}}, 1 node(s) were unschedulable."
        )
    );
    for p in plan["pods"].as_array().expect("pods") {
        assert_eq!(p["reason"], "NoCapacity", "{p}");
    }
}

#[test]
fn outputs_table_wide_yaml_and_names() {
    let sb = sandbox(&["drainplan/pools"]);
    let out = kubectl_drainplan(&sb, &["-l", "pool=old", "--ignore-daemonsets"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (stdout, _) = text(&out);
    assert!(
        stdout.starts_with("safe: drain 2 nodes in 2 waves: 4 pods evicted, 0 deleted, 2 stay\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("wave 1: old-1") && stdout.contains("wave 2: old-2"),
        "{stdout}"
    );
    assert!(stdout.contains("room after wave 2: "), "{stdout}");
    let wide = text(&drainplan(
        &sb,
        &["-l", "pool=old", "--ignore-daemonsets", "-o", "wide"],
    ))
    .0;
    assert!(
        wide.contains("OWNER") && wide.contains("replicaset/pools/web-1a2b3"),
        "{wide}"
    );
    let yaml = text(&drainplan(
        &sb,
        &["-l", "pool=old", "--ignore-daemonsets", "-o", "yaml"],
    ))
    .0;
    assert!(
        yaml.contains("kind: DrainPlan") && yaml.contains("verdict: safe"),
        "{yaml}"
    );
    let names = text(&drainplan(
        &sb,
        &["-l", "pool=old", "--ignore-daemonsets", "-o", "name"],
    ))
    .0;
    assert_eq!(
        names.lines().collect::<Vec<_>>(),
        [
            "pod/pools/web-1a2b3-w1w1w",
            "pod/pools/worker-2b3c4-v1v1v",
            "pod/pools/web-1a2b3-w2w2w",
            "pod/pools/worker-2b3c4-v2v2v"
        ]
    );
    // Without --ignore-daemonsets kubectl refuses, and so does the plan.
    let out = drainplan(&sb, &["-l", "pool=old", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["summary"]["blockers"], 2);
}

#[test]
fn api_cost_is_one_list_per_type() {
    let sb = sandbox(&["drainplan/reasons"]);
    sb.reset_request_count();
    let out = drainplan(&sb, &["t1", "--stats", "-o", "json"]);
    let (_, stderr) = text(&out);
    // nodes, pods, PDBs; then DaemonSets, claims and volumes (t1 has pods needing them).
    assert!(stderr.contains("api requests: 6 "), "{stderr}");
    assert_eq!(sb.request_count(), 6);
    // A node whose pods need none of the optional lists: three requests.
    sb.reset_request_count();
    drainplan(&sb, &["d1", "-o", "json"]);
    assert!(sb.request_count() <= 4, "{}", sb.request_count());
}

#[test]
fn bad_input_is_exit_2_with_one_error_line() {
    let sb = sandbox(&["drainplan/waves"]);
    for (args, needle) in [
        (vec![], "name the nodes to drain"),
        (vec!["nope"], "node \"nope\" not found"),
        (vec!["-l", "pool=none"], "no nodes match the selector"),
        (vec!["t1", "-l", "a=b"], "not both"),
        (vec!["t1", "--dry-run"], "apply to --execute"),
        (vec!["t1", "t1"], "named twice"),
        (vec!["-l", "a in (b"], "unable to parse"),
    ] {
        let out = drainplan(&sb, &args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"));
    }
}
