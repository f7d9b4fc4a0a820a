//! `pods/exec` over WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`):
//! the API server's checks, the upgrade, and a session that answers from
//! `PodExec` fixtures the way the kubelet's stream server frames it.
//!
//! Frames are binary, the first byte the channel: 0 stdin, 1 stdout,
//! 2 stderr, 3 the exit Status (JSON), 4 terminal resize; v5 adds 255
//! `[255, channel]` to close a stream (the client's stdin EOF). SPDY (what
//! kubectl before 1.30 speaks) is answered with a clear error instead.

use super::auth::{self, Attributes, Identity};
use super::routing::ResourceRequest;
use super::{Body, Query, State, full};
use crate::error::ApiError;
use crate::runtime::Runtime;
use crate::runtime::exec::{Command, ExecSession, Output};
use crate::store::meta_str;
use futures::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Subprotocols served, in the server's order of preference.
pub const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const CLOSE: u8 = 255;
/// Output is sent in frames of this size, generated as they go.
const FRAME: usize = 32 * 1024;

/// What the client asked for (PodExecOptions from the query).
#[derive(Debug, Clone)]
struct Options {
    command: Vec<String>,
    container: String,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
}

fn header<'a>(req: &'a Request<Incoming>, name: &str) -> &'a str {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The container an exec targets (`validateContainer`): the named one, or
/// the only one.
fn container_of(pod: &Value, asked: Option<&str>) -> Result<String, ApiError> {
    let names = |k: &str| -> Vec<String> {
        pod.pointer(&format!("/spec/{k}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    let name = meta_str(pod, "name");
    let containers = names("containers");
    match asked.filter(|c| !c.is_empty()) {
        Some(c) => {
            let known = containers.iter().any(|x| x == c)
                || names("initContainers").iter().any(|x| x == c)
                || names("ephemeralContainers").iter().any(|x| x == c);
            if known {
                Ok(c.to_string())
            } else {
                Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )))
            }
        }
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None if containers.is_empty() => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {name}"
        ))),
        None => {
            let mut msg = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            );
            let init = names("initContainers");
            if !init.is_empty() {
                msg.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init.join(" ")
                ));
            }
            Err(ApiError::bad_request(msg))
        }
    }
}

