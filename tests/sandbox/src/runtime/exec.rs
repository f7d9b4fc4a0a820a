//! `sandbox.test/v1 PodExec` fixtures: what a command run in a container
//! prints and how it exits, matched by exact argv, argv prefix or a regex;
//! and the record of every exec session (with the stdin it received) that
//! tests read back.

use crate::controllers::selector_matches;
use crate::store::meta_str;
use base64::Engine;
use serde_json::Value;
use std::sync::Arc;

/// How a command line is recognised.
#[derive(Debug, Clone)]
enum Matcher {
    Exact(Vec<String>),
    Prefix(Vec<String>),
    /// Over the argv joined with single spaces.
    Regex(regex::Regex),
}

impl Matcher {
    fn matches(&self, argv: &[String]) -> bool {
        match self {
            Matcher::Exact(want) => want == argv,
            Matcher::Prefix(want) => argv.starts_with(want),
            Matcher::Regex(re) => re.is_match(&argv.join(" ")),
        }
    }
}

/// What a command writes to one stream: fixed bytes, or a pattern repeated
/// to a length (tens of megabytes without a tens-of-megabytes fixture).
#[derive(Debug, Clone)]
pub enum Output {
    Bytes(Arc<[u8]>),
    Repeat { pattern: Arc<[u8]>, len: u64 },
}

impl Output {
    pub fn len(&self) -> u64 {
        match self {
            Output::Bytes(b) => b.len() as u64,
            Output::Repeat { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes `[offset, offset + max)` (shorter at the end), generated on demand.
    pub fn chunk(&self, offset: u64, max: usize) -> Vec<u8> {
        let end = (offset + max as u64).min(self.len());
        if offset >= end {
            return Vec::new();
        }
        match self {
            Output::Bytes(b) => b[offset as usize..end as usize].to_vec(),
            Output::Repeat { pattern, .. } => {
                let p = pattern.len() as u64;
                (offset..end).map(|i| pattern[(i % p) as usize]).collect()
            }
        }
    }
}

/// One canned command.
#[derive(Debug, Clone)]
pub struct Command {
    matcher: Matcher,
    pub stdout: Output,
    pub stderr: Output,
    pub exit_code: i32,
}

/// One `PodExec` fixture: a pod (by name or label selector) and, per
/// container (`*` = any), its commands in order.
#[derive(Debug, Clone)]
struct PodExec {
    namespace: String,
    pod: Option<String>,
    selector: Option<Value>,
    containers: Vec<(String, Vec<Command>)>,
}

fn output(entry: &Value, stream: &str) -> Result<Output, String> {
    let text = entry.get(stream).and_then(Value::as_str);
    let b64 = entry.get(format!("{stream}Base64")).and_then(Value::as_str);
    let repeat = entry.get(format!("{stream}Repeat"));
    match (text, b64, repeat) {
        (Some(t), None, None) => Ok(Output::Bytes(t.as_bytes().into())),
        (None, Some(b), None) => base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .map(|v| Output::Bytes(v.into()))
            .map_err(|e| format!("{stream}Base64 is not base64: {e}")),
        (None, None, Some(r)) => {
            let pattern = r
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| format!("{stream}Repeat needs a non-empty text"))?;
            let len = r
                .get("bytes")
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("{stream}Repeat needs bytes (a count)"))?;
            Ok(Output::Repeat {
                pattern: pattern.as_bytes().into(),
                len,
            })
        }
        (None, None, None) => Ok(Output::Bytes(Arc::from(&[][..]))),
        _ => Err(format!(
            "give one of {stream}, {stream}Base64, {stream}Repeat"
        )),
    }
}

fn argv(v: &Value, field: &str) -> Result<Vec<String>, String> {
    v.as_array()
        .ok_or_else(|| format!("{field} must be a list of strings"))?
        .iter()
        .map(|a| {
            a.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{field} must be a list of strings"))
        })
        .collect()
}

fn command(entry: &Value) -> Result<Command, String> {
    let matcher = match (
        entry.get("command"),
        entry.get("commandPrefix"),
        entry.get("commandRegex").and_then(Value::as_str),
    ) {
        (Some(c), None, None) => Matcher::Exact(argv(c, "command")?),
        (None, Some(c), None) => Matcher::Prefix(argv(c, "commandPrefix")?),
        (None, None, Some(r)) => {
            Matcher::Regex(regex::Regex::new(r).map_err(|e| format!("commandRegex {r:?}: {e}"))?)
        }
        _ => {
            return Err(
                "each command needs exactly one of command, commandPrefix, commandRegex".into(),
            );
        }
    };
    let exit_code = match entry.get("exitCode") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .and_then(|c| i32::try_from(c).ok())
            .ok_or("exitCode must be an integer")?,
    };
    Ok(Command {
        matcher,
        stdout: output(entry, "stdout")?,
        stderr: output(entry, "stderr")?,
        exit_code,
    })
}

impl PodExec {
    fn from_fixture(doc: &Value) -> Result<PodExec, String> {
        let ns = meta_str(doc, "namespace");
        let name = meta_str(doc, "name");
        let selector = doc.get("podSelector").filter(|v| !v.is_null()).cloned();
        if name.is_empty() && selector.is_none() {
            return Err("PodExec needs metadata.name (the pod) or podSelector".into());
        }
        let containers = doc
            .get("containers")
            .and_then(Value::as_object)
            .ok_or("PodExec needs a containers map (container name or \"*\" → commands)")?;
        let mut out = Vec::new();
        for (c, list) in containers {
            let list = list
                .as_array()
                .ok_or_else(|| format!("PodExec containers.{c} must be a list of commands"))?;
            let cmds = list
                .iter()
                .map(command)
                .collect::<Result<Vec<_>, String>>()
                .map_err(|e| format!("PodExec containers.{c}: {e}"))?;
            out.push((c.clone(), cmds));
        }
        Ok(PodExec {
            namespace: if ns.is_empty() { "default" } else { ns }.to_string(),
            pod: selector.is_none().then(|| name.to_string()),
            selector,
            containers: out,
        })
    }

