//! Offline verification, pure: the entries a walk saw (with their digests) and the damage
//! it met, against the manifest — every bad, missing, extra or unreadable entry by name.

use std::collections::{BTreeMap, BTreeSet};

use crate::archive::MANIFEST_PATH;
use crate::archive::read::Walk;
use crate::report::{BackupManifest, Problem};

/// One entry as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// False when the archive was damaged inside this entry.
    pub complete: bool,
}

fn problem(entry: &str, problem: &str, message: String) -> Problem {
    Problem {
        entry: entry.to_string(),
        problem: problem.to_string(),
        message,
    }
}

/// Everything wrong with the archive; empty when it verifies.
pub fn check(
    seen: &[Seen],
    walk: &Walk,
    manifest: Option<Result<&BackupManifest, String>>,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let last_good = seen
        .iter()
        .rev()
        .find(|s| s.complete)
        .map(|s| s.path.as_str());
    let manifest = match manifest {
        None => {
            for d in walk.damages.iter().filter(|d| !d.truncated) {
                out.push(problem(
                    d.entry.as_deref().unwrap_or("-"),
                    "damaged",
                    format!(
                        "{} (after {})",
                        d.message,
                        d.after.as_deref().unwrap_or("the start")
                    ),
                ));
            }
            let truncated = walk.damages.iter().any(|d| d.truncated) || !walk.ended;
            let (kind, what) = if truncated {
                ("truncated", "the archive is truncated")
            } else {
                ("noManifest", "the archive has no readable manifest")
            };
            out.push(problem(
                "-",
                kind,
                format!(
                    "{what} after {}: manifest.json and every entry after that point are missing",
                    last_good.unwrap_or("its first byte")
                ),
            ));
            return out;
        }
        Some(Err(e)) => {
            out.push(problem(
                MANIFEST_PATH,
                "invalidManifest",
                format!("manifest.json cannot be read: {e}"),
            ));
            return out;
        }
        Some(Ok(m)) => m,
    };
    let index: BTreeMap<&str, usize> = manifest
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.as_str(), i))
        .collect();
    let mut found: BTreeSet<usize> = BTreeSet::new();
    for s in seen.iter().filter(|s| s.path != MANIFEST_PATH) {
        let Some(&i) = index.get(s.path.as_str()) else {
            out.push(problem(
                &s.path,
                "unexpected",
                format!("{} is in the archive but not in its manifest", s.path),
            ));
            continue;
        };
        if !found.insert(i) {
            out.push(problem(
                &s.path,
                "duplicate",
                format!("{} appears more than once", s.path),
            ));
            continue;
        }
        let want = &manifest.entries[i];
        if !s.complete {
            out.push(problem(
                &s.path,
                "damaged",
                format!(
                    "{} cannot be read completely: the archive is damaged inside it",
                    s.path
                ),
            ));
        } else if s.size != want.size {
            out.push(problem(
                &s.path,
                "sizeMismatch",
                format!(
                    "{} has {} bytes, the manifest says {}",
                    s.path, s.size, want.size
                ),
            ));
        } else if s.sha256 != want.sha256 {
            out.push(problem(
                &s.path,
                "checksumMismatch",
                format!("{} does not match its sha256 in the manifest", s.path),
            ));
        }
    }
    // Entries never read: lost in a damaged region, or simply missing.
    let regions = damaged_regions(seen, walk, &index, manifest.entries.len());
    for (i, e) in manifest.entries.iter().enumerate() {
        if found.contains(&i) {
            continue;
        }
        match regions.iter().find(|r| r.0 < i as i64 && i < r.1) {
            Some((_, _, message)) => out.push(problem(
                &e.path,
                "damaged",
                format!("{} is unreadable: {message}", e.path),
            )),
            None => out.push(problem(
                &e.path,
                "missing",
                format!(
                    "{} is listed in the manifest but not in the archive",
                    e.path
                ),
            )),
        }
    }
    if !walk.ended {
        out.push(problem(
            "-",
            "truncated",
            format!(
                "the archive ends without its end-of-archive marker after {}",
                last_good.unwrap_or("its first byte")
            ),
        ));
    }
    out
}

