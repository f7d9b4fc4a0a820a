//! The five subcommands, each the I/O around the pure stages: read, decide, write, report.
//! One file per command; the deciding happens in the modules they call.

pub mod certs;
pub mod cleanup;
pub mod restart;
pub mod secret;
pub mod status;

use std::time::Instant;

use common::cli::Connection;
use common::output::OutputArgs;

use crate::report::Stats;

/// The requests made and the time since `started`, for a report.
pub fn stats(conn: &Connection, started: Instant) -> Stats {
    Stats {
        requests: conn.requests.get(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// `--stats` (or `-v`): the request count and the time on stderr.
pub fn print_stats(out: &OutputArgs, conn: &Connection, stats: &Stats) {
    if out.show_stats() {
        eprintln!("{} in {} ms", conn.stats_line(), stats.duration_ms);
    }
}
