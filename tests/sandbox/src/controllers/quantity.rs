//! Kubernetes resource quantities (`100m`, `1.5`, `256Mi`, `1e3`, `500M`) as
//! numbers, for the scheduler's fit check. A small parser: the sandbox only
//! needs to compare requests with allocatable, not to round-trip quantities.

/// The value in base units (cores for cpu, bytes for memory), or None when
/// the text is not a quantity.
pub fn parse(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    if num.is_empty() {
        return None;
    }
    let base: f64 = num.parse().ok()?;
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
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    Some(base * mult)
}

/// cpu in millicores, rounded up like `MilliValue`.
pub fn millis(s: &str) -> Option<i64> {
    parse(s).map(|v| (v * 1000.0 - 1e-6).ceil() as i64)
}

/// An integer quantity (bytes, pods), rounded up like `Value`.
pub fn units(s: &str) -> Option<i64> {
    parse(s).map(|v| (v - 1e-9).ceil() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu() {
        assert_eq!(millis("100m"), Some(100));
        assert_eq!(millis("1"), Some(1000));
        assert_eq!(millis("1.5"), Some(1500));
        assert_eq!(millis("7910m"), Some(7910));
        assert_eq!(millis("250u"), Some(1));
        assert_eq!(millis("x"), None);
    }

    #[test]
    fn memory() {
        assert_eq!(units("256Mi"), Some(256 * 1024 * 1024));
        assert_eq!(units("1Gi"), Some(1 << 30));
        assert_eq!(units("1e3"), Some(1000));
        assert_eq!(units("500M"), Some(500_000_000));
        assert_eq!(units("31629364Ki"), Some(31_629_364 * 1024));
        assert_eq!(units("110"), Some(110));
        assert_eq!(units("12Zi"), None);
        assert_eq!(units(""), None);
    }
}
