//! Kubernetes resource quantities (`250m`, `256Mi`, `1.5Gi`, `1e3`) as plain
//! numbers (CPU in cores, memory in bytes), and back into the units people write.

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
    fn formats_like_manifests() {
        assert_eq!(human_bytes(256.0 * 1024.0 * 1024.0), "256Mi");
        assert_eq!(human_bytes(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5Gi");
        assert_eq!(human_bytes(512.0), "512");
        assert_eq!(human_cpu(0.25), "250m");
        assert_eq!(human_cpu(1.5), "1.50");
    }
}
