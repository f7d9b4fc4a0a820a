//! kubectl-compatible connection flags and the [`Connection`] they produce: kubeconfig
//! selection, context/cluster/user overrides, timeouts, impersonation, counted and retried HTTP.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Api, Client, Config};

use crate::error::{Error, Result};
use crate::transport::{CountLayer, RequestCounter, RetryLayer, RetryPolicy};

/// Connection flags with kubectl's names and meaning; `#[command(flatten)]` them.
///
/// `-A/--all-namespaces` and `-l/--selector` are not here: each plugin adds them where
/// they make sense. All flags are `global`, so they work after a subcommand too.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectionArgs {
    /// Path to the kubeconfig file (else KUBECONFIG, a colon-separated list, else ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: current-context).
    #[arg(long, global = true, value_name = "CONTEXT")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use, overriding the context's.
    #[arg(long, global = true, value_name = "CLUSTER")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use, overriding the context's.
    #[arg(long, global = true, value_name = "USER")]
    pub user: Option<String>,
    /// Namespace (default: the context's namespace, else "default").
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Time to wait for each server response (30s, 2m, 1h; a plain number is seconds) [default: 0 = no timeout].
    #[arg(long, global = true, value_name = "DURATION", value_parser = crate::duration::parse_duration)]
    pub request_timeout: Option<Duration>,
    /// Username to impersonate for the operation (user or service account).
    #[arg(long = "as", global = true, value_name = "USERNAME")]
    pub as_user: Option<String>,
    /// Group to impersonate; repeat for several groups.
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
}

/// A ready client plus what the plugin needs to know about where it points.
#[derive(Clone)]
pub struct Connection {
    /// The kube client (every request counted; GETs retried on 429/5xx/reset).
    pub client: Client,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    /// The kubeconfig context in use.
    pub context: String,
    /// The API server URL.
    pub server: String,
    /// Number of HTTP requests made through `client`.
    pub requests: RequestCounter,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("namespace", &self.namespace)
            .field("context", &self.context)
            .field("server", &self.server)
            .field("requests", &self.requests.get())
            .finish()
    }
}

impl Connection {
    /// `Api<K>` in [`Connection::namespace`], or across all namespaces when `all_namespaces`.
    pub fn namespaced_api<K>(&self, all_namespaces: bool) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        if all_namespaces {
            Api::all(self.client.clone())
        } else {
            Api::namespaced(self.client.clone(), &self.namespace)
        }
    }

    /// `Api<K>` for a cluster-scoped kind (nodes, namespaces, CRDs ...).
    pub fn cluster_api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::all(self.client.clone())
    }

    /// Map a kube error with this connection's server/context in the hint.
    pub fn error(&self, err: kube::Error) -> Error {
        Error::from_kube(err, &self.server, &self.context)
    }

    /// The `--stats` line, e.g. `api requests: 7`.
    pub fn stats_line(&self) -> String {
        format!("api requests: {}", self.requests.get())
    }
}

impl ConnectionArgs {
    /// The `--request-timeout` value, `None` when unset or `0` (kubectl's default: no timeout).
    pub fn timeout(&self) -> Option<Duration> {
        self.request_timeout.filter(|d| !d.is_zero())
    }

    /// Load the kubeconfig, select context/cluster/user and build a client.
    ///
    /// Errors: a missing/invalid kubeconfig or unknown context/cluster/user is
    /// `Error::Usage` (exit 2). No request is made here, so an unreachable server
    /// shows up on the first API call (exit 3).
    pub async fn connect(&self) -> Result<Connection> {
        self.connect_with(RetryPolicy::default()).await
    }

