//! Man pages (clap_mangen) for a plugin and each of its subcommands, written by the hidden
//! `__manpages DIR` command that `make install` and release builds run.

use std::path::Path;

use clap::Command;

/// Write `<bin>.1` and `<bin>-<sub>.1` for every visible subcommand into `dir`; returns
/// the files written.
pub fn write_all(cmd: &Command, dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut cmd = cmd.clone();
    cmd.build();
    let bin = crate::complete::binary_name(&cmd);
    let mut written = Vec::new();
    write_page(&cmd, &bin, dir, &mut written)?;
    Ok(written)
}

fn write_page(
    cmd: &Command,
    page: &str,
    dir: &Path,
    written: &mut Vec<std::path::PathBuf>,
) -> std::io::Result<()> {
    let path = dir.join(format!("{page}.1"));
    let mut buf = Vec::new();
    // The page is titled after the command people type (`kubectl backup create`).
    let display = cmd
        .clone()
        .name(page.replacen('-', " ", 1).replace('-', " "));
    clap_mangen::Man::new(display).render(&mut buf)?;
    std::fs::write(&path, buf)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        write_page(sub, &format!("{page}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_per_command() {
        let cmd = Command::new("kubectl backup")
            .bin_name("kubectl backup")
            .about("Backups")
            .subcommand(Command::new("create").about("Create a backup"))
            .subcommand(Command::new("verify").about("Verify a backup"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let files = write_all(&cmd, dir.path()).unwrap_or_default();
        let names: Vec<String> = files
            .iter()
            .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(
            names,
            [
                "kubectl-backup.1",
                "kubectl-backup-create.1",
                "kubectl-backup-verify.1"
            ]
        );
        let page = std::fs::read_to_string(&files[1]).unwrap_or_default();
        assert!(
            page.contains(".TH") && page.contains("Create a backup"),
            "{page}"
        );
    }
}
