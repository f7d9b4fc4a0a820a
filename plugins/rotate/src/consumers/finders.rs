//! The consumer finders: one function per way an object can reference a Secret or
//! ConfigMap. Adding a reference kind is one function here and one row in a table.

use k8s_openapi::api::core::v1::{
    Container, EnvFromSource, EnvVar, EphemeralContainer, PodSpec, ServiceAccount, VolumeMount,
};
use k8s_openapi::api::networking::v1::Ingress;

use super::{RefKind, Reference, Usage};

/// A finder over a pod spec: every reference it makes, with JSON pointers under `base`
/// (`/spec/template/spec` for a Deployment).
pub type PodSpecFinder = fn(&PodSpec, &str) -> Vec<Reference>;

/// The pod-spec finders, in report order.
pub const POD_SPEC_FINDERS: &[(&str, PodSpecFinder)] = &[
    ("env valueFrom", env_key_refs),
    ("envFrom", env_from),
    ("secret/configMap volume", volumes),
    ("projected volume", projected_volumes),
    ("CSI nodePublishSecretRef", csi_volumes),
    ("imagePullSecrets", pod_image_pull_secrets),
];

/// Every reference a pod spec makes, from every finder.
pub fn pod_spec_references(spec: &PodSpec, base: &str) -> Vec<Reference> {
    POD_SPEC_FINDERS
        .iter()
        .flat_map(|(_, find)| find(spec, base))
        .collect()
}

/// One container of any of the three lists, seen the same way.
struct ContainerView<'a> {
    /// `containers`, `initContainers` or `ephemeralContainers`.
    list: &'static str,
    index: usize,
    name: &'a str,
    env: &'a [EnvVar],
    env_from: &'a [EnvFromSource],
    mounts: &'a [VolumeMount],
}

fn containers(spec: &PodSpec) -> Vec<ContainerView<'_>> {
    fn view<'a>(list: &'static str, index: usize, c: &'a Container) -> ContainerView<'a> {
        ContainerView {
            list,
            index,
            name: &c.name,
            env: c.env.as_deref().unwrap_or_default(),
            env_from: c.env_from.as_deref().unwrap_or_default(),
            mounts: c.volume_mounts.as_deref().unwrap_or_default(),
        }
    }
    fn ephemeral(index: usize, c: &EphemeralContainer) -> ContainerView<'_> {
        ContainerView {
            list: "ephemeralContainers",
            index,
            name: &c.name,
            env: c.env.as_deref().unwrap_or_default(),
            env_from: c.env_from.as_deref().unwrap_or_default(),
            mounts: c.volume_mounts.as_deref().unwrap_or_default(),
        }
    }
    let mut out: Vec<ContainerView<'_>> = Vec::new();
    out.extend(
        spec.containers
            .iter()
            .enumerate()
            .map(|(i, c)| view("containers", i, c)),
    );
    out.extend(
        spec.init_containers
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| view("initContainers", i, c)),
    );
    out.extend(
        spec.ephemeral_containers
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| ephemeral(i, c)),
    );
    out
}

/// Where a finder found names: how they are used, by which container, for people, whether
/// the kubelet refreshes the value in place, and the JSON pointer they sit under.
struct Place<'a> {
    usage: Usage,
    container: Option<&'a str>,
    detail: String,
    live_update: bool,
    at: String,
}

/// The reference to `name` (a Secret or ConfigMap) at `place`/`field`, reading `keys`.
fn reference(
    kind: RefKind,
    name: &str,
    field: &str,
    keys: Vec<String>,
    optional: Option<bool>,
    place: &Place<'_>,
) -> Reference {
    Reference {
        kind,
        name: name.to_string(),
        usage: place.usage,
        container: place.container.map(str::to_string),
        detail: place.detail.clone(),
        keys,
        optional: optional == Some(true),
        live_update: place.live_update,
        pointer: format!("{}/{field}", place.at),
    }
}

fn item_keys(items: Option<&Vec<k8s_openapi::api::core::v1::KeyToPath>>) -> Vec<String> {
    items.into_iter().flatten().map(|k| k.key.clone()).collect()
}

