//! The change journal: every write a plugin sent (or, under `--dry-run`, would have sent),
//! with what, how and the result — printed at the end, on failure and on interruption.

use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::model::ObjectRef;
use crate::output::{Painter, Style};
use crate::write::DryRun;

/// What kind of write a change was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// POST of a new object.
    Create,
    /// PATCH (merge, strategic merge, JSON patch or server-side apply).
    Patch,
    /// PUT of a whole object, guarded by its resourceVersion.
    Replace,
    /// DELETE.
    Delete,
    /// POST to `pods/NAME/eviction`.
    Evict,
}

impl Action {
    /// The past-tense verb for people: `created`, `patched`, ...
    pub fn done(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Patch => "patched",
            Action::Replace => "replaced",
            Action::Delete => "deleted",
            Action::Evict => "evicted",
        }
    }

    /// The verb for a plan: `create`, `patch`, ...
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Patch => "patch",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Evict => "evict",
        }
    }
}

/// How a change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Stored by the API server: the cluster changed.
    Applied,
    /// `--dry-run=server`: the server validated and admitted it, stored nothing.
    Validated,
    /// `--dry-run=client`: nothing was sent.
    Planned,
    /// The server refused it (or the connection failed): see `error`.
    Failed,
}

/// One entry of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Position in the journal, from 1.
    pub seq: u32,
    /// When the write finished (RFC 3339).
    pub at: jiff::Timestamp,
    /// The kind of write.
    pub action: Action,
    /// The object written.
    pub object: ObjectRef,
    /// How: the patch type and the plugin's purpose (`strategic merge patch: cordon`).
    /// Never holds secret values.
    pub how: String,
    /// The `--dry-run` mode the write ran under.
    pub dry_run: DryRun,
    /// How it ended.
    pub outcome: Outcome,
    /// The server's (redacted) message when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A shared, append-only record of changes; clones share one journal.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<Change>>>);

impl Journal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries_mut(&self) -> MutexGuard<'_, Vec<Change>> {
        // A panic while holding the lock cannot leave a half-written entry: recover it.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append one change; returns its sequence number.
    pub fn record(
        &self,
        action: Action,
        object: ObjectRef,
        how: impl Into<String>,
        dry_run: DryRun,
        outcome: Outcome,
        error: Option<String>,
    ) -> u32 {
        let mut entries = self.entries_mut();
        let seq = u32::try_from(entries.len() + 1).unwrap_or(u32::MAX);
        entries.push(Change {
            seq,
            at: jiff::Timestamp::now(),
            action,
            object,
            how: how.into(),
            dry_run,
            outcome,
            error: error.map(|e| crate::redact::redact_text(&e).into_owned()),
        });
        seq
    }

    /// A copy of every entry, in order (for a plugin's `-o json` document).
    pub fn entries(&self) -> Vec<Change> {
        self.entries_mut().clone()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries_mut().is_empty()
    }

    /// How many writes changed the cluster (`Applied`).
    pub fn applied(&self) -> usize {
        self.entries_mut()
            .iter()
            .filter(|c| c.outcome == Outcome::Applied)
            .count()
    }

    /// How many writes failed.
    pub fn failed(&self) -> usize {
        self.entries_mut()
            .iter()
            .filter(|c| c.outcome == Outcome::Failed)
            .count()
    }

    /// The journal for people, one line per change:
    ///
    /// ```text
    /// changes (2 applied, 1 failed):
    ///   1  created   secret/shop/db-7f3a2c        create: new version of db
    ///   2  patched   deployment/shop/api          strategic merge patch: repoint db → db-7f3a2c
    ///   3  FAILED    deployment/shop/worker       strategic merge patch: ...: the object has been modified
    /// ```
    pub fn render_text(&self, painter: &Painter) -> String {
        let entries = self.entries();
        if entries.is_empty() {
            return "changes: none\n".to_string();
        }
        let applied = entries
            .iter()
            .filter(|c| c.outcome == Outcome::Applied)
            .count();
        let failed = entries
            .iter()
            .filter(|c| c.outcome == Outcome::Failed)
            .count();
        let dry = entries.len() - applied - failed;
        let mut parts = vec![format!("{applied} applied")];
        if dry > 0 {
            parts.push(format!("{dry} dry run"));
        }
        if failed > 0 {
            parts.push(format!("{failed} failed"));
        }
        let mut table = crate::output::Table::new(["", "", "", ""]);
        for c in &entries {
            let (word, style) = match c.outcome {
                Outcome::Applied => (c.action.done().to_string(), Style::Ok),
                Outcome::Validated => (format!("would {} (server)", c.action.verb()), Style::Dim),
                Outcome::Planned => (format!("would {}", c.action.verb()), Style::Dim),
                Outcome::Failed => (format!("FAILED {}", c.action.verb()), Style::Critical),
            };
            let mut how = c.how.clone();
            if let Some(e) = &c.error {
                how.push_str(": ");
                how.push_str(e);
            }
            table.row([
                crate::output::Cell::new(format!("  {}", c.seq)),
                crate::output::Cell::styled(word, style),
                crate::output::Cell::new(c.object.to_string()),
                crate::output::Cell::new(how),
            ]);
        }
        let body = table.render(painter);
        // The header row of an all-empty header is blank: drop it.
        let body: String = body
            .lines()
            .skip(1)
            .map(|l| format!("{}\n", l.trim_end()))
            .collect();
        format!("changes ({}):\n{body}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Journal {
        let j = Journal::new();
        j.record(
            Action::Create,
            ObjectRef::new("Secret", "shop", "db-7f3a"),
            "create: new version of db",
            DryRun::None,
            Outcome::Applied,
            None,
        );
        j.record(
            Action::Patch,
            ObjectRef::new("Deployment", "shop", "api"),
            "strategic merge patch: repoint",
            DryRun::None,
            Outcome::Failed,
            Some("conflict; password=hunter2".into()),
        );
        j
    }

    #[test]
    fn counts_and_sequence() {
        let j = sample();
        assert_eq!(j.applied(), 1);
        assert_eq!(j.failed(), 1);
        let e = j.entries();
        assert_eq!(e[0].seq, 1);
        assert_eq!(e[1].seq, 2);
        assert_eq!(e[1].error.as_deref(), Some("conflict; password=***"));
    }

    #[test]
    fn renders_one_line_per_change() {
        let text = sample().render_text(&Painter::plain());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "changes (1 applied, 1 failed):");
        assert!(lines[1].contains("created") && lines[1].contains("secret/shop/db-7f3a"));
        assert!(lines[2].contains("FAILED patch") && lines[2].contains("password=***"));
        assert_eq!(lines.len(), 3);
        assert_eq!(
            Journal::new().render_text(&Painter::plain()),
            "changes: none\n"
        );
    }

    #[test]
    fn json_shape() {
        let e = &sample().entries()[0];
        let v = serde_json::to_value(e).unwrap_or_default();
        assert_eq!(v["action"], "create");
        assert_eq!(v["outcome"], "applied");
        assert_eq!(v["dryRun"], "none");
        assert_eq!(v["object"]["kind"], "Secret");
        assert!(v.get("error").is_none());
    }
}
