//! `kubectl backup restore`: the whole archive is verified and decrypted before the first
//! write; then objects are created tier by tier (concurrently within a tier), snapshots
//! put under their claims, and with --dumps each dump fed back once its pod is Ready.

pub mod plan;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::Instant;

use common::output::OutputFormat;
use common::run::Session;
use common::wait::{Waited, crd_established, until};
use common::write::{DryRun, Target, Writer, Written};
use common::{Error, Exit, ObjectRef, Result};
use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::{Api, Client};
use serde_json::Value;

use crate::archive::read::Visitor;
use crate::args::{Args, Existing, RestoreArgs, namespace_list};
use crate::crypto::{self, ArchiveKey};
use crate::load::{self, Keep};
use crate::render;
use crate::report::{
    BackupManifest, DumpRecord, DumpResult, ObjectResult, ResourceType, RestoreReport,
    RestoreSummary, api_version,
};
use crate::snapshots::{self, SnapshotApi};

use self::plan::{Item, NamespaceMap};

/// Writes in flight within a tier.
const CONCURRENT_WRITES: usize = 16;

/// Why a write failed, as a stable reason code.
pub fn classify(err: &Error) -> (&'static str, String) {
    let message = err.to_string();
    let lower = message.to_lowercase();
    let reason = match err {
        Error::Api { code: 409, .. } => "exists",
        Error::Api { code: 422, .. } if lower.contains("immutable") => "immutable",
        Error::Api { code: 422, .. } => "invalid",
        Error::Api { code: 404, .. }
            if lower.contains("namespaces") && lower.contains("not found") =>
        {
            "namespaceMissing"
        }
        Error::Api { code: 404, .. } => "missingCRD",
        Error::Forbidden { .. } if lower.contains("exceeded quota") => "quota",
        _ if lower.contains("admission webhook") || lower.contains("failed calling webhook") => {
            "webhook"
        }
        Error::Forbidden { .. } => "forbidden",
        Error::Api { code: 400, .. } => "invalid",
        _ => "error",
    };
    (reason, message)
}

fn resource_key(r: &ResourceType) -> String {
    format!("{}/{}", r.group, r.plural)
}

fn api_resource(r: &ResourceType, api_version: &str) -> ApiResource {
    let version = api_version
        .rsplit('/')
        .next()
        .unwrap_or(&r.version)
        .to_string();
    ApiResource {
        group: r.group.clone(),
        version,
        api_version: api_version.to_string(),
        kind: r.kind.clone(),
        plural: r.plural.clone(),
    }
}

/// Resolve --include/--exclude-resources against the archive's resource types.
fn resource_filter(
    m: &BackupManifest,
    include: &[String],
    exclude: &[String],
) -> Result<(Option<BTreeSet<String>>, BTreeSet<String>)> {
    let resolve = |names: &[String]| -> Result<BTreeSet<String>> {
        names
            .iter()
            .map(|n| n.trim().to_lowercase())
            .filter(|n| !n.is_empty() && n != "*")
            .map(|n| {
                m.scope
                    .resources
                    .iter()
                    .find(|r| {
                        let q = if r.group.is_empty() {
                            r.plural.clone()
                        } else {
                            format!("{}.{}", r.plural, r.group)
                        };
                        q == n || r.plural == n || r.kind.to_lowercase() == n
                    })
                    .map(resource_key)
                    .ok_or_else(|| {
                        Error::usage(format!(
                            "unknown resource {n:?}: the archive holds no such type"
                        ))
                        .with_hint("kubectl backup inspect FILE shows what it holds")
                    })
            })
            .collect()
    };
    let inc = resolve(include)?;
    let everything = include.is_empty() || include.iter().any(|n| n.trim() == "*");
    Ok((if everything { None } else { Some(inc) }, resolve(exclude)?))
}