/// `env[].valueFrom.secretKeyRef` / `configMapKeyRef`: one key, read at container start.
pub fn env_key_refs(spec: &PodSpec, base: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    for c in containers(spec) {
        for (i, env) in c.env.iter().enumerate() {
            let Some(from) = &env.value_from else {
                continue;
            };
            let secret = from.secret_key_ref.as_ref();
            let config = from.config_map_key_ref.as_ref();
            let Some(key) = secret.map(|r| &r.key).or(config.map(|r| &r.key)) else {
                continue;
            };
            let place = Place {
                usage: Usage::Env,
                container: Some(c.name),
                detail: format!("env {} (key {key})", env.name),
                live_update: false,
                at: format!("{base}/{}/{}/env/{i}/valueFrom", c.list, c.index),
            };
            if let Some(r) = secret {
                out.push(reference(
                    RefKind::Secret,
                    &r.name,
                    "secretKeyRef/name",
                    vec![r.key.clone()],
                    r.optional,
                    &place,
                ));
            }
            if let Some(r) = config {
                out.push(reference(
                    RefKind::ConfigMap,
                    &r.name,
                    "configMapKeyRef/name",
                    vec![r.key.clone()],
                    r.optional,
                    &place,
                ));
            }
        }
    }
    out
}

/// `envFrom[].secretRef` / `configMapRef`: every key, read at container start.
pub fn env_from(spec: &PodSpec, base: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    for c in containers(spec) {
        for (i, from) in c.env_from.iter().enumerate() {
            let prefix = from
                .prefix
                .as_deref()
                .map(|p| format!(" (prefix {p})"))
                .unwrap_or_default();
            let place = Place {
                usage: Usage::EnvFrom,
                container: Some(c.name),
                detail: format!("envFrom{prefix}"),
                live_update: false,
                at: format!("{base}/{}/{}/envFrom/{i}", c.list, c.index),
            };
            if let Some(r) = &from.secret_ref {
                out.push(reference(
                    RefKind::Secret,
                    &r.name,
                    "secretRef/name",
                    Vec::new(),
                    r.optional,
                    &place,
                ));
            }
            if let Some(r) = &from.config_map_ref {
                out.push(reference(
                    RefKind::ConfigMap,
                    &r.name,
                    "configMapRef/name",
                    Vec::new(),
                    r.optional,
                    &place,
                ));
            }
        }
    }
    out
}

/// Where a volume is mounted, and whether the kubelet refreshes it in place: a volume
/// mounted with `subPath` anywhere keeps the value the container started with.
fn mounts_of(spec: &PodSpec, volume: &str) -> (Vec<String>, bool) {
    let mut paths = Vec::new();
    let mut live = true;
    for c in containers(spec) {
        for m in c.mounts.iter().filter(|m| m.name == volume) {
            paths.push(format!("{}:{}", c.name, m.mount_path));
            if m.sub_path.as_deref().is_some_and(|s| !s.is_empty())
                || m.sub_path_expr.as_deref().is_some_and(|s| !s.is_empty())
            {
                live = false;
            }
        }
    }
    (paths, live)
}

/// The place of a volume: `volume creds at app:/etc/creds`.
fn volume_place(
    spec: &PodSpec,
    what: &str,
    volume: &str,
    usage: Usage,
    at: String,
) -> Place<'static> {
    let (paths, live_update) = mounts_of(spec, volume);
    let detail = if paths.is_empty() {
        format!("{what} {volume} (not mounted)")
    } else {
        format!("{what} {volume} at {}", paths.join(", "))
    };
    Place {
        usage,
        container: None,
        detail,
        live_update,
        at,
    }
}

/// `volumes[].secret` / `volumes[].configMap`: the listed `items` keys, or every key.
pub fn volumes(spec: &PodSpec, base: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let place = volume_place(
            spec,
            "volume",
            &v.name,
            Usage::Volume,
            format!("{base}/volumes/{i}"),
        );
        if let Some(s) = &v.secret
            && let Some(name) = &s.secret_name
        {
            out.push(reference(
                RefKind::Secret,
                name,
                "secret/secretName",
                item_keys(s.items.as_ref()),
                s.optional,
                &place,
            ));
        }
        if let Some(cm) = &v.config_map {
            out.push(reference(
                RefKind::ConfigMap,
                &cm.name,
                "configMap/name",
                item_keys(cm.items.as_ref()),
                cm.optional,
                &place,
            ));
        }
    }
    out
}

