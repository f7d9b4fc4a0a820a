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
