//! Panels and SVG probes shared by the chart tests.

use super::axes::HOUR;
use crate::funnels::{step_counts, CountBy, Funnel, FunnelReport, Step};
use crate::panels::{
    ActiveUsers, ErrorMinute, ErrorRate, FeatureRow, FunnelHour, Panel, SessionsPoint,
};

pub(super) const T0: i64 = 1_767_268_800; // 2026-01-01T12:00:00Z

pub(super) fn assert_svg(svg: &str) {
    assert!(svg.starts_with("<svg"), "not an SVG document: {svg:.80}");
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(!svg.contains("NaN"), "NaN coordinates in {svg}");
}

/// How the SVG backend writes a `<text>` element's content.
fn text_tag(label: &str) -> String {
    format!(">\n{label}\n</text>")
}

pub(super) fn has_text(svg: &str, label: &str) -> bool {
    svg.contains(&text_tag(label))
}

/// The y of the `<text>` element whose content is `label`.
pub(super) fn text_y(svg: &str, label: &str) -> i32 {
    let end = svg
        .find(&text_tag(label))
        .unwrap_or_else(|| panic!("no text {label}"));
    let tag = &svg[svg[..end].rfind("<text").expect("text tag")..end];
    let y = tag
        .split(" y=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("y attribute");
    y.parse().expect("numeric y")
}

pub(super) fn active_users() -> Panel {
    let series = (0..60)
        .map(|i| SessionsPoint {
            t: T0 + i * 60,
            sessions: (i % 7) as u64,
        })
        .collect();
    Panel::ActiveUsers(ActiveUsers { value: 12, series })
}

pub(super) fn funnel() -> Panel {
    Panel::SignupFunnel(vec![
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
    ])
}

pub(super) fn features() -> Panel {
    let row = |feature: &str, users| FeatureRow {
        feature: feature.into(),
        users,
        events: users * 3,
    };
    Panel::TopFeatures(vec![
        row("search", 42),
        row("export & share", 17),
        row("billing", 3),
    ])
}

pub(super) fn errors() -> Panel {
    let minute = |i: i64, errors, total| ErrorMinute {
        minute: T0 + i * 60,
        errors,
        total,
        rate_pct: crate::panels::error_rate_pct(errors, total),
    };
    Panel::ErrorRate(ErrorRate {
        threshold_pct: 1.0,
        series: vec![minute(0, 1, 200), minute(5, 3, 60)],
    })
}

/// The `<title>` texts of the hover targets, in order.
pub(super) fn titles(svg: &str) -> Vec<String> {
    svg.split("<title>")
        .skip(1)
        .map(|t| t.split("</title>").next().unwrap().to_string())
        .collect()
}

/// A three-step funnel: 240 started, 180 verified, 90 completed over 24h.
pub(super) fn funnel_report() -> FunnelReport {
    let step = |name: &str| Step {
        event_name: name.into(),
        filters: Default::default(),
    };
    let funnel = Funnel {
        steps: vec![
            step("signup_started"),
            step("email_verified"),
            step("signup_completed"),
        ],
        ..Funnel::builtin_signup()
    };
    FunnelReport {
        id: funnel.id.clone(),
        range: crate::panels::Range::H24,
        window_s: funnel.window_s,
        count_by: CountBy::User,
        as_of_flush: 3,
        filters: Default::default(),
        steps: step_counts(&funnel, &[240, 180, 90]),
        breakdown: None,
        groups: Vec::new(),
    }
}
