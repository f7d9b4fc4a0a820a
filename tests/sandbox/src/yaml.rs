//! A fast reader for the plain block-style YAML that fixtures are written in
//! (generated sets above all); anything outside that subset is left to serde-saphyr.
//!
//! Fixture start-up is dominated by YAML parsing, and serde-saphyr reads
//! about 12 MB/s per core. This reader accepts block mappings and sequences,
//! plain, single- and double-quoted scalars on one line, and empty flow
//! collections (`{}`, `[]`); it answers `None` for anything else (anchors,
//! tags, block scalars, flow content, multi-line scalars, comments after a
//! value, tabs, duplicate keys, scalars whose type is not plainly a string,
//! an integer, a boolean or null), so the document is parsed by serde-saphyr
//! instead. What it accepts it reads exactly as serde-saphyr does; the tests
//! below compare the two on every fixture in the repository.

use regex::Regex;
use serde_json::{Map, Number, Value};
use std::sync::LazyLock;

/// One non-blank, non-comment line: its indentation and the rest.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// The document in `text` (which may start with its `---` line), or None
/// when it is not in the subset. A document with no content is `Null`.
pub fn parse_document(text: &str) -> Option<Value> {
    let mut lines = Vec::with_capacity(text.len() / 24);
    for (i, raw) in text.lines().enumerate() {
        if raw.contains('\t') || raw.ends_with('\r') {
            return None;
        }
        let body = raw.trim_start_matches(' ');
        let indent = raw.len() - body.len();
        let body = body.trim_end_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if i == 0 && indent == 0 && body == "---" {
            continue;
        }
        if indent == 0 && (body.starts_with("---") || body.starts_with("...")) {
            return None;
        }
        lines.push(Line { indent, text: body });
    }
    if lines.is_empty() {
        return Some(Value::Null);
    }
    if lines[0].indent != 0 || is_item(lines[0].text) {
        return None;
    }
    let mut reader = Reader { lines, pos: 0 };
    let root = reader.mapping(0)?;
    (reader.pos == reader.lines.len()).then_some(Value::Object(root))
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    /// The block node starting at the current line, indented by `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let line = self.peek()?;
        if is_item(line.text) {
            self.sequence(indent).map(Value::Array)
        } else {
            self.mapping(indent).map(Value::Object)
        }
    }

    /// `key: value` lines at exactly `indent`.
    fn mapping(&mut self, indent: usize) -> Option<Map<String, Value>> {
        let mut map = Map::new();
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_item(line.text) {
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.peek() {
                    Some(next) if next.indent > indent => self.node(next.indent)?,
                    // A sequence may sit at its key's own indentation.
                    Some(next) if next.indent == indent && is_item(next.text) => {
                        Value::Array(self.sequence(indent)?)
                    }
                    _ => Value::Null,
                }
            } else {
                let v = scalar(rest)?;
                if self.peek().is_some_and(|next| next.indent > indent) {
                    return None;
                }
                v
            };
            if map.insert(key.to_string(), value).is_some() {
                return None;
            }
        }
        (!map.is_empty()).then_some(map)
    }

    /// `- item` lines at exactly `indent`.
    fn sequence(&mut self, indent: usize) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && !is_item(line.text)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let item = line.text.strip_prefix("- ")?.trim_start_matches(' ');
            let item_indent = indent + (line.text.len() - item.len());
            if is_item(item) || item.is_empty() {
                return None;
            }
            if split_key(item).is_some() {
                // `- key: value` opens a mapping at the key's column.
                self.lines[self.pos] = Line {
                    indent: item_indent,
                    text: item,
                };
                items.push(Value::Object(self.mapping(item_indent)?));
            } else {
                self.pos += 1;
                items.push(scalar(item)?);
                if self.peek().is_some_and(|next| next.indent > indent) {
                    return None;
                }
            }
        }
        Some(items)
    }
}

/// `key: rest` or `key:`; None if the line is not a plain-keyed entry.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let (key, rest) = match text.find(": ") {
        Some(i) => (&text[..i], text[i + 2..].trim_start_matches(' ')),
        None => (text.strip_suffix(':')?, ""),
    };
    let plain_key = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-' | b'$'))
        && !key.starts_with(['-', '.'])
        && matches!(plain(key), Some(Value::String(_)));
    plain_key.then_some((key, rest))
}

/// A scalar (or empty flow collection) written on one line.
fn scalar(text: &str) -> Option<Value> {
    match text.as_bytes().first()? {
        b'"' => double_quoted(text).map(Value::String),
        b'\'' => single_quoted(text).map(Value::String),
        b'{' => (text == "{}").then(|| Value::Object(Map::new())),
        b'[' => (text == "[]").then(|| Value::Array(Vec::new())),
        _ => plain(text),
    }
}

