//! The suite's error type and exit codes (CONVENTIONS.md, "Exit codes").
//! Every failure a plugin can hit maps to exactly one [`Exit`] and prints as one `error:` line plus an optional `hint:`.

use std::fmt;
use std::sync::RwLock;

/// Process exit codes shared by every plugin.
///
/// `Ok`, `NotFine` and `Partial` are *answers* a plugin returns as `Ok(Exit::..)`;
/// `Usage`, `Cluster` and `Interrupted` normally come from an [`Error`] via [`Error::exit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Exit {
    /// Done; the answer is "fine".
    Ok = 0,
    /// Done; the answer is "not fine" (findings, blocked plan, failed verification), or an
    /// unexpected failure that fits no other code.
    NotFine = 1,
    /// Bad usage or bad input (flags, kubeconfig, files): nothing was changed.
    Usage = 2,
    /// Cannot reach or authenticate to the cluster, or a required call is forbidden.
    Cluster = 3,
    /// Partial: some objects or checks failed or were skipped; the output says which.
    Partial = 4,
    /// Interrupted (Ctrl-C) after leaving the cluster in a stated, safe state.
    Interrupted = 130,
}

impl Exit {
    /// The numeric process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

/// `Result` with the suite's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error a plugin reports to the user.
///
/// `Display` is the text after `error: ` (one line, never a `Debug` dump, never a secret);
/// [`Error::hint`] is the optional next step; [`Error::exit`] the process exit code.
///
/// | variant | exit |
/// | --- | --- |
/// | `Usage` | 2 |
/// | `Unreachable`, `Unauthorized`, `Forbidden` | 3 |
/// | `Api` | by HTTP status: 401/403/429/5xx → 3, 400/404/422 → 2, others → 1 |
/// | `Partial` | 4 (changed some things, then failed) |
/// | `Interrupted` | 130 |
/// | `Io`, `Other` | 1 (an unexpected failure; `||` in scripts treats it as "not fine", the safe direction) |
///
/// `kube::Error` converts with `?` ([`From`]); the hint then names the server and context
/// recorded by the last successful `ConnectionArgs::connect`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, kubeconfig or input files (exit 2).
    #[error("{message}")]
    Usage {
        /// The one-line message.
        message: String,
        /// Optional next step.
        hint: Option<String>,
    },
    /// The API server could not be reached: connection refused, DNS, TLS, timeout (exit 3).
    #[error("{message}")]
    Unreachable {
        /// The one-line message.
        message: String,
        /// Optional next step.
        hint: Option<String>,
    },
    /// Credentials missing, failing (exec plugin) or rejected with 401 (exit 3).
    #[error("{message}")]
    Unauthorized {
        /// The one-line message.
        message: String,
        /// Optional next step.
        hint: Option<String>,
    },
    /// A required call was forbidden by RBAC, 403 (exit 3).
    #[error("{message}")]
    Forbidden {
        /// The one-line message.
        message: String,
        /// Optional next step.
        hint: Option<String>,
    },
    /// Any other API status error (exit depends on `code`, see the table above).
    #[error("{message}")]
    Api {
        /// HTTP status code from the API server.
        code: u16,
        /// Kubernetes `Status.reason` (`NotFound`, `Conflict`, ...), may be empty.
        reason: String,
        /// The one-line message.
        message: String,
        /// Optional next step.
        hint: Option<String>,
    },
    /// A run that changed the cluster and then failed (exit 4): the journal says what changed.
    #[error("{message}")]
    Partial {
        /// The one-line message (the failure).
        message: String,
        /// Optional next step.
        hint: Option<String>,
    },
    /// The user pressed Ctrl-C or sent SIGTERM (exit 130).
    #[error("interrupted")]
    Interrupted,
    /// Local I/O failed (exit 1; a broken pipe on stdout is turned into success by `run`).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Anything else (exit 1).
    #[error("{message}")]
    Other {
        /// The one-line message.
        message: String,
        /// Optional next step.
        hint: Option<String>,
    },
}