/// Is the container running on its node (what the kubelet checks)?
fn running(pod: &Value, container: &str) -> bool {
    [
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .filter_map(|k| {
        pod.pointer(&format!("/status/{k}"))
            .and_then(Value::as_array)
    })
    .flatten()
    .any(|cs| {
        cs.get("name").and_then(Value::as_str) == Some(container)
            && cs.pointer("/state/running").is_some()
    })
}

/// The kubelet's answer for a container it has no running process for:
/// plain text, relayed by the API server as-is.
fn container_not_found(container: &str) -> Response<Body> {
    let mut r = Response::new(full(format!("container not found (\"{container}\")")));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Serves `GET|POST .../pods/NAME/exec`: the API server's checks in its
/// order, then the upgrade; the session runs on its own task.
pub(super) async fn serve(
    state: Arc<State>,
    mut req: Request<Incoming>,
    r: &ResourceRequest,
    q: &Query,
    who: &Identity,
) -> Result<Response<Body>, ApiError> {
    // Since Kubernetes 1.31 a WebSocket exec (a GET) needs `create` too.
    let create = Attributes {
        verb: "create".into(),
        group: r.group.clone(),
        resource: r.plural.clone(),
        subresource: r.subresource.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
    };
    if !auth::allowed(who, &create) {
        return Err(auth::forbidden(who, &create));
    }
    let opts = Options {
        command: q.all("command").iter().map(|s| s.to_string()).collect(),
        container: q.get("container").unwrap_or("").to_string(),
        stdin: q.flag("stdin"),
        stdout: q.flag("stdout"),
        stderr: q.flag("stderr"),
        tty: q.flag("tty"),
    };
    if opts.command.is_empty() {
        return Err(ApiError::bad_request("you must specify at least 1 command"));
    }
    if !(opts.stdin || opts.stdout || opts.stderr) {
        return Err(ApiError::bad_request(
            "you must specify at least one of stdin, stdout, stderr",
        ));
    }
    let pod = state
        .store
        .get("/pods", &r.namespace, &r.name)
        .ok_or_else(|| ApiError::not_found("", "pods", &r.name))?;
    let container = container_of(&pod, Some(opts.container.as_str()))?;
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if node.is_empty() {
        return Err(ApiError::bad_request(format!(
            "pod {} does not have a host assigned",
            r.name
        )));
    }
    if !running(&pod, &container) {
        return Ok(container_not_found(&container));
    }
    let upgrade = header(&req, "upgrade").to_ascii_lowercase();
    if upgrade.starts_with("spdy/") {
        return Err(ApiError::bad_request(
            "kube-sandbox serves pods/exec over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io), not SPDY: use kubectl 1.30 or newer (with KUBECTL_REMOTE_COMMAND_WEBSOCKETS unset or true), or kube-rs with its ws feature",
        ));
    }
    if upgrade != "websocket" {
        return Err(ApiError::bad_request("Upgrade request required"));
    }
    let offered: Vec<String> = header(&req, "sec-websocket-protocol")
        .split(',')
        .map(|p| p.trim().to_string())
        .collect();
    let Some(protocol) = PROTOCOLS.iter().find(|p| offered.iter().any(|o| o == *p)) else {
        return Err(ApiError::bad_request(format!(
            "kube-sandbox speaks the {} WebSocket subprotocols for exec; the client offered {:?}",
            PROTOCOLS.join(" and "),
            offered.join(", ")
        )));
    };
    let key = header(&req, "sec-websocket-key");
    if key.is_empty() {
        return Err(ApiError::bad_request(
            "missing Sec-WebSocket-Key in a WebSocket upgrade",
        ));
    }
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let command = state.runtime.command(&pod, &container, &opts.command);
    let session = ExecSession {
        namespace: r.namespace.clone(),
        pod: r.name.clone(),
        container,
        command: opts.command.clone(),
        stdin: Vec::new(),
        exit_code: None,
    };
    let v5 = *protocol == PROTOCOLS[0];
    let runtime = state.runtime.clone();
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                run_session(ws, &runtime, session, command, &opts, v5).await;
            }
            Err(e) => tracing::debug!("exec upgrade failed: {e}"),
        }
    });
    let mut resp = Response::new(full(""));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    for (k, v) in [
        ("upgrade", "websocket".to_string()),
        ("connection", "Upgrade".to_string()),
        ("sec-websocket-accept", accept),
        ("sec-websocket-protocol", protocol.to_string()),
    ] {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    Ok(resp)
}

/// `/sandbox/v1/execsessions[?namespace=&pod=&container=]`: the sessions
/// served, stdin base64-encoded.
pub(super) fn sessions_document(state: &State, q: &Query) -> Value {
    use base64::Engine;
    let want = |k: &str, have: &str| q.get(k).is_none_or(|w| w.is_empty() || w == have);
    let items: Vec<Value> = state
        .runtime
        .sessions()
        .into_iter()
        .filter(|s| {
            want("namespace", &s.namespace)
                && want("pod", &s.pod)
                && want("container", &s.container)
        })
        .map(|s| {
            json!({"namespace": s.namespace, "pod": s.pod, "container": s.container,
                "command": s.command,
                "stdinBase64": base64::engine::general_purpose::STANDARD.encode(&s.stdin),
                "exitCode": s.exit_code})
        })
        .collect();
    json!({"apiVersion": "sandbox.test/v1", "kind": "ExecSessionList", "items": items})
}

