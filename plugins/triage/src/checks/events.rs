//! WarningEvents: a digest of Warning events inside `--since` that no other
//! finding explains, one finding per (object, reason) with counts.

use std::collections::{BTreeMap, BTreeSet};

use super::{Context, ago};
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, event_count, event_time, items, ns};

pub fn digest(snap: &Snapshot, ctx: &Context, explained: &BTreeSet<String>) -> Vec<Finding> {
    struct Entry {
        key: ObjectRef,
        count: i64,
        last: Option<jiff::Timestamp>,
        message: String,
    }
    let mut groups: BTreeMap<(String, String), Entry> = BTreeMap::new();
    for e in items(&snap.events) {
        if e.type_.as_deref() != Some("Warning") {
            continue;
        }
        let Some(t) = event_time(e) else { continue };
        if !ctx.recent(t) {
            continue;
        }
        let o = &e.involved_object;
        let key = ObjectRef::new(
            o.kind.as_deref().unwrap_or("Object"),
            o.namespace.as_deref().unwrap_or(ns(&e.metadata)),
            o.name.as_deref().unwrap_or(""),
        );
        let by_name = format!("{}/{}/{}", key.kind, key.namespace, key.name);
        let id = o
            .uid
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| by_name.clone());
        if explained.contains(&id) || explained.contains(&by_name) {
            continue;
        }
        let reason = e.reason.clone().unwrap_or_default();
        let entry = groups.entry((id, reason)).or_insert(Entry {
            key,
            count: 0,
            last: None,
            message: String::new(),
        });
        entry.count += i64::from(event_count(e));
        if entry.last.is_none_or(|l| t >= l) {
            entry.last = Some(t);
            entry.message = e.message.clone().unwrap_or_default().trim().to_string();
        }
    }
    groups
        .into_iter()
        .map(|((_, reason), e)| {
            let last = e.last.map(|t| ago(ctx, t)).unwrap_or_default();
            Finding::new(
                Reason::WarningEvents,
                &e.key,
                format!("{reason} x{}, last seen {last}: {}", e.count, e.message),
            )
            .evidence(format!(
                "reason {reason}, count {}, last seen {last}",
                e.count
            ))
            .remedy(format!(
                "kubectl get events -n {} --field-selector involvedObject.name={}",
                e.key.namespace, e.key.name
            ))
        })
        .collect()
}
