//! kubectl rotate: rotate a credential with consumer discovery, validation, health-checked
//! rollout and automatic rollback; restart consumers; report certificate expiry.
//!
//! Stages of `rotate secret`: collect (one list per kind) → consumers (a table of finders)
//! → data (flags) → validate → plan (new version + one patch per consumer) → execute
//! (create, repoint, wait, roll back) → record → report → render. `cleanup`, `status`,
//! `restart` and `certs` reuse collect and consumers with their own pure stage.

pub mod args;
pub mod certs;
pub mod cleanup;
pub mod collect;
pub mod commands;
pub mod consumers;
pub mod data;
pub mod execute;
pub mod health;
pub mod holders;
pub mod pki;
pub mod plan;
pub mod render;
pub mod report;
pub mod snapshot;
pub mod status;
pub mod validate;

use common::Exit;
use common::run::Session;

use crate::args::{Args, Command};

/// Run one invocation; `session` carries Ctrl-C and the change journal.
pub async fn run(args: Args, session: Session) -> common::Result<Exit> {
    let conn = args.conn.connect().await?;
    let out = &args.out;
    match &args.command {
        Command::Secret(a) => commands::secret::run(&conn, a, out, &session).await,
        Command::Cleanup(a) => commands::cleanup::run(&conn, a, out, &session).await,
        Command::Status(a) => commands::status::run(&conn, a, out, &session).await,
        Command::Restart(a) => commands::restart::run(&conn, a, out, &session).await,
        Command::Certs(a) => commands::certs::run(&conn, a, out, &session).await,
    }
}
