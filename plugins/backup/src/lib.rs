//! kubectl backup: Verifiable, restorable, optionally encrypted backups of namespaces in one file.
//! Only the command-line shell exists so far; its issue delivers the plugin.

use clap::Parser;
use common::{Error, Exit, Result};

/// Command line of `kubectl backup`.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl backup",
    bin_name = "kubectl backup",
    version,
    about = "Verifiable, restorable, optionally encrypted backups of namespaces in one file",
    long_about = "Planned: kubectl backup create|verify|diff|restore --dry-run. Objects, secrets, volume snapshots and database dumps of namespaces in one verifiable archive, with no in-cluster server. Not implemented yet: every invocation but --help/--version exits 2 and changes nothing."
)]
pub struct Args {
    /// Words after `kubectl backup` (reserved for the subcommands to come).
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Refuses to act: nothing is implemented yet, so nothing may change.
pub async fn run(_args: Args) -> Result<Exit> {
    Err(
        Error::usage("kubectl backup is not implemented yet in this version").with_hint(
            "see 'kubectl backup --help' and the README for the plugins available today",
        ),
    )
}
