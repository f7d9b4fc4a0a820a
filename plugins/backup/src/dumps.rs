//! Database dumps through exec: `--dump` specs (pure), taking a dump by streaming the
//! command's stdout into a spooled file, and feeding it back through exec stdin on restore.

use std::io::Write;
use std::time::Duration;

use common::model::{pod_ready, workload_of};
use common::{Error, ObjectRef, Result};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{AttachParams, ListParams};
use kube::{Api, Client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::archive::dump_path;
use crate::archive::write::Hashing;
use crate::collect::Namespaces;
use crate::crypto::ArchiveKey;
use crate::report::DumpRecord;

/// The kinds of dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpType {
    /// `pg_dump -Fc DB`, restored with `pg_restore`.
    Postgres,
    /// `sqlite3 PATH .dump` (a consistent SQL text dump), restored with `sqlite3 PATH`.
    Sqlite,
    /// Any command (`sh -c CMD`); restored only with `--dump-command NAME=CMD`.
    Exec,
}

impl DumpType {
    pub fn as_str(self) -> &'static str {
        match self {
            DumpType::Postgres => "postgres",
            DumpType::Sqlite => "sqlite",
            DumpType::Exec => "exec",
        }
    }
}

/// One `--dump` flag, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpSpec {
    pub name: String,
    pub dump_type: DumpType,
    pub pod: String,
    pub container: Option<String>,
    pub command: Vec<String>,
    pub restore_command: Vec<String>,
    pub ext: &'static str,
}

fn pod_and_container(s: &str) -> Result<(String, Option<String>), String> {
    let (pod, container) = match s.split_once('/') {
        Some((p, c)) => (p, Some(c.to_string())),
        None => (s, None),
    };
    if pod.is_empty() || container.as_deref() == Some("") {
        return Err(format!("expected POD[/CONTAINER], got {s:?}"));
    }
    Ok((pod.to_string(), container))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

/// Parse `postgres:POD[/CONTAINER]:DB`, `sqlite:POD[/CONTAINER]:PATH` or
/// `exec:NAME:POD[/CONTAINER]:CMD`.
pub fn parse_spec(spec: &str) -> Result<DumpSpec, String> {
    let bad = |why: &str| format!("--dump {spec:?}: {why}");
    let (kind, rest) = spec
        .split_once(':')
        .ok_or_else(|| bad("expected postgres:POD:DB, sqlite:POD:PATH or exec:NAME:POD:CMD"))?;
    let out = match kind {
        "postgres" => {
            let (target, db) = rest
                .split_once(':')
                .ok_or_else(|| bad("expected postgres:POD[/CONTAINER]:DB"))?;
            let (pod, container) = pod_and_container(target).map_err(|e| bad(&e))?;
            if db.is_empty() {
                return Err(bad("the database name is empty"));
            }
            DumpSpec {
                name: format!("{pod}-{db}"),
                dump_type: DumpType::Postgres,
                pod,
                container,
                command: vec!["pg_dump".into(), "-Fc".into(), db.into()],
                restore_command: vec![
                    "pg_restore".into(),
                    "--clean".into(),
                    "--if-exists".into(),
                    "--no-owner".into(),
                    "-d".into(),
                    db.into(),
                ],
                ext: "pgdump",
            }
        }
        "sqlite" => {
            let (target, path) = rest
                .split_once(':')
                .ok_or_else(|| bad("expected sqlite:POD[/CONTAINER]:PATH"))?;
            let (pod, container) = pod_and_container(target).map_err(|e| bad(&e))?;
            if path.is_empty() {
                return Err(bad("the database path is empty"));
            }
            let file = path.rsplit('/').next().unwrap_or(path);
            let stem = file
                .split('.')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or("db");
            DumpSpec {
                name: format!("{pod}-{stem}"),
                dump_type: DumpType::Sqlite,
                pod,
                container,
                command: vec!["sqlite3".into(), path.into(), ".dump".into()],
                restore_command: vec!["sqlite3".into(), path.into()],
                ext: "sql",
            }
        }
        "exec" => {
            let mut parts = rest.splitn(3, ':');
            let (Some(name), Some(target), Some(cmd)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("expected exec:NAME:POD[/CONTAINER]:CMD"));
            };
            let (pod, container) = pod_and_container(target).map_err(|e| bad(&e))?;
            if cmd.trim().is_empty() {
                return Err(bad("the command is empty"));
            }
            DumpSpec {
                name: name.to_string(),
                dump_type: DumpType::Exec,
                pod,
                container,
                command: vec!["sh".into(), "-c".into(), cmd.into()],
                restore_command: Vec::new(),
                ext: "out",
            }
        }
        other => {
            return Err(bad(&format!(
                "unknown dump type {other:?} (postgres, sqlite or exec)"
            )));
        }
    };
    if !valid_name(&out.name) {
        return Err(bad(&format!(
            "{:?} is not a usable dump name (letters, digits, '-', '_', '.')",
            out.name
        )));
    }
    Ok(out)
}

