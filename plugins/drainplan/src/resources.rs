//! Resource amounts as the scheduler counts them: exact integers (CPU in millicores, the
//! rest in bytes or units, rounded up), a pod's requests per `resourcehelper.PodRequests`.
//!
//! Quantities come from `common::quantity`; the sandbox has its own parser, so a rounding
//! bug cannot hide in both (tests compare the two at the boundary).

use std::collections::BTreeMap;

use common::quantity::{parse_int, parse_milli};

use crate::wire::{Container, ResourceList};

/// CPU in millicores, memory and ephemeral storage in bytes, every other resource (extended
/// resources such as `nvidia.com/gpu`, hugepages) in whole units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requests {
    pub cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    pub scalar: BTreeMap<String, i64>,
}

impl Requests {
    /// A `ResourceList`; `pods` is not a request and is skipped; unparsable values count 0.
    pub fn from_list(list: &ResourceList) -> Self {
        let mut r = Requests::default();
        for (name, q) in list {
            r.set(name, &q.0);
        }
        r
    }

    fn set(&mut self, name: &str, q: &str) {
        let value = if name == "cpu" {
            parse_milli(q)
        } else {
            parse_int(q)
        };
        let Some(v) = value else {
            tracing::debug!(%name, quantity = %q, "unparsable quantity counted as 0");
            return;
        };
        match name {
            "cpu" => self.cpu = v,
            "memory" => self.memory = v,
            "ephemeral-storage" => self.ephemeral_storage = v,
            "pods" => {}
            other => {
                self.scalar.insert(other.to_string(), v);
            }
        }
    }

    /// The amount of `name` (`cpu` in millicores).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.cpu,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }

    /// Every resource with a non-zero amount, as (name, amount), cpu and memory first.
    pub fn entries(&self) -> Vec<(&str, i64)> {
        let mut out = vec![
            ("cpu", self.cpu),
            ("memory", self.memory),
            ("ephemeral-storage", self.ephemeral_storage),
        ];
        out.extend(self.scalar.iter().map(|(k, v)| (k.as_str(), *v)));
        out.retain(|(_, v)| *v != 0);
        out
    }

    pub fn add(&mut self, o: &Requests) {
        self.cpu = self.cpu.saturating_add(o.cpu);
        self.memory = self.memory.saturating_add(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_add(o.ephemeral_storage);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = e.saturating_add(*v);
        }
    }

    pub fn sub(&mut self, o: &Requests) {
        self.cpu = self.cpu.saturating_sub(o.cpu);
        self.memory = self.memory.saturating_sub(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_sub(o.ephemeral_storage);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = e.saturating_sub(*v);
        }
    }

    /// Per resource, the larger of the two.
    fn max_with(&mut self, o: &Requests) {
        self.cpu = self.cpu.max(o.cpu);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }
}

/// A container's requests. A resource with a limit and no request counts the limit: the API
/// server defaults the request to the limit, and objects written before defaulting may lack it.
fn container_requests(c: &Container) -> Requests {
    let resources = c.resources.as_ref();
    let mut r = resources
        .and_then(|r| r.limits.as_ref())
        .map(Requests::from_list)
        .unwrap_or_default();
    if let Some(req) = resources.and_then(|r| r.requests.as_ref()) {
        for (name, q) in req {
            r.set(name, &q.0);
        }
    }
    r
}

/// What the scheduler reserves for a pod (`resourcehelper.PodRequests`): the containers'
/// sum plus restartable (sidecar) init containers; at least what each regular init container
/// needs beside the sidecars started before it; plus the pod overhead.
pub fn pod_requests(
    containers: &[Container],
    init_containers: &[Container],
    overhead: Option<&ResourceList>,
) -> Requests {
    let mut sum = Requests::default();
    for c in containers {
        sum.add(&container_requests(c));
    }
    let mut sidecars = Requests::default();
    let mut init_peak = Requests::default();
    for c in init_containers {
        let mut r = container_requests(c);
        if c.restart_policy.as_deref() == Some("Always") {
            sum.add(&r);
            sidecars.add(&r);
            r = sidecars.clone();
        } else {
            r.add(&sidecars);
        }
        init_peak.max_with(&r);
    }
    sum.max_with(&init_peak);
    if let Some(o) = overhead {
        sum.add(&Requests::from_list(o));
    }
    sum
}

