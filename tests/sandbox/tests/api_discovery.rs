//! Discovery advertises only what is served: walk `/api`, `/apis` and every
//! group-version (plain and aggregated discovery, which must agree) and call
//! every advertised verb of every resource and subresource once. Nothing may
//! answer 405 or the "no such route" 404 (a 404 for the probe object itself
//! is fine: the route exists).

mod api_support;
use api_support::*;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const NO_ROUTE: &str = "the server could not find the requested resource";

/// (group, version, resource or resource/subresource, namespaced, verbs)
type Entry = (String, String, String, bool, BTreeSet<String>);

fn verbs(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

async fn plain_discovery(c: &kube::Client) -> BTreeSet<Entry> {
    let mut gvs: Vec<(String, String)> = get(c, "/api").await.json()["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| (String::new(), v.as_str().unwrap_or("").to_string()))
        .collect();
    for g in get(c, "/apis").await.json()["groups"]
        .as_array()
        .expect("groups")
    {
        for v in g["versions"].as_array().expect("versions") {
            gvs.push((
                g["name"].as_str().unwrap_or("").to_string(),
                v["version"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    let mut out = BTreeSet::new();
    for (group, version) in gvs {
        let path = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let list = get(c, &path).await;
        assert_eq!(list.code, 200, "{path}: {}", list.text);
        for r in list.json()["resources"].as_array().expect("resources") {
            out.insert((
                group.clone(),
                version.clone(),
                r["name"].as_str().unwrap_or("").to_string(),
                r["namespaced"].as_bool().unwrap_or(false),
                verbs(&r["verbs"]),
            ));
        }
    }
    out
}

async fn aggregated_discovery(c: &kube::Client) -> BTreeSet<Entry> {
    let mut out = BTreeSet::new();
    for path in ["/api", "/apis"] {
        let doc = get_accept(c, path, AGGREGATED).await;
        assert_eq!(doc.content_type, AGGREGATED, "{path}");
        for item in doc.json()["items"].as_array().expect("items") {
            let group = item["metadata"]["name"].as_str().unwrap_or("").to_string();
            for v in item["versions"].as_array().expect("versions") {
                let version = v["version"].as_str().unwrap_or("").to_string();
                for r in v["resources"].as_array().expect("resources") {
                    let plural = r["resource"].as_str().unwrap_or("").to_string();
                    let namespaced = r["scope"] == "Namespaced";
                    out.insert((
                        group.clone(),
                        version.clone(),
                        plural.clone(),
                        namespaced,
                        verbs(&r["verbs"]),
                    ));
                    for s in r["subresources"].as_array().into_iter().flatten() {
                        let sub = s["subresource"].as_str().unwrap_or("");
                        out.insert((
                            group.clone(),
                            version.clone(),
                            format!("{plural}/{sub}"),
                            namespaced,
                            verbs(&s["verbs"]),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Status code and (for errors) the message, without waiting for a watch
/// stream's body.
async fn call(c: &kube::Client, method: &str, path: &str) -> (u16, String) {
    let mut b = http::Request::builder().method(method).uri(path);
    let body = match method {
        "POST" | "PUT" => {
            b = b.header("content-type", "application/json");
            serde_json::to_vec(&json!({})).expect("json")
        }
        "PATCH" => {
            b = b.header("content-type", "application/merge-patch+json");
            b"{}".to_vec()
        }
        _ => Vec::new(),
    };
    let resp = c
        .send(b.body(kube::client::Body::from(body)).expect("request"))
        .await
        .expect("response");
    let code = resp.status().as_u16();
    if code < 400 {
        return (code, String::new());
    }
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let status: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (code, status["message"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn every_advertised_verb_is_served() {
    let sb = start();
    let c = client(&sb).await;
    let plain = plain_discovery(&c).await;
    let aggregated = aggregated_discovery(&c).await;
    assert_eq!(plain, aggregated, "plain and aggregated discovery differ");
    let mut failures = Vec::new();
    let mut calls = 0;
    for (group, version, name, namespaced, verbs) in &plain {
        let base = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let scope = if *namespaced { "/namespaces/shop" } else { "" };
        let (plural, sub) = match name.split_once('/') {
            Some((p, s)) => (p, Some(s)),
            None => (name.as_str(), None),
        };
        let object = match sub {
            Some(s) => format!("{base}{scope}/{plural}/walk-probe/{s}"),
            None => format!("{base}{scope}/{plural}/walk-probe"),
        };
        let collection = format!("{base}{scope}/{plural}");
        for verb in verbs {
            let (method, path) = match (verb.as_str(), sub) {
                ("get", _) => ("GET", object.clone()),
                ("list", None) => ("GET", collection.clone()),
                ("watch", None) => ("GET", format!("{collection}?watch=1&timeoutSeconds=1")),
                ("create", Some(_)) => ("POST", object.clone()),
                ("create", None) => ("POST", collection.clone()),
                ("update", _) => ("PUT", object.clone()),
                ("patch", _) => ("PATCH", object.clone()),
                ("delete", _) => ("DELETE", object.clone()),
                // A selector nothing matches: the route is exercised, no data lost.
                ("deletecollection", None) => {
                    ("DELETE", format!("{collection}?labelSelector=walk%3Dprobe"))
                }
                (other, _) => {
                    failures.push(format!("{name}: unexpected verb {other}"));
                    continue;
                }
            };
            calls += 1;
            let (code, message) = call(&c, method, &path).await;
            if code == 405 || (code == 404 && message == NO_ROUTE) {
                failures.push(format!("{verb} {name}: {method} {path} → {code} {message}"));
            }
        }
    }
    assert!(
        calls > 300,
        "only {calls} calls: discovery walk found too little"
    );
    assert!(
        failures.is_empty(),
        "advertised but not served:\n{}",
        failures.join("\n")
    );
    let names: Vec<&str> = plain.iter().map(|e| e.2.as_str()).collect();
    for served in [
        "pods/binding",
        "pods/ephemeralcontainers",
        "pods/exec",
        "certificatesigningrequests/approval",
    ] {
        assert!(names.contains(&served), "{served} missing from discovery");
    }
    for unserved in [
        "pods/attach",
        "pods/portforward",
        "pods/proxy",
        "services/proxy",
    ] {
        assert!(
            !names.contains(&unserved),
            "{unserved} advertised but not served"
        );
    }
}
