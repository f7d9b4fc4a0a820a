//! `kubectl backup`: parse flags, run, exit with the suite's codes.

use std::process::ExitCode;

use clap::Parser;
use kubectl_backup::args::Args;

fn main() -> ExitCode {
    // `__complete` (kubectl_complete-backup), `completion SHELL`, `__manpages DIR`.
    if let Some(code) = common::complete::intercept::<Args>() {
        return code;
    }
    // clap exits 2 on bad flags.
    let args = Args::parse();
    common::logging::init(args.out.verbose);
    // restore (and create --snapshot-volumes) write: every command runs in a session so
    // SIGINT/SIGTERM stop at a safe point with the journal printed.
    common::run::main_with_session(|session| kubectl_backup::run(args, session))
}
