//! Rendering for stdout: `-o table|wide|json|yaml|name`, kubectl-like aligned tables,
//! `kind/namespace/name` lines, and the colour policy (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`).

use std::io::{IsTerminal, Write};

use owo_colors::OwoColorize;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::error::{Error, Result};

/// `-o/--output` values shared by all plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people (default).
    #[default]
    Table,
    /// `table` with extra columns.
    Wide,
    /// One pretty-printed JSON document (a stable, versioned contract).
    Json,
    /// One YAML document with the same content as `json`.
    Yaml,
    /// `kind/namespace/name` lines for `xargs`.
    Name,
}

impl OutputFormat {
    /// True for `json` and `yaml`: the machine-readable document formats.
    pub fn is_document(self) -> bool {
        matches!(self, OutputFormat::Json | OutputFormat::Yaml)
    }
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, unless `NO_COLOR` is set (default).
    #[default]
    Auto,
    /// Always colour (the flag beats `NO_COLOR`).
    Always,
    /// Never colour.
    Never,
}

/// Output flags shared by all plugins; `#[command(flatten)]` it into the plugin's args.
///
/// All flags are `global` so they also work after a subcommand (`kubectl backup create -o json`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table, global = true)]
    pub output: OutputFormat,
    /// When to colour the output; NO_COLOR and CLICOLOR_FORCE are honoured in `auto`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,
    /// More log detail on stderr: -v info, -vv debug, -vvv trace (RUST_LOG overrides).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Print the number of API requests made to stderr at the end.
    #[arg(long, global = true)]
    pub stats: bool,
}

impl OutputArgs {
    /// The painter for stdout according to `--color`, the environment and the terminal.
    pub fn painter(&self) -> Painter {
        Painter::new(ColorPolicy::for_stdout(self.color).enabled())
    }

    /// True when the request count should be shown (`--stats` or `-v`).
    pub fn show_stats(&self) -> bool {
        self.stats || self.verbose > 0
    }
}

/// The colour decision, made once per stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColorPolicy {
    enabled: bool,
}

impl ColorPolicy {
    /// Decide for stdout from `--color`, `NO_COLOR`, `CLICOLOR_FORCE` and whether stdout is a terminal.
    pub fn for_stdout(choice: ColorChoice) -> Self {
        let tty = std::io::stdout().is_terminal()
            && supports_color::on_cached(supports_color::Stream::Stdout).is_some();
        Self::from_env(choice, tty)
    }

    /// Decide for stderr (warnings, hints) the same way.
    pub fn for_stderr(choice: ColorChoice) -> Self {
        let tty = std::io::stderr().is_terminal()
            && supports_color::on_cached(supports_color::Stream::Stderr).is_some();
        Self::from_env(choice, tty)
    }

    fn from_env(choice: ColorChoice, is_tty: bool) -> Self {
        let no_color = std::env::var("NO_COLOR").ok();
        let force = std::env::var("CLICOLOR_FORCE").ok();
        ColorPolicy {
            enabled: decide(choice, no_color.as_deref(), force.as_deref(), is_tty),
        }
    }

    /// A fixed policy (tests, or when a plugin knows better).
    pub fn fixed(enabled: bool) -> Self {
        ColorPolicy { enabled }
    }

    /// Whether to colour.
    pub fn enabled(self) -> bool {
        self.enabled
    }
}

/// The pure colour decision.
///
/// Order: an explicit `--color always|never` wins; in `auto`, a non-empty `NO_COLOR`
/// disables, then `CLICOLOR_FORCE` set to anything but `""`/`"0"` forces, else colour
/// only on a terminal.
pub fn decide(
    choice: ColorChoice,
    env_no_color: Option<&str>,
    env_force: Option<&str>,
    is_tty: bool,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env_no_color.is_some_and(|v| !v.is_empty()) {
                false
            } else if env_force.is_some_and(|v| !v.is_empty() && v != "0") {
                true
            } else {
                is_tty
            }
        }
    }
}

/// How a table cell or message is emphasised. Severity styles match across plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// No styling.
    #[default]
    Plain,
    /// Critical severity: red bold.
    Critical,
    /// Warning severity: yellow.
    Warning,
    /// Informational: blue.
    Info,
    /// Healthy / done: green.
    Ok,
    /// De-emphasised text (`<none>`, skipped): dimmed.
    Dim,
    /// Emphasis: bold.
    Bold,
}

/// Applies [`Style`]s with owo-colors, or leaves text alone when colour is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Painter {
    enabled: bool,
}

