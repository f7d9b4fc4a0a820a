//! Fixture loading: YAML files → registry (CRDs), store (objects), users,
//! pod logs and faults. Fills the metadata a real server would have set and
//! resolves relative times (`now-5m`) against the server's start.

use crate::faults::Fault;
use crate::http::auth::User;
use crate::logs::PodLogs;
use crate::meta::fill_create_metadata;
use crate::registry::{Registry, ResourceType};
use crate::store::{Store, meta_str, res_key};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Everything fixtures define.
pub struct Loaded {
    pub registry: Registry,
    pub store: Store,
    pub users: Vec<User>,
    /// `ServiceAccountToken` fixtures: bearer token → what it stands for.
    pub tokens: Vec<(String, crate::http::tokens::IssuedToken)>,
    pub logs: PodLogs,
    pub faults: Vec<Fault>,
    pub runtime: crate::runtime::Runtime,
}

const SANDBOX_API: &str = "sandbox.test/v1";
/// Namespaces every real cluster has.
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

struct Doc {
    file: PathBuf,
    item: Item,
}

/// A parsed document: built-in objects are made ready for storage on the
/// parsing threads; everything else (custom resources, which need the CRDs
/// of all files, sandbox kinds, documents with errors) is stored in order.
enum Item {
    Value(Value),
    Prepared {
        obj: Box<crate::store::Prepared>,
        namespace: Option<String>,
    },
}

impl Item {
    fn value(&self) -> Option<&Value> {
        match self {
            Item::Value(v) => Some(v),
            Item::Prepared { .. } => None,
        }
    }
}

/// Files under `path` in name order (a file is itself).
fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_files(&p, out)?;
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml")
        {
            out.push(p);
        }
    }
    Ok(())
}

/// Byte offsets and 1-based line numbers where documents start (`---` at
/// column 0), so a big file can be parsed in pieces. Files with directives
/// (`%YAML`) are not split.
fn document_starts(text: &str) -> Vec<(usize, usize)> {
    let mut out = vec![(0, 1)];
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.starts_with('%') {
            return vec![(0, 1)];
        }
        let bare = line.trim_end_matches(['\n', '\r']);
        if offset > 0 && (bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t")) {
            out.push((offset, i + 1));
        }
        offset += line.len();
    }
    out
}

/// Parses one piece of a file; errors carry the absolute line. Documents
/// in the plain block style are read by the fast reader (`yaml.rs`), the
/// rest by serde-saphyr.
fn parse_piece(piece: &str, first_line: usize) -> Result<Vec<Value>, (usize, String)> {
    let starts = document_starts(piece);
    let mut out = Vec::with_capacity(starts.len());
    for (i, &(offset, line)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(piece.len(), |s| s.0);
        let doc = &piece[offset..end];
        match crate::yaml::parse_document(doc) {
            Some(v) => out.push(v),
            None => out.extend(parse_yaml(doc, first_line + line - 1)?),
        }
    }
    Ok(out)
}

/// serde-saphyr on documents the fast reader leaves alone.
fn parse_yaml(text: &str, first_line: usize) -> Result<Vec<Value>, (usize, String)> {
    // Fixtures are our own trusted files and may hold 10,000 documents: the
    // parser's anti-abuse budget (1,024 documents, 250k nodes) does not apply.
    let mut options = serde_saphyr::Options::default();
    options.budget = None;
    options.emit_comments = false;
    serde_saphyr::from_multiple_with_options(text, options).map_err(|e| {
        let line = e.location().map_or(1, |l| l.line() as usize);
        let msg = e.to_string();
        let mut msg = msg.lines().next().unwrap_or("invalid YAML").trim();
        msg = msg.strip_prefix("error: ").unwrap_or(msg);
        if msg.starts_with("line ") {
            msg = msg.split_once(": ").map_or(msg, |(_, rest)| rest);
        }
        (first_line + line - 1, msg.to_string())
    })
}

/// Files above this size are split at documents into pieces of about
/// `PIECE_BYTES`, so all cores stay busy.
const PARALLEL_BYTES: usize = 512 * 1024;
const PIECE_BYTES: usize = 256 * 1024;

type PieceResult = Result<Vec<Item>, (usize, String)>;

/// Parses one file into its non-empty documents, `kind: List` expanded.
#[cfg(test)]
fn parse_file(file: &Path, docs: &mut Vec<Doc>) -> Result<(), String> {
    docs.extend(parse_files(&[file.to_path_buf()], None)?);
    Ok(())
}

