//! The offline commands: `inspect` (what an archive holds) and `verify` (every entry
//! against the manifest). Neither needs a cluster or a key.

use std::io::Write;

use common::output::OutputArgs;
use common::output::OutputFormat;
use common::{Exit, Result};

use crate::load::{Keep, require_intact, scan};
use crate::render;
use crate::report::{ArchiveFile, BackupVerification, api_version};

/// `kubectl backup inspect FILE`: exit 0, or 2 for a damaged or foreign file.
pub fn inspect(file: &str, out: &OutputArgs) -> Result<Exit> {
    let (scanned, digest) = scan_with_digest(file)?;
    require_intact(file, &scanned)?;
    let Some(mut m) = scanned.manifest().cloned() else {
        return Err(common::Error::usage(format!("{file} has no manifest")));
    };
    m.archive = digest.map(|(size, sha256)| ArchiveFile {
        path: file.to_string(),
        size,
        sha256,
    });
    let mut stdout = std::io::stdout().lock();
    match out.output {
        OutputFormat::Json | OutputFormat::Yaml => render::document(&mut stdout, out.output, &m)?,
        OutputFormat::Name => stdout.write_all(render::manifest_names(&m).as_bytes())?,
        OutputFormat::Table | OutputFormat::Wide => {
            stdout.write_all(render::manifest_text(&m, &out.painter()).as_bytes())?;
        }
    }
    Ok(Exit::Ok)
}

/// `kubectl backup verify FILE`: exit 0 when intact, 1 naming each bad entry.
pub fn verify(file: &str, out: &OutputArgs) -> Result<Exit> {
    let scanned = scan(file, Keep::Digests)?;
    let entries = scanned.manifest().map_or(0, |m| m.entries.len() as u64);
    let bad: std::collections::BTreeSet<&str> =
        scanned.problems.iter().map(|p| p.entry.as_str()).collect();
    let verified = scanned.manifest().map_or(0, |m| {
        m.entries
            .iter()
            .filter(|e| !bad.contains(e.path.as_str()))
            .count() as u64
    });
    let report = BackupVerification {
        api_version: api_version(),
        kind: "BackupVerification".into(),
        file: file.to_string(),
        valid: scanned.problems.is_empty(),
        entries,
        verified: if scanned.problems.is_empty() {
            entries
        } else {
            verified
        },
        schema_version: scanned.header.as_ref().map(|h| h.schema_version),
        problems: scanned.problems.clone(),
    };
    let mut stdout = std::io::stdout().lock();
    match out.output {
        OutputFormat::Json | OutputFormat::Yaml => {
            render::document(&mut stdout, out.output, &report)?
        }
        OutputFormat::Name => {
            for p in &report.problems {
                writeln!(stdout, "{}", p.entry)?;
            }
        }
        OutputFormat::Table | OutputFormat::Wide => {
            stdout.write_all(render::verification_text(&report, &out.painter()).as_bytes())?;
        }
    }
    Ok(if report.valid {
        Exit::Ok
    } else {
        Exit::NotFine
    })
}

/// Scan a file and, when it is a regular file, its size and sha256 (read a second time:
/// cheap next to the scan, and only for the file a person asked about).
fn scan_with_digest(file: &str) -> Result<(crate::load::Scanned, Option<(u64, String)>)> {
    let scanned = scan(file, Keep::Digests)?;
    if file == "-" {
        return Ok((scanned, None));
    }
    let digest = std::fs::File::open(file).ok().and_then(|mut f| {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let n = std::io::copy(&mut f, &mut h).ok()?;
        Some((n, crate::archive::hex(&h.finalize())))
    });
    Ok((scanned, digest))
}