/// The exit Status on channel 3, as the kubelet writes it.
pub fn exit_status(argv: &[String], code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({"metadata": {}, "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            argv.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}})
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::binary(v)
}

async fn run_session<S>(
    ws: WebSocketStream<S>,
    runtime: &Runtime,
    mut session: ExecSession,
    command: Option<Command>,
    opts: &Options,
    v5: bool,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut tx, mut rx) = ws.split();
    let stdin = Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    // stdin EOF: v5's close signal, or the connection ending (`gone`).
    let (eof_tx, mut eof_rx) = tokio::sync::watch::channel(false);
    let (gone_tx, gone_rx) = tokio::sync::watch::channel(false);
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let sink = stdin.clone();
    let reader = async move {
        loop {
            let next = tokio::select! {
                m = rx.next() => m,
                _ = async {
                    // Once the writer is done, give the client a moment to
                    // close, then stop reading.
                    let _ = done_rx.wait_for(|d| *d).await;
                    tokio::time::sleep(Duration::from_secs(2)).await;
                } => None,
            };
            match next {
                Some(Ok(Message::Binary(b))) => match b.first() {
                    Some(&STDIN) => sink
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(&b[1..]),
                    Some(&CLOSE) if v5 && b.get(1) == Some(&STDIN) => {
                        let _ = eof_tx.send(true);
                    }
                    // Resize events (4) and anything else: nothing to do.
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    let _ = gone_tx.send(true);
                    let _ = eof_tx.send(true);
                    return;
                }
                Some(Ok(_)) => {}
            }
        }
    };
    let writer = async {
        let (stdout, stderr, code) = match &command {
            Some(c) => (c.stdout.clone(), c.stderr.clone(), c.exit_code),
            None => {
                let msg = format!(
                    "kube-sandbox: no PodExec fixture matches command {:?} in container {} of pod {}/{}\n",
                    session.command, session.container, session.namespace, session.pod
                );
                (
                    Output::Bytes(Arc::from(&[][..])),
                    Output::Bytes(msg.into_bytes().into()),
                    127,
                )
            }
        };
        // A TTY has no separate stderr: the terminal shows both.
        let (stdout_to, stderr_to) = match (opts.stdout, opts.stderr, opts.tty) {
            (true, false, true) => (Some(STDOUT), Some(STDOUT)),
            (o, e, _) => (o.then_some(STDOUT), e.then_some(STDERR)),
        };
        // The kubelet tells the client the streams are open with an empty
        // frame on the lowest channel it writes.
        let first = stdout_to.or(stderr_to).unwrap_or(ERROR);
        let mut ok = tx.send(frame(first, &[])).await.is_ok();
        for (out, channel) in [(&stdout, stdout_to), (&stderr, stderr_to)] {
            let Some(channel) = channel else {
                continue;
            };
            let mut offset = 0;
            while ok && offset < out.len() {
                let chunk = out.chunk(offset, FRAME);
                offset += chunk.len() as u64;
                ok = tx.send(frame(channel, &chunk)).await.is_ok();
            }
        }
        if opts.stdin {
            // The process reads its stdin to the end before it exits.
            let _ = eof_rx.wait_for(|e| *e).await;
        }
        // Without v5's close signal the client's only EOF is hanging up,
        // after which no status can reach it.
        let gone = *gone_rx.borrow();
        session.stdin = std::mem::take(&mut *stdin.lock().unwrap_or_else(|e| e.into_inner()));
        session.exit_code = (ok && !gone).then_some(code);
        // Recorded before the client can see the status, so a test that
        // waited for the exit finds the session.
        runtime.record_session(session.clone());
        if session.exit_code.is_some() {
            let status = exit_status(&session.command, code).to_string();
            let _ = tx.send(frame(ERROR, status.as_bytes())).await;
        }
        // A normal closure (1000) is the clients' EOF; a bare close frame
        // reads as an error to client-go.
        let _ = tx
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            })))
            .await;
        let _ = tx.close().await;
        let _ = done_tx.send(true);
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_like_the_kubelet() {
        let argv = vec!["sh".to_string(), "-c".into(), "exit 3".into()];
        assert_eq!(
            exit_status(&argv, 0),
            json!({"metadata": {}, "status": "Success"})
        );
        let s = exit_status(&argv, 3);
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(
            s["details"]["causes"][0],
            json!({"reason": "ExitCode", "message": "3"})
        );
        assert_eq!(
            s["message"],
            "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3"
        );
    }

    #[test]
    fn container_selection_follows_the_api_server() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "a"}, {"name": "b"}], "initContainers": [{"name": "init"}]}});
        assert_eq!(container_of(&pod, Some("b")).expect("b"), "b");
        assert_eq!(
            container_of(&pod, None).expect_err("ambiguous").message,
            "a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [init]"
        );
        assert_eq!(
            container_of(&pod, Some("z")).expect_err("unknown").message,
            "container z is not valid for pod p"
        );
    }
}