/// `volumes[].projected.sources[].secret` / `.configMap`.
pub fn projected_volumes(spec: &PodSpec, base: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let Some(p) = &v.projected else { continue };
        for (j, src) in p.sources.iter().flatten().enumerate() {
            let at = format!("{base}/volumes/{i}/projected/sources/{j}");
            let place = volume_place(
                spec,
                "projected volume",
                &v.name,
                Usage::ProjectedVolume,
                at,
            );
            if let Some(s) = &src.secret {
                out.push(reference(
                    RefKind::Secret,
                    &s.name,
                    "secret/name",
                    item_keys(s.items.as_ref()),
                    s.optional,
                    &place,
                ));
            }
            if let Some(cm) = &src.config_map {
                out.push(reference(
                    RefKind::ConfigMap,
                    &cm.name,
                    "configMap/name",
                    item_keys(cm.items.as_ref()),
                    cm.optional,
                    &place,
                ));
            }
        }
    }
    out
}

/// `volumes[].csi.nodePublishSecretRef`: handed to the CSI driver at mount time.
pub fn csi_volumes(spec: &PodSpec, base: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let Some(csi) = &v.csi else { continue };
        let Some(r) = &csi.node_publish_secret_ref else {
            continue;
        };
        let what = format!("CSI ({}) volume", csi.driver);
        let mut place = volume_place(
            spec,
            &what,
            &v.name,
            Usage::CsiVolume,
            format!("{base}/volumes/{i}/csi"),
        );
        // The driver reads the Secret at mount time only.
        place.live_update = false;
        out.push(reference(
            RefKind::Secret,
            &r.name,
            "nodePublishSecretRef/name",
            Vec::new(),
            None,
            &place,
        ));
    }
    out
}

/// `imagePullSecrets` of a pod spec: read when an image is pulled.
pub fn pod_image_pull_secrets(spec: &PodSpec, base: &str) -> Vec<Reference> {
    spec.image_pull_secrets
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| pull_secret(&r.name, format!("{base}/imagePullSecrets/{i}/name")))
        .collect()
}

/// `imagePullSecrets` of a ServiceAccount: copied into every new pod that uses it.
pub fn service_account_pull_secrets(sa: &ServiceAccount) -> Vec<Reference> {
    sa.image_pull_secrets
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| pull_secret(&r.name, format!("/imagePullSecrets/{i}/name")))
        .collect()
}

fn pull_secret(name: &str, pointer: String) -> Reference {
    Reference {
        kind: RefKind::Secret,
        name: name.to_string(),
        usage: Usage::ImagePullSecret,
        container: None,
        detail: "imagePullSecrets".to_string(),
        keys: Vec::new(),
        optional: false,
        live_update: true,
        pointer,
    }
}

