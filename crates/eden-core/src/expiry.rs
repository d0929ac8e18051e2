//! When an environment expires: `--ttl` on create, extended by each deploy, swept by `eden gc`.

use std::time::Duration;

use crate::error::Error;

/// The longest `--ttl`: a preview environment that should outlive a year is not one.
const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// How long an environment lives after its last create or deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(Duration);

impl Ttl {
    /// Parses `30s`, `90m`, `12h`, `3d` (and combinations such as `1h30m`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |why: String| Error::InvalidDuration {
            flag: "--ttl",
            value: text.to_string(),
            why,
        };
        let duration = humantime::parse_duration(text).map_err(|e| invalid(e.to_string()))?;
        if duration < Duration::from_secs(1) {
            return Err(invalid("it must be at least 1s".into()));
        }
        if duration > MAX_TTL {
            return Err(invalid("it must be at most a year (365d)".into()));
        }
        Ok(Self(duration))
    }

    pub fn from_secs(seconds: i64) -> Option<Self> {
        u64::try_from(seconds)
            .ok()
            .filter(|s| *s > 0)
            .map(|s| Self(Duration::from_secs(s)))
    }

    pub fn as_secs(self) -> i64 {
        i64::try_from(self.0.as_secs()).unwrap_or(i64::MAX)
    }

    /// Epoch seconds at which an environment updated at `now` expires.
    pub fn expiry_from(self, now: i64) -> i64 {
        now.saturating_add(self.as_secs())
    }
}

/// Parses `--timeout` and other plain durations.
pub fn parse_duration(flag: &'static str, text: &str) -> Result<Duration, Error> {
    humantime::parse_duration(text).map_err(|e| Error::InvalidDuration {
        flag,
        value: text.to_string(),
        why: e.to_string(),
    })
}

/// Epoch seconds as RFC 3339 UTC, for tags and JSON output.
pub fn rfc3339(epoch_seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch_seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| epoch_seconds.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_units_ci_jobs_use() {
        for (text, seconds) in [("30s", 30), ("90m", 5400), ("12h", 43200), ("3d", 259200)] {
            assert_eq!(Ttl::parse(text).unwrap().as_secs(), seconds, "{text}");
        }
        assert_eq!(Ttl::parse("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(Ttl::parse("365d").unwrap().as_secs(), 365 * 86400);
        assert_eq!(Ttl::parse("2h").unwrap().expiry_from(1_000), 8_200);
    }

    #[test]
    fn rejects_durations_without_a_unit_or_length() {
        for bad in ["", "12", "0s", "soon", "-1h", "366d", "100y"] {
            let e = Ttl::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid --ttl {bad:?}")), "{e}");
        }
    }

    #[test]
    fn expiry_is_shown_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(Ttl::from_secs(0), None);
    }
}
