//! Guarded writes for the plugins that change a cluster: create, patch (merge, strategic,
//! JSON, server-side apply), replace, delete and evict, each honouring `--dry-run` with
//! kubectl's meaning, each recorded in the [`Journal`].
//!
//! Rules kept here, once:
//! - `--dry-run=client` sends nothing and records the write as `Planned`; `server` sends it
//!   with `dryRun=All` (validation and admission run, nothing is stored) → `Validated`.
//! - Preconditions ([`Guard`]) by UID and resourceVersion: a mismatch is a 409 the caller
//!   sees; it is never retried.
//! - A 409 is retried only through [`Writer::update_with`], where the caller's closure
//!   recomputes the change on a fresh read. Creates are never retried; the transport never
//!   retries a write (only GETs, see `transport`).

use std::fmt::Debug;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, Preconditions,
    PropagationPolicy,
};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::journal::{Action, Journal, Outcome};
use crate::model::ObjectRef;

/// `--dry-run` values, as kubectl takes them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DryRun {
    /// Really write (the default).
    #[default]
    None,
    /// Send nothing; print what would be done.
    Client,
    /// Send every write with `dryRun=All`: validated and admitted, not stored.
    Server,
}

impl DryRun {
    /// True for `client` and `server`.
    pub fn is_dry(self) -> bool {
        self != DryRun::None
    }

    /// ` (dry run)` / ` (server dry run)` for messages; empty for real writes.
    pub fn suffix(self) -> &'static str {
        match self {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }
}

/// The `--dry-run` flag; `#[command(flatten)]` it into every command that writes.
///
/// A bare `--dry-run` means `client`, as in kubectl.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct DryRunArgs {
    /// Only show what would be done: "client" sends nothing, "server" sends every write with dryRun=All so validation and admission run; "none" writes.
    #[arg(
        long = "dry-run",
        value_enum,
        num_args = 0..=1,
        default_value_t = DryRun::None,
        default_missing_value = "client",
        require_equals = true,
        value_name = "STRATEGY"
    )]
    pub dry_run: DryRun,
}

/// Where writes of one kind go: the `Api` plus the kind and namespace for the journal.
#[derive(Clone)]
pub struct Target<K> {
    api: Api<K>,
    kind: String,
    namespace: String,
}

impl<K> Target<K>
where
    K: Resource<DynamicType = ()>,
{
    /// A namespaced kind in `namespace`.
    pub fn namespaced(client: &Client, namespace: &str) -> Self
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    {
        Target {
            api: Api::namespaced(client.clone(), namespace),
            kind: K::kind(&()).into_owned(),
            namespace: namespace.to_string(),
        }
    }

    /// A cluster-scoped kind (nodes, namespaces, CRDs, ...).
    pub fn cluster(client: &Client) -> Self
    where
        K: Resource<Scope = k8s_openapi::ClusterResourceScope>,
    {
        Target {
            api: Api::all(client.clone()),
            kind: K::kind(&()).into_owned(),
            namespace: String::new(),
        }
    }
}

impl Target<DynamicObject> {
    /// Any kind found by discovery; `namespace: None` for cluster-scoped resources.
    pub fn dynamic(client: &Client, resource: &ApiResource, namespace: Option<&str>) -> Self {
        let api = match namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
            None => Api::all_with(client.clone(), resource),
        };
        Target {
            api,
            kind: resource.kind.clone(),
            namespace: namespace.unwrap_or("").to_string(),
        }
    }
}

impl<K> Target<K> {
    /// The underlying `Api` (for reads).
    pub fn api(&self) -> &Api<K> {
        &self.api
    }

    /// The object `name` of this target, for journals and messages.
    pub fn object(&self, name: &str) -> ObjectRef {
        ObjectRef::new(&self.kind, &self.namespace, name)
    }
}

/// Preconditions for a write: the server refuses it (409) when the live object's UID or
/// resourceVersion differ — "the object changed since I looked".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guard {
    /// The UID the object must still have (it was not deleted and recreated).
    pub uid: Option<String>,
    /// The resourceVersion it must still have (nobody wrote it since).
    pub resource_version: Option<String>,
}

impl Guard {
    /// No preconditions.
    pub fn none() -> Self {
        Guard::default()
    }

    /// Only the UID.
    pub fn uid(uid: impl Into<String>) -> Self {
        Guard {
            uid: Some(uid.into()),
            resource_version: None,
        }
    }

