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
//! | [`list`] | `list_all`, `list_all_with_version`, `list_optional` (`list_optional_map`) → [`list::ListOutcome`], `list_dynamic`, `list_each` |
//! | [`duration`] | `parse_duration`, `parse_timeout`, `human_age`, `age_since` |
//! | [`quantity`] | `parse`, `human_bytes`, `human_cpu` |
//! | [`progress`] | [`progress::Progress`] (`spinner`, `bar`, `inc`, `finish_and_clear`) |
//! | [`redact`] | `redact_line`, `redact_values` |
//! | [`logging`] | `init(verbosity)` |
//! | [`run`] | `main_with(f)`, `main_with_own_ctrl_c(f)` (writing plugins), `ctrl_c()` |
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
pub mod duration;
pub mod error;
pub mod list;
pub mod logging;
pub mod output;
pub mod progress;
pub mod quantity;
pub mod redact;
pub mod run;
pub mod transport;

pub use error::{Error, Exit, Result};

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
