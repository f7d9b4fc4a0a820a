//! kubectl's typed clients send protobuf bodies; the sandbox decodes the kinds
//! `kubectl create ...` and `kubectl auth can-i` use. Checked against what
//! kubectl itself would send (`--dry-run=client -o json`).

mod api_support;
use api_support::*;
use serde_json::Value;
use std::process::Command;

fn kubectl(sb: &kube_sandbox::Sandbox, args: &[&str]) -> (bool, String) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(sb.kubeconfig())
        .args(args)
        .output()
        .expect("kubectl on PATH");
    // stdout on success (and for `auth can-i`'s "no", which exits 1), else stderr.
    let text = if out.stdout.is_empty() {
        &out.stderr
    } else {
        &out.stdout
    };
    (
        out.status.success(),
        String::from_utf8_lossy(text).into_owned(),
    )
}

/// The object without server-set metadata, status and allocated addresses;
/// the client's dry run gets the API defaults a server adds (the sandbox's
/// own defaulting, so what is compared is what protobuf decoding produced).
fn comparable(mut v: Value, add_defaults: bool) -> Value {
    if add_defaults {
        let kind = v["kind"].as_str().unwrap_or("").to_string();
        let api_version = v["apiVersion"].as_str().unwrap_or("").to_string();
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        kube_sandbox::defaults::apply_kind(group, &kind, &mut v);
    }
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    if let Some(m) = v.get_mut("spec").and_then(Value::as_object_mut) {
        for k in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            m.remove(k);
        }
    }
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "namespace",
        ] {
            m.remove(k);
        }
    }
    v
}

#[test]
fn kubectl_create_typed_kinds_round_trip() {
    let sb = start();
    let cases: &[&[&str]] = &[
        &[
            "create",
            "deployment",
            "d1",
            "--image=nginx:1.27",
            "--replicas=3",
            "--port=8080",
        ],
        &["create", "configmap", "c1", "--from-literal=a=b"],
        &["create", "secret", "generic", "s1", "--from-literal=pw=x"],
        &["create", "serviceaccount", "sa1"],
        &["create", "service", "clusterip", "svc1", "--tcp=80:8080"],
        &[
            "create",
            "cronjob",
            "cj1",
            "--image=busybox",
            "--schedule=*/5 * * * *",
        ],
        &["create", "job", "j1", "--image=busybox"],
        &[
            "create",
            "role",
            "r1",
            "--verb=get,list",
            "--resource=pods,pods/log",
            "--resource-name=a",
        ],
        &[
            "create",
            "clusterrole",
            "cr1",
            "--verb=get",
            "--non-resource-url=/healthz",
        ],
        &["create", "clusterrole", "cr2", "--aggregation-rule=team=a"],
        &[
            "create",
            "rolebinding",
            "rb1",
            "--role=r1",
            "--serviceaccount=shop:bot",
            "--user=u",
            "--group=g",
        ],
        &[
            "create",
            "clusterrolebinding",
            "crb1",
            "--clusterrole=view",
            "--user=u",
        ],
    ];
    for args in cases {
        let mut want_args = vec!["-n", "shop", "-o", "json", "--dry-run=client"];
        want_args.extend_from_slice(args);
        let (ok, want) = kubectl(&sb, &want_args);
        assert!(ok, "{want}");
        let mut got_args = vec!["-n", "shop", "-o", "json"];
        got_args.extend_from_slice(args);
        let (ok, got) = kubectl(&sb, &got_args);
        assert!(ok, "{args:?}: {got}");
        let want: Value = serde_json::from_str(&want).expect("json");
        let got: Value = serde_json::from_str(&got).expect("json");
        // A Job's selector and its labels come from the Job strategy (uid).
        let mut got = comparable(got, false);
        if got["kind"] == "Job" {
            got["spec"].as_object_mut().map(|s| s.remove("selector"));
            got["spec"]["template"]["metadata"]
                .as_object_mut()
                .map(|m| m.remove("labels"));
        }
        assert_eq!(got, comparable(want, true), "{args:?}");
    }
    let (ok, out) = kubectl(&sb, &["create", "namespace", "fresh"]);
    assert!(ok, "{out}");
    let (_, out) = kubectl(
        &sb,
        &[
            "--context",
            "alice",
            "auth",
            "can-i",
            "list",
            "pods",
            "-n",
            "jobs",
        ],
    );
    assert_eq!(out.trim(), "no");
    let (ok, out) = kubectl(
        &sb,
        &[
            "--context",
            "alice",
            "auth",
            "can-i",
            "list",
            "pods",
            "-n",
            "shop",
        ],
    );
    assert!(ok && out.trim() == "yes", "{out}");
}
