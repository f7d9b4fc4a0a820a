//! ServiceAccount tokens as credentials and RBAC authorisation from the
//! Roles, ClusterRoles and bindings in the sandbox: what is bound is allowed,
//! everything else is a real 403; access reviews and TokenReview agree.

mod api_support;
use api_support::*;
use serde_json::{Value, json};

fn sandbox() -> kube_sandbox::Sandbox {
    start_with(&["basic", "rbac"], &[])
}

async fn with_token(sb: &kube_sandbox::Sandbox, token: &str) -> kube::Client {
    let mut cfg = config(sb, None).await;
    cfg.auth_info.token = Some(token.to_string().into());
    kube::Client::try_from(cfg).expect("client")
}

async fn post(c: &kube::Client, path: &str, body: Value) -> Reply {
    send(c, "POST", path, Some("application/json"), Some(body)).await
}

async fn token_for(admin: &kube::Client, ns: &str, sa: &str, body: Value) -> Reply {
    post(
        admin,
        &format!("/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token"),
        body,
    )
    .await
}

#[tokio::test]
async fn service_account_tokens_are_authorised_by_their_bindings() {
    let sb = sandbox();
    let admin = client(&sb).await;
    let r = token_for(&admin, "jobs", "runner", json!({"spec": {}})).await;
    assert_eq!(r.code, 201, "{}", r.text);
    let issued = r.json();
    assert_eq!(issued["spec"]["expirationSeconds"], 3600);
    let runner = with_token(&sb, issued["status"]["token"].as_str().expect("token")).await;

    // The Role's verbs, resources and subresources.
    assert_eq!(get(&runner, "/api/v1/namespaces/jobs/pods").await.code, 200);
    assert_eq!(
        get(&runner, "/api/v1/namespaces/jobs/pods/batch-1/log")
            .await
            .code,
        200
    );
    let denied = get(&runner, "/api/v1/namespaces/shop/pods").await;
    assert_eq!(denied.code, 403);
    assert_eq!(
        denied.json()["message"],
        "pods is forbidden: User \"system:serviceaccount:jobs:runner\" cannot list resource \"pods\" in API group \"\" in the namespace \"shop\""
    );
    let evict = post(
        &runner,
        "/api/v1/namespaces/jobs/pods/batch-1/eviction",
        json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "batch-1"}}),
    )
    .await;
    assert_eq!(evict.code, 403);
    assert_eq!(
        evict.json()["message"],
        "pods \"batch-1\" is forbidden: User \"system:serviceaccount:jobs:runner\" cannot create resource \"pods/eviction\" in API group \"\" in the namespace \"jobs\""
    );
    // resourceNames: one ConfigMap, by name only.
    assert_eq!(
        get(&runner, "/api/v1/namespaces/jobs/configmaps/allowed")
            .await
            .code,
        200
    );
    assert_eq!(
        get(&runner, "/api/v1/namespaces/jobs/configmaps/other")
            .await
            .code,
        403
    );
    assert_eq!(
        get(&runner, "/api/v1/namespaces/jobs/configmaps")
            .await
            .code,
        403
    );
    // Discovery comes from the bootstrap system:discovery binding.
    assert_eq!(get(&runner, "/apis").await.code, 200);
    assert_eq!(get(&runner, "/version").await.code, 200);

    // whoami as the authenticator sees it.
    let me = post(
        &runner,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
    )
    .await
    .json();
    let info = &me["status"]["userInfo"];
    assert_eq!(info["username"], "system:serviceaccount:jobs:runner");
    assert_eq!(
        info["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:jobs",
            "system:authenticated"
        ])
    );

    // Access reviews answer from the same evaluation.
    let review = |verb: &str, ns: &str, resource: &str, sub: &str| {
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "namespace": ns, "resource": resource,
                "subresource": sub}}})
    };
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    for (verb, ns, resource, sub, allowed) in [
        ("list", "jobs", "pods", "", true),
        ("get", "jobs", "pods", "log", true),
        ("delete", "jobs", "pods", "", false),
        ("list", "shop", "pods", "", false),
    ] {
        let r = post(&runner, path, review(verb, ns, resource, sub))
            .await
            .json();
        assert_eq!(
            r["status"]["allowed"], allowed,
            "{verb} {ns} {resource}/{sub}: {r}"
        );
    }
    let rules = post(
        &runner,
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": "jobs"}}),
    )
    .await
    .json();
    assert_eq!(rules["status"]["incomplete"], false);
    let granted = rules["status"]["resourceRules"]
        .as_array()
        .expect("rules")
        .iter()
        .any(|r| r["resources"] == json!(["pods", "pods/log"]));
    assert!(granted, "{rules}");

    // The token dies with its ServiceAccount.
    let gone = send(
        &admin,
        "DELETE",
        "/api/v1/namespaces/jobs/serviceaccounts/runner",
        None,
        None,
    )
    .await;
    assert_eq!(gone.code, 200);
    assert_eq!(get(&runner, "/api/v1/namespaces/jobs/pods").await.code, 401);
}