impl Painter {
    /// A painter that colours only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        Painter { enabled }
    }

    /// A painter that never colours.
    pub fn plain() -> Self {
        Painter { enabled: false }
    }

    /// Whether this painter colours.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `text` wrapped in the ANSI codes for `style` (unchanged when disabled or `Plain`).
    pub fn paint(&self, text: &str, style: Style) -> String {
        if !self.enabled {
            return text.to_string();
        }
        match style {
            Style::Plain => text.to_string(),
            Style::Critical => text.red().bold().to_string(),
            Style::Warning => text.yellow().to_string(),
            Style::Info => text.blue().to_string(),
            Style::Ok => text.green().to_string(),
            Style::Dim => text.dimmed().to_string(),
            Style::Bold => text.bold().to_string(),
        }
    }
}

/// One table cell: plain text plus a style applied after padding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    /// The text, without ANSI codes (they are stripped when measuring anyway).
    pub text: String,
    /// How to colour it.
    pub style: Style,
}

impl Cell {
    /// A plain cell.
    pub fn new(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            style: Style::Plain,
        }
    }

    /// A styled cell.
    pub fn styled(text: impl Into<String>, style: Style) -> Self {
        Cell {
            text: text.into(),
            style,
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::new(s)
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::new(s)
    }
}

impl From<&String> for Cell {
    fn from(s: &String) -> Self {
        Cell::new(s.as_str())
    }
}

/// A kubectl-like table: upper-case headers, columns separated by 3 spaces, left aligned,
/// no trailing spaces. Widths are display widths (CJK/emoji aware, ANSI codes ignored);
/// padding is computed on plain text and colour applied afterwards.
///
/// ```
/// use common::output::{Table, Cell, Style, Painter};
/// let mut t = Table::new(["namespace", "name", "severity"]);
/// t.row(["default".into(), "web-1".into(), Cell::styled("critical", Style::Critical)]);
/// let text = t.render(&Painter::plain());
/// assert_eq!(text, "NAMESPACE   NAME    SEVERITY\ndefault     web-1   critical\n");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

/// Gap between columns, as in kubectl's tabwriter (padding 3).
const GAP: usize = 3;

