//! Kubernetes resource quantities (`100m`, `1.5`, `256Mi`, `1e3`, `500M`) as
//! exact integers, for the scheduler's fit check. The sandbox's own parser
//! (it is the oracle the plugins are checked against, so it shares no code
//! with them): integer arithmetic only, rounded up like `resource.Quantity`'s
//! `Value()` and `MilliValue()`, so a request lands on the same side of an
//! allocatable boundary as in the real scheduler.

/// A parsed quantity: `sign × digits × 10^exp10 × 2^exp2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parsed {
    negative: bool,
    digits: u128,
    exp10: i32,
    exp2: u32,
}

fn parse(s: &str) -> Option<Parsed> {
    let s = s.trim();
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return None;
    }
    let mut digits: u128 = 0;
    let mut exp10: i32 = 0;
    for (i, c) in whole.bytes().chain(fraction.bytes()).enumerate() {
        // Digits beyond 38 cannot change a value that fits in i64 after
        // scaling; keep magnitude by counting them in the exponent.
        if digits > u128::MAX / 100 {
            if i < whole.len() {
                exp10 += 1;
            }
            continue;
        }
        digits = digits * 10 + u128::from(c - b'0');
        if i >= whole.len() {
            exp10 -= 1;
        }
    }
    let (e10, exp2) = match suffix {
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
        e if e.starts_with(['e', 'E']) && e.len() > 1 => (e[1..].parse::<i32>().ok()?, 0),
        _ => return None,
    };
    Some(Parsed {
        negative,
        digits,
        exp10: exp10.checked_add(e10)?,
        exp2,
    })
}

/// `ceil(value × 10^scale)` as i64, saturating at the i64 range like
/// `Quantity.ScaledValue` does.
fn scaled(p: Parsed, scale: i32) -> i64 {
    let mut n = p.digits;
    let mut exp10 = p.exp10 + scale;
    let mut inexact = false;
    // Multiply by 2^exp2 first (exact), then apply the decimal exponent.
    for _ in 0..p.exp2 {
        n = n.saturating_mul(2);
    }
    while exp10 > 0 {
        n = n.saturating_mul(10);
        exp10 -= 1;
    }
    while exp10 < 0 && n > 0 {
        inexact |= !n.is_multiple_of(10);
        n /= 10;
        exp10 += 1;
    }
    let magnitude = i64::try_from(n).unwrap_or(i64::MAX);
    if p.negative {
        // Rounding up moves a negative value toward zero.
        -magnitude
    } else if inexact {
        magnitude.saturating_add(1)
    } else {
        magnitude
    }
}

/// cpu in millicores, rounded up like `MilliValue`.
pub fn millis(s: &str) -> Option<i64> {
    parse(s).map(|p| scaled(p, 3))
}

/// An integer quantity (bytes, pods, extended resources), rounded up like `Value`.
pub fn units(s: &str) -> Option<i64> {
    parse(s).map(|p| scaled(p, 0))
}

/// Bytes as the API writes a BinarySI quantity: the largest binary suffix
/// that divides exactly (`10Gi`, `1536Mi`), else the plain number.
pub fn format_binary(bytes: i64) -> String {
    for (suffix, shift) in [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ] {
        let unit = 1i64 << shift;
        if bytes != 0 && bytes % unit == 0 {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu() {
        assert_eq!(millis("100m"), Some(100));
        assert_eq!(millis("1"), Some(1000));
        assert_eq!(millis("1.5"), Some(1500));
        assert_eq!(millis("0.1"), Some(100));
        assert_eq!(millis(".5"), Some(500));
        assert_eq!(millis("7910m"), Some(7910));
        assert_eq!(millis("250u"), Some(1));
        assert_eq!(millis("1000001n"), Some(2));
        assert_eq!(millis("x"), None);
        assert_eq!(millis("1.2.3"), None);
    }

    #[test]
    fn memory() {
        assert_eq!(units("256Mi"), Some(256 * 1024 * 1024));
        assert_eq!(units("1Gi"), Some(1 << 30));
        assert_eq!(units("1.5Gi"), Some(3 << 29));
        assert_eq!(units("1e3"), Some(1000));
        assert_eq!(units("1E3"), Some(1000));
        assert_eq!(units("500M"), Some(500_000_000));
        assert_eq!(units("31629364Ki"), Some(31_629_364 * 1024));
        assert_eq!(units("110"), Some(110));
        assert_eq!(units("12Zi"), None);
        assert_eq!(units(""), None);
        // Exact where floating point is not: 2^53 + 1 bytes.
        assert_eq!(units("9007199254740993"), Some(9_007_199_254_740_993));
        // A fraction of a byte rounds up, like Value().
        assert_eq!(units("1.0000001"), Some(2));
        assert_eq!(units("100m"), Some(1));
        assert_eq!(units("99999999999Ei"), Some(i64::MAX));
    }

    #[test]
    fn binary_format() {
        assert_eq!(format_binary(10 << 30), "10Gi");
        assert_eq!(format_binary(1536 << 20), "1536Mi");
        assert_eq!(format_binary(1000), "1000");
        assert_eq!(format_binary(0), "0");
    }
}
