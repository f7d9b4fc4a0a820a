//! Reading an archive entry by entry, surviving damage: a corrupt zstd frame or tar
//! header is reported with where it happened, and reading resumes at the next frame.
//!
//! Plain (uncompressed) tar is read too, so an archive re-packed by hand still verifies.

use std::io::{BufRead, BufReader, Cursor, Read};

/// The zstd frame magic number, as it appears in the file.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const BLOCK: usize = 512;

/// Why a file cannot be read as an archive at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnArchive(pub String);

/// Damage found while reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Offset in the file (compressed bytes) where reading failed.
    pub offset: u64,
    /// The last entry read completely before the damage.
    pub after: Option<String>,
    /// The entry being read when it happened, if any.
    pub entry: Option<String>,
    /// What went wrong.
    pub message: String,
    /// True when the file simply ended (truncated) rather than holding bad bytes.
    pub truncated: bool,
}

/// Receives each entry; `body` yields the entry's bytes and fails if the archive is damaged
/// inside them.
pub trait Visitor {
    fn entry(&mut self, path: &str, size: u64, body: &mut dyn Read) -> std::io::Result<()>;
}

/// What a walk over the archive saw.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    pub damages: Vec<Damage>,
    /// True when the tar end-of-archive marker was reached.
    pub ended: bool,
    /// Entries handed to the visitor (whole or not).
    pub entries: u64,
    /// The file was zstd-compressed.
    pub compressed: bool,
}

/// zstd frames decoded one after another, with exact input accounting so that after a
/// damaged frame reading can resume at the next frame's magic number.
struct FrameReader<R: BufRead> {
    inner: R,
    decoder: zstd::stream::raw::Decoder<'static>,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    state: FrameState,
    consumed: u64,
    pending_magic: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameState {
    Between,
    InFrame,
    Failed,
}

impl<R: BufRead> FrameReader<R> {
    fn new(inner: R) -> std::io::Result<Self> {
        Ok(FrameReader {
            inner,
            decoder: zstd::stream::raw::Decoder::new()?,
            out: vec![0; 128 * 1024],
            out_pos: 0,
            out_len: 0,
            state: FrameState::Between,
            consumed: 0,
            pending_magic: false,
        })
    }

    fn fail(&mut self, kind: std::io::ErrorKind, message: String) -> std::io::Error {
        self.state = FrameState::Failed;
        self.out_pos = 0;
        self.out_len = 0;
        std::io::Error::new(kind, message)
    }

    /// Skip to the next frame's magic number; false at the end of the file.
    fn resync(&mut self) -> std::io::Result<bool> {
        use zstd::stream::raw::Operation;
        let mut matched = 0usize;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(false);
            }
            let len = buf.len();
            let mut i = 0;
            while i < len {
                if buf[i] == ZSTD_MAGIC[matched] {
                    matched += 1;
                    i += 1;
                    if matched == ZSTD_MAGIC.len() {
                        self.inner.consume(i);
                        self.consumed += i as u64;
                        self.decoder.reinit()?;
                        self.pending_magic = true;
                        self.state = FrameState::InFrame;
                        self.out_pos = 0;
                        self.out_len = 0;
                        return Ok(true);
                    }
                } else if matched > 0 {
                    matched = 0;
                } else {
                    i += 1;
                }
            }
            self.inner.consume(len);
            self.consumed += len as u64;
        }
    }
}

impl<R: BufRead> Read for FrameReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            match self.state {
                FrameState::Failed => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "damaged compressed data",
                    ));
                }
                FrameState::Between => {
                    if self.inner.fill_buf()?.is_empty() {
                        return Ok(0);
                    }
                    self.decoder.reinit()?;
                    self.state = FrameState::InFrame;
                }
                FrameState::InFrame => {
                    let at = self.consumed;
                    let (used, written, hint) = if self.pending_magic {
                        self.pending_magic = false;
                        let mut input = InBuffer::around(&ZSTD_MAGIC);
                        let mut output = OutBuffer::around(&mut self.out[..]);
                        match self.decoder.run(&mut input, &mut output) {
                            Ok(h) => (0, output.pos(), h),
                            Err(e) => {
                                let m = format!("corrupt compressed data at byte {at}: {e}");
                                return Err(self.fail(std::io::ErrorKind::InvalidData, m));
                            }
                        }
                    } else {
                        let avail = match self.inner.fill_buf() {
                            Ok(a) => a,
                            Err(e) => return Err(self.fail(e.kind(), e.to_string())),
                        };
                        if avail.is_empty() {
                            let m = format!(
                                "the file ends at byte {at} inside a compressed frame (truncated)"
                            );
                            return Err(self.fail(std::io::ErrorKind::UnexpectedEof, m));
                        }
                        let mut input = InBuffer::around(avail);
                        let mut output = OutBuffer::around(&mut self.out[..]);
                        match self.decoder.run(&mut input, &mut output) {
                            Ok(h) => (input.pos(), output.pos(), h),
                            Err(e) => {
                                let m = format!("corrupt compressed data at byte {at}: {e}");
                                return Err(self.fail(std::io::ErrorKind::InvalidData, m));
                            }
                        }
                    };
                    self.inner.consume(used);
                    self.consumed += used as u64;
                    self.out_pos = 0;
                    self.out_len = written;
                    if hint == 0 {
                        self.state = FrameState::Between;
                    }
                }
            }
        }
    }
}