/// Parses every file into its non-empty documents, `kind: List` expanded, in
/// file order. Pieces of all files are parsed on a pool of threads (relative
/// times resolved there too when `now` is given); the first error in file
/// order is reported, as if the files were parsed one after another.
fn parse_files(files: &[PathBuf], now: Option<jiff::Timestamp>) -> Result<Vec<Doc>, String> {
    let texts: Vec<Result<String, String>> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display())))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    // (file index, piece text, first line); pieces of a file are consecutive.
    let mut pieces: Vec<(usize, &str, usize)> = Vec::new();
    for (fi, text) in texts.iter().enumerate() {
        let Ok(text) = text else {
            continue;
        };
        let text = text.as_str();
        if text.len() < PARALLEL_BYTES || threads < 2 {
            pieces.push((fi, text, 1));
            continue;
        }
        let starts = document_starts(text);
        let (mut begin, mut begin_line) = (0, 1);
        for &(offset, line) in starts.iter().skip(1) {
            if offset - begin >= PIECE_BYTES {
                pieces.push((fi, &text[begin..offset], begin_line));
                (begin, begin_line) = (offset, line);
            }
        }
        pieces.push((fi, &text[begin..], begin_line));
    }
    let builtin = Registry::builtin();
    let parse = |&(_, piece, line): &(usize, &str, usize)| -> PieceResult {
        let values = parse_piece(piece, line)?;
        Ok(values
            .into_iter()
            .map(|mut v| match now {
                Some(now) => {
                    resolve_times(&mut v, now);
                    prepare_builtin(&builtin, v, now)
                }
                None => Item::Value(v),
            })
            .collect())
    };
    let mut results: Vec<Option<PieceResult>> = Vec::new();
    results.resize_with(pieces.len(), || None);
    if threads < 2 || pieces.len() < 2 {
        for (slot, piece) in results.iter_mut().zip(&pieces) {
            *slot = Some(parse(piece));
        }
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(piece) = pieces.get(i) else {
                    return done;
                };
                done.push((i, parse(piece)));
            }
        };
        let finished: Vec<Vec<(usize, PieceResult)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads.min(pieces.len()))
                .map(|_| scope.spawn(work))
                .collect();
            let mut finished = vec![work()];
            finished.extend(handles.into_iter().filter_map(|h| h.join().ok()));
            finished
        });
        for (i, r) in finished.into_iter().flatten() {
            results[i] = Some(r);
        }
    }
    let mut results = pieces.iter().zip(results).peekable();
    let mut docs = Vec::new();
    for (fi, (file, text)) in files.iter().zip(&texts).enumerate() {
        if let Err(e) = text {
            return Err(e.clone());
        }
        let mut values = Vec::new();
        while let Some(((_, _, line), r)) = results.next_if(|((f, _, _), _)| *f == fi) {
            let r = r.unwrap_or_else(|| Err((*line, "parser panicked".to_string())));
            values.extend(r.map_err(|(line, msg)| format!("{}:{line}: {msg}", file.display()))?);
        }
        push_documents(file, values, &mut docs)?;
    }
    Ok(docs)
}

/// A built-in object ready for storage, or the document as it is.
fn prepare_builtin(builtin: &Registry, value: Value, now: jiff::Timestamp) -> Item {
    let kind = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    let Some(rt) = builtin.by_kind(kind("apiVersion"), kind("kind")) else {
        return Item::Value(value);
    };
    // Reported with its file by the sequential pass; CRDs are registered
    // from their parsed form before anything is stored.
    if meta_str(&value, "name").is_empty() || rt.kind == "CustomResourceDefinition" {
        return Item::Value(value);
    }
    let (obj, namespace) = shape_fixture(rt, value, now);
    match crate::store::prepare(&storage_key(rt), obj) {
        Ok(obj) => Item::Prepared {
            obj: Box::new(obj),
            namespace,
        },
        Err(obj) => Item::Value(obj),
    }
}

fn storage_key(rt: &ResourceType) -> String {
    crate::convert::storage_key(&rt.group, &rt.plural)
}