/// Bytes for people: `1.5Gi`, `512Mi`, `1023` (exact below 1 Ki).
pub fn human_bytes(v: i64) -> String {
    if v.unsigned_abs() < 1024 {
        return v.to_string();
    }
    #[allow(clippy::cast_precision_loss)] // display only
    common::quantity::human_bytes(v as f64)
}

/// Millicores for people: `250m`, `2`, `1500m`.
pub fn human_milli(v: i64) -> String {
    if v % 1000 == 0 {
        (v / 1000).to_string()
    } else {
        format!("{v}m")
    }
}

/// An amount of resource `name` for people.
pub fn human(name: &str, v: i64) -> String {
    match name {
        "cpu" => human_milli(v),
        "memory" | "ephemeral-storage" => human_bytes(v),
        _ if name.starts_with("hugepages-") => human_bytes(v),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Quantity, Resources};

    fn list(pairs: &[(&str, &str)]) -> ResourceList {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
            .collect()
    }

    fn container(req: &[(&str, &str)], lim: &[(&str, &str)], sidecar: bool) -> Container {
        Container {
            resources: Some(Resources {
                requests: (!req.is_empty()).then(|| list(req)),
                limits: (!lim.is_empty()).then(|| list(lim)),
            }),
            restart_policy: sidecar.then(|| "Always".to_string()),
        }
    }

    #[test]
    fn quantities_round_up_like_the_scheduler() {
        let r = Requests::from_list(&list(&[
            ("cpu", "0.5001"),
            ("memory", "1.5Gi"),
            ("nvidia.com/gpu", "1"),
            ("pods", "3"),
        ]));
        assert_eq!(r.cpu, 501);
        assert_eq!(r.memory, 1_610_612_736);
        assert_eq!(r.get("nvidia.com/gpu"), 1);
        assert_eq!(r.get("pods"), 0, "pods is not a request");
    }

    #[test]
    fn limits_stand_in_for_missing_requests() {
        let c = container(
            &[("cpu", "100m")],
            &[("cpu", "1"), ("memory", "64Mi")],
            false,
        );
        let r = pod_requests(&[c], &[], None);
        assert_eq!((r.cpu, r.memory), (100, 64 << 20));
    }

    #[test]
    fn init_containers_sidecars_and_overhead() {
        // app 500m; sidecar 200m runs beside it and beside the later init container (1 cpu):
        // max(500 + 200, 1000 + 200) + overhead 50m = 1250m.
        let app = container(&[("cpu", "500m")], &[], false);
        let sidecar = container(&[("cpu", "200m")], &[], true);
        let init = container(&[("cpu", "1")], &[], false);
        let overhead = list(&[("cpu", "50m")]);
        let r = pod_requests(&[app], &[sidecar, init], Some(&overhead));
        assert_eq!(r.cpu, 1250);
        // A big regular init container alone raises the floor.
        let app = container(&[("memory", "1Gi")], &[], false);
        let init = container(&[("memory", "2Gi")], &[], false);
        assert_eq!(pod_requests(&[app], &[init], None).memory, 2 << 30);
    }

    #[test]
    fn arithmetic_and_display() {
        let mut a = Requests::from_list(&list(&[("cpu", "1"), ("example.com/foo", "2")]));
        let b = Requests::from_list(&list(&[("cpu", "250m"), ("example.com/foo", "1")]));
        a.sub(&b);
        assert_eq!((a.cpu, a.get("example.com/foo")), (750, 1));
        a.add(&b);
        assert_eq!(a.cpu, 1000);
        assert_eq!(
            a.entries(),
            vec![("cpu", 1000), ("example.com/foo", 2)],
            "zeros left out"
        );
        assert_eq!(human_milli(1500), "1500m");
        assert_eq!(human_milli(2000), "2");
        assert_eq!(human_bytes(1023), "1023");
        assert_eq!(human_bytes(1 << 30), "1Gi");
        assert_eq!(human("nvidia.com/gpu", 2), "2");
    }
}
