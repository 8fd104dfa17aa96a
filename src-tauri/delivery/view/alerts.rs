//! The window's alerts: each rule with its state in words (local time), the header's badge while
//! rules fire, and the marks each chart draws where a rule fired and resolved.

use chrono::{DateTime, Local, Utc};
use serde::Serialize;

use crate::delivery::alerts::{window_text, AlertView, Metric, Replayed, Rule, State};
use crate::delivery::charts::{Mark, MarkKind};
use crate::questions::filters::Filters;
use crate::questions::panels::PanelName;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertsView {
    /// `2 alerts firing`; `None` while none fires.
    pub badge: Option<String>,
    /// The names of the rules firing, for the badge's tooltip.
    pub firing: Vec<String>,
    pub rules: Vec<AlertRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRow {
    pub id: String,
    /// As stored: the edit form starts from it.
    pub rule: Rule,
    pub state: State,
    /// `firing since 14:03 · error_rate_pct 2.5 % — fires above 1 % over the last 5m · where
    /// country=DE · ok for 40s of 2m` (the filters and a condition holding, when there are).
    pub status: String,
    /// `webhook failed at 14:03:12: …` for each channel whose last delivery failed.
    pub delivery_errors: Vec<String>,
    /// Newest first: `14:03:12 fired at 2.5`.
    pub transitions: Vec<String>,
}

impl AlertsView {
    pub fn of(alerts: &[AlertView]) -> Self {
        let firing: Vec<String> = alerts
            .iter()
            .filter(|a| a.state.state == State::Firing)
            .map(|a| a.rule.name.clone())
            .collect();
        let badge = match firing.len() {
            0 => None,
            1 => Some("1 alert firing".to_owned()),
            n => Some(format!("{n} alerts firing")),
        };
        Self {
            badge,
            firing,
            rules: alerts.iter().map(row).collect(),
        }
    }
}

fn row(alert: &AlertView) -> AlertRow {
    let (rule, s) = (&alert.rule, &alert.state);
    let window = window_text(rule.window_s);
    let status = match (s.events, s.judged, s.since) {
        _ if alert.waiting_for_product => {
            "waiting for your product's first event (the demo's do not count)".to_owned()
        }
        (None, ..) => "not judged yet".to_owned(),
        (Some(events), false, _) => format!(
            "waiting for {} events ({events} in the last {window})",
            rule.min_events
        ),
        (Some(_), true, since) => judged(alert, since),
    };
    AlertRow {
        id: alert.id.clone(),
        rule: rule.clone(),
        state: s.state,
        status,
        delivery_errors: s
            .delivery_errors
            .iter()
            .map(|(channel, f)| {
                format!(
                    "{channel} failed at {}: {}",
                    local(f.at, "%H:%M:%S"),
                    f.error
                )
            })
            .collect(),
        transitions: s
            .transitions
            .iter()
            .rev()
            .map(|t| {
                format!(
                    "{} {} at {}",
                    local(t.at, "%H:%M:%S"),
                    verb(t.state),
                    t.value
                )
            })
            .collect(),
    }
}

/// The status of a judged rule: its state and value, then what fires it, its filters and a
/// condition still holding.
fn judged(alert: &AlertView, since: Option<DateTime<Utc>>) -> String {
    let (rule, s) = (&alert.rule, &alert.state);
    let mut status = format!(
        "{} since {} · {} {}{}{} — fires {}",
        s.state.as_str(),
        since.map_or_else(|| "–".to_owned(), |t| local(t, "%H:%M")),
        rule.metric.name(),
        if rule.op.is_change() {
            "changed by "
        } else {
            ""
        },
        s.value.map_or_else(|| "–".to_owned(), |v| v.to_string()),
        rule.unit(),
        rule.condition(),
    );
    let filters = rule.filters.to_map();
    if !filters.is_empty() {
        let pairs: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        status += &format!(" · where {}", pairs.join(" "));
    }
    if let (Some(holding), Some(at)) = (s.holding, s.evaluated_at) {
        let held = (at - holding.since).num_seconds().max(0) as u32;
        status += &format!(
            " · {} for {} of {}",
            holding.state.as_str(),
            window_text(held),
            window_text(rule.hold_s)
        );
    }
    status
}

/// A transition of a replay, for people: `14:03 would have fired at 2.5`.
pub fn replayed_text(t: &Replayed) -> String {
    format!(
        "{} would have {} at {}",
        local(t.at, "%H:%M"),
        verb(t.state),
        t.value
    )
}

fn verb(state: State) -> &'static str {
    match state {
        State::Firing => "fired",
        State::Ok => "resolved",
    }
}

fn local(t: DateTime<Utc>, format: &str) -> String {
    t.with_timezone(&Local).format(format).to_string()
}

/// The chart a metric is drawn on: error rate for error and event counts (its hover counts
/// events), active users for sessions; a funnel's conversion and an insight are not panels.
fn panel_of(metric: &Metric) -> Option<PanelName> {
    match metric {
        Metric::ErrorRatePct | Metric::Events => Some(PanelName::ErrorRate),
        Metric::ActiveUsers => Some(PanelName::ActiveUsers),
        Metric::FunnelConversionPct(_) | Metric::FunnelStepPct(..) | Metric::Insight(_) => None,
    }
}