/// A fixture object as storage keeps it: the server's metadata filled in, a
/// namespaced kind in its namespace (`default` if none), the API's defaults
/// applied (a real cluster stores nothing undefaulted). Returns the namespace.
fn shape_fixture(
    rt: &ResourceType,
    mut obj: Value,
    now: jiff::Timestamp,
) -> (Value, Option<String>) {
    let ns = rt.namespaced.then(|| match meta_str(&obj, "namespace") {
        "" => "default".to_string(),
        ns => ns.to_string(),
    });
    fill_create_metadata(&mut obj, ns.as_deref(), now);
    if rt.kind == "Namespace" && obj.pointer("/status/phase").is_none() {
        obj["status"] = json!({"phase": "Active"});
    }
    let mut obj = crate::convert::to_stored(rt, obj);
    crate::defaults::apply(rt, &mut obj);
    (obj, ns)
}

/// Keeps a file's non-empty documents, `kind: List` expanded.
fn push_documents(file: &Path, items: Vec<Item>, docs: &mut Vec<Doc>) -> Result<(), String> {
    for (i, item) in items.into_iter().enumerate() {
        let value = match item {
            Item::Value(v) => v,
            prepared => {
                docs.push(Doc {
                    file: file.to_path_buf(),
                    item: prepared,
                });
                continue;
            }
        };
        if value.is_null() {
            continue;
        }
        if !value.is_object() {
            return Err(format!(
                "{}: document {} is not a mapping",
                file.display(),
                i + 1
            ));
        }
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind == "List"
            || (kind.ends_with("List") && value.get("items").is_some_and(Value::is_array))
        {
            if let Some(items) = value.get("items").and_then(Value::as_array) {
                for item in items {
                    docs.push(Doc {
                        file: file.to_path_buf(),
                        item: Item::Value(item.clone()),
                    });
                }
            }
        } else {
            docs.push(Doc {
                file: file.to_path_buf(),
                item: Item::Value(value),
            });
        }
    }
    Ok(())
}

