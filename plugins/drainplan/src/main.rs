//! `kubectl drainplan`: parse flags, run (a session: writes are journaled, Ctrl-C stops at a
//! safe point), exit with the suite's codes.

use std::process::ExitCode;

use clap::Parser;
use kubectl_drainplan::args::Args;

fn main() -> ExitCode {
    // `__complete` (kubectl_complete-drainplan), `completion SHELL`, `__manpages DIR`.
    if let Some(code) = common::complete::intercept::<Args>() {
        return code;
    }
    // clap exits 2 on bad flags.
    let args = Args::parse();
    common::logging::init(args.out.verbose);
    common::run::main_with_session(|session| kubectl_drainplan::run(args, session))
}
