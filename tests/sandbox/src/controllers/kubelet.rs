//! The kubelet for simulated pods: once bound, a pod either starts (Running,
//! Ready, container statuses, IPs) or waits the way a real kubelet makes it
//! wait for a missing Secret/ConfigMap or key.

use super::scheduler::{IpAllocator, strip_empty};
use super::{NODES, fnv32a, set_condition};
use crate::logs::ContainerLogs;
use crate::runtime::failures::{Mode, Rule};
use crate::runtime::{Applied, Runtime};
use crate::store::{Inner, meta_str};
use serde_json::{Value, json};

pub fn condition_true(obj: &Value, kind: &str) -> bool {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some(kind)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

pub fn is_running(pod: &Value) -> bool {
    pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
}

fn has_key(obj: &Value, key: &str, fields: [&str; 2]) -> bool {
    fields
        .iter()
        .any(|f| obj.get(*f).and_then(|d| d.get(key)).is_some())
}

fn optional(v: &Value) -> bool {
    v.get("optional").and_then(Value::as_bool).unwrap_or(false)
}

/// Kind of object a reference points to, with the kubelet's words for it.
#[derive(Clone, Copy)]
enum RefKind {
    Secret,
    ConfigMap,
}

impl RefKind {
    fn res(self) -> &'static str {
        match self {
            RefKind::Secret => "/secrets",
            RefKind::ConfigMap => "/configmaps",
        }
    }
    fn lower(self) -> &'static str {
        match self {
            RefKind::Secret => "secret",
            RefKind::ConfigMap => "configmap",
        }
    }
    fn kind(self) -> &'static str {
        match self {
            RefKind::Secret => "Secret",
            RefKind::ConfigMap => "ConfigMap",
        }
    }
    fn data_fields(self) -> [&'static str; 2] {
        match self {
            RefKind::Secret => ["data", "stringData"],
            RefKind::ConfigMap => ["data", "binaryData"],
        }
    }
}

