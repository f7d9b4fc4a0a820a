//! kubectl rotate: Rotate a credential with consumer discovery, health checks and automatic rollback.
//! Only the command-line shell exists so far; its issue delivers the plugin.

use clap::Parser;
use common::{Error, Exit, Result};

/// Command line of `kubectl rotate`.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl rotate",
    bin_name = "kubectl rotate",
    version,
    about = "Rotate a credential with consumer discovery, health checks and automatic rollback",
    long_about = "Planned: kubectl rotate secret NAME, consumer discovery, restarts, rollback, and certificate expiry reports. Not implemented yet: every invocation but --help/--version exits 2 and changes nothing."
)]
pub struct Args {
    /// Words after `kubectl rotate` (reserved for the subcommands to come).
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Refuses to act: nothing is implemented yet, so nothing may change.
pub async fn run(_args: Args) -> Result<Exit> {
    Err(
        Error::usage("kubectl rotate is not implemented yet in this version").with_hint(
            "see 'kubectl rotate --help' and the README for the plugins available today",
        ),
    )
}
