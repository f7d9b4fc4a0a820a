//! The entry point every thin `main.rs` calls: runtime, SIGINT/SIGTERM, error printing and
//! the mapping to exit codes, so all four plugins fail, stop and report the same way.
//!
//! Read-only plugins use [`main_with`]: a signal simply drops the run (nothing to undo).
//! Plugins that write use [`main_with_session`]: a signal sets the [`Session`]'s
//! cancellation token, the plugin finishes or undoes the step in flight and returns
//! `Err(Error::Interrupted)`; the journal is printed and the process exits 130. A second
//! signal exits at once, still printing the journal.

use std::future::Future;
use std::io::Write;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Exit, Result, render};
use crate::journal::Journal;
use crate::output::Painter;

/// What a writing plugin's run gets from [`main_with_session`]: the cancellation token set
/// by SIGINT/SIGTERM and the change journal its writer records into.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// Cancelled by the first SIGINT/SIGTERM. Long operations check it between steps.
    pub cancel: CancellationToken,
    /// Every write of the run (see [`crate::write::Writer`]).
    pub journal: Journal,
}

impl Session {
    /// A fresh session (tests; [`main_with_session`] makes the real one).
    pub fn new() -> Self {
        Self::default()
    }

    /// True once a stop was requested.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// `Err(Error::Interrupted)` once a stop was requested: `session.checkpoint()?` between
    /// steps.
    pub fn checkpoint(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// Run `fut` (a read, a list, a wait: something safe to abandon) unless a stop is
    /// requested first, which gives `Err(Error::Interrupted)`.
    pub async fn interruptible<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(Error::Interrupted),
            r = fut => r,
        }
    }
}

/// Run a read-only plugin's async body and turn its outcome into the exit code.
///
/// - builds a multi-threaded tokio runtime;
/// - races `f()` against SIGINT/SIGTERM: a signal prints `interrupted` and exits 130
///   (nothing was written, so dropping the run is safe);
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
        Err(e) => return report(Err(e), &Journal::new()),
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            result = f() => result,
            () = stop_signal() => Err(Error::Interrupted),
        }
    });
    // Do not wait for stuck blocking tasks (stdin readers) after an interrupt.
    runtime.shutdown_background();
    report(outcome, &Journal::new())
}

/// Run a plugin that changes the cluster.
///
/// `f` gets a [`Session`]. The first SIGINT/SIGTERM cancels `session.cancel` and tells the
/// user the run is stopping at a safe point; the plugin finishes or undoes the step in
/// flight and returns (its own report, then `Ok(Exit::Interrupted)`, or
/// `Err(Error::Interrupted)`). A second signal prints the journal and exits 130 at once.
///
/// On `Err`, the journal is printed to stderr (when not empty) before the error, and an
/// error after applied changes exits 4 (partial), never 2 ("nothing changed").
pub fn main_with_session<F, Fut>(f: F) -> ExitCode
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = Result<Exit>>,
{
    let session = Session::new();
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => return report(Err(e), &session.journal),
    };
    let watcher = session.clone();
    let outcome = runtime.block_on(async move {
        tokio::spawn(watch_signals(watcher));
        f(session.clone()).await.map_err(|e| (e, session))
    });
    runtime.shutdown_background();
    match outcome {
        Ok(exit) => exit.into(),
        Err((e, session)) => report(Err(e), &session.journal),
    }
}

