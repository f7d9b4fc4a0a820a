//! The five subcommands, each the I/O around the pure stages: read, decide, write, report.
//! One file per command; the deciding happens in the modules they call.

pub mod certs;
pub mod cleanup;
pub mod restart;
pub mod secret;
pub mod status;
