//! Output for people (tables and summary lines) and the json/yaml/name forms of every
//! document; printing only, no decisions.

use std::collections::BTreeMap;
use std::io::Write;

use common::Result;
use common::output::{Cell, OutputFormat, Painter, Style, Table, print_document};
use common::quantity::human_bytes;
use serde::Serialize;

use crate::report::{
    BackupDiff, BackupManifest, BackupVerification, EntryType, RestoreReport, SecretsMode,
};

/// Print a document as json/yaml (the caller handles table and name).
pub fn document<T: Serialize>(out: &mut dyn Write, format: OutputFormat, doc: &T) -> Result<()> {
    print_document(out, format, doc)
}

fn bytes(n: u64) -> String {
    // Byte counts stay far below 2^53: exact in f64.
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    human_bytes(f)
}

fn scope_line(m: &BackupManifest) -> String {
    let mut s = if m.scope.all_namespaces {
        "all namespaces".to_string()
    } else if m.scope.namespaces.len() == 1 {
        format!("namespace {}", m.scope.namespaces[0])
    } else {
        format!("namespaces {}", m.scope.namespaces.join(", "))
    };
    if let Some(sel) = &m.scope.selector {
        s.push_str(&format!(", selector {sel}"));
    }
    if m.scope.include_cluster_resources {
        s.push_str(", with the cluster objects they reference");
    }
    s
}

fn secrets_line(m: &BackupManifest) -> String {
    let n = m
        .entries
        .iter()
        .filter(|e| e.kind.as_deref() == Some("Secret"))
        .count();
    let secrets = m.counts.by_kind.get("Secret").copied().unwrap_or(n as u64);
    match m.encryption.secrets {
        SecretsMode::Excluded => "not in scope".to_string(),
        SecretsMode::Plaintext => format!("{secrets} in plaintext (--plaintext-secrets)"),
        SecretsMode::Encrypted => {
            let mut to: Vec<String> = Vec::new();
            if !m.encryption.recipients.is_empty() {
                to.push(format!(
                    "{} recipient{} ({})",
                    m.encryption.recipients.len(),
                    if m.encryption.recipients.len() == 1 {
                        ""
                    } else {
                        "s"
                    },
                    m.encryption.recipients.join(", ")
                ));
            }
            if m.encryption.passphrase {
                to.push("a passphrase".into());
            }
            let dumps = if m.encryption.dumps_encrypted {
                "; dumps encrypted too"
            } else {
                ""
            };
            format!(
                "{secrets} encrypted with age for {}{dumps}",
                to.join(" and ")
            )
        }
    }
}

