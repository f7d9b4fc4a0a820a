//! Authentication (401) and deny-rule authorisation (403, access reviews).

mod api_support;
use api_support::*;
use serde_json::json;

#[tokio::test]
async fn wrong_or_missing_token_is_401_status() {
    let sb = start();
    let mut cfg = config(&sb, None).await;
    cfg.auth_info.token = Some("wrong".to_string().into());
    let c = kube::Client::try_from(cfg).expect("client");
    let r = get(&c, "/api/v1/pods").await;
    assert_eq!(r.code, 401);
    let s = r.json();
    assert_eq!(
        (
            s["kind"].as_str(),
            s["status"].as_str(),
            s["reason"].as_str(),
            s["code"].as_u64()
        ),
        (
            Some("Status"),
            Some("Failure"),
            Some("Unauthorized"),
            Some(401)
        )
    );
    let mut cfg = config(&sb, None).await;
    cfg.auth_info.token = None;
    let c = kube::Client::try_from(cfg).expect("client");
    assert_eq!(get(&c, "/api/v1/pods").await.code, 401);
}

#[tokio::test]
async fn deny_rule_gives_real_forbidden_status() {
    let sb = start();
    let c = client_as(&sb, "alice").await;
    let r = get(&c, "/api/v1/namespaces/jobs/pods").await;
    assert_eq!(r.code, 403);
    let s = r.json();
    assert_eq!(s["reason"], "Forbidden");
    assert_eq!(
        s["message"],
        "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"jobs\""
    );
    assert_eq!(s["details"]["kind"], "pods");
    // Other namespaces and verbs stay allowed.
    assert_eq!(
        get(&c, "/api/v1/namespaces/jobs/pods/batch-1").await.code,
        200
    );
    assert_eq!(get(&c, "/api/v1/namespaces/shop/pods").await.code, 200);
    let r = get(&c, "/api/v1/namespaces/shop/secrets/x").await;
    assert_eq!(
        r.json()["message"],
        "secrets \"x\" is forbidden: User \"alice\" cannot get resource \"secrets\" in API group \"\" in the namespace \"shop\""
    );
}

#[tokio::test]
async fn access_reviews_follow_deny_rules() {
    let sb = start();
    let review = |ns: &str| {
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": ns, "verb": "list", "resource": "pods"}}})
    };
    let alice = client_as(&sb, "alice").await;
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let r = send(
        &alice,
        "POST",
        path,
        Some("application/json"),
        Some(review("jobs")),
    )
    .await;
    assert_eq!(r.code, 201);
    assert_eq!(r.json()["status"]["allowed"], false);
    let r = send(
        &alice,
        "POST",
        path,
        Some("application/json"),
        Some(review("shop")),
    )
    .await;
    assert_eq!(r.json()["status"]["allowed"], true);
    let admin = client(&sb).await;
    let r = send(
        &admin,
        "POST",
        path,
        Some("application/json"),
        Some(review("jobs")),
    )
    .await;
    assert_eq!(r.json()["status"]["allowed"], true);
    let rules = send(&alice, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", Some("application/json"),
        Some(json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": "jobs"}}))).await.json();
    let pods = rules["status"]["resourceRules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["resources"] == json!(["pods"]) && r["apiGroups"] == json!([""]))
        .cloned()
        .expect("pods rule");
    assert!(
        !pods["verbs"]
            .as_array()
            .expect("verbs")
            .contains(&json!("list"))
    );
}

#[tokio::test]
async fn whoami_and_service_account_tokens() {
    let sb = start();
    let alice = client_as(&sb, "alice").await;
    let r = send(
        &alice,
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        Some("application/json"),
        Some(json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})),
    )
    .await;
    assert_eq!(r.json()["status"]["userInfo"]["username"], "alice");
    let admin = client(&sb).await;
    send(
        &admin,
        "POST",
        "/api/v1/namespaces/shop/serviceaccounts",
        Some("application/json"),
        Some(json!({"metadata": {"name": "bot"}})),
    )
    .await;
    let r = send(
        &admin,
        "POST",
        "/api/v1/namespaces/shop/serviceaccounts/bot/token",
        Some("application/json"),
        Some(json!({"spec": {"expirationSeconds": 600}})),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.text);
    // A JWT, as real bound tokens are (header.claims.signature).
    assert_eq!(
        r.json()["status"]["token"]
            .as_str()
            .map(|t| t.split('.').count()),
        Some(3)
    );
    let r = send(
        &admin,
        "POST",
        "/api/v1/namespaces/shop/serviceaccounts/nope/token",
        Some("application/json"),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.code, 404);
}
