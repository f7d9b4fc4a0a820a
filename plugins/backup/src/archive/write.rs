//! Writing an archive as entries arrive: each entry is hashed and appended to the tar
//! stream at once, entry records are spooled to a temp file, so memory stays flat.
//!
//! The zstd stream is cut into independent frames (each with a checksum) at entry
//! boundaries about every [`FRAME_BYTES`]: a damaged byte then costs one frame's entries,
//! and `verify` can resume at the next frame and name exactly what was lost.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

use crate::archive::{HEADER_KIND, HEADER_PATH, Header, MANIFEST_PATH, hex};
use crate::report::{BackupManifest, Counts, Entry, EntryType, SCHEMA_VERSION, Tool};

/// Uncompressed bytes per zstd frame (cut at the next entry boundary).
pub const FRAME_BYTES: u64 = 512 * 1024;
/// zstd level: the library default, fast with a good ratio for YAML.
const LEVEL: i32 = 3;

/// A writer that counts and hashes what passes through (the archive file's sha256).
pub struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the byte count and the hex sha256.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex(&self.hash.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// zstd compression in independent frames, cut on request.
pub struct Framed<W: Write> {
    encoder: Option<zstd::stream::write::Encoder<'static, W>>,
    in_frame: u64,
}

fn encoder<W: Write>(w: W) -> std::io::Result<zstd::stream::write::Encoder<'static, W>> {
    let mut e = zstd::stream::write::Encoder::new(w, LEVEL)?;
    e.include_checksum(true)?;
    Ok(e)
}

impl<W: Write> Framed<W> {
    pub fn new(w: W) -> std::io::Result<Self> {
        Ok(Framed {
            encoder: Some(encoder(w)?),
            in_frame: 0,
        })
    }

    fn closed() -> std::io::Error {
        std::io::Error::other("the archive was already finished")
    }

    /// End the current frame when it holds at least [`FRAME_BYTES`]; call between entries.
    pub fn cut_if_full(&mut self) -> std::io::Result<()> {
        if self.in_frame < FRAME_BYTES {
            return Ok(());
        }
        self.cut()
    }

    /// End the current frame now (when it holds anything).
    pub fn cut(&mut self) -> std::io::Result<()> {
        if self.in_frame == 0 {
            return Ok(());
        }
        let e = self.encoder.take().ok_or_else(Self::closed)?;
        let w = e.finish()?;
        self.encoder = Some(encoder(w)?);
        self.in_frame = 0;
        Ok(())
    }

    /// End the last frame and return the inner writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.encoder.take().ok_or_else(Self::closed)?.finish()
    }
}

impl<W: Write> Write for Framed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let e = self.encoder.as_mut().ok_or_else(Self::closed)?;
        let n = e.write(buf)?;
        self.in_frame += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.encoder.as_mut() {
            Some(e) => e.flush(),
            None => Ok(()),
        }
    }
}

/// What an entry is, for the manifest (its path, size and digest are computed here).
#[derive(Debug, Clone, Default)]
pub struct EntryMeta {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub encrypted: bool,
}

/// Entry records spooled to an anonymous temp file as JSON, comma-separated, plus the
/// running counts: the manifest's entry list never sits in memory while writing.
struct Spool {
    file: BufWriter<File>,
    bytes: u64,
    counts: Counts,
}

impl Spool {
    fn new() -> std::io::Result<Self> {
        Ok(Spool {
            file: BufWriter::new(tempfile::tempfile()?),
            bytes: 0,
            counts: Counts::default(),
        })
    }

    fn record(&mut self, e: &Entry) -> std::io::Result<()> {
        let mut line = if self.counts.entries == 0 {
            Vec::new()
        } else {
            b",\n".to_vec()
        };
        serde_json::to_writer(&mut line, e)?;
        self.file.write_all(&line)?;
        self.bytes += line.len() as u64;
        let c = &mut self.counts;
        c.entries += 1;
        c.bytes += e.size;
        if e.encrypted {
            c.encrypted += 1;
        }
        match e.entry_type {
            EntryType::Object => {
                c.objects += 1;
                let ns = e.namespace.clone().unwrap_or_else(|| "_cluster".into());
                if let Some(kind) = &e.kind {
                    let k = kind_key(e.api_version.as_deref(), kind);
                    *c.by_namespace_kind
                        .entry(ns.clone())
                        .or_default()
                        .entry(k.clone())
                        .or_default() += 1;
                    *c.by_kind.entry(k).or_default() += 1;
                }
                *c.by_namespace.entry(ns).or_default() += 1;
            }
            EntryType::Dump => c.dumps += 1,
            EntryType::Snapshot => c.snapshots += 1,
            EntryType::Header | EntryType::Key => {}
        }
        Ok(())
    }

