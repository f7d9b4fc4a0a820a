//! Diagnostic logging to stderr with tracing: `-v` raises detail, `RUST_LOG` overrides.
//! Stdout is never touched, so `-o json | jq` keeps working at any verbosity, and every
//! log line passes through redaction, whatever crate wrote it.

use std::io::{IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Writes each log event to stderr after [`crate::redact::redact_text`]: the one boundary
/// all log output crosses, so no `tracing` call (ours or a dependency's) can print a token.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactingStderr;

/// One event's bytes, redacted and written when the formatter drops it.
#[derive(Debug, Default)]
pub struct RedactedEvent(Vec<u8>);

impl Write for RedactedEvent {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedEvent {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.0);
        let _ = std::io::stderr().write_all(crate::redact::redact_text(&text).as_bytes());
    }
}

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactedEvent;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedEvent::default()
    }
}

/// The default filter for a `-v` count: WARN, INFO (`-v`), DEBUG (`-vv`), TRACE (`-vvv`+).
pub fn level_for(verbosity: u8) -> &'static str {
    match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    }
}

/// The full default filter: [`level_for`], with kube's per-request HTTP failure logs muted
/// below `-vv` (they fire on every retried 5xx or dropped connection, which our retry
/// layer then handles; the final error is reported once by `run::main_with`).
pub fn filter_for(verbosity: u8) -> String {
    let level = level_for(verbosity);
    if verbosity < 2 {
        format!("{level},kube_client::client::builder=off")
    } else {
        level.to_string()
    }
}

/// Install the global subscriber writing to stderr.
///
/// A non-empty, valid `RUST_LOG` replaces the `-v` level entirely. Calling this twice
/// (tests) is harmless: the second call is ignored. Colour only when stderr is a terminal
/// and `NO_COLOR` is unset.
pub fn init(verbosity: u8) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| EnvFilter::try_new(v).ok());
    let filter = from_env.unwrap_or_else(|| EnvFilter::new(filter_for(verbosity)));
    let ansi = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(RedactingStderr)
        .with_ansi(ansi)
        .with_target(verbosity >= 2)
        .without_time()
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level_for(0), "warn");
        assert_eq!(level_for(1), "info");
        assert_eq!(level_for(2), "debug");
        assert_eq!(level_for(3), "trace");
        assert_eq!(level_for(9), "trace");
    }

    #[test]
    fn kube_request_noise_is_muted_by_default() {
        assert_eq!(filter_for(0), "warn,kube_client::client::builder=off");
        assert_eq!(filter_for(2), "debug");
        for v in 0..4 {
            assert!(EnvFilter::try_new(filter_for(v)).is_ok());
        }
    }

    #[test]
    fn init_twice_is_fine() {
        init(0);
        init(2);
    }
}