/// `now` → 0, `now-5m` → -300, `now+1d` → 86400; anything else → None.
pub fn relative_offset(s: &str) -> Option<i64> {
    let rest = s.strip_prefix("now")?;
    if rest.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let unit = rest.chars().last()?;
    let digits = &rest[..rest.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    Some(sign * n.checked_mul(scale)?)
}

/// `metav1.MicroTime` fields: clients parse them only with six fractional digits.
const MICRO_TIME_FIELDS: &[&str] = &["eventTime", "lastObservedTime", "renewTime", "acquireTime"];

/// Replaces every string exactly matching `now([+-]N[smhd])?` with a timestamp
/// (microsecond precision in MicroTime fields, which also get their fraction
/// added when a fixture wrote a plain RFC 3339 time).
pub fn resolve_times(v: &mut Value, now: jiff::Timestamp) {
    resolve_inner(v, now, false);
}

fn resolve_inner(v: &mut Value, now: jiff::Timestamp, micro: bool) {
    match v {
        Value::String(s) => {
            let ts = match relative_offset(s) {
                Some(offset) => Some(
                    jiff::Timestamp::from_second(now.as_second().saturating_add(offset))
                        .unwrap_or(now),
                ),
                None if micro => s.parse::<jiff::Timestamp>().ok(),
                None => None,
            };
            if let Some(ts) = ts {
                *s = if micro {
                    ts.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
                } else {
                    crate::meta::rfc3339(ts)
                };
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| resolve_inner(x, now, false)),
        Value::Object(m) => m.iter_mut().for_each(|(k, x)| {
            // Only a string can be a MicroTime (checked cheaply first: every key passes here).
            let micro =
                x.is_string() && k.ends_with("Time") && MICRO_TIME_FIELDS.contains(&k.as_str());
            resolve_inner(x, now, micro)
        }),
        _ => {}
    }
}

/// Loads every fixture under `paths`. Errors are one line: `<file>[:<line>]: <message>`.
pub fn load(
    paths: &[PathBuf],
    extra_faults: &[String],
    now: jiff::Timestamp,
) -> Result<Loaded, String> {
    let mut files = Vec::new();
    for p in paths {
        collect_files(p, &mut files)?;
    }
    let parse_started = std::time::Instant::now();
    let docs = parse_files(&files, Some(now))?;
    tracing::debug!(
        files = files.len(),
        documents = docs.len(),
        ms = parse_started.elapsed().as_millis() as u64,
        "fixtures parsed"
    );

    let mut registry = Registry::builtin();
    let mut users = Vec::new();
    let mut tokens = Vec::new();
    let mut logs = PodLogs::default();
    let mut faults = Vec::new();
    let mut runtime = crate::runtime::Runtime::default();
    for spec in extra_faults {
        faults.push(Fault::parse(spec)?);
    }
    let at = |file: &Path, e: String| format!("{}: {e}", file.display());
    // CRDs first so custom resources load whatever the file order.
    for d in &docs {
        if let Some(v) = d.item.value()
            && v.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
        {
            registry.add_crd(v).map_err(|e| at(&d.file, e))?;
        }
    }
    let store = Store::new();
    let mut namespaces = BTreeSet::new();
    store.write(false, |txn| -> Result<(), String> {
        for Doc { file, item } in docs {
            let value = match item {
                Item::Prepared { obj, namespace } => {
                    namespaces.extend(namespace);
                    txn.load_prepared(*obj);
                    continue;
                }
                Item::Value(v) => v,
            };
            let api_version = value
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let kind = value
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if api_version == SANDBOX_API {
                match kind.as_str() {
                    "PodLogs" => logs.add(&value).map_err(|e| at(&file, e))?,
                    "User" => {
                        // Like objects: a later User of the same name replaces an earlier one.
                        let user = User::from_fixture(&value).map_err(|e| at(&file, e))?;
                        users.retain(|u: &User| u.name != user.name);
                        users.push(user);
                    }
                    "Fault" => {
                        let spec = fault_spec(&value).map_err(|e| at(&file, e))?;
                        faults.push(Fault::parse(&spec).map_err(|e| at(&file, e))?);
                    }
                    "ServiceAccountToken" => {
                        tokens.push(
                            crate::http::tokens::from_fixture(&value).map_err(|e| at(&file, e))?,
                        );
                    }
                    "PodFailure" => runtime.add_failure(&value).map_err(|e| at(&file, e))?,
                    "PodExec" => runtime.add_exec(&value).map_err(|e| at(&file, e))?,
                    "NodeStats" => runtime.add_node_stats(&value).map_err(|e| at(&file, e))?,
                    other => {
                        return Err(at(
                            &file,
                            format!(
                                "unknown sandbox kind {other:?} (PodLogs, User, Fault, PodFailure, PodExec, NodeStats, ServiceAccountToken)"
                            ),
                        ));
                    }
                }
                continue;
            }
            let rt = registry.by_kind(&api_version, &kind).ok_or_else(|| {
                at(
                    &file,
                    format!("unknown apiVersion/kind {api_version:?}/{kind:?}"),
                )
            })?;
            if meta_str(&value, "name").is_empty() {
                return Err(at(&file, format!("{kind} without metadata.name")));
            }
            let (obj, ns) = shape_fixture(rt, value, now);
            namespaces.extend(ns);
            txn.load(&storage_key(rt), obj);
        }
        link_events(txn);
        allocate_service_ips(txn);
        // Namespaces referenced but not defined exist, Active, as in a cluster.
        for ns in SYSTEM_NAMESPACES
            .iter()
            .map(|s| s.to_string())
            .chain(namespaces)
        {
            if !txn.contains("/namespaces", "", &ns) {
                let mut obj = json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                    "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
                fill_create_metadata(&mut obj, None, now);
                txn.load("/namespaces", obj);
            }
        }
        Ok(())
    })?;
    store.seal_initial();
    Ok(Loaded {
        registry,
        store,
        users,
        tokens,
        logs,
        faults,
        runtime,
    })
}

/// Fixture Services without a cluster IP get one (and node ports), after
/// every fixture is in, so an address a later fixture pins is not taken.
fn allocate_service_ips(txn: &mut crate::store::Txn<'_>) {
    let pending: Vec<Value> = txn
        .inner()
        .values("/services")
        .filter(|s| {
            let ip = s.pointer("/spec/clusterIP").and_then(Value::as_str);
            let external = s.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName");
            !external && (ip.is_none_or(str::is_empty) || s.pointer("/spec/ipFamilies").is_none())
        })
        .collect();
    for mut svc in pending {
        crate::services::allocate(txn.inner(), &mut svc);
        txn.load("/services", svc);
    }
}

/// Events name their object by kind/namespace/name in fixtures; fill in the
/// object's uid (which fixtures rarely know) so `kubectl describe`, which
/// selects events by `involvedObject.uid`, finds them.
fn link_events(txn: &mut crate::store::Txn<'_>) {
    let plural_of = |kind: &str| -> String {
        let k = kind.to_lowercase();
        match k.as_str() {
            "endpoints" => k,
            _ if k.ends_with('s') => format!("{k}es"),
            _ if k.ends_with('y') => format!("{}ies", &k[..k.len() - 1]),
            _ => format!("{k}s"),
        }
    };
    // events.k8s.io Events are stored as core Events (see convert.rs).
    for (res, field) in [("/events", "involvedObject")] {
        // Only events without the uid (an indexed field) are parsed.
        let events: Vec<Value> = txn
            .inner()
            .iter_resource(res)
            .filter(|e| e.field("involvedObject.uid").is_none_or(str::is_empty))
            .map(|e| e.value())
            .collect();
        for mut ev in events {
            let Some(target) = ev.get(field) else {
                continue;
            };
            if target
                .get("uid")
                .and_then(Value::as_str)
                .is_some_and(|u| !u.is_empty())
            {
                continue;
            }
            let s = |k: &str| {
                target
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let (kind, ns, name, api_version) =
                (s("kind"), s("namespace"), s("name"), s("apiVersion"));
            let group = crate::registry::split_api_version(&api_version)
                .0
                .to_string();
            let key = res_key(&group, &plural_of(&kind));
            let uid = txn
                .inner()
                .stored(&key, &ns, &name)
                .or_else(|| txn.inner().stored(&key, "", &name))
                .map(|o| o.uid.clone());
            if let Some(uid) = uid {
                ev[field]["uid"] = json!(uid);
                txn.load(res, ev);
            }
        }
    }
}

/// A `Fault` fixture: `spec` is either the SPEC string or a map of the same keys.
fn fault_spec(doc: &Value) -> Result<String, String> {
    match doc.get("spec") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Object(m)) => Ok(m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                Value::Array(a) => format!(
                    "{k}={}",
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("|")
                ),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(",")),
        _ => Err("Fault needs spec (a SPEC string or a map of its keys)".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parse_keeps_line_numbers() {
        let mut text = String::new();
        for i in 0..40_000 {
            text.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{k: \"--- not a separator\"}}\n"));
        }
        text.push_str("---\nbad: [unclosed\n");
        let dir = std::env::temp_dir().join(format!("fixtures-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("big.yaml");
        std::fs::write(&file, &text).expect("write");
        let mut docs = Vec::new();
        let err = parse_file(&file, &mut docs).expect_err("malformed tail");
        assert!(
            err.contains(&format!("big.yaml:{}:", 40_000 * 5 + 2))
                || err.contains(&format!("big.yaml:{}:", 40_000 * 5 + 3)),
            "{err}"
        );
        std::fs::write(&file, &text[..text.len() - "---\nbad: [unclosed\n".len()]).expect("write");
        let mut docs = Vec::new();
        parse_file(&file, &mut docs).expect("parses");
        assert_eq!(docs.len(), 40_000);
        assert_eq!(
            docs[39_999].item.value().expect("parsed")["metadata"]["name"],
            "c39999"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn relative_times() {
        let now = jiff::Timestamp::from_second(1_700_000_000).expect("ts");
        let mut v = json!({"a": "now-5m", "b": ["now", "now+1d"], "c": "nowhere", "d": "now-2h"});
        resolve_times(&mut v, now);
        assert_eq!(v["a"], "2023-11-14T22:08:20Z");
        assert_eq!(v["b"][0], "2023-11-14T22:13:20Z");
        assert_eq!(v["b"][1], "2023-11-15T22:13:20Z");
        assert_eq!(v["c"], "nowhere");
        assert_eq!(v["d"], "2023-11-14T20:13:20Z");
        let mut e =
            json!({"eventTime": "now-1m", "series": {"lastObservedTime": "2023-11-14T22:00:00Z"}});
        resolve_times(&mut e, now);
        assert_eq!(e["eventTime"], "2023-11-14T22:12:20.000000Z");
        assert_eq!(
            e["series"]["lastObservedTime"],
            "2023-11-14T22:00:00.000000Z"
        );
        assert_eq!(relative_offset("now-"), None);
        assert_eq!(relative_offset("now-5x"), None);
        assert_eq!(relative_offset("now+30s"), Some(30));
    }
}