    /// UID and resourceVersion of an object as it was read.
    pub fn of<K: Resource>(obj: &K) -> Self {
        let meta = obj.meta();
        Guard {
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
        }
    }

    fn preconditions(&self) -> Option<Preconditions> {
        (self.uid.is_some() || self.resource_version.is_some()).then(|| Preconditions {
            uid: self.uid.clone(),
            resource_version: self.resource_version.clone(),
        })
    }

    /// The guard as patch content: `metadata.uid`/`resourceVersion` in a merge, strategic or
    /// apply body are preconditions to the API server.
    fn into_merge(self, mut body: Value) -> Value {
        if self.uid.is_none() && self.resource_version.is_none() {
            return body;
        }
        if !body.is_object() {
            return body;
        }
        let meta = body
            .as_object_mut()
            .map(|o| o.entry("metadata").or_insert_with(|| json!({})));
        if let Some(Value::Object(meta)) = meta {
            if let Some(uid) = self.uid {
                meta.insert("uid".into(), Value::String(uid));
            }
            if let Some(rv) = self.resource_version {
                meta.insert("resourceVersion".into(), Value::String(rv));
            }
        }
        body
    }

    /// The guard as leading `test` operations of a JSON patch.
    fn into_tests(self, ops: Vec<Value>) -> Vec<Value> {
        let mut out = Vec::new();
        if let Some(uid) = self.uid {
            out.push(json!({"op": "test", "path": "/metadata/uid", "value": uid}));
        }
        if let Some(rv) = self.resource_version {
            out.push(json!({"op": "test", "path": "/metadata/resourceVersion", "value": rv}));
        }
        out.extend(ops);
        out
    }
}

/// A patch body, by type. Bodies are JSON values so the guard can be added to them.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchBody {
    /// `application/merge-patch+json` (RFC 7386).
    Merge(Value),
    /// `application/strategic-merge-patch+json` (lists merged by their keys).
    Strategic(Value),
    /// `application/json-patch+json` (RFC 6902): an array of operations.
    Json(Vec<Value>),
    /// Server-side apply with the writer's field manager (`kubectl-<plugin>`).
    Apply(Value),
}

impl PatchBody {
    /// The patch type, for the journal.
    pub fn type_name(&self) -> &'static str {
        match self {
            PatchBody::Merge(_) => "merge patch",
            PatchBody::Strategic(_) => "strategic merge patch",
            PatchBody::Json(_) => "JSON patch",
            PatchBody::Apply(_) => "server-side apply",
        }
    }
}

/// What a write produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Written<K> {
    /// Stored; the object as the server returned it.
    Applied(K),
    /// `--dry-run=server`: the object as it would have been stored.
    Validated(K),
    /// `--dry-run=client`: nothing was sent.
    Planned,
}

impl<K> Written<K> {
    /// The object the server returned, if a request was sent.
    pub fn object(&self) -> Option<&K> {
        match self {
            Written::Applied(k) | Written::Validated(k) => Some(k),
            Written::Planned => None,
        }
    }

    /// Consume into the object the server returned, if a request was sent.
    pub fn into_object(self) -> Option<K> {
        match self {
            Written::Applied(k) | Written::Validated(k) => Some(k),
            Written::Planned => None,
        }
    }
}

/// The answer to an eviction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// The pod is being deleted (the budget allowed it).
    Evicted,
    /// `--dry-run=server`: the server would allow it.
    Validated,
    /// `--dry-run=client`: nothing was sent.
    Planned,
    /// 429: a PodDisruptionBudget does not allow it now. Not a failure and not journaled:
    /// the caller backs off and tries again.
    Blocked {
        /// The server's reason, e.g. `Cannot evict pod as it would violate the pod's
        /// disruption budget.` plus the budget's cause when the server gives one.
        message: String,
        /// The server's `Retry-After`, when given.
        retry_after_seconds: Option<u32>,
    },
}

/// How many times [`Writer::update_with`] re-reads and re-applies after a 409.
pub const CONFLICT_RETRIES: u32 = 5;

/// Sends writes under one `--dry-run` mode and field manager, recording each in a journal.
#[derive(Debug, Clone)]
pub struct Writer {
    dry_run: DryRun,
    field_manager: String,
    journal: Journal,
}

impl Writer {
    /// A writer for `plugin` (field manager `kubectl-<plugin>`).
    pub fn new(plugin: &str, dry_run: DryRun, journal: Journal) -> Self {
        Writer {
            dry_run,
            field_manager: format!("kubectl-{plugin}"),
            journal,
        }
    }

