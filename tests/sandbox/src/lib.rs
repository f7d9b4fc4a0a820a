//! kube-sandbox: a test Kubernetes API server that serves fixtures.
//! Test infrastructure only; see ../../shared/SANDBOX.md for the contract.
//!
//! [`Sandbox::start`] runs the server on its own thread and tokio runtime so
//! synchronous tests (assert_cmd) can use it; the binary is a thin wrapper.

pub mod bootstrap;
pub mod controllers;
pub mod convert;
pub mod defaults;
pub mod discovery;
pub mod error;
pub mod faults;
pub mod fixtures;
pub mod gc;
pub mod http;
pub mod kubeconfig;
pub mod logs;
pub mod meta;
pub mod openapi;
pub mod patch;
pub mod rbac;
pub mod registry;
pub mod runtime;
pub mod selectors;
pub mod services;
pub mod store;
pub mod table;
pub mod tls;
pub mod wire;
pub mod yaml;

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How to start a sandbox.
#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    /// Fixture files or directories (walked recursively in name order).
    pub fixtures: Vec<PathBuf>,
    /// 0 = a random free port.
    pub port: u16,
    pub plain_http: bool,
    /// Sleep before every response (models a remote API server).
    pub latency_ms: u64,
    /// `--fault` SPECs, see [`faults`].
    pub faults: Vec<String>,
    /// Watch history kept for resumes (default 50,000 events); older
    /// resourceVersions are answered with a 410 Expired watch event.
    pub watch_history: Option<usize>,
}

/// A running sandbox; dropping it stops the server and removes its kubeconfig.
pub struct Sandbox {
    url: String,
    dir: PathBuf,
    kubeconfig: PathBuf,
    requests: Arc<http::State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// `<workspace>/tests/fixtures/<name>`.
pub fn fixture_dir(name: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `tests/sandbox` → `tests`, without a `..` in paths shown in messages.
    manifest
        .parent()
        .unwrap_or(manifest)
        .join("fixtures")
        .join(name)
}

/// A private (0700) directory for the kubeconfig, which holds the admin token.
fn private_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let n: u64 = rand::random();
        let dir = base.join(format!("kube-sandbox-{}-{n:016x}", std::process::id()));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        if b.create(&dir).is_ok() {
            return Ok(dir);
        }
    }
    anyhow::bail!("cannot create a private directory under {}", base.display())
}

fn random_token() -> String {
    let b: [u8; 24] = rand::random();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Sandbox {
    /// Loads fixtures, binds 127.0.0.1:`port`, writes the kubeconfig and
    /// returns once the server accepts connections.
    pub fn start(opts: SandboxOptions) -> anyhow::Result<Sandbox> {
        let started = jiff::Timestamp::now();
        let loaded =
            fixtures::load(&opts.fixtures, &opts.faults, started).map_err(anyhow::Error::msg)?;
        tracing::debug!(
            objects = loaded.store.current_rv(),
            ms = started.duration_until(jiff::Timestamp::now()).as_millis(),
            "fixtures loaded"
        );
        if let Some(n) = opts.watch_history {
            loaded.store.set_history_limit(n);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("kube-sandbox")
            .build()
            .context("starting the tokio runtime")?;
        // Bind with std so `start` also works when called from inside another
        // tokio runtime (async tests); the server thread adopts the socket.
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", opts.port))
            .with_context(|| format!("binding 127.0.0.1:{}", opts.port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let tls = if opts.plain_http {
            None
        } else {
            Some(tls::generate()?)
        };
        loaded.store.write(false, |txn| {
            bootstrap::load(txn, &loaded.registry, &addr.to_string(), started)
        });
        loaded.store.seal_initial();
        let url = format!("{}://{addr}", if tls.is_some() { "https" } else { "http" });
        let admin_token = random_token();
        let dir = private_dir()?;
        let kubeconfig = dir.join("kubeconfig");
        let text = kubeconfig::render(
            &url,
            tls.as_ref().map(|t| t.ca_pem.as_str()),
            &admin_token,
            &loaded.users,
        )?;
        write_private(&kubeconfig, &text)?;
        let state = Arc::new(http::State {
            registry: std::sync::RwLock::new(loaded.registry),
            store: loaded.store,
            users: loaded.users,
            admin_token,
            tokens: http::tokens::Tokens::new(loaded.tokens),
            logs: loaded.logs,
            runtime: Arc::new(loaded.runtime),
            faults: loaded.faults,
            latency_ms: opts.latency_ms,
            requests: AtomicU64::new(0),
            address: addr.to_string(),
        });
        let feed = controllers::prepare(&state.store);
        let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.server_config));
        let (shutdown, rx) = tokio::sync::oneshot::channel();
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("kube-sandbox".into())
            .spawn(move || {
                runtime.block_on(async move {
                    // The controllers live on the server's runtime and end with it.
                    tokio::spawn(controllers::run(st.clone(), feed));
                    match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(listener) => http::serve(listener, acceptor, st, rx).await,
                        Err(e) => tracing::error!("cannot serve: {e}"),
                    }
                });
                // Open watches end with the runtime.
                runtime.shutdown_background();
            })
            .context("starting the server thread")?;
        Ok(Sandbox {
            url,
            dir,
            kubeconfig,
            requests: state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// All requests served so far, discovery and health checks included.
    pub fn request_count(&self) -> u64 {
        self.requests.requests.load(Ordering::Relaxed)
    }

    pub fn reset_request_count(&self) {
        self.requests.requests.store(0, Ordering::Relaxed);
    }

    /// Every `pods/exec` session served so far, oldest first (command,
    /// stdin received, exit code reported).
    pub fn exec_sessions(&self) -> Vec<runtime::exec::ExecSession> {
        self.requests.runtime.sessions()
    }

    /// What clients sent on stdin to `container` of pod `namespace/pod`: one
    /// entry per finished exec session, oldest first.
    pub fn exec_stdin(&self, namespace: &str, pod: &str, container: &str) -> Vec<Vec<u8>> {
        self.exec_sessions()
            .into_iter()
            .filter(|s| s.namespace == namespace && s.pod == pod && s.container == container)
            .map(|s| s.stdin)
            .collect()
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Copies the kubeconfig to `dest` (mode 0600), for the binary's `--kubeconfig-out`.
pub fn write_kubeconfig_copy(sandbox: &Sandbox, dest: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(sandbox.kubeconfig())?;
    write_private(dest, &text)
}