/// The error `makeEnvironmentVariables` returns for a container, if any:
/// envFrom first, then env, as the kubelet walks them.
pub fn env_error(inner: &Inner, ns: &str, container: &Value) -> Option<String> {
    let lookup = |kind: RefKind, name: &str| inner.get(kind.res(), ns, name);
    for src in container
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (field, kind) in [
            ("secretRef", RefKind::Secret),
            ("configMapRef", RefKind::ConfigMap),
        ] {
            if let Some(r) = src.get(field) {
                let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                if lookup(kind, name).is_none() && !optional(r) {
                    return Some(format!("{} \"{name}\" not found", kind.lower()));
                }
            }
        }
    }
    for env in container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (field, kind) in [
            ("secretKeyRef", RefKind::Secret),
            ("configMapKeyRef", RefKind::ConfigMap),
        ] {
            let Some(r) = env.pointer(&format!("/valueFrom/{field}")) else {
                continue;
            };
            if optional(r) {
                continue;
            }
            let name = r.get("name").and_then(Value::as_str).unwrap_or("");
            let key = r.get("key").and_then(Value::as_str).unwrap_or("");
            match lookup(kind, name) {
                None => return Some(format!("{} \"{name}\" not found", kind.lower())),
                Some(o) if !has_key(&o, key, kind.data_fields()) => {
                    return Some(format!(
                        "couldn't find key {key} in {} {ns}/{name}",
                        kind.kind()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    None
}

/// A Secret/ConfigMap volume whose object is missing: the pod stays in
/// ContainerCreating (the kubelet retries the mount), as on a real node.
pub fn volume_error(inner: &Inner, ns: &str, pod: &Value) -> Option<String> {
    for v in pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let vname = v.get("name").and_then(Value::as_str).unwrap_or("");
        let mut sources: Vec<(RefKind, &Value, &str)> = Vec::new();
        if let Some(s) = v.get("secret") {
            sources.push((
                RefKind::Secret,
                s,
                s.get("secretName").and_then(Value::as_str).unwrap_or(""),
            ));
        }
        if let Some(c) = v.get("configMap") {
            sources.push((
                RefKind::ConfigMap,
                c,
                c.get("name").and_then(Value::as_str).unwrap_or(""),
            ));
        }
        for p in v
            .pointer("/projected/sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for (field, kind) in [
                ("secret", RefKind::Secret),
                ("configMap", RefKind::ConfigMap),
            ] {
                if let Some(s) = p.get(field) {
                    sources.push((kind, s, s.get("name").and_then(Value::as_str).unwrap_or("")));
                }
            }
        }
        for (kind, src, name) in sources {
            if optional(src) {
                continue;
            }
            let Some(obj) = inner.get(kind.res(), ns, name) else {
                return Some(format!(
                    "MountVolume.SetUp failed for volume \"{vname}\" : {} \"{name}\" not found",
                    kind.lower()
                ));
            };
            for item in src
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let key = item.get("key").and_then(Value::as_str).unwrap_or("");
                if !has_key(&obj, key, kind.data_fields()) {
                    return Some(format!(
                        "MountVolume.SetUp failed for volume \"{vname}\" : configmap references non-existent config key: {key}"
                    ));
                }
            }
        }
    }
    None
}

/// A stable fake digest per image (imageID) and a random container id.
pub fn image_id(image: &str) -> String {
    let mut hex = String::new();
    let mut h = fnv32a(image.as_bytes());
    for seed in 0u8..8 {
        // Chained so the eight words differ (FNV of near-equal inputs does not).
        h = fnv32a(format!("{seed}/{h}/{image}").as_bytes());
        hex.push_str(&format!("{h:08x}"));
    }
    let repo = image.split(['@', ':']).next().unwrap_or(image);
    let repo = if repo.contains('/') {
        if repo.split('/').next().is_some_and(|h| h.contains('.')) {
            repo.to_string()
        } else {
            format!("docker.io/{repo}")
        }
    } else {
        format!("docker.io/library/{repo}")
    };
    format!("{repo}@sha256:{hex}")
}

pub fn container_id() -> String {
    let b: [u8; 32] = rand::random();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("containerd://{hex}")
}

/// The pod's next status on its node: Running and Ready, or waiting.
/// Unbound pods and pods already running are returned as they are.
pub fn sync(
    inner: &Inner,
    ips: &mut IpAllocator,
    runtime: &Runtime,
    mut pod: Value,
    ts: &str,
) -> Value {
    let node_name = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if node_name.is_empty() || is_running(&pod) {
        return pod;
    }
    let ns = meta_str(&pod, "namespace").to_string();
    let node = inner.get(NODES, "", &node_name);
    let containers: Vec<Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<String> = containers
        .iter()
        .map(|c| {
            c.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let mount_error = volume_error(inner, &ns, &pod);
    let errors: Vec<Option<String>> = containers
        .iter()
        .map(|c| env_error(inner, &ns, c))
        .collect();
    let started = mount_error.is_none() && errors.iter().all(Option::is_none);

    let status = pod
        .get("status")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or(json!({}));
    let mut st = status.clone();
    st["hostIP"] = node
        .as_ref()
        .and_then(|n| n.pointer("/status/addresses"))
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|x| x.get("type").and_then(Value::as_str) == Some("InternalIP"))
        })
        .and_then(|x| x.get("address"))
        .cloned()
        .unwrap_or(json!("10.0.0.1"));
    st["hostIPs"] = json!([{"ip": st["hostIP"]}]);
    if st.get("startTime").is_none() {
        st["startTime"] = json!(ts);
    }
    // The sandbox exists once volumes are mounted, so the pod has its IP.
    if mount_error.is_none() && st.get("podIP").is_none() {
        let ip = ips.allocate(node.as_ref(), &node_name);
        st["podIP"] = json!(ip);
        st["podIPs"] = json!([{"ip": ip}]);
    }
    // A container that would start may still fail the way a fixture rule says.
    let failure = if started {
        runtime.failure_for(inner, &pod)
    } else {
        None
    };
    let mut statuses = Vec::new();
    for (c, err) in containers.iter().zip(&errors) {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        let mut cs = json!({"name": name, "image": image, "imageID": "", "ready": started,
            "restartCount": 0, "started": started, "lastState": {}});
        let failing = failure
            .as_ref()
            .filter(|(_, names)| names.iter().any(|n| n == name))
            .map(|(rule, _)| *rule);
        if let Some(rule) = failing {
            cs = failed_status(&pod, c, rule, ts);
        } else if started {
            cs["imageID"] = json!(image_id(image));
            cs["containerID"] = json!(container_id());
            cs["state"] = json!({"running": {"startedAt": ts}});
        } else if mount_error.is_some() {
            cs["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
        } else if let Some(e) = err {
            cs["state"] =
                json!({"waiting": {"reason": "CreateContainerConfigError", "message": e}});
        } else {
            // Containers of a pod with a broken sibling start anyway on a real
            // node; the pod is still not Ready.
            cs["imageID"] = json!(image_id(image));
            cs["containerID"] = json!(container_id());
            cs["state"] = json!({"running": {"startedAt": ts}});
            cs["ready"] = json!(true);
            cs["started"] = json!(true);
        }
        statuses.push(cs);
    }
    if let Some((rule, names)) = &failure {
        record_failure(runtime, &pod, rule, names);
    }
    st["containerStatuses"] = json!(statuses);
    if let Some(inits) = pod
        .pointer("/spec/initContainers")
        .and_then(Value::as_array)
        && mount_error.is_none()
    {
        st["initContainerStatuses"] = json!(inits.iter().map(|c| json!({
            "name": c.get("name"), "image": c.get("image"),
            "imageID": image_id(c.get("image").and_then(Value::as_str).unwrap_or("")),
            "containerID": container_id(), "ready": true, "restartCount": 0, "started": false,
            "lastState": {},
            "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ts, "finishedAt": ts}}
        })).collect::<Vec<_>>());
    }
    let unready: Vec<&String> = names
        .iter()
        .zip(&statuses)
        .filter(|(_, s)| s.get("ready").and_then(Value::as_bool) != Some(true))
        .map(|(n, _)| n)
        .collect();
    let mut conditions: Vec<Value> = status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let sandbox_ready = if mount_error.is_none() {
        "True"
    } else {
        "False"
    };
    set_condition(
        &mut conditions,
        "PodReadyToStartContainers",
        sandbox_ready,
        "",
        "",
        ts,
        false,
    );
    set_condition(&mut conditions, "Initialized", "True", "", "", ts, false);
    st["phase"] = json!(phase(&statuses));
    if unready.is_empty() {
        set_condition(&mut conditions, "Ready", "True", "", "", ts, false);
        set_condition(
            &mut conditions,
            "ContainersReady",
            "True",
            "",
            "",
            ts,
            false,
        );
    } else {
        let list = unready
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let msg = format!("containers with unready status: [{list}]");
        set_condition(
            &mut conditions,
            "Ready",
            "False",
            "ContainersNotReady",
            &msg,
            ts,
            false,
        );
        set_condition(
            &mut conditions,
            "ContainersReady",
            "False",
            "ContainersNotReady",
            &msg,
            ts,
            false,
        );
    }
    set_condition(&mut conditions, "PodScheduled", "True", "", "", ts, false);
    strip_empty(&mut conditions);
    // A condition whose status did not change keeps its time, so a retry
    // that finds the same error writes nothing.
    st["conditions"] = json!(conditions);
    if st == status {
        return pod;
    }
    pod["status"] = st;
    pod
}

/// The pod phase from its container states (`getPhase` for restartPolicy
/// Always): a container not yet started keeps the pod Pending; started
/// containers (running, or waiting to restart after a run) make it Running.
fn phase(statuses: &[Value]) -> &'static str {
    let waiting = statuses.iter().any(|cs| {
        cs.pointer("/state/waiting").is_some() && cs.pointer("/lastState/terminated").is_none()
    });
    if waiting || statuses.is_empty() {
        "Pending"
    } else {
        "Running"
    }
}