/// Run `restore`.
pub async fn restore(args: &Args, r: &RestoreArgs, session: &Session) -> Result<Exit> {
    let started = Instant::now();
    let dry = r.dry_run.dry_run;
    // Re-reading the archive for dumps needs a file: stdin is spooled (0600) first.
    let spooled;
    let path = if r.file == "-" {
        let mut tmp = tempfile::NamedTempFile::new()?;
        std::io::copy(&mut std::io::stdin().lock(), &mut tmp)?;
        tmp.flush()?;
        let p = tmp.path().display().to_string();
        spooled = Some(tmp);
        p
    } else {
        spooled = None;
        r.file.clone()
    };
    let _keep_spool = spooled;
    let scanned = tokio::task::block_in_place(|| load::scan(&path, Keep::Objects))
        .map_err(|e| rename(e, &path, &r.file))?;
    load::require_intact(&r.file, &scanned)?;
    let manifest = scanned
        .manifest()
        .cloned()
        .ok_or_else(|| Error::usage(format!("{} has no manifest", r.file)))?;
    let (include, exclude) =
        resource_filter(&manifest, &r.include_resources, &r.exclude_resources)?;
    let only_ns: BTreeSet<String> = namespace_list(args.conn.namespace.as_deref())
        .into_iter()
        .collect();
    let map = NamespaceMap::new(&r.namespace_map);
    for (from, to) in &r.namespace_map {
        if !manifest.scope.all_namespaces && !manifest.scope.namespaces.contains(from) {
            return Err(Error::usage(format!(
                "--namespace-map {from}={to}: the archive has no namespace {from:?} (it has {})",
                manifest.scope.namespaces.join(", ")
            )));
        }
    }
    let selected = |e: &crate::report::Entry| -> bool {
        let rt = manifest.scope.resources.iter().find(|t| {
            Some(t.kind.as_str()) == e.kind.as_deref()
                && e.api_version
                    .as_deref()
                    .map_or("", |v| v.rsplit_once('/').map_or("", |(g, _)| g))
                    == t.group
        });
        let key = rt.map(resource_key).unwrap_or_default();
        if exclude.contains(&key) || include.as_ref().is_some_and(|i| !i.contains(&key)) {
            return false;
        }
        match e.namespace.as_deref() {
            Some(ns) => only_ns.is_empty() || only_ns.contains(ns),
            None if e.kind.as_deref() == Some("Namespace") => {
                only_ns.is_empty() || e.name.as_deref().is_some_and(|n| only_ns.contains(n))
            }
            None => true,
        }
    };
    // Keys: needed when a selected object or (with --dumps) a dump is encrypted.
    let keys = crypto::load_keys(&r.keys)?;
    let need_key = manifest.entries.iter().any(|e| e.encrypted && selected(e))
        || (r.dumps && manifest.dumps.iter().any(|d| d.encrypted));
    let key = load::archive_key(&scanned, &keys, need_key)?;
    let objects = load::objects(&scanned, key.as_ref())?;
    drop(scanned);

    // The plan: every selected object prepared, before any request.
    let chosen: Vec<(crate::report::Entry, Value)> = objects
        .into_iter()
        .filter(|o| selected(&o.entry))
        .filter_map(|o| o.value.map(|v| (o.entry, v)))
        .collect();
    let restored_uids: HashSet<String> = chosen
        .iter()
        .filter_map(|(_, v)| {
            v.pointer("/metadata/uid")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    let mut items = Vec::new();
    for (entry, value) in chosen {
        let Some(rt) = manifest.scope.resources.iter().find(|t| {
            Some(t.kind.as_str()) == entry.kind.as_deref()
                && entry
                    .api_version
                    .as_deref()
                    .map_or("", |v| v.rsplit_once('/').map_or("", |(g, _)| g))
                    == t.group
        }) else {
            continue;
        };
        let old_uid = value
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let source_namespace = entry.namespace.clone().unwrap_or_default();
        let (body, owners) = plan::prepare(value, &map, &restored_uids);
        let name = body
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let target_ns = if rt.namespaced {
            map.map(&source_namespace).to_string()
        } else {
            String::new()
        };
        items.push(Item {
            resource: rt.clone(),
            api_version: entry.api_version.clone().unwrap_or_default(),
            target: ObjectRef::new(&rt.kind, &target_ns, &name),
            source_namespace,
            old_uid,
            body,
            owners,
            tier: plan::tier(&rt.group, &rt.kind, rt.namespaced),
            depth: 0,
        });
    }
    plan::order(&mut items);

    let conn = args.conn.connect().await?;
    let existing = session
        .interruptible(existing_objects(&conn.client, &items))
        .await?;
    let exists = |i: &Item| {
        existing
            .get(&(resource_key(&i.resource), i.target.namespace.clone()))
            .and_then(|m| m.get(&i.target.name))
            .cloned()
    };
    let to_update = items.iter().filter(|i| exists(i).is_some()).count();
    if r.existing == Existing::Update && to_update > 0 && !dry.is_dry() {
        common::prompt::confirm(
            &format!("replace {to_update} existing objects with their archived versions"),
            r.confirm.yes,
        )?;
    }
    let pending_namespaces: HashSet<String> = items
        .iter()
        .filter(|i| {
            i.resource.group.is_empty() && i.resource.kind == "Namespace" && exists(i).is_none()
        })
        .map(|i| i.target.name.clone())
        .collect();
    let pending_crds: HashSet<String> = items
        .iter()
        .filter(|i| i.resource.kind == "CustomResourceDefinition" && exists(i).is_none())
        .map(|i| {
            let g = i
                .body
                .pointer("/spec/group")
                .and_then(Value::as_str)
                .unwrap_or("");
            let p = i
                .body
                .pointer("/spec/names/plural")
                .and_then(Value::as_str)
                .unwrap_or("");
            format!("{g}/{p}")
        })
        .collect();

    let writer = Writer::new("backup", dry, session.journal.clone());
    let snapshot_api = if manifest.snapshots.is_empty() {
        None
    } else {
        let d = common::discovery::discover(&conn.client).await?;
        SnapshotApi::find(&d)
    };
    let ctx = Apply {
        client: conn.client.clone(),
        writer,
        session,
        new_uids: Mutex::new(HashMap::new()),
        mode: r.existing,
        dry,
        pending_namespaces,
        pending_crds,
    };
    let mut results: Vec<ObjectResult> = Vec::with_capacity(items.len());
    let mut interrupted = false;
    let progress = common::progress::Progress::bar(items.len() as u64, "restoring");
    for range in plan::waves(&items) {
        let wave = &items[range];
        if let Some(first) = wave.first() {
            progress.set_message(format!(
                "tier {}: {}",
                first.tier,
                plan::TIERS.get(usize::from(first.tier)).unwrap_or(&"")
            ));
        }
        if session.is_cancelled() {
            interrupted = true;
            results.extend(
                wave.iter()
                    .map(|i| not_restored(i, "interrupted before this tier")),
            );
            continue;
        }
        let mut bodies: Vec<std::result::Result<Value, (String, String)>> =
            wave.iter().map(|i| Ok(i.body.clone())).collect();
        if wave.first().is_some_and(|i| i.tier == 5) {
            for (i, body) in wave.iter().zip(bodies.iter_mut()) {
                let Some(rec) = manifest
                    .snapshots
                    .iter()
                    .find(|s| s.namespace == i.source_namespace && s.claim == i.target.name)
                else {
                    continue;
                };
                if exists(i).is_some() {
                    continue;
                }
                let prepared = match &snapshot_api {
                    None => Err(
                        "the snapshot.storage.k8s.io API is not served by this cluster".to_string(),
                    ),
                    // Its namespace does not exist yet under a dry run: nothing to
                    // validate the snapshot objects against.
                    Some(_)
                        if dry.is_dry() && ctx.pending_namespaces.contains(&i.target.namespace) =>
                    {
                        Ok(rec.volume_snapshot.clone())
                    }
                    Some(apis) => {
                        snapshots::prepare(
                            &conn.client,
                            apis,
                            &ctx.writer,
                            rec,
                            &i.target.namespace,
                            r.timeout,
                            session,
                        )
                        .await
                    }
                };
                match (prepared, body.as_mut()) {
                    (Ok(vs), Ok(b)) => plan::with_snapshot(b, &vs),
                    (Err(m), _) => *body = Err(("snapshotUnavailable".into(), m)),
                    (Ok(_), Err(_)) => {}
                }
            }
        }
        let outcomes: Vec<ObjectResult> = futures::stream::iter(wave.iter().zip(bodies))
            .map(|(i, b)| {
                let (progress, ctx, exists) = (&progress, &ctx, &exists);
                async move {
                    let r = ctx.apply(i, b, exists(i)).await;
                    progress.inc(1);
                    r
                }
            })
            .buffered(CONCURRENT_WRITES)
            .collect()
            .await;
        if wave.first().is_some_and(|i| i.tier == 0) && !dry.is_dry() {
            wait_established(&conn.client, wave, &outcomes, r.timeout, session).await?;
        }
        results.extend(outcomes);
    }

    progress.finish_and_clear();
    let mut dump_results = Vec::new();
    if r.dumps && !interrupted && !session.is_cancelled() {
        for d in &manifest.dumps {
            if !only_ns.is_empty() && !only_ns.contains(&d.namespace) {
                continue;
            }
            dump_results
                .push(restore_dump(&conn.client, &path, d, &map, r, key.as_ref(), session).await?);
        }
    }

    let mut summary = RestoreSummary::default();
    for o in &results {
        match o.outcome.as_str() {
            "created" => summary.restored += 1,
            "updated" => summary.updated += 1,
            "skipped" | "wouldSkip" => summary.skipped += 1,
            "failed" => summary.failed += 1,
            "wouldCreate" | "wouldUpdate" => summary.would_restore += 1,
            _ => {}
        }
    }
    let dumps_failed = dump_results
        .iter()
        .any(|d| d.outcome == "failed" || d.outcome == "skipped");
    let report = RestoreReport {
        api_version: api_version(),
        kind: "RestoreReport".into(),
        file: r.file.clone(),
        context: conn.context.clone(),
        dry_run: dry,
        existing: r.existing,
        namespace_map: map.0.clone(),
        summary,
        objects: results,
        dumps: dump_results,
        changes: session.journal.entries(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let mut stdout = std::io::stdout().lock();
    match args.out.output {
        OutputFormat::Json | OutputFormat::Yaml => {
            render::document(&mut stdout, args.out.output, &report)?
        }
        OutputFormat::Name => stdout.write_all(render::restore_names(&report).as_bytes())?,
        OutputFormat::Table | OutputFormat::Wide => {
            let painter = args.out.painter();
            stdout.write_all(session.journal.render_text(&painter).as_bytes())?;
            stdout.write_all(render::restore_text(&report, &painter).as_bytes())?;
        }
    }
    if args.out.show_stats() {
        eprintln!("{}", conn.stats_line());
    }
    if interrupted || session.is_cancelled() {
        eprintln!(
            "interrupted: stopped after the writes in flight; the report above says what was restored"
        );
        return Ok(Exit::Interrupted);
    }
    Ok(if report.summary.failed > 0 || dumps_failed {
        Exit::Partial
    } else {
        Exit::Ok
    })
}

/// Name the user's `-` rather than the spool file in errors.
fn rename(e: Error, spool: &str, file: &str) -> Error {
    if spool == file {
        return e;
    }
    match e {
        Error::Usage { message, hint } => Error::Usage {
            message: message.replace(spool, file),
            hint,
        },
        other => other,
    }
}

fn not_restored(i: &Item, why: &str) -> ObjectResult {
    ObjectResult {
        object: i.target.clone(),
        api_version: i.api_version.clone(),
        tier: i.tier,
        outcome: "skipped".into(),
        reason: Some("interrupted".into()),
        message: Some(why.into()),
    }
}

/// Names (and uids) of the objects that already exist, per (resource, namespace): one
/// metadata list per type and namespace, not one GET per object.
async fn existing_objects(
    client: &Client,
    items: &[Item],
) -> Result<HashMap<(String, String), HashMap<String, String>>> {
    let mut wanted: BTreeMap<(String, String), (ResourceType, String)> = BTreeMap::new();
    for i in items {
        wanted
            .entry((resource_key(&i.resource), i.target.namespace.clone()))
            .or_insert_with(|| (i.resource.clone(), i.api_version.clone()));
    }
    let lists = futures::stream::iter(wanted)
        .map(|((key, ns), (rt, av))| async move {
            let ar = api_resource(&rt, &av);
            let api: Api<DynamicObject> = if ns.is_empty() {
                Api::all_with(client.clone(), &ar)
            } else {
                Api::namespaced_with(client.clone(), &ns, &ar)
            };
            let mut names = HashMap::new();
            let mut lp = ListParams::default().limit(500);
            loop {
                match api.list_metadata(&lp).await {
                    Ok(page) => {
                        for o in page.items {
                            names.insert(
                                o.metadata.name.unwrap_or_default(),
                                o.metadata.uid.unwrap_or_default(),
                            );
                        }
                        match page.metadata.continue_ {
                            Some(t) if !t.is_empty() => lp.continue_token = Some(t),
                            _ => break,
                        }
                    }
                    // Not served yet (its CRD comes with this restore) or not visible:
                    // nothing to skip; the create answers for itself.
                    Err(e) if matches!(common::error::status_code(&e), Some(403 | 404)) => break,
                    Err(e) => return Err(Error::from(e)),
                }
            }
            Ok(((key, ns), names))
        })
        .buffer_unordered(common::list::MAX_CONCURRENT_LISTS)
        .collect::<Vec<Result<_>>>()
        .await;
    lists.into_iter().collect()
}

/// The shared state of the writes.
struct Apply<'a> {
    client: Client,
    writer: Writer,
    session: &'a Session,
    new_uids: Mutex<HashMap<String, String>>,
    mode: Existing,
    dry: DryRun,
    pending_namespaces: HashSet<String>,
    pending_crds: HashSet<String>,
}

impl Apply<'_> {
    fn result(
        &self,
        i: &Item,
        outcome: &str,
        reason: Option<&str>,
        message: Option<String>,
    ) -> ObjectResult {
        ObjectResult {
            object: i.target.clone(),
            api_version: i.api_version.clone(),
            tier: i.tier,
            outcome: outcome.into(),
            reason: reason.map(str::to_string),
            message,
        }
    }

    fn remember(&self, old: &str, new: Option<&str>) {
        if let Some(new) = new.filter(|n| !n.is_empty())
            && !old.is_empty()
        {
            self.new_uids
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(old.to_string(), new.to_string());
        }
    }

    async fn apply(
        &self,
        i: &Item,
        body: std::result::Result<Value, (String, String)>,
        live_uid: Option<String>,
    ) -> ObjectResult {
        let dry = self.dry.is_dry();
        let mut body = match body {
            Ok(b) => b,
            Err((reason, message)) => {
                return self.result(i, "failed", Some(&reason), Some(message));
            }
        };
        if self.session.is_cancelled() {
            return not_restored(i, "interrupted before it was sent");
        }
        {
            let uids = self.new_uids.lock().unwrap_or_else(|p| p.into_inner());
            if !dry {
                plan::rewrite_owners(&mut body, &uids);
            }
        }
        let ar = api_resource(&i.resource, &i.api_version);
        let ns = (!i.target.namespace.is_empty()).then_some(i.target.namespace.as_str());
        let target = Target::dynamic(&self.client, &ar, ns);
        if let Some(uid) = live_uid {
            self.remember(&i.old_uid, Some(&uid));
            return match self.mode {
                Existing::Skip => self.result(
                    i,
                    if dry { "wouldSkip" } else { "skipped" },
                    Some("exists"),
                    Some("already exists; left as it is (--existing skip)".into()),
                ),
                Existing::Fail => self.result(
                    i,
                    "failed",
                    Some("exists"),
                    Some("already exists (--existing fail)".into()),
                ),
                Existing::Update => self.update(i, &target, &body).await,
            };
        }
        let obj: DynamicObject = match serde_json::from_value(body) {
            Ok(o) => o,
            Err(e) => {
                return self.result(
                    i,
                    "failed",
                    Some("invalid"),
                    Some(format!("cannot decode the object: {e}")),
                );
            }
        };
        match self
            .writer
            .create(&target, &obj, "restore from backup")
            .await
        {
            Ok(Written::Applied(created)) => {
                self.remember(&i.old_uid, created.metadata.uid.as_deref());
                self.result(i, "created", None, None)
            }
            Ok(Written::Validated(_) | Written::Planned) => {
                self.result(i, "wouldCreate", None, None)
            }
            Err(e) => {
                let (reason, message) = classify(&e);
                // Under --dry-run=server a namespace or CRD this restore creates does not
                // exist yet: the object cannot be validated, which is not a failure.
                if self.dry == DryRun::Server
                    && reason == "namespaceMissing"
                    && self.pending_namespaces.contains(&i.target.namespace)
                {
                    return self.result(
                        i,
                        "wouldCreate",
                        Some("namespacePending"),
                        Some(format!(
                            "namespace {} is created by this restore: not validated by the server",
                            i.target.namespace
                        )),
                    );
                }
                if self.dry == DryRun::Server
                    && reason == "missingCRD"
                    && self
                        .pending_crds
                        .contains(&format!("{}/{}", i.resource.group, i.resource.plural))
                {
                    return self.result(i, "wouldCreate", Some("crdPending"), Some(
                        "its CustomResourceDefinition is created by this restore: not validated by the server".into(),
                    ));
                }
                self.result(i, "failed", Some(reason), Some(message))
            }
        }
    }

    async fn update(&self, i: &Item, target: &Target<DynamicObject>, body: &Value) -> ObjectResult {
        let outcome = self
            .writer
            .update_with(
                target,
                &i.target.name,
                "restore from backup (--existing update)",
                |live: &mut DynamicObject| {
                    let live_v = serde_json::to_value(&*live)?;
                    let merged = plan::overlay(body, &live_v);
                    if plan::comparable(&merged, &[], &NamespaceMap::default())
                        == plan::comparable(&live_v, &[], &NamespaceMap::default())
                    {
                        return Ok(false);
                    }
                    *live = serde_json::from_value(merged)?;
                    Ok(true)
                },
            )
            .await;
        match outcome {
            Ok(None) => self.result(
                i,
                if self.dry.is_dry() {
                    "wouldSkip"
                } else {
                    "skipped"
                },
                Some("unchanged"),
                Some("already equal to the archived object".into()),
            ),
            Ok(Some(Written::Applied(_))) => self.result(i, "updated", None, None),
            Ok(Some(_)) => self.result(i, "wouldUpdate", None, None),
            Err(e) => {
                let (reason, message) = classify(&e);
                self.result(i, "failed", Some(reason), Some(message))
            }
        }
    }
}

/// Wait until every CRD created in this wave is Established (its API served).
async fn wait_established(
    client: &Client,
    wave: &[Item],
    outcomes: &[ObjectResult],
    timeout: std::time::Duration,
    session: &Session,
) -> Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for (i, o) in wave.iter().zip(outcomes) {
        if o.outcome != "created" {
            continue;
        }
        let progress = common::progress::Progress::spinner(format!(
            "waiting for CRD {} to be Established",
            i.target.name
        ));
        let waited = until(
            &api,
            &i.target.name,
            timeout,
            &session.cancel,
            &progress,
            crd_established,
        )
        .await?;
        progress.finish_and_clear();
        match waited {
            Waited::Done(_) => {}
            Waited::Cancelled { .. } => return Err(Error::Interrupted),
            Waited::Failed { message, .. } | Waited::TimedOut { message, .. } => {
                tracing::warn!("CRD {} is not Established: {message}", i.target.name);
            }
        }
    }
    Ok(())
}

/// Streams one entry's body (decrypted when needed) into a channel.
struct DumpReader<'a> {
    entry: &'a str,
    key: Option<&'a ArchiveKey>,
    encrypted: bool,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
    found: bool,
}

