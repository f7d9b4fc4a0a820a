//! What a sandbox holds, read through a plain kube client (never a plugin's code): every
//! object of every listable resource with its uid and resourceVersion, for "nothing changed".
//!
//! The sandbox bumps one global resourceVersion on every write, so two equal
//! [`ClusterState`]s (objects and counter) mean no write happened in between.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::discovery::{Discovery, verbs};
use kube::{Api, Client};
use kube_sandbox::Sandbox;

/// One object as the state compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectState {
    pub uid: String,
    pub resource_version: String,
}

/// Every object by `resource[.group]/namespace/name` (namespace empty for cluster objects),
/// plus the highest list resourceVersion seen (the sandbox's write counter).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterState {
    pub objects: BTreeMap<String, ObjectState>,
    pub resource_version: u64,
}

impl ClusterState {
    /// What changed from `self` to `after`, one line per object (empty: nothing).
    pub fn changes_to(&self, after: &ClusterState) -> Vec<String> {
        let mut out = Vec::new();
        for (key, was) in &self.objects {
            match after.objects.get(key) {
                None => out.push(format!("deleted {key}")),
                Some(now) if now.uid != was.uid => out.push(format!("recreated {key}")),
                Some(now) if now.resource_version != was.resource_version => out.push(format!(
                    "changed {key} (resourceVersion {} → {})",
                    was.resource_version, now.resource_version
                )),
                Some(_) => {}
            }
        }
        for key in after.objects.keys() {
            if !self.objects.contains_key(key) {
                out.push(format!("created {key}"));
            }
        }
        if out.is_empty() && self.resource_version != after.resource_version {
            out.push(format!(
                "the write counter moved ({} → {}) without a visible object change",
                self.resource_version, after.resource_version
            ));
        }
        out
    }

    /// Keys of the objects of `resource` (e.g. `secrets`, `deployments.apps`) in `namespace`.
    pub fn names(&self, resource: &str, namespace: &str) -> Vec<String> {
        let prefix = format!("{resource}/{namespace}/");
        self.objects
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    /// The state of one object.
    pub fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<&ObjectState> {
        self.objects.get(&format!("{resource}/{namespace}/{name}"))
    }
}

/// A kube client for the sandbox's admin, on a small runtime of its own.
pub struct Admin {
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl Admin {
    /// The sandbox's current context (the admin).
    pub fn new(sb: &Sandbox) -> Admin {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let client = rt.block_on(async {
            let kc = kube::config::Kubeconfig::read_from(sb.kubeconfig())
                .unwrap_or_else(|e| panic!("kubeconfig: {e}"));
            let cfg = kube::Config::from_custom_kubeconfig(
                kc,
                &kube::config::KubeConfigOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("config: {e}"));
            Client::try_from(cfg).unwrap_or_else(|e| panic!("client: {e}"))
        });
        Admin { rt, client }
    }

    /// The client (for requests of a test's own).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Run a future on this client's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Every object of every listable resource, read now.
    pub fn state(&self) -> ClusterState {
        self.rt.block_on(read_state(&self.client))
    }

    /// GET an API path as JSON; `None` on 404.
    pub fn get(&self, path: &str) -> Option<serde_json::Value> {
        let req = http::Request::get(path)
            .body(Vec::new())
            .unwrap_or_else(|e| panic!("{e}"));
        match self
            .rt
            .block_on(self.client.request::<serde_json::Value>(req))
        {
            Ok(v) => Some(v),
            Err(kube::Error::Api(s)) if s.code == 404 => None,
            Err(e) => panic!("GET {path}: {e}"),
        }
    }

    /// Send a request with a JSON body (`method` POST, PUT, PATCH with `content_type`).
    pub fn send(
        &self,
        method: http::Method,
        path: &str,
        content_type: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, kube::Error> {
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(serde_json::to_vec(body).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        self.rt
            .block_on(self.client.request::<serde_json::Value>(req))
    }

    /// DELETE an API path (404 is fine: already gone).
    pub fn delete(&self, path: &str) {
        let req = http::Request::delete(path)
            .body(Vec::new())
            .unwrap_or_else(|e| panic!("{e}"));
        match self
            .rt
            .block_on(self.client.request::<serde_json::Value>(req))
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => panic!("DELETE {path}: {e}"),
        }
    }

    /// The state once controllers have stopped writing: two reads 300 ms apart agree
    /// (fixtures whose workloads the controllers roll out settle within a second or two).
    pub fn settled(&self) -> ClusterState {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = self.state();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = self.state();
            if now == last || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    }
}

async fn read_state(client: &Client) -> ClusterState {
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .unwrap_or_else(|e| panic!("discovery: {e}"));
    let mut resources: Vec<ApiResource> = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.supports_operation(verbs::LIST) {
                resources.push(ar);
            }
        }
    }
    let mut state = ClusterState::default();
    for ar in &resources {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), ar);
        let list = api
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("list {}: {e}", ar.plural));
        let rv = list
            .metadata
            .resource_version
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        state.resource_version = state.resource_version.max(rv);
        let resource = if ar.group.is_empty() {
            ar.plural.clone()
        } else {
            format!("{}.{}", ar.plural, ar.group)
        };
        for obj in list.items {
            let meta = obj.metadata;
            let key = format!(
                "{resource}/{}/{}",
                meta.namespace.unwrap_or_default(),
                meta.name.unwrap_or_default()
            );
            state.objects.insert(
                key,
                ObjectState {
                    uid: meta.uid.unwrap_or_default(),
                    resource_version: meta.resource_version.unwrap_or_default(),
                },
            );
        }
    }
    state
}
