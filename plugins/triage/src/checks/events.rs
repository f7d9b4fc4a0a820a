//! WarningEvents: a digest of Warning events inside `--since` that no other
//! finding explains, one finding per (object, reason) with counts.

use std::collections::{BTreeMap, BTreeSet};

use super::Context;
use crate::report::{Finding, Reason};
use crate::snapshot::{ObjectRef, Snapshot, items};

pub fn digest(snap: &Snapshot, ctx: &Context, explained: &BTreeSet<String>) -> Vec<Finding> {
    struct Entry {
        key: ObjectRef,
        count: i64,
        last: Option<jiff::Timestamp>,
        message: String,
    }
    let mut groups: BTreeMap<(String, String), Entry> = BTreeMap::new();
    for e in items(&snap.events) {
        if !e.warning {
            continue;
        }
        let Some(t) = e.time else { continue };
        if !ctx.recent(t) {
            continue;
        }
        let kind = if e.kind.is_empty() { "Object" } else { &e.kind };
        let key = ObjectRef::new(kind, &e.namespace, &e.name);
        let by_name = format!("{}/{}/{}", key.kind, key.namespace, key.name);
        let id = if e.uid.is_empty() {
            by_name.clone()
        } else {
            e.uid.clone()
        };
        if explained.contains(&id) || explained.contains(&by_name) {
            continue;
        }
        let entry = groups.entry((id, e.reason.clone())).or_insert(Entry {
            key,
            count: 0,
            last: None,
            message: String::new(),
        });
        entry.count += i64::from(e.count);
        if entry.last.is_none_or(|l| t >= l) {
            entry.last = Some(t);
            entry.message = e.message.trim().to_string();
        }
    }
    groups
        .into_iter()
        .map(|((_, reason), e)| {
            let last = e.last.map(|t| ctx.ago(t)).unwrap_or_default();
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
