//! Injected failures for reliability tests (`--fault SPEC` and
//! `sandbox.test/v1 Fault` fixtures).
//!
//! # SPEC syntax
//! Comma-separated `key=value` pairs; every key is optional:
//!
//! | key | meaning |
//! | --- | --- |
//! | `verb` | API verb(s) to match, `|`-separated: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`; `*` or absent = any request (incl. discovery) |
//! | `resource` | plural, optionally with subresource or group: `pods`, `pods/log`, `deployments.apps`; absent = any |
//! | `namespace` | only requests in this namespace |
//! | `name` | only requests for this object name |
//! | `status` | answer with this HTTP status and a matching `Status` body (429, 500, 503, any 4xx/5xx) |
//! | `retry-after` | seconds for the `Retry-After` header (default 1 for 429/503) |
//! | `action` | `status` (default when `status` is given), `drop` (close the connection without an answer), `delay` |
//! | `delay-ms` | sleep this long before serving normally (`action=delay` implied) |
//! | `count` | fire at most this many times, then let requests through |
//! | `after` | let the first N matching requests through first |
//! | `fraction` | fire on this share of matching requests, deterministically (0.5 = every second one) |
//!
//! Examples: `verb=list,resource=pods,status=429,retry-after=1,count=2`,
//! `resource=pods,status=503,fraction=0.5`, `verb=get,action=drop,count=1`,
//! `delay-ms=500`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    Status { code: u16, retry_after: Option<u64> },
    Drop,
    Delay(u64),
}

#[derive(Debug)]
pub struct Fault {
    pub spec: String,
    verbs: Vec<String>,
    resource: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    pub action: FaultAction,
    count: Option<u64>,
    after: u64,
    fraction: Option<f64>,
    matched: AtomicU64,
    fired: AtomicU64,
}

