//! Masking secrets in text that reaches the user (logs, events, error messages), so the
//! "secret values are never printed" rule holds even for text we did not write.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What replaces a secret.
pub const MASK: &str = "***";

struct Rule {
    re: Regex,
    replacement: &'static str,
}

fn rule(pattern: &str, replacement: &'static str) -> Option<Rule> {
    match Regex::new(pattern) {
        Ok(re) => Some(Rule { re, replacement }),
        Err(e) => {
            // The patterns are constants covered by tests; never panic on a user path.
            tracing::error!("redaction pattern failed to compile: {e}");
            None
        }
    }
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    [
        // PEM private keys, whole block (or to end of text when the END line is missing).
        rule(
            r"(?s)-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
            "-----BEGIN ${1}PRIVATE KEY-----***-----END ${1}PRIVATE KEY-----",
        ),
        // user:password@ in URLs: keep the user and host, mask the password.
        rule(r"([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)[^/\s@]+@", "${1}***@"),
        // Authorization headers (any scheme), then bare bearer tokens.
        rule(
            r#"(?i)(\bauthorization"?\s*[:=]\s*"?(?:bearer|basic|token|digest)?\s*)[^\s"',;]+"#,
            "${1}***",
        ),
        rule(r"(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*", "${1}***"),
        // key=value / key: value / "key": "value" for secret-looking keys.
        rule(
            r#"(?i)(\b[\w.\-]*?(?:password|passwd|secret|token|api[_\-]?key)(?:[_\-]?key)?)("?\s*[=:]\s*"?)([^\s"',;&]+)"#,
            "${1}${2}***",
        ),
        // AWS access key ids.
        rule(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", "AKIA***"),
        // JWTs (service account tokens, OIDC id tokens).
        rule(r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}", "***"),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// Mask secret-looking parts of one line (or a block) of text.
///
/// Masks: values of keys containing `password`, `passwd`, `secret`, `token`, `api_key`/
/// `api-key`/`apikey` (`=`, `:` or JSON style); `Authorization:` header values and
/// `Bearer` tokens; URL passwords (`scheme://user:***@host`); AWS access key ids;
/// JWT-shaped strings; PEM private key blocks. Borrows when nothing matched.
/// Over-masking is preferred to leaking: `secret: my-tls` becomes `secret: ***`.
pub fn redact_line(s: &str) -> Cow<'_, str> {
    let mut out: Cow<'_, str> = Cow::Borrowed(s);
    for r in RULES.iter() {
        if r.re.is_match(&out) {
            out = Cow::Owned(r.re.replace_all(&out, r.replacement).into_owned());
        }
    }
    out
}

/// Mask secrets in a block of text of any number of lines: [`redact_line`]'s rules applied
/// to the whole block (so a PEM private key whose base64 body stands on lines of its own is
/// masked from BEGIN to END), plus the body lines of a key whose BEGIN line was cut off
/// (a log tail that starts inside the block).
///
/// This is the function to call wherever text from the cluster becomes a message: it is
/// safe on single lines too.
pub fn redact_text(s: &str) -> Cow<'_, str> {
    let out = redact_line(s);
    if !out.contains("PRIVATE KEY-----") || !is_key_end(&out) {
        return out;
    }
    // An END line with no BEGIN before it: mask the base64 lines that precede it.
    let lines: Vec<&str> = out.split('\n').collect();
    let mut masked: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut in_block = false;
    for i in (0..lines.len()).rev() {
        let line = lines[i];
        if is_key_end(line) && !line.contains("PRIVATE KEY-----***") {
            in_block = true;
            continue;
        }
        if line.contains("BEGIN") {
            in_block = false;
            continue;
        }
        if in_block {
            if is_base64_line(line) {
                masked[i] = MASK.to_string();
            } else {
                in_block = false;
            }
        }
    }
    Cow::Owned(masked.join("\n"))
}

/// The END line of a private key block (a constant pattern, covered by tests).
static KEY_END: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"-----END [A-Z0-9 ]*PRIVATE KEY-----").ok());

fn is_key_end(text: &str) -> bool {
    KEY_END.as_ref().is_some_and(|re| re.is_match(text))
}