/// First signal: cancel; second: print the journal and exit 130 now.
async fn watch_signals(session: Session) {
    stop_signal().await;
    session.cancel.cancel();
    eprintln!("stopping: finishing the step in flight (press Ctrl-C again to stop at once)");
    stop_signal().await;
    let mut stderr = std::io::stderr();
    if !session.journal.is_empty() {
        let _ = stderr.write_all(session.journal.render_text(&Painter::plain()).as_bytes());
    }
    let _ = writeln!(
        stderr,
        "interrupted: stopped at once; the step in flight may be incomplete"
    );
    std::process::exit(i32::from(Exit::Interrupted.code()));
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM; never if no handler can be installed (then the
/// default signal behaviour, exit, still applies).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The multi-threaded runtime both entry points run on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::other(format!("cannot start the async runtime: {e}")))
}

/// Map an outcome to an exit code, printing the journal and errors to stderr.
fn report(outcome: Result<Exit>, journal: &Journal) -> ExitCode {
    exit_for(outcome, journal, &mut std::io::stderr()).into()
}

fn exit_for(outcome: Result<Exit>, journal: &Journal, stderr: &mut dyn Write) -> Exit {
    let e = match outcome {
        Ok(exit) => return exit,
        Err(e) if e.is_broken_pipe() => return Exit::Ok,
        Err(e) => e,
    };
    if !journal.is_empty() {
        let _ = stderr.write_all(journal.render_text(&Painter::plain()).as_bytes());
    }
    if matches!(e, Error::Interrupted) {
        let _ = writeln!(stderr, "interrupted");
        return Exit::Interrupted;
    }
    let e = if journal.applied() > 0 {
        e.after_changes()
    } else {
        e
    };
    let _ = stderr.write_all(render(&e).as_bytes());
    e.exit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Action, Outcome};
    use crate::model::ObjectRef;
    use crate::write::DryRun;

    fn check(outcome: Result<Exit>, journal: &Journal) -> (Exit, String) {
        let mut buf = Vec::new();
        let exit = exit_for(outcome, journal, &mut buf);
        (exit, String::from_utf8_lossy(&buf).into_owned())
    }

    #[test]
    fn outcomes_map_to_exit_codes() {
        let none = Journal::new();
        assert_eq!(
            check(Ok(Exit::Partial), &none),
            (Exit::Partial, String::new())
        );
        assert_eq!(
            check(Err(Error::Interrupted), &none),
            (Exit::Interrupted, "interrupted\n".into())
        );
        let bp = Error::Io(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "x"));
        assert_eq!(check(Err(bp), &none), (Exit::Ok, String::new()));
        let (exit, text) = check(Err(Error::usage("bad flag").with_hint("see --help")), &none);
        assert_eq!(exit, Exit::Usage);
        assert_eq!(text, "error: bad flag\nhint: see --help\n");
    }

    fn journal_with(outcome: Outcome) -> Journal {
        let j = Journal::new();
        j.record(
            Action::Patch,
            ObjectRef::new("Node", "", "n1"),
            "cordon",
            DryRun::None,
            outcome,
            None,
        );
        j
    }

    #[test]
    fn a_failure_after_changes_is_partial_with_the_journal() {
        let j = journal_with(Outcome::Applied);
        let (exit, text) = check(Err(Error::usage("namespace \"x\" not found")), &j);
        assert_eq!(exit, Exit::Partial);
        assert!(text.starts_with("changes (1 applied):\n"), "{text}");
        assert!(text.contains("node/n1"));
        assert!(text.contains("error: namespace \"x\" not found"));
        // Only dry-run entries: nothing changed, the error keeps its own code.
        let dry = journal_with(Outcome::Planned);
        assert_eq!(check(Err(Error::usage("x")), &dry).0, Exit::Usage);
        // Interrupted after changes: 130, journal printed.
        let (exit, text) = check(Err(Error::Interrupted), &j);
        assert_eq!(exit, Exit::Interrupted);
        assert!(text.contains("node/n1") && text.ends_with("interrupted\n"));
    }

    #[test]
    fn main_with_runs_the_future() {
        let code = main_with(|| async { Ok(Exit::NotFine) });
        assert_eq!(format!("{code:?}"), format!("{:?}", ExitCode::from(1)));
    }

    #[tokio::test]
    async fn sessions_interrupt_reads() {
        let s = Session::new();
        assert!(s.checkpoint().is_ok());
        assert_eq!(s.interruptible(async { Ok(1) }).await.ok(), Some(1));
        s.cancel.cancel();
        assert!(matches!(s.checkpoint(), Err(Error::Interrupted)));
        let never = std::future::pending::<Result<u8>>();
        assert!(matches!(
            s.interruptible(never).await,
            Err(Error::Interrupted)
        ));
    }
}