    /// [`ConnectionArgs::connect`] with a custom read-retry policy (tests use short delays).
    pub async fn connect_with(&self, mut retry: RetryPolicy) -> Result<Connection> {
        let kubeconfig = load_kubeconfig(
            self.kubeconfig.as_deref(),
            std::env::var_os("KUBECONFIG").as_deref(),
            std::env::home_dir(),
        )?;
        let options = select(&kubeconfig, self)?;
        let context = options.context.clone().unwrap_or_default();
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| kubeconfig_error(e, None))?;
        // Our own retry layer replaces kube's (which also retries writes and can wait minutes).
        config.default_retry = false;
        if let Some(t) = self.timeout() {
            config.read_timeout = Some(t);
            config.write_timeout = Some(config.write_timeout.map_or(t, |w| w.min(t)));
            config.connect_timeout = Some(config.connect_timeout.map_or(t, |c| c.min(t)));
            retry.timeout = Some(t);
        }
        if let Some(user) = &self.as_user {
            config.auth_info.impersonate = Some(user.clone());
        }
        if !self.as_group.is_empty() {
            if self.as_user.is_none() {
                return Err(Error::usage("--as-group requires --as"));
            }
            config.auth_info.impersonate_groups = Some(self.as_group.clone());
        }
        let namespace = self
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| config.default_namespace.clone());
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        crate::error::set_target(&server, &context);

        let requests = RequestCounter::new();
        let builder = kube::client::ClientBuilder::try_from(config)
            .map_err(|e| Error::from_kube(e, &server, &context))?;
        // Order matters: the retry layer is outermost so each attempt passes the counter;
        // the buffer makes kube's boxed (non-Clone) stack clonable for re-sending.
        let client = builder
            .with_layer(&CountLayer(requests.clone()))
            .with_layer(&tower::buffer::BufferLayer::new(1024))
            .with_layer(&RetryLayer(retry))
            .build();
        tracing::debug!(%server, %context, %namespace, "connected");
        Ok(Connection {
            client,
            namespace,
            context,
            server,
            requests,
        })
    }
}

/// Where the kubeconfig comes from, decided like kubectl does.
fn kubeconfig_paths(
    flag: Option<&Path>,
    env: Option<&OsStr>,
    home: Option<PathBuf>,
) -> Vec<PathBuf> {
    if let Some(p) = flag {
        return vec![p.to_path_buf()];
    }
    if let Some(list) = env {
        let paths: Vec<PathBuf> = std::env::split_paths(list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return paths;
        }
    }
    home.map(|h| vec![h.join(".kube").join("config")])
        .unwrap_or_default()
}

/// Read and merge the kubeconfig: `--kubeconfig` must exist; files in `KUBECONFIG` that do not
/// exist are skipped (kubectl's rule) but at least one must.
fn load_kubeconfig(
    flag: Option<&Path>,
    env: Option<&OsStr>,
    home: Option<PathBuf>,
) -> Result<Kubeconfig> {
    let paths = kubeconfig_paths(flag, env, home);
    let explicit = flag.is_some();
    let mut merged: Option<Kubeconfig> = None;
    for path in &paths {
        if !explicit && !path.exists() {
            continue;
        }
        let one = Kubeconfig::read_from(path).map_err(|e| kubeconfig_error(e, Some(path)))?;
        merged = Some(match merged {
            None => one,
            Some(m) => m.merge(one).map_err(|e| kubeconfig_error(e, Some(path)))?,
        });
    }
    merged.ok_or_else(|| {
        let looked = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Error::usage(format!("no kubeconfig found (looked at: {looked})"))
            .with_hint("pass --kubeconfig PATH or set KUBECONFIG")
    })
}

fn kubeconfig_error(err: KubeconfigError, path: Option<&Path>) -> Error {
    let at = path
        .map(|p| format!(" {}", p.display()))
        .unwrap_or_default();
    match err {
        KubeconfigError::ReadConfig(io, p) => {
            Error::usage(format!("cannot read kubeconfig {}: {io}", p.display()))
        }
        KubeconfigError::Parse(e) => Error::usage(format!("invalid kubeconfig{at}: {e}")),
        KubeconfigError::CurrentContextNotSet => {
            Error::usage("no current-context set in kubeconfig")
                .with_hint("pass --context NAME or run `kubectl config use-context NAME`")
        }
        other => Error::usage(format!("invalid kubeconfig{at}: {other}")),
    }
}