/// A line that is (after any log prefix such as `| `) nothing but base64: a PEM body line.
fn is_base64_line(line: &str) -> bool {
    let body = line.rsplit([' ', '|', '\t']).next().unwrap_or("").trim();
    body.len() >= 16
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// Replace every occurrence of the `known` secret values (e.g. decoded Secret data) with
/// `***`. Values of 3 characters or fewer are ignored: masking `"on"` or `"1"` everywhere
/// would destroy the text and reveal which short value it was.
pub fn redact_values<'a>(s: &'a str, known: &[&str]) -> Cow<'a, str> {
    let mut values: Vec<&str> = known
        .iter()
        .copied()
        .filter(|v| v.chars().count() > 3)
        .collect();
    // Longest first, so a value containing another is masked whole.
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut out: Cow<'a, str> = Cow::Borrowed(s);
    for v in values {
        if out.contains(v) {
            out = Cow::Owned(out.replace(v, MASK));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact_line(s).into_owned()
    }

    #[test]
    fn leaves_ordinary_lines_alone() {
        for line in [
            "dial tcp 10.0.0.5:5432: connect: connection refused",
            "Back-off restarting failed container app in pod web-1_shop(1234)",
            "GET /healthz 200 3ms",
            "2024-01-01T00:00:00Z INFO listening on https://0.0.0.0:8443",
            "secret \"db-creds\" not found",
        ] {
            assert!(
                matches!(redact_line(line), Cow::Borrowed(_)),
                "{line} -> {}",
                r(line)
            );
        }
    }

    #[test]
    fn masks_url_passwords() {
        assert_eq!(
            r("connecting to postgres://app:hunter2@db:5432/fleet"),
            "connecting to postgres://app:***@db:5432/fleet"
        );
        assert_eq!(r("redis://:s3cr3t@cache:6379"), "redis://:***@cache:6379");
    }

    #[test]
    fn masks_key_values() {
        assert_eq!(
            r("DB_PASSWORD=hunter2 starting"),
            "DB_PASSWORD=*** starting"
        );
        assert_eq!(r("--password=hunter2"), "--password=***");
        assert_eq!(
            r(r#"{"password": "hunter2", "user": "app"}"#),
            r#"{"password": "***", "user": "app"}"#
        );
        assert_eq!(r("client_secret: abc123 ok"), "client_secret: *** ok");
        assert_eq!(
            r("GET /cb?access_token=abc.def&x=1"),
            "GET /cb?access_token=***&x=1"
        );
        assert_eq!(r("X-Api-Key: 1234567890"), "X-Api-Key: ***");
        assert_eq!(r("apikey=zzz"), "apikey=***");
        assert_eq!(r("passwd=pw1"), "passwd=***");
    }

    #[test]
    fn masks_authorization() {
        assert_eq!(
            r("Authorization: Bearer abc.def-ghi"),
            "Authorization: Bearer ***"
        );
        assert_eq!(
            r("authorization: Basic dXNlcjpwYXNz"),
            "authorization: Basic ***"
        );
        assert_eq!(r("sent bearer abcdef123 to api"), "sent bearer *** to api");
    }

    #[test]
    fn masks_aws_jwt_pem() {
        assert_eq!(r("key AKIAIOSFODNN7EXAMPLE used"), "key AKIA*** used");
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlc2lnbg";
        assert_eq!(r(&format!("got {jwt} back")), "got *** back");
        let pem =
            "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\ny";
        assert_eq!(
            r(pem),
            "x\n-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----\ny"
        );
        let cut = "-----BEGIN PRIVATE KEY-----\nMIIEow";
        assert_eq!(
            r(cut),
            "-----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----"
        );
    }

    #[test]
    fn pem_blocks_across_lines() {
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nVJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDu";
        let log = format!(
            "loading key\n-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\nready"
        );
        let out = redact_text(&log);
        assert!(!out.contains("MIIEvQ") && !out.contains("VJTUt9"), "{out}");
        assert!(out.starts_with("loading key\n") && out.ends_with("\nready"));
        // A tail that starts inside the block: the BEGIN line is gone.
        let tail = format!("{body}\n-----END RSA PRIVATE KEY-----\nready");
        let out = redact_text(&tail);
        assert!(!out.contains("MIIEvQ") && !out.contains("VJTUt9"), "{out}");
        assert!(out.contains("-----END RSA PRIVATE KEY-----"));
        // Log prefixes before each body line.
        let prefixed = "| MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\n| -----END PRIVATE KEY-----";
        assert!(!redact_text(prefixed).contains("MIIEvQ"));
        // Text without keys is borrowed untouched.
        assert!(matches!(redact_text("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn known_values() {
        assert_eq!(
            redact_values("user app pw hunter2!", &["hunter2!", "pw", "app"]),
            "user app pw ***"
        );
        assert_eq!(redact_values("abcdef", &["abcdef", "abc"]), "***");
        assert!(matches!(
            redact_values("nothing", &["hunter2"]),
            Cow::Borrowed(_)
        ));
    }
}