    /// The spooled records, rewound for reading.
    fn into_reader(self) -> std::io::Result<(BufReader<File>, u64)> {
        let mut f = self.file.into_inner().map_err(|e| e.into_error())?;
        f.seek(SeekFrom::Start(0))?;
        Ok((BufReader::new(f), self.bytes))
    }
}

/// `Deployment` for core and well-known groups is ambiguous across groups only for
/// custom resources, so kinds of groups outside Kubernetes' own are shown as
/// `Kind.group` (`Widget.example.com`).
pub fn kind_key(api_version: Option<&str>, kind: &str) -> String {
    let group = api_version
        .and_then(|v| v.rsplit_once('/'))
        .map_or("", |(g, _)| g);
    if group.is_empty() || group.ends_with(".k8s.io") || !group.contains('.') {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    }
}

/// An archive being written.
pub struct ArchiveWriter<W: Write> {
    tar: tar::Builder<Framed<Hashing<W>>>,
    mtime: u64,
    spool: Spool,
    excluded: BTreeMap<String, u64>,
}

/// The archive file as written.
#[derive(Debug, Clone)]
pub struct Written<W> {
    pub inner: W,
    pub size: u64,
    pub sha256: String,
    pub manifest: BackupManifest,
}

impl<W: Write> ArchiveWriter<W> {
    /// Start an archive on `w` and write its header entry.
    pub fn new(w: W, created_at: jiff::Timestamp) -> std::io::Result<Self> {
        let tar = tar::Builder::new(Framed::new(Hashing::new(w))?);
        let mut this = ArchiveWriter {
            tar,
            mtime: u64::try_from(created_at.as_second()).unwrap_or(0),
            spool: Spool::new()?,
            excluded: BTreeMap::new(),
        };
        let header = Header {
            api_version: crate::report::api_version(),
            kind: HEADER_KIND.into(),
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            created_at,
        };
        let bytes = serde_json::to_vec_pretty(&header)?;
        this.add(HEADER_PATH, EntryType::Header, &bytes, EntryMeta::default())?;
        // The header alone in the first frame: `inspect` tells a backup from other files
        // after decompressing a few hundred bytes, whatever the damage further on.
        this.tar.get_mut().cut()?;
        Ok(this)
    }

    fn tar_header(&self, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o600);
        h.set_mtime(self.mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_entry_type(tar::EntryType::Regular);
        h
    }

    /// Append one entry with its bytes.
    pub fn add(
        &mut self,
        path: &str,
        entry_type: EntryType,
        data: &[u8],
        meta: EntryMeta,
    ) -> std::io::Result<()> {
        let mut h = self.tar_header(data.len() as u64);
        self.tar.append_data(&mut h, path, data)?;
        self.tar.get_mut().cut_if_full()?;
        self.spool.record(&entry(
            path,
            entry_type,
            data.len() as u64,
            crate::archive::sha256_hex(data),
            meta,
        ))
    }

    /// Append an entry from a reader of known size and digest (a spooled dump).
    pub fn add_reader(
        &mut self,
        path: &str,
        entry_type: EntryType,
        data: impl Read,
        size: u64,
        sha256: String,
        meta: EntryMeta,
    ) -> std::io::Result<()> {
        let mut h = self.tar_header(size);
        self.tar.append_data(&mut h, path, data.take(size))?;
        self.tar.get_mut().cut_if_full()?;
        self.spool
            .record(&entry(path, entry_type, size, sha256, meta))
    }

    /// Count one object left out by a default exclusion rule.
    pub fn exclude(&mut self, rule: &str) {
        *self.excluded.entry(rule.to_string()).or_default() += 1;
    }

    /// Entries so far.
    pub fn entries(&self) -> u64 {
        self.spool.counts.entries
    }