impl Error {
    /// A usage / bad input error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: None,
        }
    }

    /// An unexpected failure (exit 1).
    pub fn other(message: impl Into<String>) -> Self {
        Error::Other {
            message: message.into(),
            hint: None,
        }
    }

    /// Attach or replace the hint (no effect on `Interrupted` and `Io`).
    pub fn with_hint(mut self, new: impl Into<String>) -> Self {
        if let Some(slot) = self.hint_slot() {
            *slot = Some(new.into());
        }
        self
    }

    fn hint_slot(&mut self) -> Option<&mut Option<String>> {
        match self {
            Error::Usage { hint, .. }
            | Error::Unreachable { hint, .. }
            | Error::Unauthorized { hint, .. }
            | Error::Forbidden { hint, .. }
            | Error::Api { hint, .. }
            | Error::Partial { hint, .. }
            | Error::Other { hint, .. } => Some(hint),
            Error::Interrupted | Error::Io(_) => None,
        }
    }

    /// The next step for the user, printed as `hint: ...` (without the prefix).
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Usage { hint, .. }
            | Error::Unreachable { hint, .. }
            | Error::Unauthorized { hint, .. }
            | Error::Forbidden { hint, .. }
            | Error::Api { hint, .. }
            | Error::Partial { hint, .. }
            | Error::Other { hint, .. } => hint.as_deref(),
            Error::Interrupted | Error::Io(_) => None,
        }
    }

    /// The process exit code for this error.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage { .. } => Exit::Usage,
            Error::Unreachable { .. } | Error::Unauthorized { .. } | Error::Forbidden { .. } => {
                Exit::Cluster
            }
            Error::Api { code, .. } => exit_for_status(*code),
            Error::Partial { .. } => Exit::Partial,
            Error::Interrupted => Exit::Interrupted,
            Error::Io(_) | Error::Other { .. } => Exit::NotFine,
        }
    }

    /// This error as the failure of a run that already changed the cluster: exit 4 (partial)
    /// unless it is an interruption (130), with the original message and hint.
    pub fn after_changes(self) -> Self {
        match self {
            Error::Interrupted | Error::Partial { .. } => self,
            other => {
                let hint = other.hint().map(str::to_string).or_else(|| {
                    Some("the changes listed above were made before the failure".to_string())
                });
                Error::Partial {
                    message: other.to_string(),
                    hint,
                }
            }
        }
    }

    /// True for an I/O error that is a broken pipe (stdout closed by `head`, `less` ...).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// Classify a `kube::Error`, naming `server`/`context` in connection hints.
    ///
    /// `From<kube::Error>` calls this with the target recorded at connect time; call it
    /// directly when you hold a [`crate::cli::Connection`] and want to be explicit.
    pub fn from_kube(err: kube::Error, server: &str, context: &str) -> Self {
        classify(err, server, context)
    }
}

/// Exit code for an API status code that reached the user as an error.
fn exit_for_status(code: u16) -> Exit {
    match code {
        401 | 403 | 429 => Exit::Cluster,
        500..=599 => Exit::Cluster,
        400 | 404 | 422 => Exit::Usage,
        _ => Exit::NotFine,
    }
}

/// True when the API answered 403 Forbidden.
pub fn is_forbidden(err: &kube::Error) -> bool {
    status_code(err) == Some(403)
}

/// True when the API answered 404 Not Found (object, namespace or resource type missing).
pub fn is_not_found(err: &kube::Error) -> bool {
    status_code(err) == Some(404)
}

/// True when the API answered 409 Conflict (stale resourceVersion, already exists).
pub fn is_conflict(err: &kube::Error) -> bool {
    status_code(err) == Some(409)
}

/// The HTTP status of an API error, if the server answered at all.
pub fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// Server and context of the most recent connection, used for hints in `From<kube::Error>`.
static TARGET: RwLock<Option<(String, String)>> = RwLock::new(None);

pub(crate) fn set_target(server: &str, context: &str) {
    if let Ok(mut slot) = TARGET.write() {
        *slot = Some((server.to_string(), context.to_string()));
    }
}

impl From<kube::Error> for Error {
    fn from(err: kube::Error) -> Self {
        let (server, context) = TARGET
            .read()
            .ok()
            .and_then(|t| t.clone())
            .unwrap_or_else(|| ("?".to_string(), "?".to_string()));
        classify(err, &server, &context)
    }
}

impl From<anyhow::Error> for Error {
    fn from(err: anyhow::Error) -> Self {
        // `{:#}` gives the whole context chain on one line.
        Error::other(format!("{err:#}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        if err.is_io() {
            return Error::Io(std::io::Error::other(err.to_string()));
        }
        Error::other(format!("cannot encode JSON: {err}"))
    }
}

/// What went wrong on the wire, found by walking an error's source chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Refused,
    TimedOut,
    Dns,
    Tls,
    Reset,
    Unknown,
}

