//! The interruption suite: real SIGINT and SIGTERM sent to `backup restore`, `drainplan
//! --execute` and `rotate secret` at several points of their work (the sandbox slows their
//! writes with a latency fault so each point can be reached). Each run must exit 130 and
//! leave the cluster exactly as its output says (restore: object by object; drainplan:
//! the cordons listed and the pods not evicted; rotate: rolled back), and running the same
//! command again must complete the job.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kube_sandbox::Sandbox;
use serde_json::Value;
use suite_tests::state::Admin;
use suite_tests::{code, dump, json, plugin, run, sandbox_with_faults};

/// Start a plugin with both streams captured.
fn start(name: &str, sb: &Sandbox, args: &[&str]) -> Child {
    plugin(name, sb, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn kubectl-{name}: {e}"))
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {}", child.id());
}

/// Wait for the process and collect its output (both pipes drained in threads so a full
/// pipe never blocks it).
fn finish(mut child: Child) -> Output {
    let mut out = child.stdout.take().unwrap_or_else(|| panic!("stdout"));
    let mut err = child.stderr.take().unwrap_or_else(|| panic!("stderr"));
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).ok();
        v
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).ok();
        v
    });
    let status = child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
    Output {
        status,
        stdout: o.join().unwrap_or_default(),
        stderr: e.join().unwrap_or_default(),
    }
}

/// Poll `ready` every 50 ms until it holds (panics after 60 s, killing nothing: the
/// caller's child is killed when the test ends).
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---- backup restore ----

const DEMO: [&str; 3] = ["demo", "snapshots", "backup"];

/// Objects in `ns` (any resource), by `resource/name`.
fn objects_in(admin: &Admin, ns: &str) -> Vec<String> {
    admin
        .state()
        .objects
        .keys()
        .filter_map(|k| {
            let mut parts = k.splitn(3, '/');
            let (res, n, name) = (parts.next()?, parts.next()?, parts.next()?);
            (n == ns).then(|| format!("{res}/{name}"))
        })
        .collect()
}

#[test]
fn backup_restore_stops_at_a_safe_point_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Every create takes 250 ms: a restore of the demo namespace takes several seconds.
    let sb = sandbox_with_faults(&DEMO, &["verb=create,delay-ms=250"]);
    let admin = Admin::new(&sb);
    let archive = suite_tests::hypersdk_archive(&sb, dir.path(), "b.tar.zst");
    let a = archive.to_string_lossy().to_string();

    // (signal, target namespace, objects that must exist there before the signal)
    for (sig, target, at) in [
        ("INT", "int-early", 0),
        ("TERM", "int-middle", 6),
        ("INT", "int-late", 14),
    ] {
        let map = format!("hypersdk={target}");
        let child = start(
            "backup",
            &sb,
            &["restore", &a, "--namespace-map", &map, "-o", "json"],
        );
        wait_until(&format!("{at} objects restored into {target}"), || {
            admin.get(&format!("/api/v1/namespaces/{target}")).is_some()
                && objects_in(&admin, target).len() > at
        });
        signal(&child, sig);
        let out = finish(child);
        assert_eq!(code(&out), 130, "SIG{sig} at {at}\n{}", dump(&out));
        let report = json(&out);
        // Object by object: what the report says was created exists; nothing else of the
        // archive's namespace objects does.
        let live = objects_in(&admin, target);
        let mut created = 0;
        for o in report["objects"].as_array().cloned().unwrap_or_default() {
            let ns = o["object"]["namespace"].as_str().unwrap_or("");
            if ns != target {
                continue;
            }
            let name = o["object"]["name"].as_str().unwrap_or("");
            let kind = o["object"]["kind"].as_str().unwrap_or("").to_lowercase();
            let here = live.iter().any(|k| {
                k.split('/').nth(1) == Some(name) && k.starts_with(&kind[..kind.len().min(4)])
            });
            match o["outcome"].as_str() {
                Some("created") => {
                    created += 1;
                    assert!(here, "SIG{sig}: {o} reported created but absent: {live:?}");
                }
                Some("failed" | "wouldCreate") | None => {}
                Some(other) => assert!(
                    !(other == "notRestored" && here),
                    "SIG{sig}: {o} reported not restored but present"
                ),
            }
        }
        assert!(
            created >= at.min(1),
            "SIG{sig}: the report lists what was restored: {report:#}"
        );
        // Again: completes, and the namespace then matches the backup.
        let again = run(&mut plugin(
            "backup",
            &sb,
            &["restore", &a, "--namespace-map", &map],
        ));
        assert_eq!(code(&again), 0, "rerun after SIG{sig}\n{}", dump(&again));
        let diff = run(&mut plugin(
            "backup",
            &sb,
            &["diff", &a, "--namespace-map", &map],
        ));
        assert_eq!(
            code(&diff),
            0,
            "after the rerun {target} matches the backup\n{}",
            dump(&diff)
        );
    }
}

