//! kubectl backup: a verifiable, restorable, encrypted backup of namespaces in one file.
//! Stages: args → plan (scope) → collect (page streams) → archive (tar + zstd, manifest
//! last) with crypto (age); and back: load (verify) → restore plan (tiers) → apply.

pub mod archive;
pub mod args;
pub mod collect;
pub mod create;
pub mod crypto;
pub mod diff;
pub mod dumps;
pub mod load;
pub mod offline;
pub mod plan;
pub mod render;
pub mod report;
pub mod restore;
pub mod snapshots;

use common::run::Session;
use common::{Exit, Result};

use crate::args::{Args, Command};

/// Run one command and return the exit code the contract asks for.
pub async fn run(args: Args, session: Session) -> Result<Exit> {
    match &args.command {
        Command::Create(c) => create::create(&args, c, &session).await,
        Command::Inspect(f) => offline::inspect(&f.file, &args.out),
        Command::Verify(f) => offline::verify(&f.file, &args.out),
        Command::Diff(d) => diff::diff(&args, d, &session).await,
        Command::Restore(r) => restore::restore(&args, r, &session).await,
    }
}
