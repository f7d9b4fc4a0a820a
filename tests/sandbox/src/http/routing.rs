//! URL → what is being asked: a non-resource endpoint (health, version,
//! discovery, OpenAPI) or a resource request with its Kubernetes verb.

use hyper::Method;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceRequest {
    /// Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: &'static str,
    pub group: String,
    pub version: String,
    pub plural: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// Below a `proxy` subresource: the path passed on (`stats/summary`).
    pub proxy_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    Version,
    CoreVersions,
    Groups,
    Group(String),
    ResourceList(String, String),
    OpenApiV2,
    OpenApiV3Index,
    OpenApiV3(String),
    Resource(ResourceRequest),
    /// `/sandbox/v1/execsessions`: the exec sessions served (a test aid, not
    /// a Kubernetes path).
    ExecSessions,
    NotFound,
    MethodNotAllowed,
}

/// `watch` is true when `?watch=true|1` was given.
pub fn parse(method: &Method, path: &str, watch: bool) -> Route {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let read_only = |r: Route| {
        if method == Method::GET || method == Method::HEAD {
            r
        } else {
            Route::MethodNotAllowed
        }
    };
    match segs.as_slice() {
        ["healthz" | "livez" | "readyz", ..] => read_only(Route::Health),
        ["version"] => read_only(Route::Version),
        ["openapi", "v2"] => read_only(Route::OpenApiV2),
        ["openapi", "v3"] => read_only(Route::OpenApiV3Index),
        ["openapi", "v3", rest @ ..] => read_only(Route::OpenApiV3(rest.join("/"))),
        ["api"] => read_only(Route::CoreVersions),
        ["api", v] => read_only(Route::ResourceList(String::new(), v.to_string())),
        ["api", v, rest @ ..] => resource(method, "", v, rest, watch),
        ["apis"] => read_only(Route::Groups),
        ["apis", g] => read_only(Route::Group(g.to_string())),
        ["apis", g, v] => read_only(Route::ResourceList(g.to_string(), v.to_string())),
        ["apis", g, v, rest @ ..] => resource(method, g, v, rest, watch),
        ["sandbox", "v1", "execsessions"] => read_only(Route::ExecSessions),
        _ => Route::NotFound,
    }
}

fn resource(
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    watch_param: bool,
) -> Route {
    let (watch_path, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let (namespace, rest) = match rest {
        // `namespaces/{ns}` and `namespaces/{ns}/status|finalize` are the Namespace object itself.
        ["namespaces", ns, plural, tail @ ..]
            if !(tail.is_empty() && matches!(*plural, "status" | "finalize")) =>
        {
            (ns.to_string(), &rest[2..])
        }
        _ => (String::new(), rest),
    };
    let (plural, name, subresource, proxy_path) = match rest {
        [p] => (*p, "", "", String::new()),
        [p, n] => (*p, *n, "", String::new()),
        [p, n, s] => (*p, *n, *s, String::new()),
        [p, n, "proxy", tail @ ..] => (*p, *n, "proxy", tail.join("/")),
        _ => return Route::NotFound,
    };
    let verb = match *method {
        Method::GET if watch_path || (watch_param && subresource.is_empty()) => "watch",
        Method::GET if name.is_empty() => "list",
        Method::GET => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if name.is_empty() => "deletecollection",
        Method::DELETE => "delete",
        _ => return Route::MethodNotAllowed,
    };
    Route::Resource(ResourceRequest {
        verb,
        group: group.to_string(),
        version: version.to_string(),
        plural: plural.to_string(),
        subresource: subresource.to_string(),
        namespace,
        name: name.to_string(),
        proxy_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(m: Method, p: &str, watch: bool) -> ResourceRequest {
        match parse(&m, p, watch) {
            Route::Resource(r) => r,
            other => panic!("{p}: {other:?}"),
        }
    }

    #[test]
    fn paths() {
        let r = res(Method::GET, "/api/v1/namespaces/x/pods/p/log", false);
        assert_eq!(
            (
                r.verb,
                r.namespace.as_str(),
                r.plural.as_str(),
                r.name.as_str(),
                r.subresource.as_str()
            ),
            ("get", "x", "pods", "p", "log")
        );
        let r = res(Method::GET, "/api/v1/namespaces/x", false);
        assert_eq!(
            (r.plural.as_str(), r.name.as_str(), r.namespace.as_str()),
            ("namespaces", "x", "")
        );
        let r = res(Method::PUT, "/api/v1/namespaces/x/status", false);
        assert_eq!(
            (r.verb, r.name.as_str(), r.subresource.as_str()),
            ("update", "x", "status")
        );
        let r = res(
            Method::GET,
            "/apis/apps/v1/watch/namespaces/x/deployments",
            false,
        );
        assert_eq!((r.verb, r.group.as_str()), ("watch", "apps"));
        assert_eq!(res(Method::GET, "/api/v1/pods", true).verb, "watch");
        assert_eq!(
            res(Method::DELETE, "/api/v1/namespaces/x/pods", false).verb,
            "deletecollection"
        );
        assert_eq!(
            parse(&Method::GET, "/apis/apps", false),
            Route::Group("apps".into())
        );
        assert_eq!(
            parse(&Method::GET, "/openapi/v3/apis/apps/v1", false),
            Route::OpenApiV3("apis/apps/v1".into())
        );
        assert_eq!(parse(&Method::GET, "/nope", false), Route::NotFound);
        let r = res(Method::GET, "/api/v1/nodes/n1/proxy/stats/summary", false);
        assert_eq!(
            (
                r.verb,
                r.plural.as_str(),
                r.name.as_str(),
                r.subresource.as_str(),
                r.proxy_path.as_str()
            ),
            ("get", "nodes", "n1", "proxy", "stats/summary")
        );
    }
}
