//! The entry point helper every thin `main.rs` calls: runtime, Ctrl-C, error printing and
//! the mapping to exit codes, so all four plugins fail the same way.

use std::future::Future;
use std::io::Write;
use std::process::ExitCode;

use crate::error::{Error, Exit, Result, render};

/// Run the plugin's async body and turn its outcome into the process exit code.
///
/// - builds a multi-threaded tokio runtime;
/// - races `f()` against Ctrl-C: on Ctrl-C prints `interrupted` and exits 130 (plugins
///   that write install their own handler to reach a safe state first and return
///   `Err(Error::Interrupted)`);
/// - `Ok(exit)` exits with that code; `Err(e)` prints `error: ...` and `hint: ...` to
///   stderr and exits with `e.exit()`;
/// - a broken pipe on stdout (`| head`) counts as success (exit 0), as in ripgrep.
///
/// Write output with `writeln!(out, ...)?`, not `println!` (which panics on a closed pipe).
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     common::run::main_with(|| async { Ok(common::Exit::Ok) })
/// }
/// ```
pub fn main_with<F, Fut>(f: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Exit>>,
{
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => return report(Err(e)),
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            result = f() => result,
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        }
    });
    // Do not wait for stuck blocking tasks (stdin readers) after an interrupt.
    runtime.shutdown_background();
    report(outcome)
}

/// Like [`main_with`], but Ctrl-C is *not* raced: the plugin handles it (with [`ctrl_c`])
/// to finish or roll back its current step, states what it left, and returns
/// `Err(Error::Interrupted)` (exit 130). For plugins that write (rotate, drainplan
/// `--execute`, backup restore); dropping their future mid-write would be unsafe.
pub fn main_with_own_ctrl_c<F, Fut>(f: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Exit>>,
{
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => return report(Err(e)),
    };
    let outcome = runtime.block_on(f());
    runtime.shutdown_background();
    report(outcome)
}

/// Resolves when the user presses Ctrl-C; never resolves if the handler cannot be
/// installed (then the default signal behaviour, exit, still applies).
/// Use in `tokio::select!` between write steps.
pub async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The multi-threaded runtime both entry points run on.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::other(format!("cannot start the async runtime: {e}")))
}

/// Map an outcome to an exit code, printing errors to stderr.
fn report(outcome: Result<Exit>) -> ExitCode {
    exit_for(outcome, &mut std::io::stderr()).into()
}

fn exit_for(outcome: Result<Exit>, stderr: &mut dyn Write) -> Exit {
    match outcome {
        Ok(exit) => exit,
        Err(e) if e.is_broken_pipe() => Exit::Ok,
        Err(Error::Interrupted) => {
            let _ = writeln!(stderr, "interrupted");
            Exit::Interrupted
        }
        Err(e) => {
            let _ = stderr.write_all(render(&e).as_bytes());
            e.exit()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(outcome: Result<Exit>) -> (Exit, String) {
        let mut buf = Vec::new();
        let exit = exit_for(outcome, &mut buf);
        (exit, String::from_utf8_lossy(&buf).into_owned())
    }

    #[test]
    fn outcomes_map_to_exit_codes() {
        assert_eq!(check(Ok(Exit::Partial)), (Exit::Partial, String::new()));
        assert_eq!(
            check(Err(Error::Interrupted)),
            (Exit::Interrupted, "interrupted\n".into())
        );
        let bp = Error::Io(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "x"));
        assert_eq!(check(Err(bp)), (Exit::Ok, String::new()));
        let (exit, text) = check(Err(Error::usage("bad flag").with_hint("see --help")));
        assert_eq!(exit, Exit::Usage);
        assert_eq!(text, "error: bad flag\nhint: see --help\n");
    }

    #[test]
    fn main_with_runs_the_future() {
        let code = main_with(|| async { Ok(Exit::NotFine) });
        assert_eq!(format!("{code:?}"), format!("{:?}", ExitCode::from(1)));
    }
}