// ---- drainplan --execute ----

const DRAIN: [&str; 7] = [
    "-l",
    "pool=old",
    "--ignore-daemonsets",
    "--execute",
    "--yes",
    "-o",
    "json",
];

fn unschedulable(admin: &Admin, node: &str) -> bool {
    admin
        .get(&format!("/api/v1/nodes/{node}"))
        .is_some_and(|n| n["spec"]["unschedulable"] == Value::Bool(true))
}

fn pod_exists(admin: &Admin, key: &str) -> bool {
    let (ns, name) = key.split_once('/').unwrap_or(("", key));
    admin
        .get(&format!("/api/v1/namespaces/{ns}/pods/{name}"))
        .is_some()
}

#[test]
fn drainplan_execute_stops_at_a_safe_point_and_a_rerun_completes() {
    // (signal, the node whose cordon marks the point)
    for (sig, cordoned) in [("INT", "old-1"), ("TERM", "old-2")] {
        // Evictions take 3 s each: the run is inside a wave when the signal comes, with
        // room for a loaded CI machine between seeing the cordon and signalling (at
        // 1.5 s the last wave sometimes finished first).
        let sb = sandbox_with_faults(
            &["drainplan/pools"],
            &["resource=pods/eviction,delay-ms=3000"],
        );
        let admin = Admin::new(&sb);
        let child = start("drainplan", &sb, &DRAIN);
        wait_until(&format!("{cordoned} is cordoned"), || {
            unschedulable(&admin, cordoned)
        });
        std::thread::sleep(Duration::from_millis(300));
        signal(&child, sig);
        let out = finish(child);
        assert_eq!(
            code(&out),
            130,
            "SIG{sig} after cordoning {cordoned}\n{}",
            dump(&out)
        );
        let report = json(&out);
        assert_eq!(report["outcome"], "interrupted", "{report:#}");
        // The cordons listed are exactly the target nodes that are cordoned.
        let listed: Vec<String> = report["cordoned"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c["node"].as_str().map(str::to_string))
            .collect();
        for node in ["old-1", "old-2"] {
            assert_eq!(
                listed.contains(&node.to_string()),
                unschedulable(&admin, node),
                "SIG{sig}: {node} cordoned as listed {listed:?}"
            );
        }
        // Pods listed as remaining were not evicted; pods listed as evicted are gone.
        for p in report["remaining"].as_array().cloned().unwrap_or_default() {
            let key = p.as_str().unwrap_or("");
            assert!(
                pod_exists(&admin, key),
                "SIG{sig}: remaining pod {key} is still there"
            );
        }
        for w in report["waves"].as_array().cloned().unwrap_or_default() {
            for p in w["evicted"].as_array().cloned().unwrap_or_default() {
                let key = p.as_str().unwrap_or("");
                wait_until(&format!("evicted {key} is gone"), || {
                    !pod_exists(&admin, key)
                });
            }
        }
        // Again: completes the drain.
        let again = run(&mut plugin("drainplan", &sb, &DRAIN));
        assert_eq!(code(&again), 0, "rerun after SIG{sig}\n{}", dump(&again));
        assert!(unschedulable(&admin, "old-1") && unschedulable(&admin, "old-2"));
        let pods = admin
            .get("/api/v1/namespaces/pools/pods")
            .unwrap_or(Value::Null);
        for p in pods["items"].as_array().cloned().unwrap_or_default() {
            let node = p["spec"]["nodeName"].as_str().unwrap_or("");
            let name = p["metadata"]["name"].as_str().unwrap_or("");
            assert!(
                !node.starts_with("old-") || name.starts_with("agent-"),
                "after the rerun only DaemonSet pods stay on old nodes: {name} on {node}"
            );
        }
    }
}

