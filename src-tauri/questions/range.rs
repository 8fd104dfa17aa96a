//! The time ranges a question covers: `(now - range, now]`, with the bucket each range's
//! time series uses.

use serde::{Deserialize, Serialize};

/// A dashboard time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Range {
    #[serde(rename = "1h")]
    #[default]
    H1,
    #[serde(rename = "6h")]
    H6,
    #[serde(rename = "24h")]
    H24,
}

impl Range {
    pub const ALL: [Range; 3] = [Range::H1, Range::H6, Range::H24];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Range::H1 => "1h",
            Range::H6 => "6h",
            Range::H24 => "24h",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            Range::H1 => 3600,
            Range::H6 => 6 * 3600,
            Range::H24 => 24 * 3600,
        }
    }

    /// The active-users sparkline's bucket: 1 min for 1h, 5 min for 6h, 15 min for 24h.
    pub fn bucket_seconds(self) -> i64 {
        match self {
            Range::H1 => 60,
            Range::H6 => 300,
            Range::H24 => 900,
        }
    }
}
