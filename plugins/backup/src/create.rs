//! `kubectl backup create`: checks every flag before the first request, then streams the
//! namespaces' objects, dumps and snapshot records into one archive written atomically.

use std::io::{Seek, SeekFrom, Write};
use std::sync::Arc;

use common::discovery::discover;
use common::files::Output;
use common::model::Skipped;
use common::output::OutputFormat;
use common::run::Session;
use common::write::{DryRun, Writer};
use common::{Error, Exit, Result};
use kube::api::{ApiResource, DynamicObject, ListParams};
use tokio::sync::mpsc;

use crate::archive::write::{ArchiveWriter, EntryMeta};
use crate::args::{Args, CreateArgs, namespace_list};
use crate::collect::{Collector, Msg, Namespaces, Sink};
use crate::crypto::{self, ArchiveKey, PASSPHRASE_KEY_PATH, RECIPIENTS_KEY_PATH};
use crate::dumps;
use crate::plan;
use crate::render;
use crate::report::{
    ArchiveFile, BackupManifest, Counts, Encryption, EntryType, SCHEMA_VERSION, Scope, SecretsMode,
    Source, Tool, api_version,
};
use crate::snapshots;

/// Messages in flight to the writer thread: bounds memory, keeps lists and the
/// compressor busy at the same time.
const CHANNEL: usize = 256;

/// `<context>-<namespace or all>-<UTC timestamp>.tar.zst`, with characters that do not
/// belong in a file name (EKS context ARNs have `:` and `/`) replaced by `_`.
pub fn default_file_name(context: &str, namespaces: &Namespaces, at: jiff::Timestamp) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let scope = match namespaces {
        Namespaces::All => "all".to_string(),
        Namespaces::Some(list) if list.len() <= 3 => list.join("+"),
        Namespaces::Some(list) => format!("{}-namespaces", list.len()),
    };
    let stamp = at.strftime("%Y%m%dT%H%M%SZ");
    format!("{}-{}-{stamp}.tar.zst", clean(context), clean(&scope))
}

/// The choice `create` insists on when Secrets are in scope.
fn secrets_choice_error() -> Error {
    Error::usage("Secrets are in scope, and kubectl backup never writes them in plaintext by accident").with_hint(
        "choose one: --recipient AGE_PUBKEY (age X25519), --passphrase-env VAR (age scrypt), --plaintext-secrets, or --exclude-resources secrets",
    )
}

