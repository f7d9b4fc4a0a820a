//! `kubectl triage`: parse flags, run, exit with the suite's codes.

use std::process::ExitCode;

use clap::Parser;
use kubectl_triage::args::Args;

fn main() -> ExitCode {
    // `__complete` (kubectl_complete-triage), `completion SHELL`, `__manpages DIR`.
    if let Some(code) = common::complete::intercept::<Args>() {
        return code;
    }
    // clap exits 2 on bad flags (unknown --ignore reason, bad --since).
    let args = Args::parse();
    common::logging::init(args.out.verbose);
    common::run::main_with(|| kubectl_triage::run(args))
}
