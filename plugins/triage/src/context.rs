//! What every stage past collection may consult besides the snapshot: the
//! clock, the `--since` window and `--logs N`, with the wording of ages.

/// The run's clock and windows.
#[derive(Debug, Clone)]
pub struct Context {
    pub now: jiff::Timestamp,
    /// The `--since` window for restarts, rollouts and events.
    pub since: jiff::SignedDuration,
    /// `--logs N`: how many previous-log lines to show.
    pub log_lines: usize,
}

impl Context {
    pub fn new(now: jiff::Timestamp, since: jiff::SignedDuration) -> Self {
        Context {
            now,
            since,
            log_lines: 20,
        }
    }

    /// Whether a time falls inside the `--since` window.
    pub fn recent(&self, t: jiff::Timestamp) -> bool {
        self.now.duration_since(t) <= self.since
    }

    /// "5m ago" style age for evidence lines.
    pub fn ago(&self, t: jiff::Timestamp) -> String {
        format!("{} ago", self.age(t))
    }

    /// "5m", "3h", "2d": how long before now `t` was.
    pub fn age(&self, t: jiff::Timestamp) -> String {
        let secs = self.now.duration_since(t).as_secs().max(0);
        if secs < 120 {
            format!("{secs}s")
        } else if secs < 2 * 3600 {
            format!("{}m", secs / 60)
        } else if secs < 48 * 3600 {
            format!("{}h", secs / 3600)
        } else {
            format!("{}d", secs / 86400)
        }
    }

    /// The `--since` window as written back to people: "1h", "30m", "45s".
    pub fn since_text(&self) -> String {
        let s = self.since.as_secs();
        if s % 3600 == 0 {
            format!("{}h", s / 3600)
        } else if s % 60 == 0 {
            format!("{}m", s / 60)
        } else {
            format!("{s}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_window() {
        let now: jiff::Timestamp = "2026-01-01T12:00:00Z".parse().expect("timestamp");
        let ctx = Context::new(now, jiff::SignedDuration::from_mins(30));
        assert_eq!(
            ctx.ago(now - jiff::SignedDuration::from_secs(61)),
            "61s ago"
        );
        assert_eq!(ctx.age(now - jiff::SignedDuration::from_hours(3)), "3h");
        assert_eq!(ctx.age(now - jiff::SignedDuration::from_hours(72)), "3d");
        assert!(ctx.recent(now - jiff::SignedDuration::from_mins(30)));
        assert!(!ctx.recent(now - jiff::SignedDuration::from_mins(31)));
        assert_eq!(ctx.since_text(), "30m");
    }
}
