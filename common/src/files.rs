//! Files the plugins read and write: `-` for stdin/stdout, atomic writes (temp file in the
//! same directory, then rename) so a crash never leaves half a backup or plan, and mode
//! 0600 for anything that may hold secrets.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file being written atomically: it appears at its path, complete, only on
/// [`AtomicFile::commit`]; dropped without commit, nothing is left behind.
#[derive(Debug)]
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Start writing `path`. `private` files are created mode 0600 (owner read/write only);
    /// others get 0644. The directory must exist.
    pub fn create(path: &Path, private: bool) -> Result<Self> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if path.is_dir() {
            return Err(Error::usage(format!("{} is a directory", path.display())));
        }
        let temp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&dir)
            .map_err(|e| Error::usage(format!("cannot create a file in {}: {e}", dir.display())))?;
        // NamedTempFile is 0600 already; open it up only for non-secret files.
        #[cfg(unix)]
        if !private {
            use std::os::unix::fs::PermissionsExt;
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        #[cfg(not(unix))]
        let _ = private;
        Ok(AtomicFile {
            temp,
            path: path.to_path_buf(),
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flush to disk and move into place.
    pub fn commit(mut self) -> Result<()> {
        self.temp.flush()?;
        self.temp.as_file().sync_all()?;
        self.temp
            .persist(&self.path)
            .map_err(|e| Error::Io(e.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.temp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.temp.flush()
    }
}

/// Write `bytes` to `path` atomically (see [`AtomicFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let mut f = AtomicFile::create(path, private)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Open `arg` for reading: `-` is stdin, anything else a file (a clear exit-2 error when it
/// cannot be opened).
pub fn open_input(arg: &str) -> Result<Box<dyn Read + Send>> {
    if arg == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let f = std::fs::File::open(arg).map_err(|e| input_error(arg, &e))?;
    Ok(Box::new(f))
}

/// Read all of `arg` (`-` for stdin).
pub fn read_input(arg: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    open_input(arg)?
        .read_to_end(&mut buf)
        .map_err(|e| input_error(arg, &e))?;
    Ok(buf)
}

fn input_error(arg: &str, e: &std::io::Error) -> Error {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    Error::usage(format!("cannot read {arg}: {what}"))
}

/// Where a document goes: a file written atomically, or stdout for `-`.
pub enum Output {
    /// Standard output.
    Stdout(std::io::Stdout),
    /// A file, in place on [`Output::finish`].
    File(AtomicFile),
}

impl Output {
    /// `-` → stdout; anything else a new file (`private`: mode 0600).
    pub fn create(arg: &str, private: bool) -> Result<Self> {
        if arg == "-" {
            Ok(Output::Stdout(std::io::stdout()))
        } else {
            Ok(Output::File(AtomicFile::create(Path::new(arg), private)?))
        }
    }

    /// Finish: flush stdout, or commit the file.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut s) => Ok(s.flush()?),
            Output::File(f) => f.commit(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(s) => s.write(buf),
            Output::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(s) => s.flush(),
            Output::File(f) => f.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_appears_whole_and_private() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("backup.tar.zst");
        let mut f = AtomicFile::create(&path, true).unwrap_or_else(|e| panic!("{e}"));
        f.write_all(b"half").unwrap_or_else(|e| panic!("{e}"));
        assert!(!path.exists(), "not visible before commit");
        f.commit().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&path).unwrap_or_default(), b"half");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        write_atomic(&dir.path().join("plan.json"), b"{}", false).unwrap_or_else(|e| panic!("{e}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("plan.json"))
                .map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o644));
        }
    }

    #[test]
    fn dropped_without_commit_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("x");
        {
            let mut f = AtomicFile::create(&path, true).unwrap_or_else(|e| panic!("{e}"));
            f.write_all(b"partial").unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(!path.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).map(|d| d.count()).ok(),
            Some(0)
        );
    }

    #[test]
    fn inputs_give_usage_errors() {
        let e = read_input("/nonexistent/plan.json").err();
        assert!(matches!(e, Some(Error::Usage { .. })));
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("cannot read /nonexistent/plan.json: no such file")
        );
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(AtomicFile::create(dir.path(), true).is_err(), "a directory");
    }
}