/// `spec.tls[].secretName` of an Ingress: `tls.crt` and `tls.key`, reloaded by the
/// ingress controller when the Secret changes.
pub fn ingress_tls(ing: &Ingress) -> Vec<Reference> {
    let tls = ing
        .spec
        .as_ref()
        .and_then(|s| s.tls.as_deref())
        .unwrap_or_default();
    tls.iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let name = t.secret_name.clone()?;
            let hosts = t.hosts.clone().unwrap_or_default().join(", ");
            Some(Reference {
                kind: RefKind::Secret,
                name,
                usage: Usage::IngressTls,
                container: None,
                detail: if hosts.is_empty() {
                    "tls".to_string()
                } else {
                    format!("tls for {hosts}")
                },
                keys: vec!["tls.crt".to_string(), "tls.key".to_string()],
                optional: false,
                live_update: true,
                pointer: format!("/spec/tls/{i}/secretName"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> PodSpec {
        serde_json::from_value(json!({
            "containers": [{
                "name": "app",
                "env": [
                    {"name": "PLAIN", "value": "x"},
                    {"name": "USER", "valueFrom": {"secretKeyRef": {"name": "db", "key": "username"}}},
                    {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "level", "optional": true}}}
                ],
                "envFrom": [{"configMapRef": {"name": "cfg"}}, {"prefix": "DB_", "secretRef": {"name": "db"}}],
                "volumeMounts": [
                    {"name": "creds", "mountPath": "/etc/creds"},
                    {"name": "one", "mountPath": "/etc/one/pw", "subPath": "pw"}
                ]
            }],
            "initContainers": [{
                "name": "migrate",
                "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
            }],
            "ephemeralContainers": [{
                "name": "debug",
                "envFrom": [{"secretRef": {"name": "debug-token", "optional": true}}]
            }],
            "volumes": [
                {"name": "creds", "secret": {"secretName": "db", "items": [{"key": "password", "path": "pw"}]}},
                {"name": "one", "secret": {"secretName": "single"}},
                {"name": "bundle", "projected": {"sources": [
                    {"serviceAccountToken": {"path": "token"}},
                    {"secret": {"name": "db"}},
                    {"configMap": {"name": "ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
                ]}},
                {"name": "vault", "csi": {"driver": "secrets-store.csi.k8s.io", "nodePublishSecretRef": {"name": "vault-creds"}}}
            ],
            "imagePullSecrets": [{"name": "registry"}]
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn summary(refs: &[Reference]) -> Vec<String> {
        refs.iter()
            .map(|r| format!("{:?} {} {}", r.kind, r.name, r.pointer))
            .collect()
    }

    #[test]
    fn env_refs_cover_every_container_list() {
        let refs = env_key_refs(&spec(), "/spec");
        assert_eq!(
            summary(&refs),
            [
                "Secret db /spec/containers/0/env/1/valueFrom/secretKeyRef/name",
                "ConfigMap cfg /spec/containers/0/env/2/valueFrom/configMapKeyRef/name",
                "Secret db /spec/initContainers/0/env/0/valueFrom/secretKeyRef/name",
            ]
        );
        assert_eq!(refs[0].keys, ["username"]);
        assert!(refs[1].optional && !refs[0].optional);
        assert_eq!(refs[2].container.as_deref(), Some("migrate"));
        let from = env_from(&spec(), "/spec");
        assert_eq!(
            summary(&from),
            [
                "ConfigMap cfg /spec/containers/0/envFrom/0/configMapRef/name",
                "Secret db /spec/containers/0/envFrom/1/secretRef/name",
                "Secret debug-token /spec/ephemeralContainers/0/envFrom/0/secretRef/name",
            ]
        );
        assert_eq!(from[1].detail, "envFrom (prefix DB_)");
        assert!(from[2].optional);
    }

    #[test]
    fn volumes_projected_csi_and_pull_secrets() {
        let s = spec();
        let v = volumes(&s, "/spec/template/spec");
        assert_eq!(
            summary(&v),
            [
                "Secret db /spec/template/spec/volumes/0/secret/secretName",
                "Secret single /spec/template/spec/volumes/1/secret/secretName",
            ]
        );
        assert_eq!(v[0].keys, ["password"]);
        assert_eq!(v[0].detail, "volume creds at app:/etc/creds");
        assert!(
            v[0].live_update,
            "a plain mount is refreshed by the kubelet"
        );
        assert!(!v[1].live_update, "a subPath mount is not");
        let p = projected_volumes(&s, "/spec");
        assert_eq!(
            summary(&p),
            [
                "Secret db /spec/volumes/2/projected/sources/1/secret/name",
                "ConfigMap ca /spec/volumes/2/projected/sources/2/configMap/name",
            ]
        );
        assert_eq!(p[1].keys, ["ca.crt"]);
        assert_eq!(
            summary(&csi_volumes(&s, "/spec")),
            ["Secret vault-creds /spec/volumes/3/csi/nodePublishSecretRef/name"]
        );
        assert_eq!(
            summary(&pod_image_pull_secrets(&s, "/spec")),
            ["Secret registry /spec/imagePullSecrets/0/name"]
        );
        assert_eq!(
            pod_spec_references(&s, "/spec").len(),
            3 + 3 + 2 + 2 + 1 + 1
        );
    }

    #[test]
    fn service_accounts_and_ingresses() {
        let sa: ServiceAccount = serde_json::from_value(json!({
            "metadata": {"name": "builder"}, "imagePullSecrets": [{"name": "a"}, {"name": "b"}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary(&service_account_pull_secrets(&sa)),
            [
                "Secret a /imagePullSecrets/0/name",
                "Secret b /imagePullSecrets/1/name"
            ]
        );
        let ing: Ingress = serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"tls": [{"hosts": ["a.example.test"], "secretName": "web-tls"}, {"hosts": ["b"]}]}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let refs = ingress_tls(&ing);
        assert_eq!(summary(&refs), ["Secret web-tls /spec/tls/0/secretName"]);
        assert_eq!(refs[0].keys, ["tls.crt", "tls.key"]);
        assert_eq!(refs[0].detail, "tls for a.example.test");
    }
}