/// Find a dump's pod in the backed-up namespaces: exit 2 before anything is written when
/// it is not there (or is in several).
pub async fn resolve(client: &Client, spec: &DumpSpec, namespaces: &Namespaces) -> Result<Pod> {
    let mut found: Vec<Pod> = Vec::new();
    match namespaces {
        Namespaces::Some(list) => {
            for ns in list {
                let api: Api<Pod> = Api::namespaced(client.clone(), ns);
                if let Some(p) = api.get_opt(&spec.pod).await? {
                    found.push(p);
                }
            }
        }
        Namespaces::All => {
            let api: Api<Pod> = Api::all(client.clone());
            let lp = ListParams::default().fields(&format!("metadata.name={}", spec.pod));
            found = common::list::list_all(&api, &lp).await?;
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::usage(format!(
            "--dump {}: pod \"{}\" not found in the namespaces being backed up",
            spec.name, spec.pod
        ))),
        n => Err(Error::usage(format!(
            "--dump {}: {n} pods are named \"{}\"; back up their namespaces one at a time",
            spec.name, spec.pod
        ))),
    }
}

/// The exit code in an exec's final Status (`0` for Success).
pub fn exit_code(status: Option<&Status>) -> i32 {
    let Some(s) = status else {
        return 1;
    };
    if s.status.as_deref() == Some("Success") {
        return 0;
    }
    s.details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|causes| {
            causes
                .iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
                .and_then(|c| c.message.as_deref())
                .and_then(|m| m.parse::<i32>().ok())
        })
        .unwrap_or(1)
}

/// The last 4 KiB of stderr, redacted, for the manifest.
fn stderr_tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let start = text.len().saturating_sub(4096);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    common::redact::redact_text(&text[start..]).into_owned()
}

/// Take one dump: run the command, stream stdout (age-encrypted when `key` is given) into
/// an anonymous temp file while hashing it. A non-zero exit fails the dump (no entry).
pub async fn take(
    client: &Client,
    spec: &DumpSpec,
    pod: &Pod,
    key: Option<&ArchiveKey>,
) -> Result<(DumpRecord, Option<(std::fs::File, u64, String)>)> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let workload = workload_of(&pod.metadata, |_, _| None);
    let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let params = AttachParams {
        container: spec.container.clone(),
        stdin: false,
        stdout: true,
        stderr: true,
        tty: false,
        max_stdout_buf_size: Some(256 * 1024),
        max_stderr_buf_size: Some(64 * 1024),
        ..AttachParams::default()
    };
    tracing::info!(dump = %spec.name, pod = %spec.pod, "running {}", spec.command.join(" "));
    let mut process = api.exec(&spec.pod, spec.command.clone(), &params).await?;
    let (mut stdout, stderr, status) = pipes(&mut process)?;
    let errors = async move {
        let mut stderr = stderr;
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    };
    let file = tempfile::tempfile()?;
    let sink = Hashing::new(std::io::BufWriter::new(file));
    let copy = async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut plain = 0u64;
        let finished = match key {
            Some(k) => {
                let encryptor = age::Encryptor::with_recipients(std::iter::once(k.recipient_ref()))
                    .map_err(|e| Error::other(format!("cannot encrypt the dump: {e}")))?;
                let mut w = encryptor.wrap_output(sink)?;
                loop {
                    let n = stdout.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    plain += n as u64;
                    w.write_all(&buf[..n])?;
                }
                w.finish()?
            }
            None => {
                let mut w = sink;
                loop {
                    let n = stdout.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    plain += n as u64;
                    w.write_all(&buf[..n])?;
                }
                w
            }
        };
        Ok::<_, Error>((finished, plain))
    };
    let (copied, err_bytes) = tokio::join!(copy, errors);
    let status = match status {
        Some(s) => s.await,
        None => None,
    };
    let code = exit_code(status.as_ref());
    let (hashing, plain) = copied?;
    let (writer, size, sha256) = hashing.finish();
    let file = writer.into_inner().map_err(|e| Error::Io(e.into_error()))?;
    let ok = code == 0;
    let encrypted = key.is_some();
    let entry = ok.then(|| dump_path(&namespace, &spec.name, spec.ext, encrypted));
    tracing::info!(dump = %spec.name, exit = code, bytes = plain, "dump finished");
    let record = DumpRecord {
        name: spec.name.clone(),
        dump_type: spec.dump_type.as_str().into(),
        namespace,
        pod: spec.pod.clone(),
        container: spec.container.clone(),
        workload: (workload.kind != "Pod").then_some(workload),
        command: spec.command.clone(),
        restore_command: spec.restore_command.clone(),
        entry,
        size: if ok { size } else { 0 },
        sha256: if ok { sha256 } else { String::new() },
        encrypted,
        exit_code: code,
        stderr: stderr_tail(&err_bytes),
        outcome: if ok { "ok".into() } else { "failed".into() },
    };
    let spooled = ok.then(|| (file, size, record.sha256.clone()));
    Ok((record, spooled))
}

