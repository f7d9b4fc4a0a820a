//! Kubernetes resource quantities (`250m`, `256Mi`, `1.5Gi`, `1e3`): exact integers rounded
//! as the scheduler rounds them (for fit checks), floats for display, and the units people write.
//!
//! Why our own parser and not `kube_quantity`: the scheduler compares `MilliValue()` (CPU)
//! and `Value()` (memory, pods, extended resources) — exact fixed-point values rounded *up*
//! — and a fit check must agree with it to the byte. Integer arithmetic on the decimal
//! digits gives exactly that in ~60 lines, without `rust_decimal` or a second k8s-openapi
//! version behind `kube_quantity`.

/// A quantity as `mantissa × 10^exp10 × 2^exp2`, exactly as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exact {
    mantissa: i128,
    exp10: i32,
    exp2: u32,
}

fn exact(q: &str) -> Option<Exact> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let (negative, digits) = match num.as_bytes().first() {
        Some(b'-') => (true, &num[1..]),
        Some(b'+') => (false, &num[1..]),
        _ => (false, num),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        || int.len() + frac.len() > 30
    {
        return None;
    }
    let mut mantissa: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        mantissa = mantissa * 10 + i128::from(b - b'0');
    }
    if negative {
        mantissa = -mantissa;
    }
    let frac_len = i32::try_from(frac.len()).ok()?;
    let (exp10, exp2) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        exp => {
            let e: i32 = exp.strip_prefix(['e', 'E'])?.parse().ok()?;
            if !(-30..=30).contains(&e) {
                return None;
            }
            (e, 0)
        }
    };
    Some(Exact {
        mantissa,
        exp10: exp10 - frac_len,
        exp2,
    })
}

/// `value × 10^scale`, rounded up to an integer (apimachinery's `ScaledValue`), saturating.
fn scaled(q: Exact, scale: i32) -> i64 {
    let saturate = |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
    let Some(mut v) = 1i128
        .checked_shl(q.exp2)
        .and_then(|p| q.mantissa.checked_mul(p))
    else {
        return saturate(q.mantissa.signum() * i128::MAX);
    };
    let e = q.exp10 + scale;
    if e >= 0 {
        for _ in 0..e {
            match v.checked_mul(10) {
                Some(n) => v = n,
                None => return saturate(v.signum() * i128::MAX),
            }
        }
        saturate(v)
    } else {
        let div = 10i128.checked_pow(e.unsigned_abs()).unwrap_or(i128::MAX);
        // Round towards +infinity, as Quantity.MilliValue()/Value() do.
        let (quot, rem) = (v / div, v % div);
        saturate(if rem > 0 { quot + 1 } else { quot })
    }
}

/// The quantity in thousandths, rounded up: CPU in millicores (`Quantity.MilliValue()`,
/// what the scheduler compares for `cpu`). `"0.1m"` → 1, `"1.5"` → 1500.
pub fn parse_milli(q: &str) -> Option<i64> {
    exact(q).map(|e| scaled(e, 3))
}

/// The quantity as an integer, rounded up: bytes for memory and storage, a count for pods
/// and extended resources (`Quantity.Value()`, what the scheduler compares for them).
/// `"1.5Gi"` → 1610612736, `"1k"` → 1000, `"0.5"` → 1.
pub fn parse_int(q: &str) -> Option<i64> {
    exact(q).map(|e| scaled(e, 0))
}

/// Parses a quantity into its value in base units; `None` if it is not one.
///
/// Decimal suffixes `n u m k M G T P E`, binary `Ki Mi Gi Ti Pi Ei`, and
/// decimal exponents (`1e3`, `2E6`), as in apimachinery's `resource.Quantity`.
pub fn parse(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    if num.is_empty() {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0f64.powi(2),
        "Gi" => 1024.0f64.powi(3),
        "Ti" => 1024.0f64.powi(4),
        "Pi" => 1024.0f64.powi(5),
        "Ei" => 1024.0f64.powi(6),
        exp => {
            // `1e3` / `1E3`: a decimal exponent (bare `E` is exa, handled above).
            let digits = exp.strip_prefix(['e', 'E'])?;
            10f64.powi(digits.parse().ok()?)
        }
    };
    Some(n * mult)
}

/// Bytes in the binary units people write in manifests: `256Mi`, `1.5Gi`.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["Ki", "Mi", "Gi", "Ti", "Pi"];
    let mut v = bytes;
    let mut unit = "";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    if (v - v.round()).abs() < 0.05 {
        format!("{}{unit}", v.round())
    } else {
        format!("{v:.1}{unit}")
    }
}

/// CPU cores as kubectl shows them: millicores below one core (`250m`), else `1.50`.
pub fn human_cpu(cores: f64) -> String {
    if cores < 1.0 {
        format!("{}m", (cores * 1000.0).round())
    } else {
        format!("{cores:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_suffix_kind() {
        assert_eq!(parse("250m"), Some(0.25));
        assert_eq!(parse("2"), Some(2.0));
        assert_eq!(parse("256Mi"), Some(256.0 * 1024.0 * 1024.0));
        assert_eq!(parse("1.5Gi"), Some(1.5 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse("500M"), Some(5e8));
        assert_eq!(parse("1e3"), Some(1000.0));
        assert_eq!(parse("2E6"), Some(2e6));
        assert_eq!(parse("1E"), Some(1e18));
        assert_eq!(parse("1Ei"), Some(1024f64.powi(6)));
        assert_eq!(parse(" 100k "), Some(1e5));
    }

    #[test]
    fn rejects_what_is_not_a_quantity() {
        for bad in ["", "Mi", "abc", "12Qi", "1e", "--1"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn exact_values_round_up_like_the_scheduler() {
        assert_eq!(parse_milli("250m"), Some(250));
        assert_eq!(parse_milli("1.5"), Some(1500));
        assert_eq!(parse_milli("0.1m"), Some(1), "sub-milli rounds up");
        assert_eq!(parse_milli("100u"), Some(1));
        assert_eq!(parse_milli("2"), Some(2000));
        assert_eq!(parse_milli("1e-3"), Some(1));
        assert_eq!(parse_int("1.5Gi"), Some(1_610_612_736));
        assert_eq!(parse_int("256Mi"), Some(268_435_456));
        assert_eq!(parse_int("1k"), Some(1000));
        assert_eq!(parse_int("0.5"), Some(1));
        assert_eq!(parse_int("128974848"), Some(128_974_848));
        assert_eq!(parse_int("129e6"), Some(129_000_000));
        assert_eq!(parse_int("123Mi"), Some(128_974_848));
        assert_eq!(parse_int("1Ei"), Some(1_152_921_504_606_846_976));
        assert_eq!(parse_int("100Ei"), Some(i64::MAX), "saturates");
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int(".5k"), Some(500));
        for bad in ["", "Mi", "abc", "12Qi", "1e", "--1", ".", "1.2.3", "1e99"] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_like_manifests() {
        assert_eq!(human_bytes(256.0 * 1024.0 * 1024.0), "256Mi");
        assert_eq!(human_bytes(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5Gi");
        assert_eq!(human_bytes(512.0), "512");
        assert_eq!(human_cpu(0.25), "250m");
        assert_eq!(human_cpu(1.5), "1.50");
    }
}
