//! `kubectl rotate certs`: read-only. Secrets are read page by page and reduced to their
//! certificates at once (flat memory over thousands of Secrets); the consumer lists run
//! meanwhile, so their cost hides behind the Secret pages.

use std::collections::BTreeMap;
use std::time::Instant;

use common::cli::Connection;
use common::output::OutputArgs;
use common::run::Session;
use common::{Exit, ObjectRef};
use futures::StreamExt;

use crate::args::CertsArgs;
use crate::certs::{self, Thresholds};
use crate::collect::{self, Scope, Want};
use crate::consumers::{self, RefKind};
use crate::render;
use crate::report::CertificateReport;

/// Run `rotate certs`.
pub async fn run(
    conn: &Connection,
    a: &CertsArgs,
    out: &OutputArgs,
    session: &Session,
) -> common::Result<Exit> {
    let started = Instant::now();
    if a.critical > a.warn {
        return Err(common::Error::usage(
            "--critical must not be longer than --warn",
        ));
    }
    let now = jiff::Timestamp::now();
    let thresholds = Thresholds {
        warn: a.warn,
        critical: a.critical,
    };
    let scope = Scope {
        conn,
        all_namespaces: a.all_namespaces,
    };
    let (entries, unreadable, scanned, w) = session
        .interruptible(async {
            if !a.all_namespaces {
                collect::require_namespace(conn, &conn.namespace).await?;
            }
            let scan = async {
                let mut entries = Vec::new();
                let mut unreadable = Vec::new();
                let mut scanned = 0usize;
                let mut pages = std::pin::pin!(collect::secret_pages(scope));
                while let Some(page) = pages.next().await {
                    for s in page? {
                        scanned += 1;
                        let (e, u) = certs::scan(&s, thresholds, now);
                        entries.extend(e);
                        unreadable.extend(u);
                    }
                }
                Ok::<_, common::Error>((entries, unreadable, scanned))
            };
            let (scan, w) = tokio::join!(
                scan,
                collect::workloads(
                    scope,
                    Want {
                        pods: true,
                        history: false
                    }
                )
            );
            let (entries, unreadable, scanned) = scan?;
            Ok((entries, unreadable, scanned, w?))
        })
        .await?;

    // (namespace, secret) → consumers, over every consumer found.
    let mut users: BTreeMap<(String, String), Vec<ObjectRef>> = BTreeMap::new();
    for c in consumers::find_all(&w) {
        for r in c.references.iter().filter(|r| r.kind == RefKind::Secret) {
            let list = users
                .entry((c.object.namespace.clone(), r.name.clone()))
                .or_default();
            if !list.contains(&c.object) {
                list.push(c.object.clone());
            }
        }
    }
    let mut entries = entries;
    for e in &mut entries {
        if let Some(list) = users.get(&(e.secret.namespace.clone(), e.secret.name.clone())) {
            e.consumers = list.clone();
        }
    }
    entries.sort_by(|x, y| (&x.secret, &x.key, x.index).cmp(&(&y.secret, &y.key, y.index)));
    let summary = certs::summarize(&entries, scanned);
    let failing = certs::failing(&summary);
    let partial = w.incomplete();
    let report = CertificateReport {
        api_version: common::api_version("rotate"),
        kind: "CertificateReport".into(),
        namespace: if a.all_namespaces {
            String::new()
        } else {
            conn.namespace.clone()
        },
        all_namespaces: a.all_namespaces,
        now,
        warn_seconds: a.warn.as_secs(),
        critical_seconds: a.critical.as_secs(),
        summary,
        certificates: entries,
        unreadable,
        skipped: w.skipped.clone(),
        stats: super::stats(conn, started),
    };
    render::certs(
        &mut std::io::stdout().lock(),
        out.output,
        &report,
        &out.painter(),
    )?;
    super::print_stats(out, conn, &report.stats);
    Ok(if failing {
        Exit::NotFine
    } else if partial {
        Exit::Partial
    } else {
        Exit::Ok
    })
}