/// A plain scalar resolved as serde-saphyr resolves it for a JSON value, or
/// None when it could be anything but a string, a decimal integer, a
/// boolean or null (floats, other bases, YAML 1.1 booleans, ...).
fn plain(text: &str) -> Option<Value> {
    let first = text.as_bytes().first()?;
    if matches!(
        first,
        b'&' | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'%'
            | b'@'
            | b'`'
            | b'#'
            | b'?'
            | b','
            | b':'
            | b'{'
            | b'['
            | b']'
            | b'}'
            | b'"'
            | b'\''
    ) || text.contains(": ")
        || text.contains(" #")
        || text.ends_with(':')
        || (text.starts_with('-') && (text == "-" || text.starts_with("- ")))
    {
        return None;
    }
    match text {
        "null" | "Null" | "NULL" | "~" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if text.len() <= 5
        && ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
            .iter()
            .any(|w| w.eq_ignore_ascii_case(text))
    {
        return None;
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if text == "-0" {
        return None;
    }
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') {
            return None;
        }
        return text
            .parse::<i64>()
            .ok()
            .map(Number::from)
            .or_else(|| text.parse::<u64>().ok().map(Number::from))
            .map(Value::Number);
    }
    if numeric_looking(text) {
        return None;
    }
    Some(Value::String(text.to_string()))
}

/// Anything YAML 1.1 or 1.2 might read as a number: floats (`1.5`, `1e3`,
/// `.5`, `1.`), `.inf`/`.nan`, signed or 0x/0o/0b integers, digit groups
/// with `_`, sexagesimal (`1:30`). Hex-looking words without a `0x` prefix
/// (uids, machine ids, image digests) are plain strings in both.
fn numeric_looking(text: &str) -> bool {
    // Every number starts with a sign, a dot or a digit; most strings do not.
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return false;
    }
    static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?x)^[-+]?(
                  \.(inf|Inf|INF|nan|NaN|NAN)
                | (\.[0-9_]+ | [0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9_]+)?
                | 0[xXoObB][0-9a-fA-F_]+
                | [0-9][0-9_]*(:[0-9_]+)+(\.[0-9_]*)?
            )$",
        )
        .unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
    });
    NUMERIC.is_match(text)
}

fn single_quoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Only a doubled quote may appear inside.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

