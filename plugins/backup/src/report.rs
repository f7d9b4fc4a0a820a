//! The documents of `kubectl backup` (all `backup.kubectl-plugins.dev/v1`): the archive's
//! `BackupManifest` (also `create`/`inspect -o json`), `BackupVerification`, `BackupDiff`, `RestoreReport`.

use std::collections::BTreeMap;

use common::ObjectRef;
use common::diff::FieldChange;
use common::journal::Change;
use common::model::Skipped;
use serde::{Deserialize, Serialize};

/// The archive schema this build writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// `backup.kubectl-plugins.dev/v1`.
pub fn api_version() -> String {
    common::api_version("backup")
}

/// What `manifest.json` holds, and `create`/`inspect -o json` print.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupManifest {
    pub api_version: String,
    pub kind: String,
    /// Archive layout version; readers refuse a newer one.
    pub schema_version: u32,
    pub tool: Tool,
    pub created_at: jiff::Timestamp,
    pub source: Source,
    pub scope: Scope,
    pub encryption: Encryption,
    pub counts: Counts,
    #[serde(default)]
    pub dumps: Vec<DumpRecord>,
    #[serde(default)]
    pub snapshots: Vec<SnapshotRecord>,
    /// What could not be backed up, with why (forbidden lists, failed snapshots or dumps).
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// The archive file itself: only in `create`/`inspect` output, never inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveFile>,
    /// Writes `create` made (VolumeSnapshots): only in `create` output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Every entry of the archive but the manifest itself, in archive order.
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// The program that wrote the archive.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    /// This build.
    pub fn this() -> Self {
        Tool {
            name: "kubectl-backup".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Where the backup came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub context: String,
    pub server: String,
    /// `gitVersion` from `/version`.
    pub server_version: String,
}

/// What was asked for and which resource types were listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// The namespaces backed up (empty with `allNamespaces`).
    pub namespaces: Vec<String>,
    pub all_namespaces: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    #[serde(default)]
    pub include_resources: Vec<String>,
    #[serde(default)]
    pub exclude_resources: Vec<String>,
    pub include_cluster_resources: bool,
    /// Every resource type listed, at the version it was read.
    pub resources: Vec<ResourceType>,
}

/// One listed resource type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

/// How secrets are kept.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum SecretsMode {
    /// Each Secret entry is age-encrypted.
    Encrypted,
    /// `--plaintext-secrets`.
    Plaintext,
    /// Secrets are not in scope.
    Excluded,
}

/// What is encrypted, and to whom.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    pub secrets: SecretsMode,
    pub dumps_encrypted: bool,
    /// The age X25519 recipients the archive key is encrypted to.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// True when the archive key is also encrypted with a passphrase (age scrypt).
    pub passphrase: bool,
    /// Entries holding the archive key, each an age file for the recipients or passphrase.
    #[serde(default)]
    pub key_entries: Vec<String>,
}

/// Totals of the archive.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Entries (the manifest excluded).
    pub entries: u64,
    pub objects: u64,
    /// Bytes of all entries as stored.
    pub bytes: u64,
    pub encrypted: u64,
    pub dumps: u64,
    pub snapshots: u64,
    /// Objects per `kind` (`Deployment`, `Widget.example.com` for non-core groups' kinds).
    pub by_kind: BTreeMap<String, u64>,
    /// Objects per namespace (`_cluster` for cluster-scoped objects).
    pub by_namespace: BTreeMap<String, u64>,
    /// Objects per namespace and kind.
    #[serde(default)]
    pub by_namespace_kind: BTreeMap<String, BTreeMap<String, u64>>,
    /// Objects left out by the default exclusion rules, per rule.
    pub excluded: BTreeMap<String, u64>,
}

/// The kind of an archive entry.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum EntryType {
    /// `backup.json`, the first entry.
    Header,
    /// `keys/...`: the archive key, encrypted for the recipients or the passphrase.
    Key,
    /// `objects/...`: one Kubernetes object as YAML.
    Object,
    /// `dumps/...`: a database dump's bytes.
    Dump,
    /// `snapshots/...`: a VolumeSnapshot record (JSON).
    Snapshot,
}

/// One entry of the archive.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub path: String,
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    pub size: u64,
    /// Hex sha256 of the bytes as stored (after encryption).
    pub sha256: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A database dump taken through exec.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DumpRecord {
    pub name: String,
    /// `postgres`, `sqlite` or `exec`.
    #[serde(rename = "type")]
    pub dump_type: String,
    pub namespace: String,
    pub pod: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The pod's workload (`StatefulSet/postgres`), to find its successor on restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<ObjectRef>,
    pub command: Vec<String>,
    /// The command `restore --dumps` feeds the dump to (empty: needs --dump-command).
    #[serde(default)]
    pub restore_command: Vec<String>,
    /// The entry holding stdout (absent when the dump failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    pub size: u64,
    pub sha256: String,
    pub encrypted: bool,
    pub exit_code: i32,
    /// The command's stderr, redacted and cut to 4 KiB.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr: String,
    /// `ok` or `failed`.
    pub outcome: String,
}

