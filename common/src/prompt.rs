//! Confirmation for destructive commands: asked on a terminal, skipped with `--yes`, and
//! refused (exit 2, nothing changed) when nobody is there to answer.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::{Error, Result};

/// The `--yes` flag; `#[command(flatten)]` it into destructive commands.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct ConfirmArgs {
    /// Do not ask for confirmation before destructive changes (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
}

/// Ask `question` (e.g. `restore 42 objects over existing ones in shop?`) unless `yes`.
///
/// On a terminal (stdin and stderr), the question goes to stderr and only `y`/`yes`
/// proceeds. Without a terminal and without `--yes`, it refuses with exit 2 and a hint.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    confirm_with(
        question,
        yes,
        tty,
        &mut std::io::stdin().lock(),
        &mut std::io::stderr(),
    )
}

/// [`confirm`] with the terminal, input and output given (for tests).
pub fn confirm_with(
    question: &str,
    yes: bool,
    tty: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !tty {
        return Err(Error::usage(format!(
            "refusing to go on without confirmation ({question}): no terminal to ask on"
        ))
        .with_hint("pass --yes to confirm, or --dry-run to see what would change"));
    }
    write!(out, "{question} [y/N]: ")?;
    out.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Error::usage("not confirmed; nothing was changed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(yes: bool, tty: bool, answer: &str) -> (Result<()>, String) {
        let mut out = Vec::new();
        let r = confirm_with(
            "delete 3 secrets?",
            yes,
            tty,
            &mut answer.as_bytes(),
            &mut out,
        );
        (r, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn yes_skips_the_question() {
        let (r, out) = ask(true, false, "");
        assert!(r.is_ok());
        assert!(out.is_empty());
    }

    #[test]
    fn no_terminal_refuses_with_a_hint() {
        let (r, _) = ask(false, false, "y\n");
        let e = r.err().unwrap_or_else(|| panic!("refused"));
        assert_eq!(e.exit(), crate::Exit::Usage);
        assert!(e.hint().is_some_and(|h| h.contains("--yes")));
    }

    #[test]
    fn terminal_answers() {
        let (r, out) = ask(false, true, "y\n");
        assert!(r.is_ok());
        assert_eq!(out, "delete 3 secrets? [y/N]: ");
        assert!(ask(false, true, "YES\n").0.is_ok());
        assert!(ask(false, true, "\n").0.is_err());
        assert!(ask(false, true, "nope\n").0.is_err());
    }
}