impl Visitor for DumpReader<'_> {
    fn entry(&mut self, path: &str, _size: u64, body: &mut dyn Read) -> std::io::Result<()> {
        if path != self.entry {
            return Ok(());
        }
        self.found = true;
        let mut reader: Box<dyn Read + '_> = match (self.encrypted, self.key) {
            (true, Some(k)) => k
                .decrypt_stream(body)
                .map_err(|e| std::io::Error::other(e.to_string()))?,
            _ => Box::new(body),
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            if self.tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                return Err(std::io::Error::other("the exec stream closed"));
            }
        }
    }
}

async fn restore_dump(
    client: &Client,
    archive: &str,
    d: &DumpRecord,
    map: &NamespaceMap,
    r: &RestoreArgs,
    key: Option<&ArchiveKey>,
    session: &Session,
) -> Result<DumpResult> {
    let namespace = map.map(&d.namespace).to_string();
    let command: Vec<String> = match r.dump_command.iter().find(|(n, _)| *n == d.name) {
        Some((_, cmd)) => vec!["sh".into(), "-c".into(), cmd.clone()],
        None => d.restore_command.clone(),
    };
    let mut result = DumpResult {
        name: d.name.clone(),
        namespace: namespace.clone(),
        pod: None,
        command: command.clone(),
        bytes: 0,
        outcome: "skipped".into(),
        exit_code: None,
        message: None,
    };
    let Some(entry) = d.entry.clone() else {
        result.message = Some("the dump failed at backup time; nothing to restore".into());
        return Ok(result);
    };
    if command.is_empty() {
        result.message = Some(format!(
            "no restore command for an exec dump: pass --dump-command {}=CMD",
            d.name
        ));
        return Ok(result);
    }
    if r.dry_run.dry_run.is_dry() {
        result.outcome = "wouldRestore".into();
        result.bytes = d.size;
        return Ok(result);
    }
    let pod = dumps_pod(client, &namespace, d, r, session).await?;
    let Some(pod) = pod else {
        result.outcome = "failed".into();
        result.message = Some(format!(
            "no Ready pod {} (or of its workload) in {namespace} within {}s",
            d.pod,
            r.timeout.as_secs()
        ));
        return Ok(result);
    };
    result.pod = Some(pod.clone());
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let archive = archive.to_string();
    let encrypted = d.encrypted;
    let key_for_reader = key.map(ArchiveKey::clone_key);
    let reader = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&archive)?;
        let mut v = DumpReader {
            entry: &entry,
            key: key_for_reader.as_ref(),
            encrypted,
            tx: tx.clone(),
            found: false,
        };
        let walked =
            crate::archive::read::walk(file, &mut v).map_err(|e| std::io::Error::other(e.0))?;
        walked?;
        if !v.found {
            let _ = tx.blocking_send(Err(std::io::Error::other(
                "the dump entry is not in the archive",
            )));
        }
        Ok::<(), std::io::Error>(())
    });
    let fed = dumps_feed(
        client,
        &namespace,
        &pod,
        d.container.as_deref(),
        &command,
        rx,
    )
    .await;
    let _ = reader.await;
    match fed {
        Ok((0, _, sent)) => {
            result.outcome = "restored".into();
            result.exit_code = Some(0);
            result.bytes = sent;
        }
        Ok((code, stderr, sent)) => {
            result.outcome = "failed".into();
            result.exit_code = Some(code);
            result.bytes = sent;
            result.message = Some(format!(
                "exit code {code}: {}",
                stderr.lines().last().unwrap_or("")
            ));
        }
        Err(e) => {
            result.outcome = "failed".into();
            result.message = Some(e.to_string());
        }
    }
    Ok(result)
}