    /// The `--dry-run` mode.
    pub fn dry_run(&self) -> DryRun {
        self.dry_run
    }

    /// The journal every write is recorded in.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    fn post_params(&self) -> PostParams {
        PostParams {
            dry_run: self.dry_run == DryRun::Server,
            field_manager: Some(self.field_manager.clone()),
        }
    }

    fn outcome(&self) -> Outcome {
        match self.dry_run {
            DryRun::None => Outcome::Applied,
            DryRun::Client => Outcome::Planned,
            DryRun::Server => Outcome::Validated,
        }
    }

    /// Record the result of a sent write and turn it into ours.
    fn finish<T>(
        &self,
        action: Action,
        object: ObjectRef,
        how: String,
        result: std::result::Result<T, kube::Error>,
    ) -> Result<Written<T>> {
        match result {
            Ok(obj) => {
                self.journal
                    .record(action, object, how, self.dry_run, self.outcome(), None);
                Ok(if self.dry_run == DryRun::Server {
                    Written::Validated(obj)
                } else {
                    Written::Applied(obj)
                })
            }
            Err(e) => {
                let err = Error::from(e);
                self.journal.record(
                    action,
                    object,
                    how,
                    self.dry_run,
                    Outcome::Failed,
                    Some(err.to_string()),
                );
                Err(err)
            }
        }
    }

    fn planned(&self, action: Action, object: ObjectRef, how: String) -> Result<Written<()>> {
        self.journal
            .record(action, object, how, self.dry_run, Outcome::Planned, None);
        Ok(Written::Planned)
    }

    /// Create `obj`. Never retried: a 409 AlreadyExists is returned to the caller.
    pub async fn create<K>(&self, target: &Target<K>, obj: &K, how: &str) -> Result<Written<K>>
    where
        K: Resource + Clone + Serialize + DeserializeOwned + Debug,
    {
        let object = target.object(obj.meta().name.as_deref().unwrap_or(""));
        let how = join("create", how);
        if self.dry_run == DryRun::Client {
            self.planned(Action::Create, object, how)?;
            return Ok(Written::Planned);
        }
        let result = target.api.create(&self.post_params(), obj).await;
        self.finish(Action::Create, object, how, result)
    }

    /// Patch `name` with `body`, refused (409) when `guard` does not hold.
    pub async fn patch<K>(
        &self,
        target: &Target<K>,
        name: &str,
        body: PatchBody,
        guard: Guard,
        how: &str,
    ) -> Result<Written<K>>
    where
        K: Resource + Clone + Serialize + DeserializeOwned + Debug,
    {
        let object = target.object(name);
        let how = join(body.type_name(), how);
        if self.dry_run == DryRun::Client {
            self.planned(Action::Patch, object, how)?;
            return Ok(Written::Planned);
        }
        let mut params = PatchParams {
            dry_run: self.dry_run == DryRun::Server,
            field_manager: Some(self.field_manager.clone()),
            ..PatchParams::default()
        };
        let uid_guarded = guard.uid.is_some();
        let result = match body {
            PatchBody::Merge(v) => {
                target
                    .api
                    .patch(name, &params, &Patch::Merge(guard.into_merge(v)))
                    .await
            }
            PatchBody::Strategic(v) => {
                target
                    .api
                    .patch(name, &params, &Patch::Strategic(guard.into_merge(v)))
                    .await
            }
            PatchBody::Apply(v) => {
                params.force = false;
                target
                    .api
                    .patch(name, &params, &Patch::Apply(guard.into_merge(v)))
                    .await
            }
            PatchBody::Json(ops) => {
                let guarded = guard.uid.is_some() || guard.resource_version.is_some();
                let ops = Value::Array(guard.into_tests(ops));
                match serde_json::from_value::<json_patch_kube::Patch>(ops) {
                    Ok(p) => {
                        let r = target.api.patch(name, &params, &Patch::<()>::Json(p)).await;
                        if guarded {
                            refused_guard_is_conflict(r)
                        } else {
                            r
                        }
                    }
                    Err(e) => {
                        return Err(Error::other(format!(
                            "invalid JSON patch for {object}: {e}"
                        )));
                    }
                }
            }
        };
        let result = if uid_guarded {
            refused_guard_is_conflict(result)
        } else {
            result
        };
        self.finish(Action::Patch, object, how, result)
    }

    /// Replace `name` with `obj` (a PUT). `obj` must carry the resourceVersion it was read
    /// at: the server refuses a stale one with 409.
    pub async fn replace<K>(
        &self,
        target: &Target<K>,
        name: &str,
        obj: &K,
        how: &str,
    ) -> Result<Written<K>>
    where
        K: Resource + Clone + Serialize + DeserializeOwned + Debug,
    {
        let object = target.object(name);
        let how = join("replace", how);
        if obj.meta().resource_version.is_none() {
            return Err(Error::other(format!(
                "refusing to replace {object} without the resourceVersion it was read at"
            )));
        }
        if self.dry_run == DryRun::Client {
            self.planned(Action::Replace, object, how)?;
            return Ok(Written::Planned);
        }
        let result = target.api.replace(name, &self.post_params(), obj).await;
        self.finish(Action::Replace, object, how, result)
    }

    /// Read `name`, let `mutate` change it, and replace it; on a 409 (someone wrote it in
    /// between) read again and re-apply, up to [`CONFLICT_RETRIES`] times. Use when the
    /// change is safe to recompute from the fresh object. `mutate` returns `false` when
    /// there is nothing to change (then nothing is written and `Ok(None)` is returned).
    pub async fn update_with<K, F>(
        &self,
        target: &Target<K>,
        name: &str,
        how: &str,
        mut mutate: F,
    ) -> Result<Option<Written<K>>>
    where
        K: Resource + Clone + Serialize + DeserializeOwned + Debug,
        F: FnMut(&mut K) -> Result<bool>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut obj = target.api.get(name).await?;
            if !mutate(&mut obj)? {
                return Ok(None);
            }
            match self.replace(target, name, &obj, how).await {
                Err(Error::Api { code: 409, .. }) if attempt <= CONFLICT_RETRIES => {
                    tracing::debug!(%name, attempt, "conflict; re-reading and re-applying");
                }
                other => return other.map(Some),
            }
        }
    }

    /// Delete `name`, refused (409) when `guard` does not hold. A 404 comes back as an error
    /// (journaled as failed); callers for whom "already gone" is fine check
    /// [`is_not_found_error`].
    pub async fn delete<K>(
        &self,
        target: &Target<K>,
        name: &str,
        guard: Guard,
        propagation: Option<PropagationPolicy>,
        how: &str,
    ) -> Result<Written<()>>
    where
        K: Resource + Clone + Serialize + DeserializeOwned + Debug,
    {
        let object = target.object(name);
        let how = join("delete", how);
        if self.dry_run == DryRun::Client {
            return self.planned(Action::Delete, object, how);
        }
        let params = DeleteParams {
            dry_run: self.dry_run == DryRun::Server,
            preconditions: guard.preconditions(),
            propagation_policy: propagation,
            ..DeleteParams::default()
        };
        let result = target.api.delete(name, &params).await.map(|_| ());
        self.finish(Action::Delete, object, how, result)
    }

    /// Evict pod `name` through the Eviction API (policy/v1), which honours
    /// PodDisruptionBudgets. With `uid`, the eviction applies only to that pod, not to a
    /// replacement of the same name (StatefulSets).
    pub async fn evict(
        &self,
        target: &Target<Pod>,
        name: &str,
        uid: Option<&str>,
        how: &str,
    ) -> Result<Eviction> {
        let object = target.object(name);
        let how = join("evict", how);
        if self.dry_run == DryRun::Client {
            self.planned(Action::Evict, object, how)?;
            return Ok(Eviction::Planned);
        }
        let server_dry = self.dry_run == DryRun::Server;
        let mut delete_options = json!({});
        if let Some(uid) = uid {
            delete_options["preconditions"] = json!({"uid": uid});
        }
        if server_dry {
            delete_options["dryRun"] = json!(["All"]);
        }
        // Built by hand: kube-rs 5's `Api::evict` sends the options as `delete_options`,
        // which the API server ignores, silently dropping the UID precondition.
        let body = json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": target.namespace},
            "deleteOptions": delete_options,
        });
        let mut url = format!("{}/{}/eviction", target.api.resource_url(), name);
        if server_dry {
            url.push_str("?dryRun=All");
        }
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&body).unwrap_or_default())
            .map_err(|e| Error::other(format!("cannot build the eviction of {object}: {e}")))?;
        let client = target.api.clone().into_client();
        match client.request::<kube::core::Status>(request).await {
            Err(kube::Error::Api(status)) if status.code == 429 => {
                let retry_after_seconds = status
                    .details
                    .as_ref()
                    .map(|d| d.retry_after_seconds)
                    .filter(|s| *s > 0);
                let cause = status
                    .details
                    .as_ref()
                    .and_then(|d| d.causes.first())
                    .map(|c| c.message.clone())
                    .filter(|m| !m.is_empty());
                let message = match cause {
                    Some(c) => format!("{} ({c})", status.message),
                    None => status.message.clone(),
                };
                Ok(Eviction::Blocked {
                    message: crate::redact::redact_text(&message).into_owned(),
                    retry_after_seconds,
                })
            }
            other => {
                let done = self.finish(Action::Evict, object, how, other.map(|_| ()))?;
                Ok(match done {
                    Written::Validated(()) => Eviction::Validated,
                    _ => Eviction::Evicted,
                })
            }
        }
    }
}