fn double_quoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => out.push(match chars.next()? {
                '\\' => '\\',
                '"' => '"',
                '/' => '/',
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let code = u32::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == 4)?;
                    char::from_u32(code)?
                }
                _ => return None,
            }),
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn saphyr(text: &str) -> Value {
        let mut options = serde_saphyr::Options::default();
        options.budget = None;
        let mut docs: Vec<Value> =
            serde_saphyr::from_multiple_with_options(text, options).expect("valid YAML");
        assert!(docs.len() <= 1, "one document: {text}");
        docs.pop().unwrap_or(Value::Null)
    }

    /// Whatever the fast reader accepts, it reads as serde-saphyr does.
    fn agrees(text: &str) -> bool {
        match parse_document(text) {
            Some(v) => {
                assert_eq!(v, saphyr(text), "{text}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn scalars_resolve_like_serde_saphyr() {
        for s in [
            "web",
            "2.4.10",
            "10.96.0.1",
            "64Mi",
            "25m",
            "now-5m",
            "1",
            "-7",
            "0",
            "3000",
            "true",
            "False",
            "NULL",
            "~",
            "null",
            "1.5",
            "1e3",
            ".5",
            "0x1F",
            "0o17",
            "017",
            "+1",
            "1_000",
            "1:30",
            ".inf",
            "-.Inf",
            ".NaN",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "2026-01-01",
            "2026-01-01T00:00:00Z",
            "a:b",
            "http://x:80/y",
            "x#y",
            "-x",
            "9223372036854775807",
            "18446744073709551615",
            "99999999999999999999",
            "nul",
            "tRue",
            "ab cd",
            "1.2.3.4:5",
            "5.",
            "0.0.0.0/0",
            "1e",
            "e1",
            "0b101",
            "-",
            "581ce1ff-0e4a-4394-89bc-585a244823f2",
            "581ce1ff0e4a439489bc585a244823f2",
            "12e4abc",
            "1e3x",
            "6.8.0-1029-aws",
            "1:3a",
            "0x",
            "1__0",
            "+.5",
            "1E+3",
        ] {
            let doc = format!("k: {s}\n");
            agrees(&doc);
        }
        for s in [
            r#""a \"b\" \\ \/ \n\t é \u00e9""#,
            r#""""#,
            "'it''s'",
            "''",
            "'a: [b]'",
            r#""true""#,
            "'8080'",
            r#""\x41""#,
            r#""\U0001F600""#,
        ] {
            agrees(&format!("k: {s}\n"));
        }
        // (`n`, `y`, `on` ... as keys are YAML 1.1 booleans: left to serde-saphyr.)
        assert!(agrees("k: web\nv: 2.4.10\ni: 3000\nb: true\nz: null\n"));
        assert!(!agrees("n: 1\n"));
        assert!(!agrees("k: 1.5\n"), "floats are left to serde-saphyr");
        assert!(
            !agrees("k: yes\n"),
            "YAML 1.1 booleans are left to serde-saphyr"
        );
    }

    #[test]
    fn structures_read_like_serde_saphyr() {
        let doc = "---\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app: web\n    app.kubernetes.io/name: web\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: ReplicaSet\n    controller: true\nspec:\n  containers:\n  - name: a\n    args:\n    - --x=1\n    - \"y z\"\n    ports:\n      - containerPort: 80\n        protocol: TCP\n    resources: {}\n  volumes: []\n  empty:\n  nodeName: n1\n# a comment\n\nstatus:\n  phase: Running\n";
        assert!(agrees(doc));
        assert!(agrees("# only a comment\n"));
        assert!(agrees("a:\n- 1\n- 2\nb:\n  - x: 1\n    w: 2\n  - x: 3\n"));
        // Outside the subset: left to serde-saphyr, never misread.
        for doc in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: {b: 1}\n",
            "a: [1, 2]\n",
            "a: b\n  c\n",
            "a: 1 # comment\n",
            "a: 1\na: 2\n",
            "\"a\": 1\n",
            "a:\n\t- 1\n",
            "- a\n- b\n",
            "a: 'multi\n  line'\n",
            "--- {a: 1}\n",
            "a: 1\n...\n",
            "a:\n- - 1\n",
            "a: b: c\n",
        ] {
            assert_eq!(parse_document(doc), None, "{doc}");
        }
    }

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                yaml_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }

    /// Every document of every fixture in the repository (and of the
    /// directory in `SANDBOX_YAML_CHECK_DIR`, e.g. a generated set).
    #[test]
    fn every_fixture_reads_like_serde_saphyr() {
        let mut files = Vec::new();
        yaml_files(&crate::fixture_dir(""), &mut files);
        if let Some(dir) = std::env::var_os("SANDBOX_YAML_CHECK_DIR") {
            yaml_files(Path::new(&dir), &mut files);
        }
        let (mut fast, mut total) = (0, 0);
        for f in files {
            let text = std::fs::read_to_string(&f).expect("read");
            if text.lines().any(|l| l.starts_with('%')) {
                continue;
            }
            let mut starts: Vec<usize> = vec![0];
            let mut offset = 0;
            for line in text.split_inclusive('\n') {
                if offset > 0 && line.trim_end() == "---" {
                    starts.push(offset);
                }
                offset += line.len();
            }
            starts.push(text.len());
            for w in starts.windows(2) {
                let doc = &text[w[0]..w[1]];
                // Documents serde-saphyr itself refuses (error tests) are skipped.
                let mut options = serde_saphyr::Options::default();
                options.budget = None;
                let Ok(mut want) = serde_saphyr::from_multiple_with_options::<Value>(doc, options)
                else {
                    continue;
                };
                total += 1;
                if let Some(v) = parse_document(doc) {
                    fast += 1;
                    assert_eq!(
                        v,
                        want.pop().unwrap_or(Value::Null),
                        "{}: {doc}",
                        f.display()
                    );
                }
            }
        }
        // Hand-written fixtures use comments, flow style and block scalars
        // freely; what matters is that nothing accepted is misread.
        assert!(total > 100 && fast > 0, "{fast} of {total} read fast");
    }

    /// Generated sets (what start-up time is about) are read entirely by the
    /// fast reader, exactly as serde-saphyr reads them.
    #[test]
    fn generated_sets_read_fast_and_alike() {
        let cfg = sandbox_scale::Config {
            pods: 600,
            nodes: 6,
            namespaces: 3,
            tls_secrets: 2,
            ..Default::default()
        };
        let (_, mut files) = sandbox_scale::generate(&cfg);
        files.extend(sandbox_scale::drain::render::render(
            &sandbox_scale::drain::plan(&sandbox_scale::drain::DrainConfig {
                nodes: 12,
                pods: 300,
                namespaces: 3,
                ..Default::default()
            }),
        ));
        let mut total = 0;
        for f in &files {
            let mut options = serde_saphyr::Options::default();
            options.budget = None;
            let want: Vec<Value> =
                serde_saphyr::from_multiple_with_options(&f.text, options).expect("valid YAML");
            let mut docs = Vec::new();
            let mut start = 0;
            for (i, _) in f.text.match_indices("\n---\n") {
                docs.push(&f.text[start..i + 1]);
                start = i + 1;
            }
            docs.push(&f.text[start..]);
            let got: Vec<Value> = docs
                .iter()
                .map(|d| {
                    parse_document(d).unwrap_or_else(|| panic!("{}: not read fast: {d}", f.path))
                })
                .filter(|v| !v.is_null())
                .collect();
            assert_eq!(got, want, "{}", f.path);
            total += got.len();
        }
        assert!(total > 1000, "{total} documents");
    }
}
