//! Durations as people write them (`500ms`, `2s`, `5m`, `1h`, `7d`; a bare number is seconds):
//! the one parser and the one writer for flags, funnel windows and alert windows.

use std::time::Duration;

/// Why a text is not a duration; the message shows the text and what would be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(String);

/// The largest unit [`text`] writes: alert windows read best in hours up to their 24h limit,
/// funnel windows in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Largest {
    Hour,
    Day,
}

/// Parses `500ms`, `2s`, `3` (seconds), `1.5m`, `1h`, `7d`.
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| DurationError(format!("{s:?} is not a duration like 500ms, 2s, 1m")))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        _ => {
            return Err(DurationError(format!(
                "unknown unit {unit:?} in {s:?}; use ms, s, m, h or d"
            )))
        }
    };
    // A huge number would overflow a Duration: an error, not a panic (windows come over HTTP).
    Duration::try_from_secs_f64(secs)
        .map_err(|_| DurationError(format!("{s:?} is too long a duration")))
}

/// [`parse`] for settings that count whole seconds (a window like `1.0001s` is a typo).
pub fn whole_seconds(s: &str) -> Result<u64, DurationError> {
    let duration = parse(s)?;
    if duration.subsec_nanos() != 0 {
        return Err(DurationError(format!(
            "{s:?} is not a whole number of seconds"
        )));
    }
    Ok(duration.as_secs())
}

/// The shortest text that says `secs` exactly, in the largest whole unit up to `largest`
/// (`90s`, `2m`, `2h`, `1d`).
pub fn text(secs: u64, largest: Largest) -> String {
    let units: &[(u64, &str)] = match largest {
        Largest::Hour => &[(3600, "h"), (60, "m")],
        Largest::Day => &[(86_400, "d"), (3600, "h"), (60, "m")],
    };
    units
        .iter()
        .find(|(unit, _)| secs > 0 && secs.is_multiple_of(*unit))
        .map_or_else(
            || format!("{secs}s"),
            |(unit, suffix)| format!("{}{suffix}", secs / unit),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse("1.5m").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("7d").unwrap(), Duration::from_secs(7 * 86_400));
        for bad in ["2 weeks", "5 m", "", "h", "-1h", "1w"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&format!("{}d", "9".repeat(30))).is_err());
        assert_eq!(whole_seconds("2m"), Ok(120));
        assert!(whole_seconds("1.5s").is_err());
    }

    #[test]
    fn durations_write_in_the_largest_whole_unit() {
        for (secs, hour, day) in [
            (90, "90s", "90s"),
            (120, "2m", "2m"),
            (7200, "2h", "2h"),
            (86_400, "24h", "1d"),
            (0, "0s", "0s"),
        ] {
            assert_eq!(text(secs, Largest::Hour), hour);
            assert_eq!(text(secs, Largest::Day), day);
        }
    }
}