/// The kubelet's CrashLoopBackOff delay after `restarts` restarts:
/// 10 s doubling per restart, capped at 5 minutes.
fn back_off(restarts: i64) -> String {
    let secs = (10i64 << (restarts - 1).clamp(0, 5)).min(300);
    if secs % 60 == 0 {
        format!("{}m0s", secs / 60)
    } else if secs > 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// A container status as a failure rule makes it.
fn failed_status(pod: &Value, c: &Value, rule: &Rule, ts: &str) -> Value {
    let name = c.get("name").and_then(Value::as_str).unwrap_or("");
    let image = c.get("image").and_then(Value::as_str).unwrap_or("");
    let mut cs = json!({"name": name, "image": image, "imageID": "", "ready": false,
        "restartCount": 0, "started": false, "lastState": {}});
    match rule.mode {
        Mode::CrashLoopBackOff => {
            let id = container_id();
            let restarts = rule.restart_count.max(1);
            let mut terminated = json!({"exitCode": rule.exit_code, "reason": rule.reason,
                "startedAt": ts, "finishedAt": ts, "containerID": id});
            if !rule.message.is_empty() {
                terminated["message"] = json!(rule.message);
            }
            cs["imageID"] = json!(image_id(image));
            cs["containerID"] = json!(id);
            cs["restartCount"] = json!(restarts);
            cs["lastState"] = json!({"terminated": terminated});
            cs["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                "message": format!("back-off {} restarting failed container={name} pod={}_{}({})",
                    back_off(restarts), meta_str(pod, "name"), meta_str(pod, "namespace"),
                    meta_str(pod, "uid"))}});
        }
        Mode::NotReady => {
            cs["imageID"] = json!(image_id(image));
            cs["containerID"] = json!(container_id());
            cs["started"] = json!(true);
            cs["state"] = json!({"running": {"startedAt": ts}});
        }
        Mode::ImagePullBackOff => {
            cs["state"] = json!({"waiting": {"reason": "ImagePullBackOff",
                "message": format!("Back-off pulling image \"{image}\"")}});
        }
    }
    cs
}