/// What a request looks like to the fault matcher.
#[derive(Debug, Default)]
pub struct RequestFacts<'a> {
    pub verb: &'a str,
    /// `pods`, `pods/log`; empty for non-resource paths.
    pub resource: &'a str,
    pub group: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl Fault {
    pub fn parse(spec: &str) -> Result<Fault, String> {
        let mut f = Fault {
            spec: spec.to_string(),
            verbs: Vec::new(),
            resource: None,
            namespace: None,
            name: None,
            action: FaultAction::Delay(0),
            count: None,
            after: 0,
            fraction: None,
            matched: AtomicU64::new(0),
            fired: AtomicU64::new(0),
        };
        let (mut status, mut retry_after, mut action, mut delay) = (None, None, None, None);
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("fault {spec:?}: expected key=value, got {part:?}"))?;
            let num = |v: &str| -> Result<u64, String> {
                v.parse()
                    .map_err(|_| format!("fault {spec:?}: {k} must be a number, got {v:?}"))
            };
            match k.trim() {
                "verb" | "verbs" => {
                    f.verbs = v
                        .split('|')
                        .filter(|x| !x.is_empty() && *x != "*")
                        .map(str::to_string)
                        .collect()
                }
                "resource" => f.resource = Some(v.to_string()).filter(|r| r != "*"),
                "namespace" => f.namespace = Some(v.to_string()),
                "name" => f.name = Some(v.to_string()),
                "status" => {
                    let code = num(v)?;
                    if !(400..600).contains(&code) {
                        return Err(format!("fault {spec:?}: status must be 400-599"));
                    }
                    status = Some(code as u16)
                }
                "retry-after" | "retryAfter" => retry_after = Some(num(v)?),
                "action" => action = Some(v.to_string()),
                "delay-ms" | "delayMs" => delay = Some(num(v)?),
                "count" => f.count = Some(num(v)?),
                "after" => f.after = num(v)?,
                "fraction" => {
                    let x: f64 = v
                        .parse()
                        .map_err(|_| format!("fault {spec:?}: fraction must be a number"))?;
                    if !(0.0..=1.0).contains(&x) {
                        return Err(format!("fault {spec:?}: fraction must be between 0 and 1"));
                    }
                    f.fraction = Some(x)
                }
                other => return Err(format!("fault {spec:?}: unknown key {other:?}")),
            }
        }
        f.action = match (action.as_deref(), status, delay) {
            (Some("drop"), _, _) => FaultAction::Drop,
            (Some("delay") | None, None, Some(ms)) => FaultAction::Delay(ms),
            (Some("status") | None, Some(code), _) => FaultAction::Status {
                code,
                retry_after: retry_after.or(matches!(code, 429 | 503).then_some(1)),
            },
            (Some("delay"), _, None) => {
                return Err(format!("fault {spec:?}: action=delay needs delay-ms"));
            }
            (Some("status"), None, _) => {
                return Err(format!("fault {spec:?}: action=status needs status"));
            }
            (Some(a), _, _) if !matches!(a, "status" | "delay") => {
                return Err(format!(
                    "fault {spec:?}: unknown action {a:?} (status, drop, delay)"
                ));
            }
            _ => {
                return Err(format!(
                    "fault {spec:?}: needs status=, action=drop or delay-ms="
                ));
            }
        };
        Ok(f)
    }

    fn matches(&self, r: &RequestFacts<'_>) -> bool {
        let resource_ok = self.resource.as_deref().is_none_or(|want| {
            let (want_res, want_group) = match want.split_once('.') {
                Some((res, group)) => (res, Some(group)),
                None => (want, None),
            };
            let base = r.resource.split('/').next().unwrap_or("");
            (want_res == r.resource || want_res == base) && want_group.is_none_or(|g| g == r.group)
        });
        (self.verbs.is_empty() || self.verbs.iter().any(|v| v == r.verb))
            && resource_ok
            && self.namespace.as_deref().is_none_or(|n| n == r.namespace)
            && self.name.as_deref().is_none_or(|n| n == r.name)
    }

    /// Counts the request and says whether this fault fires for it.
    pub fn fire(&self, r: &RequestFacts<'_>) -> bool {
        if !self.matches(r) {
            return false;
        }
        let n = self.matched.fetch_add(1, Ordering::SeqCst);
        if n < self.after {
            return false;
        }
        let n = n - self.after;
        if let Some(fr) = self.fraction {
            // Deterministic spreading: fire when the running share crosses a whole number.
            if ((n + 1) as f64 * fr).floor() <= (n as f64 * fr).floor() {
                return false;
            }
        }
        let fired = self.fired.fetch_add(1, Ordering::SeqCst);
        if self.count.is_some_and(|c| fired >= c) {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_and_match() {
        let f = Fault::parse("verb=list,resource=pods,status=429,retry-after=2,count=2")
            .expect("valid");
        assert_eq!(
            f.action,
            FaultAction::Status {
                code: 429,
                retry_after: Some(2)
            }
        );
        let list = RequestFacts {
            verb: "list",
            resource: "pods",
            ..Default::default()
        };
        let get = RequestFacts {
            verb: "get",
            resource: "pods",
            ..Default::default()
        };
        assert!(!f.fire(&get));
        assert!(f.fire(&list) && f.fire(&list) && !f.fire(&list));
    }

    #[test]
    fn fraction_and_errors() {
        let f = Fault::parse("status=503,fraction=0.5").expect("valid");
        let r = RequestFacts {
            verb: "get",
            ..Default::default()
        };
        let fired: Vec<bool> = (0..4).map(|_| f.fire(&r)).collect();
        assert_eq!(fired, [false, true, false, true]);
        assert_eq!(
            Fault::parse("action=drop").expect("drop").action,
            FaultAction::Drop
        );
        assert_eq!(
            Fault::parse("delay-ms=50").expect("delay").action,
            FaultAction::Delay(50)
        );
        assert!(Fault::parse("status=200").is_err());
        assert!(Fault::parse("bogus=1").is_err());
        assert!(Fault::parse("verb=list").is_err());
    }
}