#[tokio::test]
async fn groups_wildcards_and_rbac_users() {
    let sb = sandbox();
    // carol is in `ops`, bound cluster-wide to nodes with verbs `*`.
    let carol = client_as(&sb, "carol").await;
    assert_eq!(get(&carol, "/api/v1/nodes").await.code, 200);
    let patched = send(
        &carol,
        "PATCH",
        "/api/v1/nodes/node-1",
        Some("application/merge-patch+json"),
        Some(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await;
    assert_eq!(patched.code, 200, "{}", patched.text);
    // `*/scale` in any group, and nothing else.
    assert_eq!(
        get(
            &carol,
            "/apis/apps/v1/namespaces/shop/deployments/web/scale"
        )
        .await
        .code,
        200
    );
    let r = get(&carol, "/apis/apps/v1/namespaces/shop/deployments/web").await;
    assert_eq!(r.code, 403);
    assert_eq!(
        r.json()["message"],
        "deployments.apps \"web\" is forbidden: User \"carol\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"shop\""
    );
    // dave is named by a RoleBinding in `jobs` only.
    let dave = client_as(&sb, "dave").await;
    assert_eq!(get(&dave, "/api/v1/namespaces/jobs/pods").await.code, 200);
    assert_eq!(get(&dave, "/api/v1/nodes").await.code, 403);
    // A binding created through the API takes effect at once.
    let admin = client(&sb).await;
    let crb = post(
        &admin,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "dave-views"},
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "dave"}]}),
    )
    .await;
    assert_eq!(crb.code, 201, "{}", crb.text);
    assert_eq!(get(&dave, "/apis/apps/v1/deployments").await.code, 200);
    assert_eq!(
        get(&dave, "/api/v1/namespaces/shop/secrets").await.code,
        403
    );
    // Deny-rule users are unchanged: alice may list pods outside `jobs`.
    let alice = client_as(&sb, "alice").await;
    assert_eq!(get(&alice, "/api/v1/nodes").await.code, 200);
}

#[tokio::test]
async fn token_lifetimes_and_token_review() {
    let sb = sandbox();
    let admin = client(&sb).await;
    // A fixture token works until its expiry; an expired one is 401.
    let fixture = with_token(&sb, "runner-fixture-token").await;
    assert_eq!(
        get(&fixture, "/api/v1/namespaces/jobs/pods").await.code,
        200
    );
    let expired = with_token(&sb, "runner-expired-token").await;
    let r = get(&expired, "/api/v1/namespaces/jobs/pods").await;
    assert_eq!(r.code, 401);
    assert_eq!(r.json()["reason"], "Unauthorized");
    // The real minimum lifetime is ten minutes.
    let short = token_for(
        &admin,
        "jobs",
        "runner",
        json!({"spec": {"expirationSeconds": 60}}),
    )
    .await;
    assert_eq!(short.code, 422, "{}", short.text);
    assert!(
        short.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("may not specify a duration less than 10 minutes"))
    );
    let issued = token_for(
        &admin,
        "jobs",
        "runner",
        json!({"spec": {"audiences": ["api"], "expirationSeconds": 600}}),
    )
    .await
    .json();
    let token = issued["status"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    let claims = token.split('.').nth(1).expect("claims");
    use base64::Engine;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .expect("base64"),
    )
    .expect("json");
    assert_eq!(claims["sub"], "system:serviceaccount:jobs:runner");
    assert_eq!(claims["aud"], json!(["api"]));
    assert_eq!(
        claims["exp"]
            .as_i64()
            .zip(claims["iat"].as_i64())
            .map(|(e, i)| e - i),
        Some(600)
    );

    let review = |token: &str, audiences: Value| {
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
            "spec": {"token": token, "audiences": audiences}})
    };
    let path = "/apis/authentication.k8s.io/v1/tokenreviews";
    let ok = post(&admin, path, review(&token, json!(["api"]))).await;
    assert_eq!(ok.code, 201, "{}", ok.text);
    let status = &ok.json()["status"];
    assert_eq!(status["authenticated"], true);
    assert_eq!(status["audiences"], json!(["api"]));
    assert_eq!(
        status["user"]["username"],
        "system:serviceaccount:jobs:runner"
    );
    let wrong_audience = post(&admin, path, review(&token, json!(["other"])))
        .await
        .json();
    assert!(wrong_audience["status"]["authenticated"].is_null());
    let stale = post(&admin, path, review("runner-expired-token", json!([])))
        .await
        .json();
    assert!(
        stale["status"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("expired"))
    );
    // Creating TokenReviews needs permission: the runner has none.
    let runner = with_token(&sb, &token).await;
    assert_eq!(
        post(&runner, path, review(&token, json!([]))).await.code,
        403
    );
}