async fn dumps_pod(
    client: &Client,
    namespace: &str,
    d: &DumpRecord,
    r: &RestoreArgs,
    session: &Session,
) -> Result<Option<String>> {
    let mut record = d.clone();
    if let Some(w) = record.workload.as_mut() {
        w.namespace = namespace.to_string();
    }
    crate::dumps::ready_pod(client, namespace, &record, r.timeout, &session.cancel).await
}

async fn dumps_feed(
    client: &Client,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
    command: &[String],
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
) -> Result<(i32, String, u64)> {
    crate::dumps::feed(client, namespace, pod, container, command, rx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, message: &str) -> Error {
        Error::Api {
            code,
            reason: String::new(),
            message: message.into(),
            hint: None,
        }
    }

    #[test]
    fn failures_get_reason_codes() {
        assert_eq!(
            classify(&api(409, "configmaps \"x\" already exists")).0,
            "exists"
        );
        assert_eq!(
            classify(&api(422, "spec.selector: field is immutable")).0,
            "immutable"
        );
        assert_eq!(
            classify(&api(422, "metadata.name: Invalid value")).0,
            "invalid"
        );
        assert_eq!(
            classify(&api(404, "namespaces \"x\" not found")).0,
            "namespaceMissing"
        );
        assert_eq!(
            classify(&api(
                404,
                "the server could not find the requested resource"
            ))
            .0,
            "missingCRD"
        );
        let quota = Error::Forbidden {
            message: "pods \"p\" is forbidden: exceeded quota: compute".into(),
            hint: None,
        };
        assert_eq!(classify(&quota).0, "quota");
        assert_eq!(
            classify(&api(
                500,
                "Internal error occurred: failed calling webhook \"x.example.com\""
            ))
            .0,
            "webhook"
        );
    }
}