// ---- rotate secret ----

const ROTATE: [&str; 10] = [
    "secret",
    "vsphere-credentials",
    "-n",
    "vsphere",
    "--from-literal",
    "password=Interrupted-Passw0rd-1",
    "--keep",
    "username",
    "-o",
    "json",
];

const CONSUMERS: [&str; 4] = [
    "/apis/apps/v1/namespaces/vsphere/deployments/exporter",
    "/apis/apps/v1/namespaces/vsphere/deployments/uploader",
    "/apis/apps/v1/namespaces/vsphere/statefulsets/inventory",
    "/apis/batch/v1/namespaces/vsphere/cronjobs/nightly-report",
];

/// The versioned Secret names a consumer's spec mentions (`vsphere-credentials-<hash>`).
fn versions_used(admin: &Admin, path: &str) -> Vec<String> {
    let spec = admin
        .get(path)
        .map(|o| o["spec"].to_string())
        .unwrap_or_default();
    let re =
        regex::Regex::new(r"vsphere-credentials-[0-9a-f]{10}").unwrap_or_else(|e| panic!("{e}"));
    let mut v: Vec<String> = re
        .find_iter(&spec)
        .map(|m| m.as_str().to_string())
        .collect();
    v.dedup();
    v
}

fn new_secret_exists(admin: &Admin) -> bool {
    admin
        .get(
            "/api/v1/namespaces/vsphere/secrets?labelSelector=rotate.kubectl-plugins.dev/base-name",
        )
        .and_then(|l| l["items"].as_array().map(|i| !i.is_empty()))
        .unwrap_or(false)
}

#[test]
fn rotate_secret_rolls_back_on_a_signal_and_a_rerun_completes() {
    // (signal, how far: 0 = once the new Secret exists, 2 = once two consumers use it)
    for (sig, point) in [("INT", 0usize), ("TERM", 2usize)] {
        // Patches take 700 ms each: the rotation is between consumers when the signal comes.
        let sb = sandbox_with_faults(
            &["rotate/vsphere"],
            &["verb=patch,namespace=vsphere,delay-ms=700"],
        );
        let admin = Admin::new(&sb);
        let child = start("rotate", &sb, &ROTATE);
        wait_until(&format!("point {point}"), || {
            if point == 0 {
                new_secret_exists(&admin)
            } else {
                CONSUMERS
                    .iter()
                    .filter(|c| !versions_used(&admin, c).is_empty())
                    .count()
                    >= point
            }
        });
        signal(&child, sig);
        let out = finish(child);
        assert_eq!(code(&out), 130, "SIG{sig} at point {point}\n{}", dump(&out));
        let report = json(&out);
        assert_eq!(report["outcome"], "interrupted", "{report:#}");
        // Rolled back, as the report says: no consumer uses the new version.
        for c in CONSUMERS {
            assert!(
                versions_used(&admin, c).is_empty(),
                "SIG{sig} at {point}: {c} still uses {:?}\n{report:#}",
                versions_used(&admin, c)
            );
        }
        assert!(
            report["leftOnNewVersion"]
                .as_array()
                .is_none_or(|a| a.is_empty()),
            "{report:#}"
        );
        // Again: completes; every consumer on the one new version.
        let again = run(&mut plugin("rotate", &sb, &ROTATE));
        assert_eq!(code(&again), 0, "rerun after SIG{sig}\n{}", dump(&again));
        let name = json(&again)["plan"]["secret"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        for c in CONSUMERS {
            assert_eq!(
                versions_used(&admin, c),
                vec![name.clone()],
                "{c} after the rerun"
            );
        }
    }
}
