//! placeholder
use common::run::Session;
use common::{Exit, Result};
pub async fn diff(
    _a: &crate::args::Args,
    _d: &crate::args::DiffArgs,
    _s: &Session,
) -> Result<Exit> {
    Ok(Exit::Ok)
}