/// Check the requested context/cluster/user exist, so errors name them clearly.
fn select(kubeconfig: &Kubeconfig, args: &ConnectionArgs) -> Result<KubeConfigOptions> {
    let context = match args
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
    {
        Some(c) if !c.is_empty() => c,
        _ => {
            return Err(Error::usage("no current-context set in kubeconfig")
                .with_hint("pass --context NAME or run `kubectl config use-context NAME`"));
        }
    };
    let names = |v: Vec<&str>| {
        if v.is_empty() {
            "(none)".to_string()
        } else {
            v.join(", ")
        }
    };
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        let known = names(
            kubeconfig
                .contexts
                .iter()
                .map(|c| c.name.as_str())
                .collect(),
        );
        return Err(
            Error::usage(format!("context \"{context}\" not found in kubeconfig"))
                .with_hint(format!("available contexts: {known}")),
        );
    }
    if let Some(cluster) = &args.cluster
        && !kubeconfig.clusters.iter().any(|c| &c.name == cluster)
    {
        let known = names(
            kubeconfig
                .clusters
                .iter()
                .map(|c| c.name.as_str())
                .collect(),
        );
        return Err(
            Error::usage(format!("cluster \"{cluster}\" not found in kubeconfig"))
                .with_hint(format!("available clusters: {known}")),
        );
    }
    if let Some(user) = &args.user
        && !kubeconfig.auth_infos.iter().any(|u| &u.name == user)
    {
        let known = names(
            kubeconfig
                .auth_infos
                .iter()
                .map(|u| u.name.as_str())
                .collect(),
        );
        return Err(
            Error::usage(format!("user \"{user}\" not found in kubeconfig"))
                .with_hint(format!("available users: {known}")),
        );
    }
    Ok(KubeConfigOptions {
        context: Some(context),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;
    use clap::Parser;

    const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: shop}
- name: prod
  context: {cluster: c2, user: u1}
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
- name: c2
  cluster: {server: "https://10.0.0.1:6443/", insecure-skip-tls-verify: true}
users:
- name: u1
  user: {token: abc}
"#;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        conn: ConnectionArgs,
    }

    fn args(extra: &[&str], file: &Path) -> ConnectionArgs {
        let mut v = vec![
            "kubectl-x".to_string(),
            "--kubeconfig".into(),
            file.display().to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        match Cli::try_parse_from(v) {
            Ok(c) => c.conn,
            Err(e) => panic!("parse: {e}"),
        }
    }

    fn write_config() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).unwrap_or_else(|e| panic!("{e}"));
        (dir, path)
    }

    #[test]
    fn flags_parse_like_kubectl() {
        let (_d, p) = write_config();
        let a = args(
            &[
                "-n",
                "x",
                "--request-timeout",
                "2m",
                "--as",
                "bob",
                "--as-group",
                "g1",
                "--as-group",
                "g2",
            ],
            &p,
        );
        assert_eq!(a.namespace.as_deref(), Some("x"));
        assert_eq!(a.timeout(), Some(Duration::from_secs(120)));
        assert_eq!(a.as_user.as_deref(), Some("bob"));
        assert_eq!(a.as_group, ["g1", "g2"]);
        assert_eq!(args(&[], &p).timeout(), None);
        assert_eq!(
            args(&["--request-timeout", "30"], &p).timeout(),
            Some(Duration::from_secs(30))
        );
        let bad = Cli::try_parse_from(["x", "--request-timeout", "soon"]);
        assert!(bad.is_err());
    }

    #[tokio::test]
    async fn selects_current_context_and_namespace() {
        let (_d, p) = write_config();
        let conn = args(&[], &p).connect().await;
        let conn = conn.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(conn.context, "dev");
        assert_eq!(conn.namespace, "shop");
        assert_eq!(conn.server, "https://127.0.0.1:6443");
        assert_eq!(conn.requests.get(), 0);

        let conn = args(&["--context", "prod"], &p)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(conn.namespace, "default");
        assert_eq!(conn.server, "https://10.0.0.1:6443");
        let conn = args(&["--context", "prod", "-n", "kube-system"], &p)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(conn.namespace, "kube-system");
    }

    #[tokio::test]
    async fn unknown_context_is_usage_error() {
        let (_d, p) = write_config();
        let err = args(&["--context", "foo"], &p).connect().await.err();
        let err = err.unwrap_or_else(|| panic!("expected an error"));
        assert_eq!(err.exit(), Exit::Usage);
        assert_eq!(err.to_string(), "context \"foo\" not found in kubeconfig");
        assert_eq!(err.hint(), Some("available contexts: dev, prod"));

        let err = args(&["--cluster", "nope"], &p).connect().await.err();
        assert!(err.is_some_and(|e| e.to_string() == "cluster \"nope\" not found in kubeconfig"));
        let err = args(&["--user", "nope"], &p).connect().await.err();
        assert!(err.is_some_and(|e| e.exit() == Exit::Usage));
    }

    #[tokio::test]
    async fn missing_or_broken_kubeconfig_is_usage_error() {
        let (dir, _p) = write_config();
        let missing = dir.path().join("nope");
        let err = args(&[], &missing).connect().await.err();
        assert!(
            err.as_ref().is_some_and(|e| e.exit() == Exit::Usage),
            "{err:?}"
        );
        assert!(err.is_some_and(|e| e.to_string().starts_with("cannot read kubeconfig")));

        let broken = dir.path().join("broken");
        std::fs::write(&broken, "clusters: [ {").unwrap_or_else(|e| panic!("{e}"));
        let err = args(&[], &broken).connect().await.err();
        assert!(err.is_some_and(
            |e| e.exit() == Exit::Usage && e.to_string().starts_with("invalid kubeconfig")
        ));
    }

    #[test]
    fn kubeconfig_path_precedence() {
        let home = Some(PathBuf::from("/home/u"));
        assert_eq!(
            kubeconfig_paths(
                Some(Path::new("/x")),
                Some(OsStr::new("/a:/b")),
                home.clone()
            ),
            [PathBuf::from("/x")]
        );
        assert_eq!(
            kubeconfig_paths(None, Some(OsStr::new("/a::/b")), home.clone()),
            [PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(
            kubeconfig_paths(None, Some(OsStr::new("")), home.clone()),
            [PathBuf::from("/home/u/.kube/config")]
        );
        assert_eq!(
            kubeconfig_paths(None, None, home),
            [PathBuf::from("/home/u/.kube/config")]
        );
    }

    #[test]
    fn env_list_skips_missing_files_and_merges() {
        let (dir, p) = write_config();
        let other = dir.path().join("other");
        std::fs::write(
            &other,
            "apiVersion: v1\nkind: Config\ncontexts:\n- name: extra\n  context: {cluster: c1, user: u1}\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let list = std::env::join_paths([dir.path().join("missing"), p.clone(), other])
            .unwrap_or_else(|e| panic!("{e}"));
        let merged = load_kubeconfig(None, Some(&list), None).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["dev", "prod", "extra"]);
        assert_eq!(merged.current_context.as_deref(), Some("dev"));

        let none =
            std::env::join_paths([dir.path().join("missing")]).unwrap_or_else(|e| panic!("{e}"));
        let err = load_kubeconfig(None, Some(&none), None).err();
        assert!(err.is_some_and(
            |e| e.exit() == Exit::Usage && e.to_string().starts_with("no kubeconfig found")
        ));
    }
}
