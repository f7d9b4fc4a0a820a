//! `kubectl drainplan uncordon NODE...|-l SEL`: undo the cordons drainplan made (the nodes
//! carrying its annotation); a node cordoned by anyone else stays cordoned.

use common::list::list_optional_map;
use common::run::Session;
use common::write::{Target, Writer};
use common::{Error, Exit, Result};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;

use crate::args::{Args, UncordonArgs};
use crate::node::{self, Uncordon};
use crate::report::{KIND_UNCORDON, UncordonReport, UncordonResult, UncordonedNode, api_version};
use crate::wire;

/// The node names to uncordon, checked to exist before anything is written.
async fn resolve(conn: &common::cli::Connection, u: &UncordonArgs) -> Result<Vec<String>> {
    if u.nodes.is_empty() == u.selector.is_none() {
        return Err(Error::usage(
            "name the nodes to uncordon, or choose them with -l SELECTOR (not both)",
        ));
    }
    let api: Api<wire::Node> = Api::all(conn.client.clone());
    let mut lp = ListParams::default().limit(crate::collect::PAGE);
    if let Some(sel) = &u.selector {
        lp = lp.labels(sel);
    }
    let listed = list_optional_map(&api, &lp, |n: wire::Node| {
        n.metadata.name.unwrap_or_default()
    })
    .await?;
    let Some(existing) = listed.into_items() else {
        return Err(Error::Forbidden {
            message: "cannot list nodes".to_string(),
            hint: Some("kubectl auth can-i list nodes".to_string()),
        });
    };
    if u.selector.is_some() {
        let mut names = existing;
        names.sort();
        return Ok(names);
    }
    for n in &u.nodes {
        if !existing.contains(n) {
            return Err(Error::usage(format!("node \"{n}\" not found")));
        }
    }
    Ok(u.nodes.clone())
}

pub async fn run(args: &Args, u: &UncordonArgs, session: &Session) -> Result<Exit> {
    let conn = args.conn.connect().await?;
    let names = resolve(&conn, u).await?;
    let writer = Writer::new("drainplan", u.dry_run.dry_run, session.journal.clone());
    let target = Target::<Node>::cluster(&conn.client);
    let mut nodes = Vec::new();
    for name in &names {
        session.checkpoint()?;
        let (result, message) = match node::uncordon(&writer, &target, name).await? {
            Uncordon::Uncordoned => (
                UncordonResult::Uncordoned,
                format!("uncordoned{}", u.dry_run.dry_run.suffix()),
            ),
            Uncordon::LeftCordoned => (
                UncordonResult::LeftCordoned,
                "left cordoned: drainplan did not cordon it".to_string(),
            ),
            Uncordon::NotCordoned => (UncordonResult::NotCordoned, "not cordoned".to_string()),
        };
        nodes.push(UncordonedNode {
            node: name.clone(),
            result,
            message,
        });
    }
    let report = UncordonReport {
        api_version: api_version(),
        kind: KIND_UNCORDON.to_string(),
        dry_run: u.dry_run.dry_run,
        nodes,
        changes: session.journal.entries(),
    };
    let mut stdout = std::io::stdout().lock();
    crate::render::uncordon(
        &mut stdout,
        args.out.output,
        &report,
        &session.journal,
        &args.out.painter(),
    )?;
    if args.out.show_stats() {
        eprintln!("{}", conn.stats_line());
    }
    Ok(Exit::Ok)
}