/// The stdout and stderr readers of an exec and its final Status.
#[allow(clippy::type_complexity)]
fn pipes(
    process: &mut kube::api::AttachedProcess,
) -> Result<(
    tokio::io::ReadHalf<tokio::io::SimplexStream>,
    tokio::io::ReadHalf<tokio::io::SimplexStream>,
    Option<impl std::future::Future<Output = Option<Status>> + use<>>,
)> {
    let stdout = process
        .stdout()
        .ok_or_else(|| Error::other("exec gave no stdout"))?;
    let stderr = process
        .stderr()
        .ok_or_else(|| Error::other("exec gave no stderr"))?;
    Ok((stdout, stderr, process.take_status()))
}

/// Wait until the dump's pod (same name, else a pod of the same workload) exists in
/// `namespace` and is Ready; its name.
pub async fn ready_pod(
    client: &Client,
    namespace: &str,
    record: &DumpRecord,
    timeout: Duration,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Option<String>> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let pods = common::list::list_all(&api, &ListParams::default()).await?;
        let by_name = pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(&record.pod));
        let candidate = by_name.or_else(|| {
            let w: &ObjectRef = record.workload.as_ref()?;
            pods.iter().find(|p| {
                let mut mine = workload_of(&p.metadata, |_, _| None);
                mine.namespace = w.namespace.clone();
                &mine == w && pod_ready(p)
            })
        });
        if let Some(p) = candidate.filter(|p| pod_ready(p)) {
            return Ok(p.metadata.name.clone());
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::select! {
            () = cancel.cancelled() => return Err(Error::Interrupted),
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Feed `chunks` to `command` through exec stdin in `pod`; the exit code and stderr.
pub async fn feed(
    client: &Client,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
    command: &[String],
    mut chunks: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
) -> Result<(i32, String, u64)> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = AttachParams {
        container: container.map(str::to_string),
        stdin: true,
        stdout: true,
        stderr: true,
        tty: false,
        max_stdin_buf_size: Some(256 * 1024),
        ..AttachParams::default()
    };
    let mut process = api.exec(pod, command.to_vec(), &params).await?;
    let mut stdin = process
        .stdin()
        .ok_or_else(|| Error::other("exec gave no stdin"))?;
    let (mut stdout, mut stderr, status) = pipes(&mut process)?;
    let send = async move {
        let mut sent = 0u64;
        while let Some(chunk) = chunks.recv().await {
            let chunk = chunk?;
            sent += chunk.len() as u64;
            stdin.write_all(&chunk).await?;
        }
        stdin.shutdown().await?;
        Ok::<u64, Error>(sent)
    };
    let drain = async move {
        let mut sink = Vec::new();
        let _ = stdout.read_to_end(&mut sink).await;
    };
    let errors = async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    };
    let (sent, (), err) = tokio::join!(send, drain, errors);
    let status = match status {
        Some(s) => s.await,
        None => None,
    };
    Ok((exit_code(status.as_ref()), stderr_tail(&err), sent?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let s = parse_spec("sqlite:web-0/app:/data/app.db").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.name, "web-0-app");
        assert_eq!(s.container.as_deref(), Some("app"));
        assert_eq!(s.command, ["sqlite3", "/data/app.db", ".dump"]);
        assert_eq!(s.restore_command, ["sqlite3", "/data/app.db"]);
        let p = parse_spec("postgres:postgres-0:hypersdk").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.name, "postgres-0-hypersdk");
        assert_eq!(p.command, ["pg_dump", "-Fc", "hypersdk"]);
        assert_eq!(p.container, None);
        let e = parse_spec("exec:redis:cache-0:redis-cli --rdb - | cat")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.name, "redis");
        assert_eq!(e.command, ["sh", "-c", "redis-cli --rdb - | cat"]);
        assert!(e.restore_command.is_empty());
        for bad in [
            "mysql:x:y",
            "sqlite:pod",
            "postgres:/c:db",
            "exec:n:p",
            "exec:../x:p:ls",
            "nope",
        ] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exit_codes_from_status() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};
        let ok = Status {
            status: Some("Success".into()),
            ..Status::default()
        };
        assert_eq!(exit_code(Some(&ok)), 0);
        let failed = Status {
            status: Some("Failure".into()),
            reason: Some("NonZeroExitCode".into()),
            details: Some(StatusDetails {
                causes: Some(vec![StatusCause {
                    reason: Some("ExitCode".into()),
                    message: Some("3".into()),
                    field: None,
                }]),
                ..StatusDetails::default()
            }),
            ..Status::default()
        };
        assert_eq!(exit_code(Some(&failed)), 3);
        assert_eq!(exit_code(None), 1);
    }

    #[test]
    fn stderr_is_cut_and_redacted() {
        let long = format!("{}\npassword=hunter2\n", "x".repeat(10_000));
        let t = stderr_tail(long.as_bytes());
        assert!(t.len() <= 4200 && !t.contains("hunter2"), "{}", t.len());
    }
}