/// The manifest for people: what `inspect` prints, and `create` after writing.
pub fn manifest_text(m: &BackupManifest, p: &Painter) -> String {
    let mut out = String::new();
    let mut head = Table::new(["", ""]);
    if let Some(a) = &m.archive {
        head.row([
            Cell::new("archive"),
            Cell::new(format!(
                "{} ({}, sha256 {})",
                a.path,
                bytes(a.size),
                a.sha256
            )),
        ]);
    }
    head.row([
        Cell::new("created"),
        Cell::new(format!(
            "{} by {} {} (schema {})",
            m.created_at, m.tool.name, m.tool.version, m.schema_version
        )),
    ]);
    head.row([
        Cell::new("source"),
        Cell::new(format!(
            "context {}, server {} ({})",
            m.source.context, m.source.server, m.source.server_version
        )),
    ]);
    head.row([Cell::new("scope"), Cell::new(scope_line(m))]);
    head.row([
        Cell::new("objects"),
        Cell::new(format!(
            "{} in {} namespace{} ({} in {} entries)",
            m.counts.objects,
            m.counts
                .by_namespace
                .keys()
                .filter(|n| *n != "_cluster")
                .count(),
            if m.counts
                .by_namespace
                .keys()
                .filter(|n| *n != "_cluster")
                .count()
                == 1
            {
                ""
            } else {
                "s"
            },
            bytes(m.counts.bytes),
            m.counts.entries
        )),
    ]);
    head.row([Cell::new("secrets"), Cell::new(secrets_line(m))]);
    for line in head.render(p).lines().skip(1) {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    // Objects per namespace and kind; sizes and encryption from the entry list when
    // it is there (inspect), counts alone otherwise (create).
    let mut per: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
    for (ns, kinds) in &m.counts.by_namespace_kind {
        for (kind, n) in kinds {
            per.entry((ns.clone(), kind.clone())).or_default().0 = *n;
        }
    }
    for e in m
        .entries
        .iter()
        .filter(|e| e.entry_type == EntryType::Object)
    {
        let ns = e.namespace.clone().unwrap_or_else(|| "_cluster".into());
        let kind = crate::archive::write::kind_key(
            e.api_version.as_deref(),
            e.kind.as_deref().unwrap_or(""),
        );
        let slot = per.entry((ns, kind)).or_default();
        slot.1 += e.size;
        if e.encrypted {
            slot.2 += 1;
        }
    }
    let sizes = !m.entries.is_empty();
    if !per.is_empty() {
        out.push('\n');
        let mut t = if sizes {
            Table::new(["NAMESPACE", "KIND", "COUNT", "SIZE", "ENCRYPTED"])
        } else {
            Table::new(["NAMESPACE", "KIND", "COUNT"])
        };
        for ((ns, kind), (n, size, enc)) in per {
            let mut row = vec![Cell::new(ns), Cell::new(kind), Cell::new(n.to_string())];
            if sizes {
                row.push(Cell::new(bytes(size)));
                row.push(Cell::new(if enc > 0 {
                    enc.to_string()
                } else {
                    "-".into()
                }));
            }
            t.row(row);
        }
        out.push_str(&t.render(p));
    }
    if !m.dumps.is_empty() {
        out.push('\n');
        let mut t = Table::new(["DUMP", "TYPE", "POD", "SIZE", "EXIT", "OUTCOME"]);
        for d in &m.dumps {
            let pod = match &d.container {
                Some(c) => format!("{}/{}/{c}", d.namespace, d.pod),
                None => format!("{}/{}", d.namespace, d.pod),
            };
            let style = if d.outcome == "ok" {
                Style::Ok
            } else {
                Style::Critical
            };
            t.row([
                Cell::new(&d.name),
                Cell::new(&d.dump_type),
                Cell::new(pod),
                Cell::new(bytes(d.size)),
                Cell::new(d.exit_code.to_string()),
                Cell::styled(&d.outcome, style),
            ]);
        }
        out.push_str(&t.render(p));
    }
    if !m.snapshots.is_empty() {
        out.push('\n');
        let mut t = Table::new(["CLAIM", "VOLUMESNAPSHOT", "CLASS", "CONTENT", "READY"]);
        for s in &m.snapshots {
            t.row([
                Cell::new(format!("{}/{}", s.namespace, s.claim)),
                Cell::new(&s.volume_snapshot),
                Cell::new(&s.class),
                Cell::new(&s.content),
                Cell::new(if s.ready_to_use { "true" } else { "false" }),
            ]);
        }
        out.push_str(&t.render(p));
    }
    if !m.counts.excluded.is_empty() {
        let parts: Vec<String> = m
            .counts
            .excluded
            .iter()
            .map(|(rule, n)| format!("{n} {rule}"))
            .collect();
        out.push_str(&format!("\nleft out by default: {}\n", parts.join(", ")));
    }
    for s in &m.skipped {
        out.push_str(&format!(
            "{} {}: {}\n",
            p.paint("skipped", Style::Warning),
            s.what,
            s.reason()
        ));
    }
    out
}

/// `-o name` of a manifest: one `kind/namespace/name` line per object.
pub fn manifest_names(m: &BackupManifest) -> String {
    m.entries
        .iter()
        .filter(|e| e.entry_type == EntryType::Object)
        .map(|e| {
            common::output::name_line(
                e.kind.as_deref().unwrap_or(""),
                e.namespace.as_deref(),
                e.name.as_deref().unwrap_or(""),
            ) + "\n"
        })
        .collect()
}

/// Verification for people.
pub fn verification_text(v: &BackupVerification, p: &Painter) -> String {
    if v.valid {
        return format!(
            "{}: {} entries verified against the manifest (sha256, sizes, nothing missing or extra)\n",
            p.paint("ok", Style::Ok),
            v.verified
        );
    }
    let mut t = Table::new(["ENTRY", "PROBLEM", "DETAIL"]);
    for pr in &v.problems {
        t.row([
            Cell::new(&pr.entry),
            Cell::styled(&pr.problem, Style::Critical),
            Cell::new(&pr.message),
        ]);
    }
    format!(
        "{}{}: {} problem{} ({} of {} entries verified)\n",
        t.render(p),
        p.paint("FAILED", Style::Critical),
        v.problems.len(),
        if v.problems.len() == 1 { "" } else { "s" },
        v.verified,
        v.entries
    )
}

/// A diff for people: `+`/`-`/`~` lines with field changes under each changed object.
pub fn diff_text(d: &BackupDiff, p: &Painter) -> String {
    let mut out = String::new();
    for o in &d.removed {
        out.push_str(&p.paint(
            &format!("- {o} (in the backup, not in the cluster)\n"),
            Style::Critical,
        ));
    }
    for o in &d.added {
        out.push_str(&p.paint(
            &format!("+ {o} (in the cluster, not in the backup)\n"),
            Style::Ok,
        ));
    }
    for c in &d.changed {
        out.push_str(&p.paint(&format!("~ {}\n", c.object), Style::Warning));
        for f in &c.changes {
            out.push_str(&format!("    {}\n", f.line()));
        }
    }
    for s in &d.not_compared {
        out.push_str(&format!("? {}: {}\n", s.what, s.message));
    }
    if d.identical {
        out.push_str(&format!(
            "no differences: {} objects match the backup\n",
            d.unchanged
        ));
    } else {
        out.push_str(&format!(
            "{} removed, {} added, {} changed, {} unchanged\n",
            d.removed.len(),
            d.added.len(),
            d.changed.len(),
            d.unchanged
        ));
    }
    out
}

/// `-o name` of a diff: every object that differs.
pub fn diff_names(d: &BackupDiff) -> String {
    d.removed
        .iter()
        .chain(&d.added)
        .chain(d.changed.iter().map(|c| &c.object))
        .map(|o| o.name_line() + "\n")
        .collect()
}

/// A restore for people: one line per object that was not simply created, the dumps, the
/// summary.
pub fn restore_text(r: &RestoreReport, p: &Painter) -> String {
    // Created objects are in the journal printed before this table.
    let mut t = Table::new(["OBJECT", "TIER", "OUTCOME", "REASON"]);
    for o in r.objects.iter().filter(|o| {
        !(matches!(o.outcome.as_str(), "created" | "wouldCreate") && o.reason.is_none())
    }) {
        let style = match o.outcome.as_str() {
            "failed" => Style::Critical,
            "skipped" | "wouldSkip" => Style::Dim,
            _ => Style::Ok,
        };
        let reason = match (&o.reason, &o.message) {
            (Some(r), Some(m)) => format!("{r}: {m}"),
            (Some(r), None) => r.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => String::new(),
        };
        t.row([
            Cell::new(o.object.to_string()),
            Cell::new(o.tier.to_string()),
            Cell::styled(&o.outcome, style),
            Cell::new(reason),
        ]);
    }
    let mut out = if t.is_empty() {
        String::new()
    } else {
        t.render(p)
    };
    if !r.dumps.is_empty() {
        out.push('\n');
        let mut d = Table::new(["DUMP", "POD", "BYTES", "OUTCOME", "DETAIL"]);
        for x in &r.dumps {
            d.row([
                Cell::new(&x.name),
                Cell::new(format!(
                    "{}/{}",
                    x.namespace,
                    x.pod.as_deref().unwrap_or("-")
                )),
                Cell::new(x.bytes.to_string()),
                Cell::styled(
                    &x.outcome,
                    if x.outcome == "failed" {
                        Style::Critical
                    } else {
                        Style::Ok
                    },
                ),
                Cell::new(x.message.clone().unwrap_or_default()),
            ]);
        }
        out.push_str(&d.render(p));
    }
    let s = &r.summary;
    let dry = r.dry_run.suffix();
    if r.dry_run.is_dry() {
        out.push_str(&format!(
            "\n{} would be restored, {} skipped, {} would fail{dry}; nothing was changed\n",
            s.would_restore, s.skipped, s.failed
        ));
    } else {
        out.push_str(&format!(
            "\n{} restored, {} updated, {} skipped, {} failed in {} ms\n",
            s.restored, s.updated, s.skipped, s.failed, r.duration_ms
        ));
    }
    out
}

/// `-o name` of a restore: the objects restored (or that would be).
pub fn restore_names(r: &RestoreReport) -> String {
    r.objects
        .iter()
        .filter(|o| {
            matches!(
                o.outcome.as_str(),
                "created" | "updated" | "wouldCreate" | "wouldUpdate"
            )
        })
        .map(|o| o.object.name_line() + "\n")
        .collect()
}
