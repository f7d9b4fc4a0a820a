//! `common`: what the four kubectl plugins share, implementing most of CONVENTIONS.md.
//! Connection flags → client, output formats and colour, exit codes, paged lists, redaction.
//!
//! # Public API at a glance
//!
//! | module | main items |
//! | --- | --- |
//! | [`error`] | [`Exit`], [`Error`] (`exit()`, `hint()`), [`Result`], `is_forbidden`, `is_not_found`, `is_conflict` |
//! | [`cli`] | [`cli::ConnectionArgs`] (`connect()`), [`cli::Connection`] |
//! | [`output`] | [`output::OutputArgs`], [`output::OutputFormat`], `print_document`, [`output::Table`], `name_line`, [`output::ColorPolicy`], `decide`, [`output::Painter`], [`output::Style`] |
//! | [`transport`] | [`transport::RequestCounter`], [`transport::RetryPolicy`] |
//! | [`list`] | `list_all`, `list_all_with_version`, `list_optional` (`list_optional_map`) → [`list::ListOutcome`], `list_dynamic`, `list_each`, `page_stream` |
//! | [`discovery`] | `discover(client)` → [`discovery::Discovered`] (every served resource, preferred version; failing groups skipped) |
//! | [`model`] | [`ObjectRef`], [`model::Skipped`] + [`model::SkipCause`], `workload_of` (pod → Deployment), `pod_ready`, `controller_of` |
//! | [`write`] | [`write::Writer`] (`create`, `patch`, `replace`, `update_with`, `delete`, `evict`), [`write::Target`], [`write::Guard`], [`write::PatchBody`], [`write::DryRun`] + [`write::DryRunArgs`] |
//! | [`journal`] | [`journal::Journal`] (`record`, `entries`, `applied`, `render_text`), [`journal::Change`] |
//! | [`run`] | `main_with(f)` (read-only plugins), `main_with_session(f)` + [`run::Session`] (plugins that write: cancellation, journal, exit 4/130) |
//! | [`wait`] | `until(api, name, timeout, cancel, progress, check)` → [`wait::Waited`]; conditions `gone`, `crd_established`, `snapshot_ready` |
//! | [`rollout`] | kubectl's rollout-status rules: `deployment`, `statefulset`, `daemonset` |
//! | [`normalize`] | `normalize`, `strip_server_fields`, `strip_cluster_assigned`, `pod_template` |
//! | [`diff`] | `diff`, `diff_object` (secret values masked) → [`diff::FieldChange`] |
//! | [`files`] | [`files::AtomicFile`], `write_atomic` (0600 for secrets), `open_input`/`read_input` (`-` = stdin), [`files::Output`] |
//! | [`prompt`] | `confirm(question, yes)`, [`prompt::ConfirmArgs`] (`--yes`) |
//! | [`duration`] | `parse_duration`, `parse_timeout`, `human_age`, `age_since` |
//! | [`quantity`] | `parse_milli`, `parse_int` (exact, rounded up like the scheduler), `parse`, `human_bytes`, `human_cpu` |
//! | [`progress`] | [`progress::Progress`] (`spinner`, `bar`, `inc`, `finish_and_clear`) |
//! | [`redact`] | `redact_text` (any text from the cluster), `redact_line`, `redact_values` |
//! | [`complete`] | `intercept::<Args>()` (cobra `__complete` for `kubectl_complete-<plugin>`, `completion SHELL`), value sources by `value_name` |
//! | [`logging`] | `init(verbosity)` (log lines are redacted) |
//!
//! # A plugin's `main.rs`
//!
//! ```no_run
//! use clap::Parser;
//! use common::{Exit, cli::ConnectionArgs, output::OutputArgs};
//!
//! #[derive(Parser)]
//! #[command(name = "kubectl triage", bin_name = "kubectl triage")]
//! struct Args {
//!     #[command(flatten)]
//!     conn: ConnectionArgs,
//!     #[command(flatten)]
//!     out: OutputArgs,
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let args = Args::parse(); // clap exits 2 on bad flags, as the contract wants
//!     common::logging::init(args.out.verbose);
//!     common::run::main_with(|| async move {
//!         let conn = args.conn.connect().await?;
//!         // ... collect, analyse, render ...
//!         if args.out.show_stats() {
//!             eprintln!("{}", conn.stats_line());
//!         }
//!         Ok(Exit::Ok)
//!     })
//! }
//! ```

pub mod cli;
pub mod complete;
pub mod diff;
pub mod discovery;
pub mod duration;
pub mod error;
pub mod files;
pub mod journal;
pub mod list;
pub mod logging;
pub mod manpage;
pub mod model;
pub mod normalize;
pub mod output;
pub mod progress;
pub mod prompt;
pub mod quantity;
pub mod redact;
pub mod rollout;
pub mod run;
pub mod transport;
pub mod wait;
pub mod write;

pub use error::{Error, Exit, Result};
pub use model::ObjectRef;

/// The version line every plugin's `--version` prints: the suite version and the commit it
/// was built from (`0.1.0 (commit 2f1e7c1ab3d4)`), from `common/build.rs`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KUBECTL_PLUGINS_COMMIT"),
    ")"
);

/// The one API domain of the suite, used in every json/yaml `apiVersion`.
pub const API_DOMAIN: &str = "kubectl-plugins.dev";

/// The `apiVersion` for a plugin's documents: `api_version("triage")` →
/// `triage.kubectl-plugins.dev/v1`.
pub fn api_version(plugin: &str) -> String {
    format!("{plugin}.{API_DOMAIN}/v1")
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_version_format() {
        assert_eq!(
            super::api_version("triage"),
            "triage.kubectl-plugins.dev/v1"
        );
        assert_eq!(
            super::api_version("backup"),
            "backup.kubectl-plugins.dev/v1"
        );
    }
}