/// For each damage, the manifest positions it can have swallowed: strictly between the
/// last entry read before it and the next entry read after it.
fn damaged_regions(
    seen: &[Seen],
    walk: &Walk,
    index: &BTreeMap<&str, usize>,
    total: usize,
) -> Vec<(i64, usize, String)> {
    let pos = |p: &str| index.get(p).copied();
    walk.damages
        .iter()
        .map(|d| {
            let before = d.after.as_deref().and_then(pos).map_or(-1, |i| i as i64);
            let after_at = d
                .after
                .as_deref()
                .and_then(|a| seen.iter().rposition(|s| s.path == a))
                .map_or(0, |p| p + 1);
            let next = seen[after_at.min(seen.len())..]
                .iter()
                .filter(|s| s.complete && s.path != MANIFEST_PATH)
                .find_map(|s| pos(&s.path))
                .unwrap_or(total);
            let message = if d.truncated {
                format!("the file is truncated at byte {}", d.offset)
            } else {
                format!("damaged data at byte {} ({})", d.offset, d.message)
            };
            (before, next, message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::read::Damage;
    use crate::report::{Entry, EntryType};

    fn manifest(paths: &[&str]) -> BackupManifest {
        let mut m: BackupManifest = crate::report::test_manifest();
        m.entries = paths
            .iter()
            .map(|p| Entry {
                path: p.to_string(),
                entry_type: EntryType::Object,
                size: 1,
                sha256: format!("sha-{p}"),
                encrypted: false,
                api_version: None,
                kind: None,
                namespace: None,
                name: None,
            })
            .collect();
        m
    }

    fn seen(p: &str) -> Seen {
        Seen {
            path: p.into(),
            size: 1,
            sha256: format!("sha-{p}"),
            complete: true,
        }
    }

    fn clean() -> Walk {
        Walk {
            ended: true,
            ..Walk::default()
        }
    }

    fn kinds(p: &[Problem]) -> Vec<(String, String)> {
        p.iter()
            .map(|p| (p.entry.clone(), p.problem.clone()))
            .collect()
    }

    #[test]
    fn a_good_archive_has_no_problems() {
        let m = manifest(&["a", "b"]);
        let s = [seen("a"), seen("b"), seen(MANIFEST_PATH)];
        assert!(check(&s, &clean(), Some(Ok(&m))).is_empty());
    }

    #[test]
    fn mismatch_missing_extra_duplicate() {
        let m = manifest(&["a", "b", "c"]);
        let mut bad = seen("a");
        bad.sha256 = "other".into();
        let s = [bad, seen("x"), seen("c"), seen("c"), seen(MANIFEST_PATH)];
        assert_eq!(
            kinds(&check(&s, &clean(), Some(Ok(&m)))),
            [
                ("a".into(), "checksumMismatch".into()),
                ("x".into(), "unexpected".into()),
                ("c".into(), "duplicate".into()),
                ("b".into(), "missing".into()),
            ]
        );
    }

    #[test]
    fn entries_lost_in_damage_are_named_damaged() {
        let m = manifest(&["a", "b", "c", "d", "e"]);
        let mut half = seen("c");
        half.complete = false;
        let s = [seen("a"), half, seen("e"), seen(MANIFEST_PATH)];
        let walk = Walk {
            ended: true,
            damages: vec![Damage {
                offset: 99,
                after: Some("a".into()),
                entry: Some("c".into()),
                message: "corrupt".into(),
                truncated: false,
            }],
            ..Walk::default()
        };
        assert_eq!(
            kinds(&check(&s, &walk, Some(Ok(&m)))),
            [
                ("c".into(), "damaged".into()),
                ("b".into(), "damaged".into()),
                ("d".into(), "damaged".into()),
            ]
        );
    }

    #[test]
    fn truncated_without_manifest() {
        let walk = Walk {
            ended: false,
            damages: vec![Damage {
                offset: 5,
                after: Some("b".into()),
                entry: None,
                message: "ends".into(),
                truncated: true,
            }],
            ..Walk::default()
        };
        let p = check(&[seen("a"), seen("b")], &walk, None);
        assert_eq!(kinds(&p), [("-".into(), "truncated".into())]);
        assert!(p[0].message.contains("after b"), "{}", p[0].message);
        let p = check(&[seen("a")], &clean(), None);
        assert_eq!(kinds(&p), [("-".into(), "noManifest".into())]);
    }
}