/// Tells the runtime what failed, with the logs the failed runs wrote.
fn record_failure(runtime: &Runtime, pod: &Value, rule: &Rule, names: &[String]) {
    let logs = names
        .iter()
        .filter(|_| rule.mode != Mode::ImagePullBackOff)
        .map(|n| {
            let previous = (rule.mode == Mode::CrashLoopBackOff).then(|| rule.log.clone());
            (
                n.clone(),
                ContainerLogs {
                    current: rule.log.clone(),
                    previous,
                },
            )
        })
        .collect();
    runtime.record(
        meta_str(pod, "uid"),
        Applied {
            rule: rule.name.clone(),
            mode: rule.mode.clone(),
            containers: names.to_vec(),
            message: rule.message.clone(),
        },
        logs,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn env_errors_use_the_kubelet_words() {
        let s = Store::new();
        s.write(false, |t| {
            t.put(
                "/secrets",
                json!({"metadata": {"namespace": "hypersdk", "name": "vsphere-credentials"}, "data": {"username": "eA=="}}),
            );
        });
        let c = json!({"env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "vsphere-credentials", "key": "password"}}}]});
        let err = s.read(|i| env_error(i, "hypersdk", &c));
        assert_eq!(
            err.as_deref(),
            Some("couldn't find key password in Secret hypersdk/vsphere-credentials")
        );
        let c = json!({"envFrom": [{"secretRef": {"name": "x"}}]});
        assert_eq!(
            s.read(|i| env_error(i, "hypersdk", &c)).as_deref(),
            Some("secret \"x\" not found")
        );
        let c = json!({"envFrom": [{"configMapRef": {"name": "x", "optional": true}}],
            "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]});
        assert_eq!(
            s.read(|i| env_error(i, "hypersdk", &c)).as_deref(),
            Some("configmap \"cm\" not found")
        );
    }

    #[test]
    fn image_ids_look_real() {
        assert!(image_id("nginx:1.27").starts_with("docker.io/library/nginx@sha256:"));
        assert!(
            image_id("registry.example.com/a/b:1").starts_with("registry.example.com/a/b@sha256:")
        );
        assert_eq!(
            image_id("x").len(),
            "docker.io/library/x@sha256:".len() + 64
        );
    }
}