    /// Write `manifest.json` (the given head plus every entry and the counts) as the
    /// last entry, end the tar stream and the last frame.
    pub fn finish(mut self, mut head: BackupManifest) -> std::io::Result<Written<W>> {
        let mut counts = self.spool.counts.clone();
        counts.excluded = std::mem::take(&mut self.excluded);
        head.counts = counts;
        head.entries = Vec::new();
        head.archive = None;
        head.changes = Vec::new();
        let manifest_for_caller = head.clone();
        // `entries` is the last field: everything before `[]}` is the prefix, the spool
        // the middle.
        let text = serde_json::to_vec(&head)?;
        let Some(prefix) = text.strip_suffix(b"[]}") else {
            return Err(std::io::Error::other(
                "manifest does not end with its entry list",
            ));
        };
        let prefix = prefix.to_vec();
        let (spooled, spooled_len) =
            std::mem::replace(&mut self.spool, Spool::new()?).into_reader()?;
        let body = prefix
            .as_slice()
            .chain(b"[\n".as_slice())
            .chain(spooled)
            .chain(b"\n]}\n".as_slice());
        let size = prefix.len() as u64 + 2 + spooled_len + 3;
        // The manifest gets a frame of its own: damage anywhere before it leaves it
        // readable, so verify can name every entry lost.
        self.tar.get_mut().cut()?;
        let mut h = self.tar_header(size);
        self.tar
            .append_data(&mut h, MANIFEST_PATH, body.take(size))?;
        let framed = self.tar.into_inner()?;
        let hashing = framed.finish()?;
        let (mut inner, size, sha256) = hashing.finish();
        inner.flush()?;
        Ok(Written {
            inner,
            size,
            sha256,
            manifest: manifest_for_caller,
        })
    }
}

fn entry(path: &str, entry_type: EntryType, size: u64, sha256: String, meta: EntryMeta) -> Entry {
    Entry {
        path: path.to_string(),
        entry_type,
        size,
        sha256,
        encrypted: meta.encrypted,
        api_version: meta.api_version,
        kind: meta.kind,
        namespace: meta.namespace,
        name: meta.name,
    }
}

/// Read the manifest's entry list back from a finished archive's manifest bytes is done by
/// the reader; this helper reads the entries of a spool-format list (tests).
#[cfg(test)]
pub(crate) fn parse_entries(reader: impl std::io::BufRead) -> Vec<Entry> {
    let mut text = String::new();
    for line in reader.lines().map_while(Result::ok) {
        text.push_str(&line);
    }
    serde_json::from_str(&format!("[{text}]")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_keys() {
        assert_eq!(kind_key(Some("apps/v1"), "Deployment"), "Deployment");
        assert_eq!(kind_key(Some("v1"), "Secret"), "Secret");
        assert_eq!(
            kind_key(Some("storage.k8s.io/v1"), "StorageClass"),
            "StorageClass"
        );
        assert_eq!(
            kind_key(Some("example.com/v1"), "Widget"),
            "Widget.example.com"
        );
    }

    #[test]
    fn frames_are_cut_between_entries() {
        let mut f = Framed::new(Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        f.write_all(&vec![b'a'; 600 * 1024])
            .unwrap_or_else(|e| panic!("{e}"));
        f.cut_if_full().unwrap_or_else(|e| panic!("{e}"));
        f.write_all(b"second").unwrap_or_else(|e| panic!("{e}"));
        let bytes = f.finish().unwrap_or_else(|e| panic!("{e}"));
        let magic = [0x28u8, 0xb5, 0x2f, 0xfd];
        let frames = bytes.windows(4).filter(|w| *w == magic).count();
        assert_eq!(frames, 2);
        let plain = zstd::decode_all(bytes.as_slice()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain.len(), 600 * 1024 + 6);
    }

    #[test]
    fn spool_counts() {
        let mut s = Spool::new().unwrap_or_else(|e| panic!("{e}"));
        let meta = |kind: &str, ns: Option<&str>| EntryMeta {
            api_version: Some("v1".into()),
            kind: Some(kind.into()),
            namespace: ns.map(str::to_string),
            name: Some("x".into()),
            encrypted: kind == "Secret",
        };
        for (k, ns) in [
            ("Secret", Some("a")),
            ("ConfigMap", Some("a")),
            ("Namespace", None),
        ] {
            s.record(&entry("p", EntryType::Object, 10, "00".into(), meta(k, ns)))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let c = s.counts.clone();
        assert_eq!((c.entries, c.objects, c.encrypted, c.bytes), (3, 3, 1, 30));
        assert_eq!(c.by_namespace.get("_cluster"), Some(&1));
        assert_eq!(c.by_kind.get("Secret"), Some(&1));
        let (r, _) = s.into_reader().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parse_entries(r).len(), 3);
    }
}
