//! Progress bars and spinners on stderr (indicatif), drawn only when stderr is a terminal,
//! so piped or CI runs get clean stderr and stdout always carries data only.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner or bar on stderr; a no-op when stderr is not a terminal.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

impl Progress {
    /// A spinner with a message, ticking on its own.
    pub fn spinner(msg: impl Into<String>) -> Self {
        let bar = ProgressBar::with_draw_target(None, target());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(msg.into());
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress { bar }
    }

    /// A bar for `len` steps with a message.
    pub fn bar(len: u64, msg: impl Into<String>) -> Self {
        let bar = ProgressBar::with_draw_target(Some(len), target());
        if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(msg.into());
        Progress { bar }
    }

    /// A progress that never draws (`--quiet`-like paths, tests).
    pub fn hidden() -> Self {
        Progress {
            bar: ProgressBar::hidden(),
        }
    }

    /// Advance by `n` steps.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Replace the message.
    pub fn set_message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }

    /// Run `f` with the bar cleared, e.g. to print a warning line to stderr.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// True when this progress actually draws (stderr is a terminal).
    pub fn is_visible(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// Remove the bar from the terminal.
    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_progress_is_inert() {
        let p = Progress::hidden();
        p.inc(3);
        p.set_message("x");
        assert!(!p.is_visible());
        assert_eq!(p.suspend(|| 7), 7);
        p.finish_and_clear();
        // Under `cargo test` stderr is captured, not a terminal: bars stay hidden.
        let b = Progress::bar(10, "listing");
        b.inc(1);
        b.finish_and_clear();
    }
}
