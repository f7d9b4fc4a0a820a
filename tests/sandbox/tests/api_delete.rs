//! DELETE answers like each kind's real registry: the deleted object where
//! the registry sets `ReturnDeletedObject`, the marked object for Namespaces,
//! a success `Status` otherwise; typed kube-rs clients decode either.

mod api_support;
use api_support::*;
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, Service, ServiceAccount,
};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

async fn create<K>(api: &Api<K>, obj: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(obj).expect("object");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("create");
}

#[tokio::test]
async fn typed_deletes_decode_the_documented_response() {
    let sb = start();
    let c = client(&sb).await;
    let services: Api<Service> = Api::namespaced(c.clone(), "shop");
    create(
        &services,
        json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .await;
    let deleted = services
        .delete("web", &DeleteParams::default())
        .await
        .expect("delete");
    let svc = deleted.left().expect("a Service, not a Status");
    assert_eq!(svc.metadata.name.as_deref(), Some("web"));
    assert!(svc.spec.and_then(|s| s.cluster_ip).is_some());

    let accounts: Api<ServiceAccount> = Api::namespaced(c.clone(), "shop");
    create(&accounts, json!({"metadata": {"name": "robot"}})).await;
    let sa = accounts
        .delete("robot", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(sa.is_left(), "ServiceAccounts return the object");

    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), "shop");
    create(
        &claims,
        json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await;
    let pvc = claims
        .delete("data", &DeleteParams::default())
        .await
        .expect("delete")
        .left()
        .expect("a PersistentVolumeClaim");
    assert_eq!(pvc.status.and_then(|s| s.phase).as_deref(), Some("Pending"));

    // ConfigMaps have no ReturnDeletedObject: a Status with details.
    let maps: Api<ConfigMap> = Api::namespaced(c.clone(), "shop");
    let status = maps
        .delete("settings", &DeleteParams::default())
        .await
        .expect("delete")
        .right()
        .expect("a Status");
    assert_eq!(
        status.status,
        Some(kube::core::response::StatusSummary::Success)
    );
    assert_eq!(
        status.details.map(|d| (d.name, d.kind)),
        Some(("settings".to_string(), "configmaps".to_string()))
    );

    // A Namespace is answered as it starts terminating.
    let namespaces: Api<Namespace> = Api::all(c);
    create(&namespaces, json!({"metadata": {"name": "scratch"}})).await;
    let ns = namespaces
        .delete("scratch", &DeleteParams::default())
        .await
        .expect("delete")
        .left()
        .expect("a Namespace");
    assert!(ns.metadata.deletion_timestamp.is_some());
    assert_eq!(
        ns.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
}