/// Run `create`.
pub async fn create(args: &Args, c: &CreateArgs, session: &Session) -> Result<Exit> {
    // Everything that can be wrong with the flags is found before the first request.
    if c.all_namespaces && args.conn.namespace.is_some() {
        return Err(Error::usage(
            "-A/--all-namespaces and -n/--namespace cannot be used together",
        ));
    }
    let recipients = crypto::parse_recipients(&c.recipient)?;
    let passphrase = c
        .passphrase_env
        .as_deref()
        .map(crypto::passphrase_from_env)
        .transpose()?;
    let encrypting = !recipients.is_empty() || passphrase.is_some();
    if c.encrypt_dumps && !encrypting {
        return Err(Error::usage(
            "--encrypt-dumps needs --recipient or --passphrase-env",
        ));
    }
    let dump_specs = c
        .dump
        .iter()
        .map(|s| dumps::parse_spec(s).map_err(Error::usage))
        .collect::<Result<Vec<_>>>()?;
    let to_stdout = c.file.as_deref() == Some("-");
    if to_stdout && args.out.output.is_document() {
        return Err(Error::usage("-o json/yaml cannot go to stdout while the archive does (-f -)")
            .with_hint("write the archive to a file, or inspect it afterwards with kubectl backup inspect"));
    }

    let conn = args.conn.connect().await?;
    let namespaces = if c.all_namespaces {
        Namespaces::All
    } else {
        Namespaces::Some(namespace_list(Some(&conn.namespace)))
    };
    let discovered = session.interruptible(discover(&conn.client)).await?;
    let plan =
        plan::plan(&discovered, &c.include_resources, &c.exclude_resources).map_err(|e| {
            Error::usage(e).with_hint("kubectl api-resources lists what the cluster serves")
        })?;
    if plan.secrets && !encrypting && !c.plaintext_secrets {
        return Err(secrets_choice_error());
    }
    let ns_objects = namespace_objects(&conn, &discovered, &namespaces).await?;
    let mut dump_pods = Vec::new();
    for spec in &dump_specs {
        dump_pods.push(dumps::resolve(&conn.client, spec, &namespaces).await?);
    }
    let server_version = conn
        .client
        .apiserver_version()
        .await
        .map(|i| i.git_version)
        .unwrap_or_default();

    let created_at = jiff::Timestamp::now();
    let path = c
        .file
        .clone()
        .unwrap_or_else(|| default_file_name(&conn.context, &namespaces, created_at));
    let output = Output::create(&path, true)?;
    let key = encrypting.then(|| Arc::new(ArchiveKey::generate()));
    let secret_key = if plan.secrets { key.clone() } else { None };
    let writer = ArchiveWriter::new(output, created_at)?;
    let (tx, mut rx) = mpsc::channel::<Msg>(CHANNEL);
    let handle = tokio::task::spawn_blocking(move || -> std::io::Result<ArchiveWriter<Output>> {
        let mut w = writer;
        while let Some(m) = rx.blocking_recv() {
            match m {
                Msg::Add {
                    path,
                    entry_type,
                    data,
                    meta,
                } => w.add(&path, entry_type, &data, meta)?,
                Msg::File {
                    path,
                    entry_type,
                    mut file,
                    size,
                    sha256,
                    meta,
                } => {
                    file.seek(SeekFrom::Start(0))?;
                    w.add_reader(&path, entry_type, &mut file, size, sha256, meta)?;
                }
                Msg::Exclude(rule) => w.exclude(rule),
            }
        }
        Ok(w)
    });

    let mut key_entries = Vec::new();
    let writes = Writer::new("backup", DryRun::None, session.journal.clone());
    let body = async {
        if let Some(k) = &key {
            if !recipients.is_empty() {
                let data = k.wrap_for(&recipients)?;
                send_key(&tx, RECIPIENTS_KEY_PATH, data).await?;
                key_entries.push(RECIPIENTS_KEY_PATH.to_string());
            }
            if let Some(p) = &passphrase {
                let (k2, p2) = (Arc::clone(k), p.clone());
                // scrypt is a second of CPU by design: off the async threads.
                let data = tokio::task::spawn_blocking(move || k2.wrap_with_passphrase(&p2))
                    .await
                    .map_err(|e| Error::other(format!("encryption task failed: {e}")))??;
                send_key(&tx, PASSPHRASE_KEY_PATH, data).await?;
                key_entries.push(PASSPHRASE_KEY_PATH.to_string());
            }
        }
        let sink = Sink::Archive {
            tx: tx.clone(),
            key: secret_key.clone(),
        };
        let collector = Collector::new(
            conn.client.clone(),
            sink,
            &plan,
            c.selector.clone(),
            c.include_cluster_resources,
        );
        collector.namespace_objects(&discovered, ns_objects).await?;
        session
            .interruptible(collector.collect(&plan, &namespaces))
            .await?;
        session
            .interruptible(collector.cluster_objects(&discovered, &namespaces))
            .await?;
        let (collected, _sink) = collector.finish();
        let mut skipped = collected.skipped;
        let dump_key = if c.encrypt_dumps { key.clone() } else { None };
        let mut dump_records = Vec::new();
        for (spec, pod) in dump_specs.iter().zip(&dump_pods) {
            session.checkpoint()?;
            let (record, file) = dumps::take(&conn.client, spec, pod, dump_key.as_deref()).await?;
            if let Some((file, size, sha256)) = file {
                let path = record.entry.clone().unwrap_or_default();
                let meta = EntryMeta {
                    namespace: Some(record.namespace.clone()),
                    name: Some(record.name.clone()),
                    encrypted: record.encrypted,
                    ..EntryMeta::default()
                };
                send(
                    &tx,
                    Msg::File {
                        path,
                        entry_type: EntryType::Dump,
                        file,
                        size,
                        sha256,
                        meta,
                    },
                )
                .await?;
            }
            if record.outcome != "ok" {
                skipped.push(Skipped::new(
                    format!("dump {}", record.name),
                    common::model::SkipCause::Failed,
                    format!(
                        "exit code {}: {}",
                        record.exit_code,
                        record.stderr.lines().last().unwrap_or("")
                    ),
                ));
            }
            dump_records.push(record);
        }
        let mut snapshot_records = Vec::new();
        if c.snapshot_volumes {
            let taken = snapshots::take_all(
                &conn.client,
                &discovered,
                &writes,
                &collected.claims,
                c.snapshot_class.as_deref(),
                c.snapshot_timeout,
                session,
                created_at,
            )
            .await?;
            for (record, data) in taken.records {
                send(
                    &tx,
                    Msg::Add {
                        path: record.entry.clone(),
                        entry_type: EntryType::Snapshot,
                        data,
                        meta: EntryMeta {
                            api_version: Some("snapshot.storage.k8s.io/v1".into()),
                            kind: Some("VolumeSnapshot".into()),
                            namespace: Some(record.namespace.clone()),
                            name: Some(record.volume_snapshot.clone()),
                            encrypted: false,
                        },
                    },
                )
                .await?;
                snapshot_records.push(record);
            }
            skipped.extend(taken.skipped);
        }
        Ok::<_, Error>((collected.resources, skipped, dump_records, snapshot_records))
    };
    let result = body.await;
    drop(tx);
    let writer = handle
        .await
        .map_err(|e| Error::other(format!("the archive writer failed: {e}")))?;
    // A writer error (disk full) explains a failed send better than the send itself.
    let writer = writer?;
    let (resources, skipped, dump_records, snapshot_records) = result?;

    let head = BackupManifest {
        api_version: api_version(),
        kind: "BackupManifest".into(),
        schema_version: SCHEMA_VERSION,
        tool: Tool::this(),
        created_at,
        source: Source {
            context: conn.context.clone(),
            server: conn.server.clone(),
            server_version,
        },
        scope: Scope {
            namespaces: match &namespaces {
                Namespaces::All => Vec::new(),
                Namespaces::Some(l) => l.clone(),
            },
            all_namespaces: namespaces == Namespaces::All,
            selector: c.selector.clone(),
            include_resources: c.include_resources.clone(),
            exclude_resources: c.exclude_resources.clone(),
            include_cluster_resources: c.include_cluster_resources,
            resources,
        },
        encryption: Encryption {
            secrets: if !plan.secrets {
                SecretsMode::Excluded
            } else if encrypting {
                SecretsMode::Encrypted
            } else {
                SecretsMode::Plaintext
            },
            dumps_encrypted: c.encrypt_dumps,
            recipients: recipients.iter().map(ToString::to_string).collect(),
            passphrase: passphrase.is_some(),
            key_entries,
        },
        counts: Counts::default(),
        dumps: dump_records,
        snapshots: snapshot_records,
        skipped,
        archive: None,
        changes: Vec::new(),
        entries: Vec::new(),
    };
    let written = tokio::task::spawn_blocking(move || writer.finish(head))
        .await
        .map_err(|e| Error::other(format!("the archive writer failed: {e}")))??;
    written.inner.finish()?;
    let mut manifest = written.manifest;
    manifest.archive = Some(ArchiveFile {
        path: path.clone(),
        size: written.size,
        sha256: written.sha256,
    });
    manifest.changes = session.journal.entries();
    let partial = manifest.skipped.iter().any(|s| s.cause.is_partial());
    print(args, &manifest, &session.journal, to_stdout)?;
    if args.out.show_stats() {
        eprintln!("{}", conn.stats_line());
    }
    Ok(if partial { Exit::Partial } else { Exit::Ok })
}

