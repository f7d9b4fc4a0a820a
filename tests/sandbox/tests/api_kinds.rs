//! Kinds a fresh cluster serves besides the workloads: APIServices,
//! ComponentStatuses (deprecated, with the warning), CertificateSigningRequests
//! with their approval, and the pod subresources `binding` and
//! `ephemeralcontainers`.

mod api_support;
use api_support::*;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

async fn post(c: &kube::Client, path: &str, body: Value) -> Reply {
    send(c, "POST", path, Some("application/json"), Some(body)).await
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn one_api_service_per_served_group_version() {
    let sb = start();
    let c = client(&sb).await;
    let list = get(&c, "/apis/apiregistration.k8s.io/v1/apiservices")
        .await
        .json();
    let have = names(&list);
    let mut want = vec!["v1.".to_string()];
    for g in get(&c, "/apis").await.json()["groups"]
        .as_array()
        .expect("groups")
    {
        for v in g["versions"].as_array().expect("versions") {
            want.push(format!(
                "{}.{}",
                v["version"].as_str().unwrap_or(""),
                g["name"].as_str().unwrap_or("")
            ));
        }
    }
    want.sort();
    assert_eq!(have, want);
    let apps = get(&c, "/apis/apiregistration.k8s.io/v1/apiservices/v1.apps")
        .await
        .json();
    assert_eq!(apps["spec"]["group"], "apps");
    assert!(apps["spec"].get("service").is_none(), "Local: no service");
    let available = &apps["status"]["conditions"][0];
    assert_eq!(
        (
            &available["type"],
            &available["status"],
            &available["reason"]
        ),
        (&json!("Available"), &json!("True"), &json!("Local"))
    );

    // A new CRD group gets its APIService; deleting the CRD removes it.
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.toys.io"},
        "spec": {"group": "toys.io", "scope": "Namespaced",
            "names": {"kind": "Gadget", "plural": "gadgets"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object"}}}]}});
    let path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    assert_eq!(post(&c, path, crd).await.code, 201);
    let gadgets = get(&c, "/apis/apiregistration.k8s.io/v1/apiservices/v1.toys.io").await;
    assert_eq!(gadgets.code, 200, "{}", gadgets.text);
    assert_eq!(
        gadgets.json()["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"],
        "true"
    );
    let deleted = send(&c, "DELETE", &format!("{path}/gadgets.toys.io"), None, None).await;
    assert_eq!(deleted.code, 200);
    assert_eq!(
        get(&c, "/apis/apiregistration.k8s.io/v1/apiservices/v1.toys.io")
            .await
            .code,
        404
    );
}

#[tokio::test]
async fn component_statuses_are_read_only_and_deprecated() {
    let sb = start();
    let c = client(&sb).await;
    let req = http::Request::builder()
        .uri("/api/v1/componentstatuses")
        .body(kube::client::Body::from(Vec::new()))
        .expect("request");
    let resp = c.send(req).await.expect("response");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers().get("warning").and_then(|v| v.to_str().ok()),
        Some("299 - \"v1 ComponentStatus is deprecated in v1.19+\"")
    );
    let list = get(&c, "/api/v1/componentstatuses").await.json();
    assert_eq!(names(&list), ["controller-manager", "etcd-0", "scheduler"]);
    let scheduler = get(&c, "/api/v1/componentstatuses/scheduler").await.json();
    assert_eq!(
        scheduler["conditions"],
        json!([{"type": "Healthy", "status": "True", "message": "ok"}])
    );
    let create = post(
        &c,
        "/api/v1/componentstatuses",
        json!({"metadata": {"name": "x"}}),
    )
    .await;
    assert_eq!(create.code, 405);
}

#[tokio::test]
async fn certificate_signing_requests_are_approved_through_approval() {
    let sb = start();
    let csrs: Api<CertificateSigningRequest> = Api::all(client(&sb).await);
    let csr: CertificateSigningRequest = serde_json::from_value(json!({
        "metadata": {"name": "fake"},
        "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
            "signerName": "kubernetes.io/kube-apiserver-client",
            "expirationSeconds": 86400, "usages": ["client auth"], "username": "mallory"}}))
    .expect("csr");
    let created = csrs
        .create(&PostParams::default(), &csr)
        .await
        .expect("create");
    let spec = created.spec;
    assert_eq!(
        spec.username.as_deref(),
        Some("admin"),
        "the requester, not the client's claim"
    );
    assert!(created.status.is_none_or(|s| s.conditions.is_none()));

    let approval = json!({"status": {"conditions": [{"type": "Approved", "status": "True",
        "reason": "KubectlApprove", "message": "approved in a test"}]}});
    let approved = csrs
        .patch_approval("fake", &PatchParams::default(), &Patch::Merge(&approval))
        .await
        .expect("approval");
    let cond = approved
        .status
        .and_then(|s| s.conditions)
        .expect("conditions");
    assert_eq!(
        (cond[0].type_.as_str(), cond[0].status.as_str()),
        ("Approved", "True")
    );
    assert!(cond[0].last_update_time.is_some());
    let read = csrs.get_approval("fake").await.expect("get approval");
    assert_eq!(
        read.status.and_then(|s| s.conditions).map(|c| c.len()),
        Some(1)
    );

    // /status carries what a signer would write; spec stays as it was.
    let signed = json!({"status": {"certificate": "Y2VydA==", "conditions": [{"type": "Approved",
        "status": "True", "reason": "KubectlApprove"}]}, "spec": {"request": "Y2hhbmdlZA=="}});
    let after = csrs
        .patch_status("fake", &PatchParams::default(), &Patch::Merge(&signed))
        .await
        .expect("status");
    assert!(after.status.and_then(|s| s.certificate).is_some());
    assert_eq!(
        after.spec.request.0,
        b"-----BEGIN CERTIFICATE REQUEST-----\n".to_vec()
    );
    let invalid = send(
        &client(&sb).await,
        "POST",
        "/apis/certificates.k8s.io/v1/certificatesigningrequests",
        Some("application/json"),
        Some(json!({"metadata": {"name": "bad"}, "spec": {"signerName": "x", "usages": ["client auth"]}})),
    )
    .await;
    assert_eq!(invalid.code, 422, "{}", invalid.text);
}

#[tokio::test]
async fn a_binding_assigns_a_node_once() {
    let sb = start();
    let c = client(&sb).await;
    for name in ["p1", "p2"] {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"schedulerName": "my-scheduler", "containers": [{"name": "c", "image": "busybox:1.36"}]}});
        assert_eq!(
            post(&c, "/api/v1/namespaces/shop/pods", pod).await.code,
            201
        );
    }
    let binding = |pod: &str| {
        json!({"apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": pod, "annotations": {"scheduled-by": "test"}},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}})
    };
    let r = post(&c, "/api/v1/namespaces/shop/pods/p1/binding", binding("p1")).await;
    assert_eq!(r.code, 201, "{}", r.text);
    assert_eq!(r.json()["status"], "Success");
    let p1 = get(&c, "/api/v1/namespaces/shop/pods/p1").await.json();
    assert_eq!(p1["spec"]["nodeName"], "node-1");
    assert_eq!(p1["metadata"]["annotations"]["scheduled-by"], "test");
    let scheduled = p1["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["type"] == "PodScheduled")
        .cloned()
        .expect("PodScheduled");
    assert_eq!(scheduled["status"], "True");
    let again = post(&c, "/api/v1/namespaces/shop/pods/p1/binding", binding("p1")).await;
    assert_eq!(again.code, 409);
    assert_eq!(
        again.json()["message"],
        "Operation cannot be fulfilled on pods/binding \"p1\": pod p1 is already assigned to node \"node-1\""
    );
    // The `bindings` resource names the pod in the body.
    let r = post(&c, "/api/v1/namespaces/shop/bindings", binding("p2")).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let p2 = get(&c, "/api/v1/namespaces/shop/pods/p2").await.json();
    assert_eq!(p2["spec"]["nodeName"], "node-1");
    let missing = post(
        &c,
        "/api/v1/namespaces/shop/pods/nope/binding",
        binding("nope"),
    )
    .await;
    assert_eq!(missing.code, 404);
}