/// A VolumeSnapshot taken of a claim.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRecord {
    pub namespace: String,
    pub claim: String,
    pub volume_snapshot: String,
    pub class: String,
    pub driver: String,
    /// The VolumeSnapshotContent it bound to (deletionPolicy set to Retain).
    pub content: String,
    /// The storage system's handle: what a restore into another namespace imports.
    pub snapshot_handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_size: Option<String>,
    pub ready_to_use: bool,
    pub entry: String,
}

/// The archive file, as `create` wrote it or `inspect` read it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// `kubectl backup verify -o json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupVerification {
    pub api_version: String,
    pub kind: String,
    pub file: String,
    /// True when every entry matches and nothing is missing, extra or truncated.
    pub valid: bool,
    /// Entries the manifest lists.
    pub entries: u64,
    /// Entries read and matching their sha256.
    pub verified: u64,
    pub schema_version: Option<u32>,
    pub problems: Vec<Problem>,
}

/// What verification found wrong with one entry or the archive as a whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// The entry (`-` for the archive as a whole).
    pub entry: String,
    /// `checksumMismatch`, `sizeMismatch`, `missing`, `damaged`, `unexpected`,
    /// `duplicate`, `truncated`, `noManifest`, `invalidManifest`.
    pub problem: String,
    pub message: String,
}

/// `kubectl backup diff -o json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupDiff {
    pub api_version: String,
    pub kind: String,
    pub file: String,
    pub context: String,
    /// True when the live cluster matches the archive.
    pub identical: bool,
    /// In the cluster, not in the archive.
    pub added: Vec<ObjectRef>,
    /// In the archive, not in the cluster.
    pub removed: Vec<ObjectRef>,
    pub changed: Vec<ChangedObject>,
    /// Objects that could not be compared (encrypted without a key), or lists skipped.
    pub not_compared: Vec<Skipped>,
    pub unchanged: u64,
}

/// One object that differs, field by field.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangedObject {
    pub object: ObjectRef,
    pub changes: Vec<FieldChange>,
}

/// `kubectl backup restore -o json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreReport {
    pub api_version: String,
    pub kind: String,
    pub file: String,
    pub context: String,
    pub dry_run: common::write::DryRun,
    pub existing: crate::args::Existing,
    #[serde(default)]
    pub namespace_map: BTreeMap<String, String>,
    pub summary: RestoreSummary,
    /// One result per object, in restore order.
    pub objects: Vec<ObjectResult>,
    pub dumps: Vec<DumpResult>,
    /// Every write sent (or, under --dry-run, that would be sent).
    pub changes: Vec<Change>,
    pub duration_ms: u64,
}

/// Counts of a restore.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSummary {
    pub restored: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Under --dry-run: objects that would be created/updated.
    pub would_restore: u64,
}

/// What happened to one object.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectResult {
    /// The object as restored (namespace after --namespace-map).
    pub object: ObjectRef,
    pub api_version: String,
    /// The dependency tier (0 CRDs … 8 the rest).
    pub tier: u8,
    /// `created`, `updated`, `skipped`, `failed`, `wouldCreate`, `wouldUpdate`, `wouldSkip`.
    pub outcome: String,
    /// Why (for skipped and failed): `exists`, `immutable`, `missingCRD`, `quota`,
    /// `webhook`, `forbidden`, `invalid`, `namespacePending`, `crdPending`, `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What happened to one dump under `restore --dumps`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DumpResult {
    pub name: String,
    pub namespace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    pub command: Vec<String>,
    pub bytes: u64,
    /// `restored`, `failed`, `skipped`, `wouldRestore`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An empty manifest for unit tests of the archive stages.
#[cfg(test)]
pub(crate) fn test_manifest() -> BackupManifest {
    BackupManifest {
        api_version: api_version(),
        kind: "BackupManifest".into(),
        schema_version: SCHEMA_VERSION,
        tool: Tool::this(),
        created_at: jiff::Timestamp::UNIX_EPOCH,
        source: Source::default(),
        scope: Scope::default(),
        encryption: Encryption {
            secrets: SecretsMode::Excluded,
            dumps_encrypted: false,
            recipients: Vec::new(),
            passphrase: false,
            key_entries: Vec::new(),
        },
        counts: Counts::default(),
        dumps: Vec::new(),
        snapshots: Vec::new(),
        skipped: Vec::new(),
        archive: None,
        changes: Vec::new(),
        entries: Vec::new(),
    }
}