/// The decompressed byte stream (or the plain tar), with the file offset for messages.
enum Source<R: BufRead> {
    Zstd(FrameReader<R>),
    Plain { inner: R, consumed: u64 },
}

impl<R: BufRead> Source<R> {
    fn offset(&self) -> u64 {
        match self {
            Source::Zstd(f) => f.consumed,
            Source::Plain { consumed, .. } => *consumed,
        }
    }

    /// After damage: where to go on. zstd: the next frame; plain tar: keep reading
    /// blocks (the tar layer looks for the next valid header).
    fn resync(&mut self) -> std::io::Result<bool> {
        match self {
            Source::Zstd(f) => f.resync(),
            Source::Plain { .. } => Ok(true),
        }
    }
}

impl<R: BufRead> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Zstd(f) => f.read(buf),
            Source::Plain { inner, consumed } => {
                let n = inner.read(buf)?;
                *consumed += n as u64;
                Ok(n)
            }
        }
    }
}

/// Fill `buf` completely; `Ok(false)` on a clean end of stream before the first byte.
fn read_block(src: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match src.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file ends inside a tar block (truncated)",
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// A tar header whose checksum holds.
fn valid_header(block: &[u8]) -> bool {
    let header = tar::Header::from_byte_slice(block);
    let Ok(stored) = header.cksum() else {
        return false;
    };
    let mut sum: u32 = 0;
    for (i, b) in block.iter().enumerate() {
        sum += if (148..156).contains(&i) {
            u32::from(b' ')
        } else {
            u32::from(*b)
        };
    }
    sum == stored
}

/// The `path` record of a PAX extended header.
fn pax_path(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines().find_map(|l| {
        let (_, kv) = l.split_once(' ')?;
        kv.strip_prefix("path=").map(str::to_string)
    })
}

/// The first block read to tell the format, put back in front of the rest.
type Peeked<R> = BufReader<std::io::Chain<Cursor<Vec<u8>>, R>>;

/// Open `input`: zstd or plain tar, else [`NotAnArchive`].
fn open<R: Read>(mut input: R) -> Result<(Source<Peeked<R>>, bool), NotAnArchive> {
    let mut first = vec![0u8; BLOCK];
    let mut filled = 0;
    while filled < BLOCK {
        match input.read(&mut first[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(NotAnArchive(format!("cannot read it: {e}"))),
        }
    }
    first.truncate(filled);
    let zstd = first.starts_with(&ZSTD_MAGIC);
    let tar = filled == BLOCK && (first[257..262] == *b"ustar");
    if filled == 0 {
        return Err(NotAnArchive("the file is empty".into()));
    }
    if !zstd && !tar {
        return Err(NotAnArchive(
            "it is neither a zstd-compressed nor a plain tar file".into(),
        ));
    }
    let reader = BufReader::with_capacity(256 * 1024, Cursor::new(first).chain(input));
    let source = if zstd {
        Source::Zstd(
            FrameReader::new(reader)
                .map_err(|e| NotAnArchive(format!("cannot start decompression: {e}")))?,
        )
    } else {
        Source::Plain {
            inner: reader,
            consumed: 0,
        }
    };
    Ok((source, zstd))
}

/// An entry's body: exactly `remaining` bytes from the source, remembering failures.
struct Body<'a, R: Read> {
    src: &'a mut R,
    remaining: u64,
    failed: Option<std::io::Error>,
}

impl<R: Read> Read for Body<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        match self.src.read(&mut buf[..max]) {
            Ok(0) => {
                let e = std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file ends inside an entry (truncated)",
                );
                self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
                Err(e)
            }
            Ok(n) => {
                self.remaining -= n as u64;
                Ok(n)
            }
            Err(e) => {
                self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
                Err(e)
            }
        }
    }
}