async fn send(tx: &mpsc::Sender<Msg>, msg: Msg) -> Result<()> {
    tx.send(msg)
        .await
        .map_err(|_| Error::other("the archive writer stopped"))
}

async fn send_key(tx: &mpsc::Sender<Msg>, path: &str, data: Vec<u8>) -> Result<()> {
    send(
        tx,
        Msg::Add {
            path: path.to_string(),
            entry_type: EntryType::Key,
            data,
            meta: EntryMeta::default(),
        },
    )
    .await
}

/// The Namespace objects in scope: read one by one for `-n` (a missing namespace is exit 2
/// before anything is written), listed for `-A`.
async fn namespace_objects(
    conn: &common::cli::Connection,
    discovered: &common::discovery::Discovered,
    namespaces: &Namespaces,
) -> Result<Vec<DynamicObject>> {
    let ar = discovered
        .by_kind("", "Namespace")
        .map(|r| r.api.clone())
        .unwrap_or_else(|| ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: "Namespace".into(),
            plural: "namespaces".into(),
        });
    let api: kube::Api<DynamicObject> = kube::Api::all_with(conn.client.clone(), &ar);
    match namespaces {
        Namespaces::All => common::list::list_all(&api, &ListParams::default()).await,
        Namespaces::Some(list) => {
            let mut out = Vec::new();
            for n in list {
                match api.get(n).await {
                    Ok(o) => out.push(o),
                    Err(e) if common::error::is_not_found(&e) => {
                        return Err(Error::usage(format!("namespace \"{n}\" not found"))
                            .with_hint("list the namespaces with: kubectl get namespaces"));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(out)
        }
    }
}

fn print(
    args: &Args,
    m: &BackupManifest,
    journal: &common::journal::Journal,
    to_stdout: bool,
) -> Result<()> {
    let painter = args.out.painter();
    let written = m.archive.as_ref().map(|a| a.path.as_str()).unwrap_or("-");
    let mut text = format!(
        "backup written to {written}\n{}",
        render::manifest_text(m, &painter)
    );
    if !journal.is_empty() {
        text.push('\n');
        text.push_str(&journal.render_text(&painter));
    }
    if to_stdout {
        // stdout carries the archive: the summary goes to stderr.
        eprint!("{text}");
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match args.out.output {
        OutputFormat::Json | OutputFormat::Yaml => {
            // The full document: the entry list read back from the archive just written.
            let full = match crate::load::scan(written, crate::load::Keep::Digests)
                .ok()
                .and_then(|s| s.manifest().cloned())
            {
                Some(mut full) => {
                    full.archive = m.archive.clone();
                    full.changes = m.changes.clone();
                    full
                }
                None => m.clone(),
            };
            render::document(&mut stdout, args.out.output, &full)?;
        }
        OutputFormat::Name => {
            let full = crate::load::scan(written, crate::load::Keep::Digests)
                .ok()
                .and_then(|s| s.manifest().cloned())
                .unwrap_or_else(|| m.clone());
            stdout.write_all(render::manifest_names(&full).as_bytes())?;
        }
        OutputFormat::Table | OutputFormat::Wide => stdout.write_all(text.as_bytes())?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        let at: jiff::Timestamp = "2026-11-25T10:15:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            default_file_name("sandbox", &Namespaces::Some(vec!["hypersdk".into()]), at),
            "sandbox-hypersdk-20261125T101500Z.tar.zst"
        );
        assert_eq!(
            default_file_name("arn:aws:eks:us-east-1:1:cluster/prod", &Namespaces::All, at),
            "arn_aws_eks_us-east-1_1_cluster_prod-all-20261125T101500Z.tar.zst"
        );
        let many = Namespaces::Some(vec!["a".into(), "b".into(), "c".into(), "d".into()]);
        assert_eq!(
            default_file_name("c", &many, at),
            "c-4-namespaces-20261125T101500Z.tar.zst"
        );
    }
}
