//! No secret value is ever printed or logged: every command, in every output format, at
//! `-v -v` (debug logs), through successes, refusals and failures, is grepped for the
//! values (and their base64) of every Secret it touched.

mod support;

use base64::Engine;
use kube_sandbox::{Sandbox, SandboxOptions, fixture_dir};
use support::*;

const FORMATS: &[&str] = &["table", "wide", "json", "yaml", "name"];

fn known_values() -> Vec<String> {
    let plain = [
        "Vc-Old-Passw0rd-2024",
        "svc-export@vsphere.local",
        "not-a-real-token",
        "Billing-Pass-v1",
        "Billing-Pass-v2",
        "Billing-Pass-v3",
        "Billing-Pass-v4",
        "New-Passw0rd-2025",
        "Wrong-Passw0rd",
        "File-Passw0rd-99",
        "Plain-Secret-Value",
    ];
    let mut out: Vec<String> = plain.iter().map(|s| s.to_string()).collect();
    out.extend(
        plain
            .iter()
            .map(|s| base64::engine::general_purpose::STANDARD.encode(s)),
    );
    out
}

fn check(label: &str, out: &std::process::Output, values: &[String]) {
    let text = all_text(out);
    for v in values {
        assert!(
            !text.contains(v.as_str()),
            "{label} printed a secret value ({} chars):\n{text}",
            v.len()
        );
    }
}

#[test]
fn no_command_prints_a_secret_value_in_any_format_at_debug_level() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let cert = rcgen::CertificateParams::new(vec!["x.example.test".to_string()])
        .and_then(|p| p.self_signed(&key))
        .unwrap_or_else(|e| panic!("{e}"))
        .pem();
    let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    std::fs::write(
        dir.path().join("tls.yaml"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: x-tls, namespace: vsphere}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n  note: {}\n",
            b(&cert),
            b(&key.serialize_pem()),
            b("Plain-Secret-Value")
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let secret_file = dir.path().join("password.txt");
    std::fs::write(&secret_file, "File-Passw0rd-99").unwrap_or_else(|e| panic!("{e}"));
    let file_arg = format!("password={}", secret_file.display());
    let sb = Sandbox::start(SandboxOptions {
        fixtures: vec![
            fixture_dir("rotate/vsphere"),
            fixture_dir("rotate/versions"),
            dir.path().to_path_buf(),
        ],
        ..SandboxOptions::default()
    })
    .unwrap_or_else(|e| panic!("sandbox: {e:#}"));
    let mut values = known_values();
    values.extend(
        key.serialize_pem()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::to_string),
    );

    let vv = |args: &[&str], format: &str| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["-v", "-v", "-o", format]);
        rotate(&sb, &a)
    };
    for f in FORMATS {
        let runs = [
            (
                "secret --dry-run",
                vv(
                    &[
                        "secret",
                        "vsphere-credentials",
                        "-n",
                        "vsphere",
                        "--from-literal",
                        "password=New-Passw0rd-2025",
                        "--keep",
                        "username",
                        "--dry-run",
                    ],
                    f,
                ),
            ),
            (
                "secret --dry-run=server",
                vv(
                    &[
                        "secret",
                        "vsphere-credentials",
                        "-n",
                        "vsphere",
                        "--from-file",
                        &file_arg,
                        "--keep",
                        "username",
                        "--dry-run=server",
                    ],
                    f,
                ),
            ),
            (
                "secret missing key",
                vv(
                    &[
                        "secret",
                        "vsphere-credentials",
                        "-n",
                        "vsphere",
                        "--from-literal",
                        "password=New-Passw0rd-2025",
                    ],
                    f,
                ),
            ),
            ("status", vv(&["status", "db", "-n", "billing"], f)),
            (
                "cleanup --dry-run",
                vv(&["cleanup", "db", "-n", "billing", "--dry-run"], f),
            ),
            (
                "restart --dry-run",
                vv(
                    &[
                        "restart",
                        "--secret",
                        "vsphere-credentials",
                        "-n",
                        "vsphere",
                        "--dry-run",
                    ],
                    f,
                ),
            ),
            ("certs -A", vv(&["certs", "-A"], f)),
        ];
        for (label, out) in &runs {
            check(&format!("{label} -o {f}"), out, &values);
        }
    }
    // Real writes: a failing rotation (rolled back), a successful one, a generated value.
    let failed = vv(
        &[
            "secret",
            "vsphere-credentials",
            "-n",
            "vsphere",
            "--from-literal",
            "password=Wrong-Passw0rd",
            "--keep",
            "username",
            "--timeout",
            "60s",
        ],
        "json",
    );
    assert_exit(&failed, 1);
    check("failed rotation", &failed, &values);
    let ok = vv(
        &[
            "secret",
            "vsphere-credentials",
            "-n",
            "vsphere",
            "--from-file",
            &file_arg,
            "--keep",
            "username",
            "--timeout",
            "60s",
        ],
        "table",
    );
    assert_exit(&ok, 0);
    check("rotation", &ok, &values);
    let generated = vv(
        &[
            "secret",
            "db",
            "-n",
            "billing",
            "--generate",
            "api-token:40",
            "--keep",
            "password",
            "--timeout",
            "60s",
        ],
        "yaml",
    );
    let c = Cluster::new(&sb);
    let doc: serde_json::Value =
        serde_saphyr::from_slice(&generated.stdout).unwrap_or_else(|e| panic!("{e}"));
    let name = doc["plan"]["secret"]["name"].as_str().unwrap_or_default();
    let token = c.get(&format!("/api/v1/namespaces/billing/secrets/{name}"))["data"]["api-token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let raw = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&token)
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    assert_eq!(raw.len(), 40, "a 40-character value was generated");
    values.push(raw);
    values.push(token);
    check("generated rotation", &generated, &values);
    let restart = vv(
        &[
            "restart",
            "--secret",
            "vsphere-credentials",
            "-n",
            "vsphere",
            "--timeout",
            "60s",
        ],
        "wide",
    );
    check("restart", &restart, &values);
}
