//! Small wording helpers shared by the pod-state layer and the checks:
//! exit codes with their signal, capped evidence lists, selectors, probes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Probe;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// "137 (SIGKILL)": exit codes above 128 mean death by signal N-128.
pub fn exit_code_text(code: i32) -> String {
    let signal = match code - 128 {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "",
    };
    if signal.is_empty() {
        code.to_string()
    } else {
        format!("{code} ({signal})")
    }
}

/// Keep evidence readable on big workloads: first N lines, then a count.
pub fn capped(lines: Vec<String>, max: usize) -> Vec<String> {
    if lines.len() <= max {
        return lines;
    }
    let rest = lines.len() - max;
    let mut out: Vec<String> = lines.into_iter().take(max).collect();
    out.push(format!("... and {rest} more"));
    out
}

/// `-l`-style text of a label map.
pub fn selector_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// An int-or-string (ports, PDB rules) as written in the manifest.
pub fn intstr(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// "http-get :8080/healthz delay=0s timeout=1s period=10s #failure=3", as kubectl describe shows a probe.
pub fn probe_text(p: &Probe) -> String {
    let how = if let Some(h) = &p.http_get {
        format!(
            "http-get :{}{}",
            intstr(&h.port),
            h.path.as_deref().unwrap_or("/")
        )
    } else if let Some(t) = &p.tcp_socket {
        format!("tcp-socket :{}", intstr(&t.port))
    } else if let Some(e) = &p.exec {
        format!("exec {}", e.command.as_deref().unwrap_or(&[]).join(" "))
    } else if p.grpc.is_some() {
        "grpc".into()
    } else {
        "unknown".into()
    };
    format!(
        "{how} delay={}s timeout={}s period={}s #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(1),
        p.period_seconds.unwrap_or(10),
        p.failure_threshold.unwrap_or(3)
    )
}

/// "1 pod" / "3 pods".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_for_exit_codes() {
        assert_eq!(exit_code_text(137), "137 (SIGKILL)");
        assert_eq!(exit_code_text(143), "143 (SIGTERM)");
        assert_eq!(exit_code_text(139), "139 (SIGSEGV)");
        assert_eq!(exit_code_text(1), "1");
    }

    #[test]
    fn capping_and_plurals() {
        let lines: Vec<String> = (0..6).map(|i| i.to_string()).collect();
        assert_eq!(
            capped(lines, 4).last().map(String::as_str),
            Some("... and 2 more")
        );
        assert_eq!(plural(1, "pod"), "1 pod");
        assert_eq!(plural(2, "pod"), "2 pods");
    }
}