fn transport_kind(err: &(dyn std::error::Error + 'static)) -> Transport {
    let mut text = String::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return Transport::Refused,
                K::TimedOut => return Transport::TimedOut,
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    return Transport::Reset;
                }
                _ => {}
            }
        }
        text.push_str(&e.to_string().to_lowercase());
        text.push('\n');
        cur = e.source();
    }
    if text.contains("connection refused") {
        Transport::Refused
    } else if text.contains("dns error")
        || text.contains("failed to lookup address")
        || text.contains("name or service not known")
        || text.contains("no such host")
    {
        Transport::Dns
    } else if text.contains("timed out") || text.contains("deadline") {
        Transport::TimedOut
    } else if text.contains("certificate")
        || text.contains("tls")
        || text.contains("invalid peer")
        || text.contains("handshake")
    {
        Transport::Tls
    } else if text.contains("connection reset") || text.contains("connection closed") {
        Transport::Reset
    } else {
        Transport::Unknown
    }
}

fn unreachable_error(
    err: &(dyn std::error::Error + 'static),
    server: &str,
    context: &str,
) -> Error {
    let what = match transport_kind(err) {
        Transport::Refused => "connection refused",
        Transport::TimedOut => "request timed out",
        Transport::Dns => "host name could not be resolved",
        Transport::Tls => "TLS handshake failed",
        Transport::Reset => "connection reset",
        Transport::Unknown => "transport error",
    };
    let hint = match transport_kind(err) {
        Transport::Tls => format!(
            "check the cluster's certificate-authority in your kubeconfig (server {server}, context {context})"
        ),
        Transport::TimedOut => format!(
            "the server did not answer in time; check that the cluster is reachable or raise --request-timeout (server {server}, context {context})"
        ),
        _ => format!("check that the cluster is reachable (server {server}, context {context})"),
    };
    // Which request gave up, when the retry layer knows it (`list pods in namespace x;
    // 1 attempt in 2.0s`): after a flaky server, the failing call is the next clue.
    let message = match failed_call(err) {
        Some(call) => format!("cannot reach the Kubernetes API server: {what} ({call})"),
        None => format!("cannot reach the Kubernetes API server: {what}"),
    };
    Error::Unreachable {
        message,
        hint: Some(hint),
    }
}

/// The call a transport failure happened in, from [`crate::transport::CallFailed`] in the
/// error's chain.
fn failed_call(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(failed) = e.downcast_ref::<crate::transport::CallFailed>() {
            return Some(failed.call());
        }
        cur = e.source();
    }
    None
}

/// Map a kube error to the suite's error; see the table on [`Error`].
fn classify(err: kube::Error, server: &str, context: &str) -> Error {
    match err {
        kube::Error::Api(status) => {
            let code = status.code;
            // Server messages can quote object content (admission webhooks do): redact here,
            // where the message enters our error type.
            let message = if status.message.is_empty() {
                format!("API request failed: {} ({code})", status.reason)
            } else {
                crate::redact::redact_text(&status.message).into_owned()
            };
            match code {
                401 => Error::Unauthorized {
                    message: format!("credentials rejected by the API server (401): {message}"),
                    hint: Some(format!(
                        "credentials rejected; log in again or refresh the token for context {context} (server {server})"
                    )),
                },
                403 => Error::Forbidden {
                    message,
                    hint: Some(
                        "ask a cluster admin for the RBAC permission named above, or check --as/--as-group"
                            .to_string(),
                    ),
                },
                _ => {
                    let hint = match code {
                        429 | 500..=599 => Some(format!(
                            "the API server is overloaded or unhealthy; retry later (server {server})"
                        )),
                        _ => None,
                    };
                    Error::Api {
                        code,
                        reason: status.reason.clone(),
                        message,
                        hint,
                    }
                }
            }
        }
        kube::Error::Auth(e) => Error::Unauthorized {
            message: format!("cannot obtain credentials: {}", one_line(&e)),
            hint: Some(format!(
                "check the user's credentials (exec plugin, token, client certificate) for context {context}"
            )),
        },
        kube::Error::HyperError(e) => unreachable_error(&e, server, context),
        kube::Error::Service(e) => unreachable_error(e.as_ref(), server, context),
        kube::Error::RustlsTls(e) => Error::Unreachable {
            message: format!("TLS setup failed: {}", one_line(&e)),
            hint: Some(format!(
                "check the cluster's certificate-authority and the user's client certificate (context {context})"
            )),
        },
        kube::Error::InferKubeconfig(e) => Error::usage(format!("invalid kubeconfig: {e}")),
        kube::Error::InferConfig(e) => Error::usage(format!("invalid kubeconfig: {e}")),
        kube::Error::ProxyProtocolUnsupported { .. }
        | kube::Error::ProxyProtocolDisabled { .. } => Error::usage(err.to_string()),
        kube::Error::SerdeError(e) => Error::Other {
            message: format!("unexpected response from the API server: {e}"),
            hint: None,
        },
        other => Error::other(format!("API request failed: {}", one_line(&other))),
    }
}

