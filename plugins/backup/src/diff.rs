//! `kubectl backup diff`: the archive against the live cluster, both sides listed with
//! the same scope rules and normalised the same way; secret values only ever "changed".

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;

use common::diff::{FieldChange, diff_masked};
use common::discovery::{ServedResource, discover};
use common::model::{SkipCause, Skipped};
use common::output::OutputFormat;
use common::run::Session;
use common::{Error, Exit, ObjectRef, Result};
use kube::Api;
use kube::api::{ApiResource, DynamicObject};
use serde_json::Value;

use crate::args::{Args, DiffArgs, namespace_list};
use crate::collect::{Collector, Namespaces, Sink};
use crate::crypto;
use crate::load::{self, Keep};
use crate::plan::Plan;
use crate::render;
use crate::report::{BackupDiff, ChangedObject, api_version};
use crate::restore::plan::{NamespaceMap, comparable, prepare};

type Key = (String, String, String, String);

/// Field paths whose values are secret in a Secret: its data, and the last-applied
/// annotation kubectl writes (it holds the data too).
fn secret_path(path: &str) -> bool {
    path.starts_with("data.")
        || path.starts_with("stringData.")
        || path.starts_with("metadata.annotations.kubectl.kubernetes.io/last-applied-configuration")
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Field changes between the archived and the live form of one object.
pub fn changes(archived: &Value, live: &Value) -> Vec<FieldChange> {
    let is_secret = |v: &Value| {
        v.get("kind").and_then(Value::as_str) == Some("Secret")
            && v.get("apiVersion").and_then(Value::as_str) == Some("v1")
    };
    if is_secret(archived) || is_secret(live) {
        diff_masked(archived, live, &secret_path)
    } else {
        diff_masked(archived, live, &|_| false)
    }
}

/// Run `diff`.
pub async fn diff(args: &Args, d: &DiffArgs, session: &Session) -> Result<Exit> {
    let scanned = tokio::task::block_in_place(|| load::scan(&d.file, Keep::Objects))?;
    load::require_intact(&d.file, &scanned)?;
    let manifest = scanned
        .manifest()
        .cloned()
        .ok_or_else(|| Error::usage(format!("{} has no manifest", d.file)))?;
    let keys = crypto::load_keys(&d.keys)?;
    let key = load::archive_key(&scanned, &keys, false)?;
    let objects = load::objects(&scanned, key.as_ref())?;
    drop(scanned);
    let map = NamespaceMap::new(&d.namespace_map);
    let only: BTreeSet<String> = namespace_list(args.conn.namespace.as_deref())
        .into_iter()
        .collect();

    let conn = args.conn.connect().await?;
    let discovered = session.interruptible(discover(&conn.client)).await?;
    // The live side: the archive's namespaced types, as served now, in its namespaces.
    let wanted: HashSet<(String, String)> = manifest
        .scope
        .resources
        .iter()
        .filter(|r| r.namespaced)
        .map(|r| (r.group.clone(), r.plural.clone()))
        .collect();
    let resources: Vec<ServedResource> = discovered
        .resources
        .iter()
        .filter(|r| r.namespaced && wanted.contains(&(r.api.group.clone(), r.api.plural.clone())))
        .cloned()
        .collect();
    let lifted = manifest
        .scope
        .include_resources
        .iter()
        .filter_map(|n| discovered.by_name(n).map(ServedResource::qualified_plural))
        .collect();
    let plan = Plan {
        resources,
        lifted,
        secrets: false,
    };
    let namespaces = if manifest.scope.all_namespaces && only.is_empty() {
        Namespaces::All
    } else {
        let list: Vec<String> = if only.is_empty() {
            manifest
                .scope
                .namespaces
                .iter()
                .map(|n| map.map(n).to_string())
                .collect()
        } else {
            only.iter().cloned().collect()
        };
        Namespaces::Some(list)
    };
    let collector = Collector::new(
        conn.client.clone(),
        Sink::Memory(std::sync::Mutex::new(BTreeMap::new())),
        &plan,
        manifest.scope.selector.clone(),
        false,
    );
    session
        .interruptible(collector.collect(&plan, &namespaces))
        .await?;
    let (collected, sink) = collector.finish();
    let Sink::Memory(live) = sink else {
        return Err(Error::other("diff collected into the wrong sink"));
    };
    let mut live: BTreeMap<Key, Value> = live.into_inner().unwrap_or_else(|p| p.into_inner());

    let in_scope = |ns: &str| match &namespaces {
        Namespaces::All => true,
        Namespaces::Some(l) => l.iter().any(|n| n == ns),
    };
    let uids: HashSet<String> = objects
        .iter()
        .filter_map(|o| {
            o.value
                .as_ref()?
                .pointer("/metadata/uid")?
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let mut out = BackupDiff {
        api_version: api_version(),
        kind: "BackupDiff".into(),
        file: d.file.clone(),
        context: conn.context.clone(),
        identical: true,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        not_compared: collected
            .skipped
            .iter()
            .filter(|s| s.cause.is_partial())
            .cloned()
            .collect(),
        unchanged: 0,
    };
    for o in &objects {
        let e = &o.entry;
        let kind = e.kind.clone().unwrap_or_default();
        let group = group_of(e.api_version.as_deref().unwrap_or("")).to_string();
        let name = e.name.clone().unwrap_or_default();
        let cluster_scoped = e.namespace.is_none();
        let target_ns = e
            .namespace
            .as_deref()
            .map(|n| map.map(n).to_string())
            .unwrap_or_default();
        let target_name = if cluster_scoped && group.is_empty() && kind == "Namespace" {
            map.map(&name).to_string()
        } else {
            name.clone()
        };
        if !cluster_scoped && !in_scope(&target_ns) {
            continue;
        }
        if cluster_scoped && kind == "Namespace" && !in_scope(&target_name) {
            continue;
        }
        let object = ObjectRef::new(&kind, &target_ns, &target_name);
        let live_value = if cluster_scoped {
            get_cluster_object(
                &conn.client,
                &manifest,
                &group,
                &kind,
                e.api_version.as_deref().unwrap_or(""),
                &target_name,
            )
            .await?
        } else {
            live.remove(&(
                group.clone(),
                kind.clone(),
                target_ns.clone(),
                target_name.clone(),
            ))
        };
        let Some(live_value) = live_value else {
            out.removed.push(object);
            continue;
        };
        let Some(archived) = &o.value else {
            out.not_compared.push(Skipped::new(
                object.to_string(),
                SkipCause::Failed,
                "encrypted in the archive; pass --identity or --passphrase-env to compare it",
            ));
            continue;
        };
        let (prepared, _) = prepare(archived.clone(), &map, &uids);
        let a = comparable(&prepared, &manifest.snapshots, &map);
        let b = comparable(&live_value, &manifest.snapshots, &map);
        let fields = changes(&a, &b);
        if fields.is_empty() {
            out.unchanged += 1;
        } else {
            out.changed.push(ChangedObject {
                object,
                changes: fields,
            });
        }
    }
    for ((_, kind, ns, name), _) in live {
        out.added.push(ObjectRef::new(&kind, &ns, &name));
    }
    out.added.sort();
    out.identical = out.added.is_empty() && out.removed.is_empty() && out.changed.is_empty();
    let mut stdout = std::io::stdout().lock();
    match args.out.output {
        OutputFormat::Json | OutputFormat::Yaml => {
            render::document(&mut stdout, args.out.output, &out)?
        }
        OutputFormat::Name => stdout.write_all(render::diff_names(&out).as_bytes())?,
        OutputFormat::Table | OutputFormat::Wide => {
            stdout.write_all(render::diff_text(&out, &args.out.painter()).as_bytes())?;
        }
    }
    if args.out.show_stats() {
        eprintln!("{}", conn.stats_line());
    }
    Ok(if !out.identical {
        Exit::NotFine
    } else if !out.not_compared.is_empty() {
        Exit::Partial
    } else {
        Exit::Ok
    })
}

/// The live copy of an archived cluster-scoped object (one GET each: there are few).
async fn get_cluster_object(
    client: &kube::Client,
    manifest: &crate::report::BackupManifest,
    group: &str,
    kind: &str,
    api_version: &str,
    name: &str,
) -> Result<Option<Value>> {
    let Some(rt) = manifest
        .scope
        .resources
        .iter()
        .find(|r| r.group == group && r.kind == kind)
    else {
        return Ok(None);
    };
    let ar = ApiResource {
        group: rt.group.clone(),
        version: api_version
            .rsplit('/')
            .next()
            .unwrap_or(&rt.version)
            .to_string(),
        api_version: api_version.to_string(),
        kind: rt.kind.clone(),
        plural: rt.plural.clone(),
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    match api.get_opt(name).await {
        Ok(Some(o)) => Ok(Some(serde_json::to_value(o)?)),
        Ok(None) => Ok(None),
        Err(e) if common::error::status_code(&e) == Some(404) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_values_and_their_last_applied_copy_are_masked() {
        let a = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"p\":\"aHVudGVyMg==\"}}"}},
            "data": {"p": "aHVudGVyMg=="}});
        let b = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"p\":\"czNjcjN0\"}}"}},
            "data": {"p": "czNjcjN0"}});
        let c = changes(&a, &b);
        let text = serde_json::to_string(&c).unwrap_or_default();
        let lines: Vec<String> = c.iter().map(FieldChange::line).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.ends_with(": changed")), "{lines:?}");
        assert!(
            !text.contains("aHVudGVyMg") && !text.contains("czNjcjN0"),
            "{text}"
        );
        let cm_a = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "1"}});
        let cm_b = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "2"}});
        assert_eq!(changes(&cm_a, &cm_b)[0].line(), "data.k: 1 → 2");
    }
}