/// Walk every entry of the archive in `input`, handing each to `visitor`.
///
/// Damage is collected in [`Walk::damages`], not returned as an error; only a file that is
/// not an archive at all is an `Err`, and an error of the visitor itself (not of reading)
/// stops the walk with that error.
pub fn walk(
    input: impl Read,
    visitor: &mut dyn Visitor,
) -> Result<std::result::Result<Walk, std::io::Error>, NotAnArchive> {
    let (mut src, compressed) = open(input)?;
    let mut walk = Walk {
        compressed,
        ..Walk::default()
    };
    Ok(walk_source(&mut src, visitor, &mut walk).map(|()| walk))
}

fn walk_source<R: BufRead>(
    src: &mut Source<R>,
    visitor: &mut dyn Visitor,
    walk: &mut Walk,
) -> std::io::Result<()> {
    let mut block = [0u8; BLOCK];
    let mut last_good: Option<String> = None;
    let mut long_name: Option<String> = None;
    // While scanning for the next valid header after bad tar data, do not report again.
    let mut scanning = false;
    loop {
        let at = src.offset();
        match read_block(src, &mut block) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                record(walk, at, &last_good, None, &e);
                if !src.resync()? || e.kind() == std::io::ErrorKind::UnexpectedEof {
                    return Ok(());
                }
                long_name = None;
                continue;
            }
        }
        if block.iter().all(|b| *b == 0) {
            walk.ended = true;
            return Ok(());
        }
        if !valid_header(&block) {
            if !scanning {
                scanning = true;
                walk.damages.push(Damage {
                    offset: at,
                    after: last_good.clone(),
                    entry: None,
                    message: format!("invalid tar header at byte {at}"),
                    truncated: false,
                });
            }
            continue;
        }
        scanning = false;
        let header = tar::Header::from_byte_slice(&block);
        let size = header.entry_size().unwrap_or(0);
        let entry_type = header.entry_type();
        let path = long_name
            .take()
            .unwrap_or_else(|| String::from_utf8_lossy(&header.path_bytes()).into_owned());
        let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        if entry_type.is_gnu_longname() || entry_type.is_pax_local_extensions() {
            let mut data = Vec::new();
            let mut body = Body {
                src: &mut *src,
                remaining: size,
                failed: None,
            };
            let got = body.read_to_end(&mut data);
            if let Err(e) = got.and_then(|_| skip(src, padded - size)) {
                record(walk, at, &last_good, None, &e);
                if !src.resync()? || e.kind() == std::io::ErrorKind::UnexpectedEof {
                    return Ok(());
                }
                continue;
            }
            long_name = if entry_type.is_gnu_longname() {
                Some(
                    String::from_utf8_lossy(&data)
                        .trim_end_matches('\0')
                        .to_string(),
                )
            } else {
                pax_path(&data)
            };
            continue;
        }
        let regular = entry_type.is_file() || entry_type == tar::EntryType::Continuous;
        let mut body = Body {
            src: &mut *src,
            remaining: if regular { size } else { 0 },
            failed: None,
        };
        let visited = if regular {
            walk.entries += 1;
            visitor.entry(&path, size, &mut body)
        } else {
            Ok(())
        };
        let read_failure = body.failed.take();
        let rest = body.remaining;
        let outcome = match (visited, read_failure) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => return Err(e),
            (Ok(()), None) => skip(src, rest + (padded - size)),
        };
        match outcome {
            Ok(()) => {
                if regular {
                    last_good = Some(path);
                }
            }
            Err(e) => {
                record(walk, at, &last_good, Some(&path), &e);
                if !src.resync()? || e.kind() == std::io::ErrorKind::UnexpectedEof {
                    return Ok(());
                }
            }
        }
    }
}

fn skip(src: &mut impl Read, n: u64) -> std::io::Result<()> {
    let copied = std::io::copy(&mut src.take(n), &mut std::io::sink())?;
    if copied < n {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file ends inside an entry (truncated)",
        ));
    }
    Ok(())
}

fn record(
    walk: &mut Walk,
    at: u64,
    after: &Option<String>,
    entry: Option<&str>,
    e: &std::io::Error,
) {
    let truncated = e.kind() == std::io::ErrorKind::UnexpectedEof;
    // One damaged region is one record, however many frames in a row fail.
    if let Some(prev) = walk.damages.last_mut()
        && prev.after == *after
        && prev.entry.as_deref() == entry
    {
        prev.truncated |= truncated;
        return;
    }
    walk.damages.push(Damage {
        offset: at,
        after: after.clone(),
        entry: entry.map(str::to_string),
        message: e.to_string(),
        truncated,
    });
}

