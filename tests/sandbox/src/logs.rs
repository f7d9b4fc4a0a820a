//! Container logs for `pods/log`, from `sandbox.test/v1 PodLogs` fixtures:
//! container selection, `previous`, `tailLines`, `sinceSeconds`, `limitBytes`
//! with the real kubelet's error messages.

use crate::error::ApiError;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct ContainerLogs {
    pub current: String,
    pub previous: Option<String>,
}

/// Logs by (namespace, pod) then container name.
#[derive(Debug, Default)]
pub struct PodLogs(HashMap<(String, String), HashMap<String, ContainerLogs>>);

/// The `pods/log` query parameters the sandbox honours.
#[derive(Debug, Default)]
pub struct LogQuery {
    pub container: Option<String>,
    pub previous: bool,
    pub tail_lines: Option<usize>,
    pub since_seconds: Option<i64>,
    pub limit_bytes: Option<usize>,
}

impl PodLogs {
    /// Adds one `PodLogs` fixture document.
    pub fn add(&mut self, doc: &Value) -> Result<(), String> {
        let ns = doc
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let pod = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or("PodLogs needs metadata.name (the pod)")?;
        let containers = doc
            .get("containers")
            .and_then(Value::as_object)
            .ok_or("PodLogs needs a containers map")?;
        let entry = self.0.entry((ns.to_string(), pod.to_string())).or_default();
        for (name, logs) in containers {
            let text = |k: &str| logs.get(k).and_then(Value::as_str).map(str::to_string);
            entry.insert(
                name.clone(),
                ContainerLogs {
                    current: text("current").unwrap_or_default(),
                    previous: text("previous"),
                },
            );
        }
        Ok(())
    }

    /// The log text for `pod` (the stored Pod object), or the kubelet's error.
    /// `produced` holds what the simulated runtime wrote for this pod's
    /// containers (failure rules); it wins over the fixtures.
    pub fn read(
        &self,
        pod: &Value,
        q: &LogQuery,
        now: jiff::Timestamp,
        produced: Option<&HashMap<String, ContainerLogs>>,
    ) -> Result<String, ApiError> {
        let ns = crate::store::meta_str(pod, "namespace");
        let name = crate::store::meta_str(pod, "name");
        let names = |key: &str| -> Vec<String> {
            pod.pointer(&format!("/spec/{key}"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let containers = names("containers");
        let init = names("initContainers");
        let container = match &q.container {
            Some(c) => {
                if !containers.contains(c)
                    && !init.contains(c)
                    && !names("ephemeralContainers").contains(c)
                {
                    return Err(ApiError::bad_request(format!(
                        "container {c} is not valid for pod {name}"
                    )));
                }
                c.clone()
            }
            None if containers.len() == 1 => containers[0].clone(),
            None if containers.is_empty() => {
                return Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {name}"
                )));
            }
            None => {
                let mut msg = format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    containers.join(" ")
                );
                if !init.is_empty() {
                    msg.push_str(&format!(
                        " or one of the init containers: [{}]",
                        init.join(" ")
                    ));
                }
                return Err(ApiError::bad_request(msg));
            }
        };
        let logs = produced
            .and_then(|m| m.get(&container))
            .or_else(|| {
                self.0
                    .get(&(ns.to_string(), name.to_string()))
                    .and_then(|m| m.get(&container))
            })
            .cloned()
            .unwrap_or_default();
        let mut text = if q.previous {
            logs.previous.ok_or_else(|| {
                ApiError::bad_request(format!(
                    "previous terminated container \"{container}\" in pod \"{name}\" not found"
                ))
            })?
        } else {
            logs.current
        };
        if let Some(secs) = q.since_seconds {
            text = since(&text, now, secs);
        }
        if let Some(n) = q.tail_lines {
            text = tail(&text, n);
        }
        if let Some(limit) = q.limit_bytes
            && text.len() > limit
        {
            let mut cut = limit;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        Ok(text)
    }
}

/// The last `n` lines, keeping the trailing newline.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let mut out = lines[start..].join("\n");
    if !out.is_empty() && text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Best effort: lines that start with an RFC 3339 timestamp older than the
/// window are dropped; lines without one are kept (there is no clock for them).
fn since(text: &str, now: jiff::Timestamp, secs: i64) -> String {
    let cutoff = now.as_second() - secs;
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let first = line.split_whitespace().next().unwrap_or("");
        let keep = match first.parse::<jiff::Timestamp>() {
            Ok(ts) => ts.as_second() >= cutoff,
            Err(_) => true,
        };
        if keep {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tail_and_previous() {
        let mut l = PodLogs::default();
        l.add(&json!({"metadata": {"namespace": "n", "name": "p"},
            "containers": {"app": {"current": "a\nb\nc\n", "previous": "boom\n"}}}))
            .expect("valid");
        let pod = json!({"metadata": {"namespace": "n", "name": "p"}, "spec": {"containers": [{"name": "app"}, {"name": "side"}]}});
        let now = jiff::Timestamp::now();
        let q = LogQuery {
            container: Some("app".into()),
            tail_lines: Some(2),
            ..Default::default()
        };
        assert_eq!(l.read(&pod, &q, now, None).expect("ok"), "b\nc\n");
        let q = LogQuery {
            container: Some("app".into()),
            previous: true,
            ..Default::default()
        };
        assert_eq!(l.read(&pod, &q, now, None).expect("ok"), "boom\n");
        let q = LogQuery {
            container: Some("side".into()),
            previous: true,
            ..Default::default()
        };
        let e = l.read(&pod, &q, now, None).expect_err("no previous");
        assert_eq!(
            e.message,
            "previous terminated container \"side\" in pod \"p\" not found"
        );
        let e = l
            .read(&pod, &LogQuery::default(), now, None)
            .expect_err("ambiguous");
        assert!(e.message.contains("choose one of: [app side]"));
    }
}