/// A guard the server refuses with 422 — a failed JSON patch `test` (any failed operation
/// is 422), or a `metadata.uid` that differs ("field is immutable") — is reported as the
/// 409 Conflict a failed resourceVersion or delete precondition gives.
fn refused_guard_is_conflict<K>(
    result: std::result::Result<K, kube::Error>,
) -> std::result::Result<K, kube::Error> {
    match result {
        Err(kube::Error::Api(status))
            if status.code == 422
                && (status.message.contains("/metadata/resourceVersion")
                    || status.message.contains("/metadata/uid")
                    || status.message.contains("metadata.uid")) =>
        {
            let message = format!(
                "the object has been modified since it was read (precondition failed: {})",
                status.message
            );
            Err(kube::Error::Api(Box::new(
                kube::core::Status::failure(&message, "Conflict").with_code(409),
            )))
        }
        other => other,
    }
}

/// `"strategic merge patch: cordon"`: the patch type and the caller's purpose.
fn join(kind: &str, how: &str) -> String {
    if how.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {how}")
    }
}

/// True when a write error is a 409 Conflict (stale resourceVersion, failed precondition,
/// already exists).
pub fn is_conflict_error(err: &Error) -> bool {
    matches!(err, Error::Api { code: 409, .. })
}

/// True when a write error is a 404 (the object, or its namespace, does not exist).
pub fn is_not_found_error(err: &Error) -> bool {
    matches!(err, Error::Api { code: 404, .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        dry: DryRunArgs,
    }

    fn parse(args: &[&str]) -> std::result::Result<DryRun, clap::Error> {
        let mut v = vec!["x"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v).map(|c| c.dry.dry_run)
    }

    #[test]
    fn dry_run_flag_like_kubectl() {
        assert_eq!(parse(&[]).ok(), Some(DryRun::None));
        assert_eq!(parse(&["--dry-run"]).ok(), Some(DryRun::Client));
        assert_eq!(parse(&["--dry-run=server"]).ok(), Some(DryRun::Server));
        assert_eq!(parse(&["--dry-run=client"]).ok(), Some(DryRun::Client));
        assert_eq!(parse(&["--dry-run=none"]).ok(), Some(DryRun::None));
        assert!(parse(&["--dry-run=maybe"]).is_err());
    }

    #[test]
    fn guards_become_preconditions() {
        let g = Guard {
            uid: Some("u1".into()),
            resource_version: Some("42".into()),
        };
        let merged = g
            .clone()
            .into_merge(json!({"spec": {"unschedulable": true}}));
        assert_eq!(
            merged,
            json!({"spec": {"unschedulable": true}, "metadata": {"uid": "u1", "resourceVersion": "42"}})
        );
        let ops = g.into_tests(vec![json!({"op": "remove", "path": "/spec/x"})]);
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0]["op"], "test");
        assert_eq!(ops[1]["path"], "/metadata/resourceVersion");
        assert_eq!(ops[2]["op"], "remove");
        assert_eq!(
            Guard::none().into_merge(json!({"a": 1})),
            json!({"a": 1}),
            "no guard, body untouched"
        );
        assert!(Guard::none().preconditions().is_none());
    }

    #[test]
    fn conflict_errors() {
        let e = Error::Api {
            code: 409,
            reason: "Conflict".into(),
            message: "x".into(),
            hint: None,
        };
        assert!(is_conflict_error(&e));
        assert!(!is_conflict_error(&Error::other("x")));
    }
}
