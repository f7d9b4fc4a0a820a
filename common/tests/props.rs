//! Property tests of common's parsers: durations (`--request-timeout`, `--since`) and
//! quantities (the fit arithmetic): arbitrary input never panics, round trips hold.
//! `make test` runs a few dozen cases each; `make fuzz` runs PROPTEST_CASES of them.

use std::time::Duration;

use common::duration::{human_age, parse_duration, parse_timeout};
use common::quantity::{parse, parse_int, parse_milli};
use proptest::prelude::*;

/// Cases per property: PROPTEST_CASES when set (`make fuzz`), else a bounded default.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings made of the characters durations and quantities are written with, plus noise:
/// far more likely to reach deep into the parsers than uniform unicode.
fn near_miss() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("0"),
            Just("1"),
            Just("9"),
            Just("."),
            Just("-"),
            Just("+"),
            Just("e"),
            Just("E"),
            Just("m"),
            Just("s"),
            Just("h"),
            Just("d"),
            Just("ms"),
            Just("µs"),
            Just("Ki"),
            Just("Mi"),
            Just("Gi"),
            Just("Ei"),
            Just("k"),
            Just("n"),
            Just(" "),
            Just("99999999999999999999"),
            Just("é"),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn durations_never_panic(s in any::<String>()) {
        let _ = parse_duration(&s);
        let _ = parse_timeout(&s);
    }

    #[test]
    fn near_miss_durations_never_panic_and_errors_quote_the_input(s in near_miss()) {
        match parse_duration(&s) {
            Ok(_) => {}
            Err(e) => {
                let text = e.to_string();
                prop_assert!(text.starts_with("invalid duration"), "{text}");
                prop_assert!(!text.contains('\n'), "one line: {text}");
            }
        }
    }

    #[test]
    fn go_durations_round_trip(h in 0u64..1000, m in 0u64..60, s in 0u64..60, ms in 0u64..1000) {
        let text = format!("{h}h{m}m{s}s{ms}ms");
        let want = Duration::from_millis(((h * 60 + m) * 60 + s) * 1000 + ms);
        let got = parse_duration(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // f64 arithmetic inside: equal to the microsecond.
        let diff = got.abs_diff(want);
        prop_assert!(diff < Duration::from_micros(1), "{text}: {got:?} vs {want:?}");
        prop_assert_eq!(parse_duration(&format!("{}", want.as_secs())), Ok(Duration::from_secs(want.as_secs())));
    }

    #[test]
    fn ages_under_ten_minutes_read_back_exactly(secs in 0i64..600) {
        // kubectl's AGE is exact below 10 minutes (`45s`, `5m10s`): it parses back.
        let age = human_age(jiff::SignedDuration::from_secs(secs));
        let back = parse_duration(&age).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, Duration::from_secs(secs as u64), "{}", age);
    }

    #[test]
    fn quantities_never_panic(s in any::<String>()) {
        let _ = parse_milli(&s);
        let _ = parse_int(&s);
        let _ = parse(&s);
    }

    #[test]
    fn near_miss_quantities_never_panic(s in near_miss()) {
        let milli = parse_milli(&s);
        let int = parse_int(&s);
        // Both read the same syntax: one parses exactly when the other does.
        prop_assert_eq!(milli.is_some(), int.is_some(), "{}", s);
    }

    #[test]
    fn binary_quantities_round_trip(n in 0i64..(1 << 20), unit in 0usize..4) {
        let (suffix, shift) = [("", 0), ("Ki", 10), ("Mi", 20), ("Gi", 30)][unit];
        let text = format!("{n}{suffix}");
        prop_assert_eq!(parse_int(&text), Some(n << shift), "{}", text);
        prop_assert_eq!(parse_milli(&text), Some((n << shift) * 1000), "{}", text);
    }

    #[test]
    fn millicores_round_trip_and_round_up(whole in 0i64..10_000, frac in 0i64..1000, extra in 1i64..10) {
        // `1.234` cores = 1234m exactly; a digit past the millicore rounds up, like
        // Quantity.MilliValue().
        let text = format!("{whole}.{frac:03}");
        prop_assert_eq!(parse_milli(&text), Some(whole * 1000 + frac));
        prop_assert_eq!(parse_milli(&format!("{whole}m")), Some(whole));
        let finer = format!("{whole}.{frac:03}{extra}");
        prop_assert_eq!(parse_milli(&finer), Some(whole * 1000 + frac + 1));
    }

    #[test]
    fn decimal_suffixes_agree_with_exponents(n in 0i64..1_000_000, e in 0usize..4) {
        let (suffix, exp) = [("", 0), ("k", 3), ("M", 6), ("G", 9)][e];
        let by_suffix = parse_int(&format!("{n}{suffix}"));
        let by_exponent = parse_int(&format!("{n}e{exp}"));
        prop_assert_eq!(by_suffix, by_exponent);
        prop_assert_eq!(by_suffix, n.checked_mul(10i64.pow(exp as u32)));
    }
}
