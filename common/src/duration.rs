//! kubectl-style durations: parsing flags like `--request-timeout 30s` / `--since 2d`, and
//! printing ages exactly like kubectl's AGE column (apimachinery `duration.HumanDuration`).

use std::time::Duration;

/// A duration flag value that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (examples: 30s, 5m, 1h30m, 2d, 500ms)")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

/// Parse a kubectl/Go-style duration.
///
/// Accepts a sequence of `<number><unit>` with units `ms`, `s`, `m`, `h` (Go's
/// `time.ParseDuration`, fractions allowed: `1.5h`) plus `d` = 24h for `--since`-style
/// convenience, and a plain non-negative integer meaning seconds (client-go's rule for
/// `--request-timeout`). `0` is zero. Negative values and unknown units are errors.
/// Usable directly as a clap `value_parser`.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("empty"));
    }
    if s.starts_with('-') {
        return Err(err("must not be negative"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = s.parse().map_err(|_| err("number too large"))?;
        return Ok(Duration::from_secs(secs));
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| err("missing unit"))?;
        if num_len == 0 {
            return Err(err("expected a number"));
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| err("bad number"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(err("unknown unit (use ms, s, m, h or d)")),
        };
        rest = &rest[unit_len..];
        total += value * factor;
    }
    Duration::try_from_secs_f64(total).map_err(|_| err("out of range"))
}

/// Parse `--request-timeout`: like [`parse_duration`], but `0` means "no timeout" (`None`).
pub fn parse_timeout(input: &str) -> Result<Option<Duration>, DurationError> {
    parse_duration(input).map(|d| (!d.is_zero()).then_some(d))
}

/// A whole-second duration as a flag value would write it, in the largest unit that
/// divides it exactly: `5m`, `90s`, `2h`, `1d` (round-trips through [`parse_duration`]).
/// For echoing windows and timeouts back in messages ("restarts in the last 30m").
pub fn flag_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 86400 && s.is_multiple_of(86400) {
        format!("{}d", s / 86400)
    } else if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Format an age like kubectl's AGE column (apimachinery `HumanDuration`):
/// `45s`, `5m10s` (under 10m), `42m`, `3h12m` (under 8h), `20h`, `2d3h` (under 8d),
/// `10d`, `2y45d` (under 8y), `9y`. Slightly negative values (clock skew under 2s)
/// print `0s`; more negative ones `<invalid>`.
pub fn human_age(d: jiff::SignedDuration) -> String {
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// Age of something created at `created`, as seen at `now`, formatted by [`human_age`].
/// Pass `now` explicitly so one report uses one clock reading (and tests are stable).
pub fn age_since(created: jiff::Timestamp, now: jiff::Timestamp) -> String {
    human_age(now.duration_since(created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_text_round_trips() {
        for (secs, text) in [
            (300, "5m"),
            (90, "90s"),
            (7200, "2h"),
            (86400, "1d"),
            (0, "0s"),
        ] {
            assert_eq!(flag_text(Duration::from_secs(secs)), text);
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)));
        }
    }

    use jiff::SignedDuration as SD;

    #[test]
    fn parses_go_style_durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in ["", "abc", "5x", "-5s", "s", "1h-2m", "m5"] {
            assert!(parse_duration(bad).is_err(), "{bad} should fail");
        }
        let msg = parse_duration("5x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("\"5x\""), "{msg}");
    }

    #[test]
    fn timeout_zero_is_none() {
        assert_eq!(parse_timeout("0"), Ok(None));
        assert_eq!(parse_timeout("0s"), Ok(None));
        assert_eq!(parse_timeout("2m"), Ok(Some(Duration::from_secs(120))));
    }

    #[test]
    fn human_age_matches_apimachinery() {
        let cases: &[(i64, &str)] = &[
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (45, "45s"),
            (119, "119s"),
            (120, "2m"),
            (310, "5m10s"),
            (600, "10m"),
            (42 * 60 + 59, "42m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 12 * 60, "3h12m"),
            (20 * 3600, "20h"),
            (47 * 3600, "47h"),
            (2 * 86400 + 3 * 3600, "2d3h"),
            (3 * 86400, "3d"),
            (10 * 86400, "10d"),
            (729 * 86400, "729d"),
            (2 * 365 * 86400 + 45 * 86400, "2y45d"),
            (3 * 365 * 86400, "3y"),
            (9 * 365 * 86400, "9y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_age(SD::from_secs(*secs)), *want, "{secs}s");
        }
    }

    #[test]
    fn age_since_uses_given_now() {
        let created: jiff::Timestamp = "2024-01-01T00:00:00Z".parse().unwrap_or_default();
        let now: jiff::Timestamp = "2024-01-03T03:00:00Z".parse().unwrap_or_default();
        assert_eq!(age_since(created, now), "2d3h");
    }
}
