//! `pods/exec` over WebSocket against `tests/fixtures/exec`: the real
//! `kubectl exec` (1.32, WebSocket) prints canned output and exits with the
//! canned code, `kubectl exec -i` stdin is captured for the test, kube-rs's
//! `Api::exec` streams binary and large output; the API server's errors for
//! a missing pod, no host, a stopped container; SPDY is refused clearly.

mod api_support;
mod fidelity_support;

use api_support::{client, get, raw_http};
use fidelity_support::{Kubectl, VERSIONED_DIR, kubectl_or_skip};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn start(plain_http: bool) -> Sandbox {
    Sandbox::start(SandboxOptions {
        fixtures: vec![fixture_dir("exec")],
        plain_http,
        ..Default::default()
    })
    .expect("sandbox starts on the exec fixtures")
}

async fn kubectl(
    sb: &Sandbox,
    bin: std::path::PathBuf,
    args: &[&str],
    stdin: Option<&str>,
) -> fidelity_support::Run {
    let k = Kubectl::new(&bin, sb);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        k.run_with_stdin(&refs, stdin.as_deref())
    })
    .await
    .expect("kubectl ran")
}

#[tokio::test]
async fn kubectl_exec_prints_canned_output_and_exit_codes() {
    let Some(bin) = kubectl_or_skip() else {
        return;
    };
    let sb = start(false);
    let run = kubectl(
        &sb,
        bin.clone(),
        &[
            "-n",
            "data",
            "exec",
            "db-0",
            "-c",
            "db",
            "--",
            "sqlite3",
            "/data/app.db",
            ".dump",
        ],
        None,
    )
    .await
    .ok();
    assert!(
        run.stdout.starts_with("PRAGMA foreign_keys=OFF;\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("COMMIT;\n"), "{}", run.stdout);

    let run = kubectl(
        &sb,
        bin.clone(),
        &[
            "-n", "data", "exec", "db-0", "-c", "db", "--", "sh", "-c", "exit 3",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("failing on purpose"), "{}", run.stderr);
    assert!(
        run.stderr.contains("command terminated with exit code 3"),
        "{}",
        run.stderr
    );

    // The wildcard container entry answers for any container.
    let run = kubectl(
        &sb,
        bin.clone(),
        &[
            "-n",
            "data",
            "exec",
            "db-0",
            "-c",
            "backup-agent",
            "--",
            "hostname",
        ],
        None,
    )
    .await
    .ok();
    assert_eq!(run.stdout, "db-0\n");

    // Nothing canned: 127 and a message saying so.
    let run = kubectl(
        &sb,
        bin,
        &[
            "-n", "data", "exec", "db-0", "-c", "db", "--", "rm", "-rf", "/",
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 127, "{run:?}");
    assert!(
        run.stderr
            .contains("kube-sandbox: no PodExec fixture matches command [\"rm\", \"-rf\", \"/\"] in container db of pod data/db-0"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn kubectl_exec_stdin_is_captured() {
    let Some(bin) = kubectl_or_skip() else {
        return;
    };
    let sb = start(false);
    let input = "BEGIN;\nINSERT INTO items VALUES(2,'tape');\nCOMMIT;\n";
    let run = kubectl(
        &sb,
        bin,
        &[
            "-n",
            "data",
            "exec",
            "-i",
            "db-0",
            "-c",
            "db",
            "--",
            "sqlite3",
            "/data/app.db",
        ],
        Some(input),
    )
    .await
    .ok();
    assert_eq!(run.stdout, "");
    assert_eq!(
        sb.exec_stdin("data", "db-0", "db"),
        vec![input.as_bytes().to_vec()]
    );
    let sessions = sb.exec_sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].command, ["sqlite3", "/data/app.db"]);
    assert_eq!(sessions[0].exit_code, Some(0));

    // The same record over HTTP, for out-of-process tests.
    let c = client(&sb).await;
    let r = get(&c, "/sandbox/v1/execsessions?pod=db-0").await;
    assert_eq!(r.code, 200, "{}", r.text);
    let doc = r.json();
    assert_eq!(doc["kind"], "ExecSessionList");
    assert_eq!(doc["items"][0]["container"], "db");
    assert_eq!(doc["items"][0]["exitCode"], 0);
    assert_eq!(
        doc["items"][0]["stdinBase64"],
        "QkVHSU47CklOU0VSVCBJTlRPIGl0ZW1zIFZBTFVFUygyLCd0YXBlJyk7CkNPTU1JVDsK"
    );
}

#[tokio::test]
async fn kubectl_exec_errors_read_like_a_real_cluster() {
    let Some(bin) = kubectl_or_skip() else {
        return;
    };
    let sb = start(false);
    let run = kubectl(
        &sb,
        bin.clone(),
        &["-n", "data", "exec", "nope", "--", "true"],
        None,
    )
    .await
    .failed();
    assert!(
        run.stderr
            .contains("Error from server (NotFound): pods \"nope\" not found"),
        "{}",
        run.stderr
    );
    let run = kubectl(
        &sb,
        bin.clone(),
        &["-n", "data", "exec", "queued", "--", "true"],
        None,
    )
    .await
    .failed();
    assert!(
        run.stderr
            .contains("pod queued does not have a host assigned"),
        "{}",
        run.stderr
    );
    let run = kubectl(
        &sb,
        bin.clone(),
        &["-n", "data", "exec", "crashing", "--", "true"],
        None,
    )
    .await
    .failed();
    assert!(
        run.stderr.contains("container not found (\"app\")"),
        "{}",
        run.stderr
    );
    let run = kubectl(
        &sb,
        bin,
        &["-n", "data", "exec", "db-0", "-c", "web", "--", "true"],
        None,
    )
    .await
    .failed();
    assert!(
        run.stderr
            .contains("container web is not valid for pod db-0"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn spdy_clients_get_a_clear_error() {
    let sb = start(false);
    // kubectl 1.29 speaks only SPDY; 1.32 falls back to it when told to.
    let old = std::path::Path::new(VERSIONED_DIR).join("kubectl.1.29");
    let mut runs = Vec::new();
    if old.is_file() {
        runs.push(
            kubectl(
                &sb,
                old,
                &["-n", "data", "exec", "db-0", "-c", "db", "--", "hostname"],
                None,
            )
            .await,
        );
    }
    if let Some(bin) = fidelity_support::kubectl_on_path() {
        let k = Kubectl::new(&bin, &sb);
        let args: Vec<String> = [
            "--kubeconfig",
            &sb.kubeconfig().display().to_string(),
            "--cache-dir",
            &k.cache_dir().display().to_string(),
            "-n",
            "data",
            "exec",
            "db-0",
            "-c",
            "db",
            "--",
            "hostname",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let run = tokio::task::spawn_blocking(move || {
            // Only this child sees the variable that turns WebSockets off.
            let mut cmd = std::process::Command::new(&k.bin);
            cmd.args(&args)
                .env_remove("KUBECONFIG")
                .env("HOME", k.cache_dir())
                .env("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false");
            let out = cmd.output().expect("kubectl runs");
            fidelity_support::Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .await
        .expect("kubectl ran");
        runs.push(run);
    }
    if runs.is_empty() {
        eprintln!("SKIP: no kubectl found");
    }
    for run in runs {
        let run = run.failed();
        assert!(
            run.stderr
                .contains("kube-sandbox serves pods/exec over WebSocket only"),
            "{}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn raw_answers_before_the_upgrade() {
    let sb = start(true);
    let (code, _, body) = raw_http(
        &sb,
        "GET",
        "/api/v1/namespaces/data/pods/nope/exec?command=true&stdout=true",
    )
    .expect("answer");
    assert_eq!(code, 404, "{body}");
    let (code, _, body) = raw_http(
        &sb,
        "GET",
        "/api/v1/namespaces/data/pods/queued/exec?command=true&stdout=true",
    )
    .expect("answer");
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("pod queued does not have a host assigned"),
        "{body}"
    );
    let (code, head, body) = raw_http(
        &sb,
        "POST",
        "/api/v1/namespaces/data/pods/crashing/exec?command=true&stdout=true",
    )
    .expect("answer");
    assert_eq!(code, 500, "{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain"),
        "{head}"
    );
    assert!(body.contains("container not found (\"app\")"), "{body}");
    // A plain request to a running container is not an upgrade.
    let (code, _, body) = raw_http(
        &sb,
        "POST",
        "/api/v1/namespaces/data/pods/db-0/exec?container=db&command=true&stdout=true",
    )
    .expect("answer");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("Upgrade request required"), "{body}");
    let (code, _, body) = raw_http(
        &sb,
        "POST",
        "/api/v1/namespaces/data/pods/db-0/exec?container=db&stdout=true",
    )
    .expect("answer");
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("you must specify at least 1 command"),
        "{body}"
    );
}

#[tokio::test]
async fn kube_rs_exec_streams_binary_large_output_and_stdin() {
    let sb = start(false);
    let c = client(&sb).await;
    let pods: Api<Pod> = Api::namespaced(c, "data");

    // Binary stdout, byte for byte.
    let mut p = pods
        .exec(
            "db-0",
            vec!["pg_dump", "-Fc", "app"],
            &AttachParams::default().container("db").stderr(false),
        )
        .await
        .expect("exec starts");
    let mut out = Vec::new();
    p.stdout()
        .expect("stdout")
        .read_to_end(&mut out)
        .await
        .expect("read");
    let status = p.take_status().expect("status").await.expect("a status");
    assert_eq!(status.status.as_deref(), Some("Success"));
    assert_eq!(&out[..6], b"PGDMP\x01");
    assert_eq!(out.len(), 28);

    // 20 MiB streamed in frames.
    let mut p = pods
        .exec(
            "db-0",
            vec!["cat", "/var/lib/postgresql/big.bin"],
            &AttachParams::default().container("db").stderr(false),
        )
        .await
        .expect("exec starts");
    let mut stdout = p.stdout().expect("stdout");
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let mut head = Vec::new();
    loop {
        let n = stdout.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        if head.len() < 32 {
            head.extend_from_slice(&buf[..n.min(32)]);
        }
        total += n;
    }
    assert_eq!(total, 20 * 1024 * 1024);
    assert_eq!(&head[..16], b"0123456789abcdef");
    p.join().await.expect("joined");

    // A failing command: the exit code rides in the status details.
    let mut p = pods
        .exec(
            "db-0",
            vec!["sh", "-c", "exit 3"],
            &AttachParams::default().container("db"),
        )
        .await
        .expect("exec starts");
    let status = p.take_status().expect("status").await.expect("a status");
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    let causes = status.details.and_then(|d| d.causes).unwrap_or_default();
    assert_eq!(causes[0].reason.as_deref(), Some("ExitCode"));
    assert_eq!(causes[0].message.as_deref(), Some("3"));

    // stdin (v5: closed with the close signal) is captured byte for byte.
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut p = pods
        .exec(
            "db-0",
            vec!["sqlite3", "/data/app.db"],
            &AttachParams::default()
                .container("db")
                .stdin(true)
                .stderr(false),
        )
        .await
        .expect("exec starts");
    let mut stdin = p.stdin().expect("stdin");
    stdin.write_all(&payload).await.expect("write");
    // EOF on stdin: kube-rs sends v5's close signal for channel 0.
    stdin.shutdown().await.expect("close stdin");
    let status = p.take_status().expect("status").await.expect("a status");
    assert_eq!(status.status.as_deref(), Some("Success"));
    // One entry per session into that container; the first three sent nothing.
    let stdins = sb.exec_stdin("data", "db-0", "db");
    assert_eq!(stdins.len(), 4);
    assert!(stdins[..3].iter().all(Vec::is_empty));
    assert!(
        stdins[3] == payload,
        "stdin differs ({} bytes)",
        stdins[3].len()
    );
}