#[tokio::test]
async fn ephemeral_containers_are_added_never_changed() {
    let sb = start();
    let pods: Api<Pod> = Api::namespaced(client(&sb).await, "shop");
    // web-7d9f-a is a Running fixture pod.
    let before = pods
        .get_ephemeral_containers("web-7d9f-a")
        .await
        .expect("get");
    assert_eq!(before.spec.and_then(|s| s.ephemeral_containers), None);
    let debug = json!({"name": "debugger", "image": "busybox:1.36", "command": ["sh"]});
    let replace: Pod = serde_json::from_value(json!({"metadata": {"name": "web-7d9f-a"},
        "spec": {"containers": [], "ephemeralContainers": [debug]}}))
    .expect("pod");
    let after = pods
        .replace_ephemeral_containers("web-7d9f-a", &PostParams::default(), &replace)
        .await
        .expect("replace");
    let eph = after
        .spec
        .clone()
        .and_then(|s| s.ephemeral_containers)
        .expect("added");
    assert_eq!(eph.len(), 1);
    assert_eq!(eph[0].termination_message_policy.as_deref(), Some("File"));
    // The pod's other containers are untouched; the kubelet starts it.
    assert_eq!(after.spec.map(|s| s.containers.len()), Some(2));
    let status = after
        .status
        .and_then(|s| s.ephemeral_container_statuses)
        .expect("ephemeral status");
    assert!(
        status[0]
            .state
            .as_ref()
            .and_then(|s| s.running.as_ref())
            .is_some()
    );

    let second =
        json!({"spec": {"ephemeralContainers": [{"name": "debugger2", "image": "busybox:1.36"}]}});
    let patched = pods
        .patch_ephemeral_containers(
            "web-7d9f-a",
            &PatchParams::default(),
            &Patch::Strategic(second),
        )
        .await
        .expect("patch");
    assert_eq!(
        patched
            .spec
            .and_then(|s| s.ephemeral_containers)
            .map(|e| e.len()),
        Some(2)
    );
    let change =
        json!({"spec": {"ephemeralContainers": [{"name": "debugger", "image": "alpine"}]}});
    let err = pods
        .patch_ephemeral_containers(
            "web-7d9f-a",
            &PatchParams::default(),
            &Patch::Strategic(change),
        )
        .await
        .expect_err("existing ephemeral containers may not change");
    match err {
        kube::Error::Api(e) => {
            assert_eq!(e.code, 422);
            assert!(e.message.contains("may not be changed"), "{}", e.message);
        }
        other => panic!("{other}"),
    }
}