/// Every transition of the rules drawn on `panel`'s chart while it shows `filters`: a rule
/// judged on other events (its own filters) would mark a line it does not measure.
pub fn marks(alerts: &[AlertView], panel: PanelName, filters: &Filters) -> Vec<Mark> {
    alerts
        .iter()
        .filter(|a| panel_of(&a.rule.metric) == Some(panel) && &a.rule.filters == filters)
        .flat_map(|a| {
            a.state.transitions.iter().map(|t| Mark {
                at: t.at.timestamp(),
                kind: match t.state {
                    State::Firing => MarkKind::Fired,
                    State::Ok => MarkKind::Resolved,
                },
                label: format!(
                    "{} {} ({} {})",
                    a.rule.name,
                    verb(t.state),
                    a.rule.metric.name(),
                    t.value
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::delivery::alerts::{Measure, RuleState};

    #[test]
    fn rules_read_in_words_and_mark_their_charts() {
        let at = DateTime::parse_from_rfc3339("2026-11-23T18:00:00Z")
            .unwrap()
            .to_utc();
        let rule = Rule {
            hold_s: 0,
            ..Rule::built_in()
        };
        let mut state = RuleState::default();
        let measure = |events, value| Measure {
            events,
            value: Some(value),
        };
        state.judge(&rule, measure(40, 2.5), at, 1);
        state.judge(&rule, measure(40, 0.5), at + Duration::seconds(90), 2);
        state.judge(&rule, measure(40, 3.0), at + Duration::seconds(180), 3);
        let firing = AlertView {
            id: "error_rate".into(),
            rule: rule.clone(),
            state,
            last_webhook_error: None,
            waiting_for_product: false,
        };
        let mut waiting = RuleState::default();
        waiting.judge(&rule, measure(5, 100.0), at, 1);
        let quiet = AlertView {
            id: "quiet".into(),
            rule: Rule {
                name: "Sessions".into(),
                metric: Metric::ActiveUsers,
                ..rule
            },
            state: waiting,
            last_webhook_error: None,
            waiting_for_product: false,
        };
        let view = AlertsView::of(&[firing.clone(), quiet.clone()]);
        assert_eq!(view.badge.as_deref(), Some("1 alert firing"));
        assert_eq!(view.firing, ["Error rate above 1 %"]);
        let since = local(at + Duration::seconds(180), "%H:%M");
        assert_eq!(
            view.rules[0].status,
            format!("firing since {since} · error_rate_pct 3 % — fires above 1 % over the last 5m")
        );
        assert_eq!(
            view.rules[0].transitions[0],
            format!(
                "{} fired at 3",
                local(at + Duration::seconds(180), "%H:%M:%S")
            )
        );
        assert_eq!(
            view.rules[1].status,
            "waiting for 20 events (5 in the last 5m)"
        );
        let before_the_product = AlertView {
            waiting_for_product: true,
            ..quiet.clone()
        };
        assert_eq!(
            AlertsView::of(&[before_the_product]).rules[0].status,
            "waiting for your product's first event (the demo's do not count)"
        );

        // A chart filtered otherwise than the rule shows none of its marks.
        let germany = Filters::from_map(&[("country".into(), "DE".into())].into()).unwrap();
        assert!(marks(
            std::slice::from_ref(&firing),
            PanelName::ErrorRate,
            &germany
        )
        .is_empty());
        let marks = marks(&[firing, quiet], PanelName::ErrorRate, &Filters::default());
        let labels: Vec<(i64, bool, &str)> = marks
            .iter()
            .map(|m| {
                (
                    m.at - at.timestamp(),
                    m.kind == MarkKind::Fired,
                    m.label.as_str(),
                )
            })
            .collect();
        assert_eq!(
            labels,
            [
                (0, true, "Error rate above 1 % fired (error_rate_pct 2.5)"),
                (
                    90,
                    false,
                    "Error rate above 1 % resolved (error_rate_pct 0.5)"
                ),
                (180, true, "Error rate above 1 % fired (error_rate_pct 3)"),
            ]
        );
    }

    #[test]
    fn a_status_names_the_filters_and_a_condition_still_holding() {
        let at = DateTime::parse_from_rfc3339("2026-11-23T18:00:00Z")
            .unwrap()
            .to_utc();
        let map = [("prop.email_domain".to_owned(), "gmail.com".to_owned())].into();
        let rule = Rule {
            name: "Gmail conversion".into(),
            metric: Metric::FunnelConversionPct("campaign".into()),
            op: crate::delivery::alerts::Op::Below,
            threshold: 50.0,
            window_s: 1800,
            filters: Filters::from_map(&map).unwrap(),
            ..Rule::built_in()
        };
        let mut state = RuleState::default();
        let measure = |value| Measure {
            events: 400,
            value: Some(value),
        };
        state.judge(&rule, measure(51.3), at, 1);
        state.judge(&rule, measure(49.9), at + Duration::seconds(30), 2);
        state.judge(&rule, measure(49.5), at + Duration::seconds(70), 3);
        let alert = AlertView {
            id: "gmail".into(),
            rule,
            state,
            last_webhook_error: None,
            waiting_for_product: false,
        };
        assert_eq!(
            AlertsView::of(&[alert]).rules[0].status,
            format!(
                "ok since {} · funnel_conversion_pct:campaign 49.5 % — fires below 50 % over the \
                 last 30m · where prop.email_domain=gmail.com · firing for 40s of 2m",
                local(at, "%H:%M")
            )
        );
    }
}
