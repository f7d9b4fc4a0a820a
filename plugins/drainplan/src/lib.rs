//! kubectl drainplan: Plan a node drain (what moves, what blocks, whether it fits, in which waves), then execute it.
//! Only the command-line shell exists so far; its issue delivers the plugin.

use clap::Parser;
use common::{Error, Exit, Result};

/// Command line of `kubectl drainplan`.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl drainplan",
    bin_name = "kubectl drainplan",
    version,
    about = "Plan a node drain (what moves, what blocks, whether it fits, in which waves), then execute it",
    long_about = "Planned: kubectl drainplan NODE... [-o json] and kubectl drainplan --execute --plan FILE. Not implemented yet: every invocation but --help/--version exits 2 and changes nothing."
)]
pub struct Args {
    /// Words after `kubectl drainplan` (reserved for the subcommands to come).
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Refuses to act: nothing is implemented yet, so nothing may change.
pub async fn run(_args: Args) -> Result<Exit> {
    Err(
        Error::usage("kubectl drainplan is not implemented yet in this version").with_hint(
            "see 'kubectl drainplan --help' and the README for the plugins available today",
        ),
    )
}