/// Display of an error and its sources on one line, `a: b: c`, skipping repeats.
fn one_line(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

/// Render an error the way `run::main_with` prints it: `error: ...` and maybe `hint: ...`.
pub fn render(err: &Error) -> String {
    let mut s = String::new();
    // Messages come from servers too: one line so stderr stays greppable, and redacted
    // once more as the last boundary before the terminal.
    let message = crate::redact::redact_text(&err.to_string()).replace('\n', " ");
    s.push_str("error: ");
    s.push_str(&message);
    s.push('\n');
    if let Some(h) = err.hint() {
        s.push_str("hint: ");
        s.push_str(h);
        s.push('\n');
    }
    s
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        let status = kube::core::Status::failure(message, reason).with_code(code);
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn exit_codes_have_contract_values() {
        assert_eq!(Exit::Ok.code(), 0);
        assert_eq!(Exit::NotFine.code(), 1);
        assert_eq!(Exit::Usage.code(), 2);
        assert_eq!(Exit::Cluster.code(), 3);
        assert_eq!(Exit::Partial.code(), 4);
        assert_eq!(Exit::Interrupted.code(), 130);
    }

    #[test]
    fn api_errors_classify_by_status() {
        let e = Error::from_kube(
            api(401, "Unauthorized", "Unauthorized"),
            "https://k:6443",
            "dev",
        );
        assert_eq!(e.exit(), Exit::Cluster);
        assert!(matches!(e, Error::Unauthorized { .. }));
        assert!(e.hint().is_some_and(|h| h.contains("credentials rejected")));

        let e = Error::from_kube(
            api(
                403,
                "Forbidden",
                "pods is forbidden: User \"bob\" cannot list resource \"pods\"",
            ),
            "s",
            "c",
        );
        assert_eq!(e.exit(), Exit::Cluster);
        assert!(e.to_string().starts_with("pods is forbidden"));

        let e = Error::from_kube(
            api(404, "NotFound", "namespaces \"nope\" not found"),
            "s",
            "c",
        );
        assert_eq!(e.exit(), Exit::Usage);
        let e = Error::from_kube(api(503, "ServiceUnavailable", "etcd down"), "s", "c");
        assert_eq!(e.exit(), Exit::Cluster);
        let e = Error::from_kube(
            api(409, "Conflict", "the object has been modified"),
            "s",
            "c",
        );
        assert_eq!(e.exit(), Exit::NotFine);
    }

    #[test]
    fn predicates() {
        assert!(is_forbidden(&api(403, "Forbidden", "x")));
        assert!(!is_forbidden(&api(404, "NotFound", "x")));
        assert!(is_not_found(&api(404, "NotFound", "x")));
        assert!(is_conflict(&api(409, "Conflict", "x")));
        assert_eq!(status_code(&api(500, "", "")), Some(500));
    }

    #[test]
    fn connection_refused_is_exit_3_with_server_hint() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let e = Error::from_kube(
            kube::Error::Service(Box::new(io)),
            "https://127.0.0.1:1",
            "kind-dev",
        );
        assert_eq!(e.exit(), Exit::Cluster);
        assert_eq!(
            e.to_string(),
            "cannot reach the Kubernetes API server: connection refused"
        );
        assert_eq!(
            e.hint(),
            Some(
                "check that the cluster is reachable (server https://127.0.0.1:1, context kind-dev)"
            )
        );
    }

    #[test]
    fn transport_kinds_from_text() {
        let dns = std::io::Error::other("dns error: failed to lookup address information");
        assert_eq!(transport_kind(&dns), Transport::Dns);
        let tls = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        assert_eq!(transport_kind(&tls), Transport::Tls);
        let to = std::io::Error::new(std::io::ErrorKind::TimedOut, "x");
        assert_eq!(transport_kind(&to), Transport::TimedOut);
    }

    #[test]
    fn render_is_one_error_line_and_a_hint() {
        let e =
            Error::usage("context \"foo\" not found in kubeconfig").with_hint("pick one of: a, b");
        assert_eq!(
            render(&e),
            "error: context \"foo\" not found in kubeconfig\nhint: pick one of: a, b\n"
        );
        assert_eq!(render(&Error::Interrupted), "error: interrupted\n");
    }

    #[test]
    fn misc_exits() {
        assert_eq!(Error::Interrupted.exit(), Exit::Interrupted);
        assert_eq!(Error::other("x").exit(), Exit::NotFine);
        let bp = Error::Io(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe"));
        assert!(bp.is_broken_pipe());
        assert_eq!(Error::from(anyhow::anyhow!("boom")).exit(), Exit::NotFine);
    }
}