    fn covers(&self, pod: &Value) -> bool {
        meta_str(pod, "namespace") == self.namespace
            && match (&self.pod, &self.selector) {
                (Some(name), _) => meta_str(pod, "name") == name,
                (None, Some(sel)) => selector_matches(sel, pod.pointer("/metadata/labels")),
                (None, None) => false,
            }
    }
}

/// Every `PodExec` fixture.
#[derive(Debug, Default)]
pub struct ExecFixtures(Vec<PodExec>);

impl ExecFixtures {
    pub fn add(&mut self, doc: &Value) -> Result<(), String> {
        self.0.push(PodExec::from_fixture(doc)?);
        Ok(())
    }

    /// The first canned command for this pod, container and argv: fixtures
    /// in load order, a named container before `*`, commands in order.
    pub fn find(&self, pod: &Value, container: &str, argv: &[String]) -> Option<Command> {
        let fixtures: Vec<&PodExec> = self.0.iter().filter(|f| f.covers(pod)).collect();
        for wildcard in [false, true] {
            for f in &fixtures {
                for (c, cmds) in &f.containers {
                    let applies = if wildcard { c == "*" } else { c == container };
                    if !applies {
                        continue;
                    }
                    if let Some(cmd) = cmds.iter().find(|cmd| cmd.matcher.matches(argv)) {
                        return Some(cmd.clone());
                    }
                }
            }
        }
        None
    }
}

/// One exec session as the container saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSession {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub command: Vec<String>,
    /// Everything the client sent on stdin, in order.
    pub stdin: Vec<u8>,
    /// The exit code reported; None when the client went away first.
    pub exit_code: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixtures() -> ExecFixtures {
        let mut f = ExecFixtures::default();
        f.add(
            &json!({"metadata": {"namespace": "db", "name": "pg-0"}, "containers": {
            "postgres": [
                {"command": ["pg_dump", "-Fc", "app"], "stdoutBase64": "UEdETVAB"},
                {"commandPrefix": ["psql"], "stdout": "ok\n"},
                {"commandRegex": "^sh -c exit [0-9]+$", "stderr": "bye\n", "exitCode": 3}],
            "*": [{"command": ["hostname"], "stdout": "pg-0\n"}]}}),
        )
        .expect("valid");
        f.add(&json!({"metadata": {"namespace": "db", "name": "any-web"},
            "podSelector": {"matchLabels": {"app": "web"}},
            "containers": {"web": [{"command": ["big"], "stdoutRepeat": {"text": "abc", "bytes": 10}}]}}))
            .expect("valid");
        f
    }

    fn pod(name: &str, app: &str) -> Value {
        json!({"metadata": {"namespace": "db", "name": name, "labels": {"app": app}}})
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exact_prefix_regex_and_wildcard() {
        let f = fixtures();
        let p = pod("pg-0", "db");
        let dump = f
            .find(&p, "postgres", &args(&["pg_dump", "-Fc", "app"]))
            .expect("dump");
        assert_eq!(dump.stdout.chunk(0, 100), b"PGDMP\x01");
        assert!(f.find(&p, "postgres", &args(&["pg_dump", "app"])).is_none());
        assert!(
            f.find(&p, "postgres", &args(&["psql", "-c", "select 1"]))
                .is_some()
        );
        let exit = f
            .find(&p, "postgres", &args(&["sh", "-c", "exit 3"]))
            .expect("regex");
        assert_eq!(
            (exit.exit_code, exit.stderr.chunk(0, 10)),
            (3, b"bye\n".to_vec())
        );
        assert!(f.find(&p, "sidecar", &args(&["hostname"])).is_some());
        assert!(
            f.find(&pod("pg-1", "db"), "postgres", &args(&["hostname"]))
                .is_none()
        );
    }

    #[test]
    fn selector_and_generated_output() {
        let f = fixtures();
        let big = f
            .find(&pod("web-7d9f-abcde", "web"), "web", &args(&["big"]))
            .expect("by selector");
        assert_eq!(big.stdout.len(), 10);
        assert_eq!(big.stdout.chunk(0, 4), b"abca");
        assert_eq!(big.stdout.chunk(8, 4), b"ca");
        assert!(big.stdout.chunk(10, 4).is_empty());
    }

    #[test]
    fn bad_fixtures_are_refused() {
        let mut f = ExecFixtures::default();
        let err = f
            .add(&json!({"metadata": {"name": "p"}, "containers": {"c": [{"stdout": "x"}]}}))
            .expect_err("no matcher");
        assert!(err.contains("exactly one of command"), "{err}");
        let err = f
            .add(&json!({"metadata": {"name": "p"}, "containers": {"c": [
                {"command": ["x"], "stdout": "a", "stdoutBase64": "YQ=="}]}}))
            .expect_err("two outputs");
        assert!(err.contains("one of stdout"), "{err}");
        assert!(f.add(&json!({"metadata": {}, "containers": {}})).is_err());
    }
}
