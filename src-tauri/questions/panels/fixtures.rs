//! Panels shared by the panel tests: an hour of sessions, three hours of signups, three
//! features, two minutes of errors, all from 2026-01-01T12:00:00Z.

use super::{
    ActiveUsers, ErrorMinute, ErrorRate, FeatureRow, FunnelHour, Panel, SessionsPoint,
    SignupFunnel, TopFeatures,
};
pub(crate) use crate::delivery::charts::fixtures::{assert_svg, has_text, T0};

const HOUR: i64 = 3600;

pub(crate) fn active_users() -> Panel {
    let series = (0..60)
        .map(|i| SessionsPoint {
            t: T0 + i * 60,
            sessions: (i % 7) as u64,
        })
        .collect();
    Panel::ActiveUsers(ActiveUsers { value: 12, series })
}

pub(crate) fn funnel() -> Panel {
    Panel::SignupFunnel(SignupFunnel(vec![
        FunnelHour {
            hour: T0,
            started: 10,
            completed: 6,
            conversion_pct: Some(60.0),
        },
        FunnelHour {
            hour: T0 + HOUR,
            started: 0,
            completed: 0,
            conversion_pct: None,
        },
        FunnelHour {
            hour: T0 + 2 * HOUR,
            started: 4,
            completed: 1,
            conversion_pct: Some(25.0),
        },
    ]))
}

pub(crate) fn features() -> Panel {
    let row = |feature: &str, users| FeatureRow {
        feature: feature.into(),
        users,
        events: users * 3,
    };
    Panel::TopFeatures(TopFeatures(vec![
        row("search", 42),
        row("export & share", 17),
        row("billing", 3),
    ]))
}

/// Minute `i` after 12:00 with its rate as the panel computes it.
pub(crate) fn minute(i: i64, errors: u64, total: u64) -> ErrorMinute {
    ErrorMinute {
        minute: T0 + i * 60,
        errors,
        total,
        rate_pct: super::error_rate_pct(errors, total),
    }
}

pub(crate) fn errors() -> Panel {
    Panel::ErrorRate(ErrorRate {
        threshold_pct: 1.0,
        series: vec![minute(0, 1, 200), minute(5, 3, 60)],
    })
}
