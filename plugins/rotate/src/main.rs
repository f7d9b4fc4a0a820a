//! `kubectl rotate`: parse flags, run with a session (Ctrl-C rolls back), exit with the
//! suite's codes.

use std::process::ExitCode;

use clap::Parser;
use kubectl_rotate::args::Args;

fn main() -> ExitCode {
    // `__complete` (kubectl_complete-rotate), `completion SHELL`, `__manpages DIR`.
    if let Some(code) = common::complete::intercept::<Args>() {
        return code;
    }
    // clap exits 2 on bad flags.
    let args = Args::parse();
    common::logging::init(args.out.verbose);
    common::run::main_with_session(|session| kubectl_rotate::run(args, session))
}