/// A visitor that keeps every entry's bytes (tests and small archives).
#[derive(Debug, Default)]
pub struct Collect {
    pub entries: Vec<(String, Vec<u8>)>,
}

impl Visitor for Collect {
    fn entry(&mut self, path: &str, _size: u64, body: &mut dyn Read) -> std::io::Result<()> {
        let mut data = Vec::new();
        body.read_to_end(&mut data)?;
        self.entries.push((path.to_string(), data));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::write::{ArchiveWriter, EntryMeta};
    use crate::report::{BackupManifest, EntryType};

    pub(crate) fn sample(n: usize) -> Vec<u8> {
        let mut w = ArchiveWriter::new(Vec::new(), jiff::Timestamp::UNIX_EPOCH)
            .unwrap_or_else(|e| panic!("{e}"));
        for i in 0..n {
            // Incompressible-ish bodies so the archive spans several frames.
            let body: Vec<u8> = (0..20_000u32)
                .map(|j| {
                    ((j.wrapping_mul(2_654_435_761).wrapping_add(i as u32 * 7919)) >> 13) as u8
                })
                .collect();
            w.add(
                &format!("objects/ns/core/ConfigMap/cm-{i}-{}.yaml", "x".repeat(120)),
                EntryType::Object,
                &body,
                EntryMeta::default(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let head: BackupManifest = crate::report::test_manifest();
        w.finish(head).unwrap_or_else(|e| panic!("{e}")).inner
    }

    fn collect(bytes: &[u8]) -> (Collect, Walk) {
        let mut c = Collect::default();
        let walk = walk(bytes, &mut c)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        (c, walk)
    }

    #[test]
    fn reads_back_what_was_written_long_names_included() {
        let bytes = sample(3);
        let (c, walk) = collect(&bytes);
        let paths: Vec<&str> = c.entries.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths.len(), 5, "{paths:?}");
        assert_eq!(paths[0], "backup.json");
        assert!(
            paths[1].starts_with("objects/ns/core/ConfigMap/cm-0-xxxx") && paths[1].len() > 100
        );
        assert_eq!(paths[4], "manifest.json");
        assert!(walk.ended && walk.damages.is_empty() && walk.compressed);
        let manifest: BackupManifest =
            serde_json::from_slice(&c.entries[4].1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifest.entries.len(), 4);
        assert_eq!(manifest.counts.objects, 3);
        assert_eq!(
            manifest.entries[2].sha256,
            crate::archive::sha256_hex(&c.entries[2].1)
        );
    }

    #[test]
    fn a_flipped_byte_costs_one_frame_and_reading_resumes() {
        let bytes = sample(80); // ~1.6 MB of entries: several frames
        let frames: Vec<usize> = bytes
            .windows(4)
            .enumerate()
            .filter(|(_, w)| *w == ZSTD_MAGIC)
            .map(|(i, _)| i)
            .collect();
        assert!(frames.len() >= 3, "{}", frames.len());
        let mut bad = bytes.clone();
        let at = frames[1] + (frames[2] - frames[1]) / 2;
        bad[at] ^= 0x40;
        let (c, walk) = collect(&bad);
        assert_eq!(walk.damages.len(), 1, "{:?}", walk.damages);
        let d = &walk.damages[0];
        assert!(!d.truncated);
        assert!(d.after.is_some());
        assert_eq!(
            c.entries.last().map(|(p, _)| p.as_str()),
            Some("manifest.json"),
            "the manifest after the damage is still read"
        );
        assert!(c.entries.len() < 83);
    }

    #[test]
    fn truncation_is_reported_as_such() {
        let bytes = sample(10);
        let cut = &bytes[..bytes.len() * 2 / 3];
        let (c, walk) = collect(cut);
        assert!(!walk.ended);
        assert_eq!(walk.damages.len(), 1);
        assert!(walk.damages[0].truncated, "{:?}", walk.damages);
        assert!(c.entries.iter().all(|(p, _)| p != "manifest.json"));
    }

    #[test]
    fn plain_tar_and_non_archives() {
        let bytes = sample(2);
        let plain = zstd::decode_all(bytes.as_slice()).unwrap_or_else(|e| panic!("{e}"));
        let (c, walk) = collect(&plain);
        assert_eq!(c.entries.len(), 4);
        assert!(walk.ended && !walk.compressed);
        let mut v = Collect::default();
        assert!(walk_err(b"hello world", &mut v).contains("neither"));
        assert!(walk_err(b"", &mut v).contains("empty"));
    }

    fn walk_err(bytes: &[u8], v: &mut Collect) -> String {
        match walk(bytes, v) {
            Err(NotAnArchive(m)) => m,
            Ok(_) => panic!("accepted"),
        }
    }
}