impl Table {
    /// A table with these column headers (upper-cased when rendered).
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Append a row. Short rows are padded with empty cells; extra cells are kept.
    pub fn row<I, C>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Cell>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Render to a string, one line per row, each ending in `\n`. Headers stay plain
    /// (as kubectl's do); only cells with a [`Style`] are coloured.
    pub fn render(&self, painter: &Painter) -> String {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain(std::iter::once(self.headers.len()))
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; columns];
        let header_cells: Vec<Cell> = self
            .headers
            .iter()
            .map(|h| Cell::new(h.to_uppercase()))
            .collect();
        for row in std::iter::once(&header_cells).chain(self.rows.iter()) {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(display_width(&cell.text));
            }
        }
        let mut out = String::new();
        let empty = Cell::default();
        for row in std::iter::once(&header_cells).chain(self.rows.iter()) {
            let mut line = String::new();
            // Trailing empty cells add no padding, so lines never end in spaces.
            let last = (0..columns)
                .rev()
                .find(|&i| row.get(i).is_some_and(|c| !c.text.is_empty()))
                .unwrap_or(0);
            for (i, width) in widths.iter().enumerate().take(last + 1) {
                let cell = row.get(i).unwrap_or(&empty);
                line.push_str(&painter.paint(&cell.text, cell.style));
                if i < last {
                    let pad = width - display_width(&cell.text) + GAP;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// Display width of `s` in terminal columns, ignoring ANSI escape sequences.
pub fn display_width(s: &str) -> usize {
    if !s.contains('\u{1b}') {
        return UnicodeWidthStr::width(s);
    }
    UnicodeWidthStr::width(strip_ansi(s).as_str())
}

/// `s` without ANSI CSI sequences (`ESC [ ... letter`) and other `ESC x` pairs.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.next() == Some('[') {
            // CSI: parameters and intermediates until a final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

/// One `-o name` line: `kind/namespace/name`, or `kind/name` for cluster-scoped objects.
///
/// The kind is lower-cased (`Pod` → `pod`) as kubectl does in `-o name`; the namespace is
/// included because the suite's contract (CONVENTIONS.md) makes lines self-contained
/// across namespaces. Split with `IFS=/` in scripts.
pub fn name_line(kind: &str, namespace: Option<&str>, name: &str) -> String {
    let kind = kind.to_lowercase();
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{kind}/{ns}/{name}"),
        _ => format!("{kind}/{name}"),
    }
}

/// Write `doc` as one JSON (pretty, trailing newline) or YAML document.
///
/// `Table`, `Wide` and `Name` are not document formats and give a usage error: plugins
/// render those themselves (with [`Table`] and [`name_line`]).
pub fn print_document<T: Serialize>(
    out: &mut dyn Write,
    format: OutputFormat,
    doc: &T,
) -> Result<()> {
    match format {
        OutputFormat::Json => {
            let text = serde_json::to_string_pretty(doc)
                .map_err(|e| Error::other(format!("cannot encode JSON: {e}")))?;
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")?;
        }
        OutputFormat::Yaml => {
            let text = to_yaml(doc)?;
            out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
        other => {
            return Err(Error::other(format!(
                "print_document called with -o {other:?}, which is not a document format"
            )));
        }
    }
    out.flush()?;
    Ok(())
}

/// `doc` as a YAML string (serde-saphyr), one document without a leading `---`.
pub fn to_yaml<T: Serialize>(doc: &T) -> Result<String> {
    serde_saphyr::to_string(doc).map_err(|e| Error::other(format!("cannot encode YAML: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_decision() {
        use ColorChoice::*;
        assert!(decide(Always, Some("1"), None, false));
        assert!(!decide(Never, None, Some("1"), true));
        assert!(decide(Auto, None, None, true));
        assert!(!decide(Auto, None, None, false));
        assert!(!decide(Auto, Some("1"), None, true));
        assert!(
            decide(Auto, Some(""), None, true),
            "empty NO_COLOR is ignored"
        );
        assert!(decide(Auto, None, Some("1"), false));
        assert!(!decide(Auto, None, Some("0"), false));
        assert!(
            !decide(Auto, Some("yes"), Some("1"), true),
            "NO_COLOR beats CLICOLOR_FORCE"
        );
    }

    #[test]
    fn table_aligns_plain() {
        let mut t = Table::new(["name", "status", "age"]);
        t.row(["web-1", "Running", "5m"]);
        t.row(["db-0", "CrashLoopBackOff", "2d3h"]);
        assert_eq!(
            t.render(&Painter::plain()),
            "NAME    STATUS             AGE\n\
             web-1   Running            5m\n\
             db-0    CrashLoopBackOff   2d3h\n"
        );
    }

    #[test]
    fn table_pads_before_colouring() {
        let mut t = Table::new(["sev", "msg"]);
        t.row([Cell::styled("crit", Style::Critical), Cell::new("x")]);
        t.row([Cell::styled("warning", Style::Warning), Cell::new("y")]);
        let out = t.render(&Painter::new(true));
        assert!(out.contains('\u{1b}'));
        let plain: Vec<String> = out.lines().map(strip_ansi).collect();
        assert_eq!(plain, ["SEV       MSG", "crit      x", "warning   y"]);
    }

    #[test]
    fn table_measures_wide_chars_and_existing_ansi() {
        let mut t = Table::new(["a", "b"]);
        t.row(["日本", "1"]);
        t.row(["\u{1b}[31mab\u{1b}[0m", "2"]);
        let out = t.render(&Painter::plain());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "A      B");
        assert_eq!(lines[1], "日本   1");
        assert_eq!(strip_ansi(lines[2]), "ab     2");
    }

    #[test]
    fn table_no_trailing_spaces() {
        let mut t = Table::new(["a", "b", "c"]);
        t.row(["x", "", ""]);
        t.row(["longer"]);
        for line in t.render(&Painter::plain()).lines() {
            assert_eq!(line, line.trim_end());
        }
    }

    #[test]
    fn name_lines() {
        assert_eq!(name_line("Pod", Some("shop"), "web-1"), "pod/shop/web-1");
        assert_eq!(name_line("Node", None, "n1"), "node/n1");
        assert_eq!(name_line("Node", Some(""), "n1"), "node/n1");
    }

    #[test]
    fn documents() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Doc {
            api_version: String,
            kind: &'static str,
            items: Vec<u32>,
        }
        let doc = Doc {
            api_version: crate::api_version("triage"),
            kind: "TriageReport",
            items: vec![1, 2],
        };
        let mut buf = Vec::new();
        assert!(print_document(&mut buf, OutputFormat::Json, &doc).is_ok());
        let text = String::from_utf8_lossy(&buf).to_string();
        assert!(text.starts_with("{\n  \"apiVersion\": \"triage.kubectl-plugins.dev/v1\""));
        assert!(text.ends_with("}\n"));

        let mut buf = Vec::new();
        assert!(print_document(&mut buf, OutputFormat::Yaml, &doc).is_ok());
        let text = String::from_utf8_lossy(&buf).to_string();
        assert!(
            text.starts_with("apiVersion: triage.kubectl-plugins.dev/v1\nkind: TriageReport\n"),
            "{text}"
        );
        assert!(text.ends_with('\n'));
        let back: serde_json::Value = serde_saphyr::from_str(&text).unwrap_or_default();
        assert_eq!(back["items"][1], 2);

        let mut buf = Vec::new();
        assert!(print_document(&mut buf, OutputFormat::Table, &doc).is_err());
    }
}
