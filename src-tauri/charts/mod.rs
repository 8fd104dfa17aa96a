//! Panel charts: each panel drawn with plotters in a dark theme, as SVG (the API and the window,
//! with a hover `<title>` on every point and bar) and as one PNG of the whole dashboard (export).
//!
//! The same drawing code serves both backends. Text is measured (and, in the PNG, drawn) with a
//! bundled DejaVu Sans through ab_glyph, so no system font library is needed. Times are Unix
//! seconds on an `i64` axis with hand-picked ticks, because plotters' own numeric ticks would
//! land on odd clock times.

mod active_users;
mod axes;
mod error_rate;
#[cfg(test)]
mod fixtures;
mod font;
mod frame;
mod funnel_steps;
mod hover;
mod labels;
mod marks;
mod png;
mod signup_funnel;
mod theme;
mod top_features;

use std::borrow::Cow;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::funnels::FunnelReport;
use crate::panels::{FeatureRow, Panel, Range};
use hover::Hover;
pub use labels::thousands;
use labels::{event_text, Output};
pub use marks::Mark;
pub use png::{dashboard_png, ChartError, DASHBOARD_PNG_SIZE};

const SIZE: (u32, u32) = (640, 320);

// Every panel is drawn through these generic types: the same code paints the SVG charts and
// the PNG of the whole dashboard.
type Area<DB> = DrawingArea<DB, Shift>;
type Chart<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;
type DrawResult<DB, T = ()> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The chart of one panel as an SVG document (dark theme).
pub fn svg(panel: &Panel, range: Range) -> String {
    svg_marked(panel, range, &[])
}

/// [`svg`] with alert marks where rules fired and resolved (the time charts draw them: error
/// rate and active users).
pub fn svg_marked(panel: &Panel, range: Range, marks: &[Mark]) -> String {
    svg_of(|root, hovers| draw_panel(root, panel, range, marks, Output::Svg, hovers))
}

/// A funnel's steps as an SVG document, captioned with the funnel's `name`.
pub fn funnel_svg(name: &str, report: &FunnelReport) -> String {
    // The name is the user's text; the event names keep to [a-z0-9_.:-] but pass the same way.
    let caption = format!(
        "{} — {}",
        event_text(name, Output::Svg),
        report.range.as_str()
    );
    let mut report = report.clone();
    for step in &mut report.steps {
        step.event_name = event_text(&step.event_name, Output::Svg);
    }
    svg_of(|root, hovers| funnel_steps::draw(root, &caption, &report, hovers))
}

/// What `draw` paints, as an SVG document with its hover titles.
fn svg_of(
    draw: impl for<'a, 'b> FnOnce(
        &'b Area<SVGBackend<'a>>,
        &'b mut Vec<Hover>,
    ) -> DrawResult<SVGBackend<'a>>,
) -> String {
    font::register();
    let mut out = String::new();
    let mut hovers = Vec::new();
    {
        // The backend writes into `out` on present; the scope ends its borrow before we return.
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root, &mut hovers)
            .and_then(|()| root.present())
            .expect("drawing into a string cannot fail");
    }
    let targets: String = hovers.iter().map(Hover::svg).collect();
    let end = out.rfind("</svg>").unwrap_or(out.len());
    out.insert_str(end, &targets);
    out
}

fn draw_panel<DB: DrawingBackend>(
    root: &Area<DB>,
    panel: &Panel,
    range: Range,
    marks: &[Mark],
    out: Output,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    match &*safe_text(panel, out) {
        Panel::ActiveUsers(p) => active_users::draw(root, p, range, marks, hovers),
        Panel::SignupFunnel(hours) => signup_funnel::draw(root, hours, range, hovers),
        Panel::TopFeatures(rows) => top_features::draw(root, rows, range, hovers),
        Panel::ErrorRate(p) => error_rate::draw(root, p, range, marks, hovers),
    }
}

/// The one place text from events enters a chart: the panel with every such text (today the
/// feature names) made safe to draw on `out` (see [`event_text`]). Everything else a chart
/// writes is numbers, times and our own words.
fn safe_text(panel: &Panel, out: Output) -> Cow<'_, Panel> {
    match panel {
        Panel::TopFeatures(rows) => Cow::Owned(Panel::TopFeatures(
            rows.iter()
                .map(|row| FeatureRow {
                    feature: event_text(&row.feature, out),
                    ..row.clone()
                })
                .collect(),
        )),
        Panel::ActiveUsers(_) | Panel::SignupFunnel(_) | Panel::ErrorRate(_) => {
            Cow::Borrowed(panel)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{active_users, assert_svg, errors, features, funnel, titles};
    use super::*;
    use crate::panels::{ActiveUsers, ErrorRate, FeatureRow};

    #[test]
    fn every_point_and_bar_has_a_title_with_its_value() {
        let au = titles(&svg(&active_users(), Range::H1));
        assert_eq!(au.len(), 60);
        assert_eq!(au[0], "12:00 · 0 sessions");
        assert_eq!(au[6], "12:06 · 6 sessions");

        let funnel = titles(&svg(&funnel(), Range::H6));
        assert_eq!(
            funnel,
            [
                "12:00 · 10 started · 6 completed · 60 % conversion",
                "13:00 · 0 started · 0 completed · – conversion",
                "14:00 · 4 started · 1 completed · 25 % conversion",
            ]
        );

        // Feature names are user data: escaped, never markup.
        let mut rows = vec![FeatureRow {
            feature: "a<b&\"c".into(),
            users: 1234,
            events: 5678,
        }];
        if let Panel::TopFeatures(more) = features() {
            rows.extend(more);
        }
        let top = titles(&svg(&Panel::TopFeatures(rows), Range::H24));
        assert_eq!(top.len(), 4);
        assert_eq!(top[0], "a&lt;b&amp;&quot;c · 1,234 users · 5,678 events");
        assert_eq!(top[2], "export &amp; share · 17 users · 51 events");

        let errors = titles(&svg(&errors(), Range::H1));
        assert_eq!(
            errors,
            [
                "12:00 · 1 errors of 200 events · 0.5 %",
                "12:05 · 3 errors of 60 events · 5 %"
            ]
        );
    }

    /// A feature name with a NUL, an ANSI escape, markup and quotes.
    const NASTY: &str = "a\u{0}b\u{1b}[31m<x>&\"'";

    fn nasty_features() -> Panel {
        let row = |feature: &str, users| FeatureRow {
            feature: feature.into(),
            users,
            events: users,
        };
        Panel::TopFeatures(vec![
            row(NASTY, 9),
            row("ship \u{7f}🚀\u{85} it\r\n", 5),
            row("\u{9b}\u{fffe}ok", 2),
        ])
    }

    /// The texts of an SVG's `<text>` and `<title>` elements, as an XML parser reads them.
    fn xml_texts(svg: &str, tag: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("the SVG is not XML: {e}\n{svg}"));
        doc.descendants()
            .filter(|n| n.has_tag_name(tag))
            .map(|n| n.text().unwrap_or_default().trim().to_string())
            .collect()
    }

    #[test]
    fn text_from_events_is_safe_in_every_panel() {
        let panels = [active_users(), funnel(), nasty_features(), errors()];
        for panel in &panels {
            for range in Range::ALL {
                let svg = svg(panel, range);
                assert_svg(&svg);
                xml_texts(&svg, "text");
                assert!(
                    !svg.chars().any(|c| c.is_control() && c != '\n'),
                    "a control character in the SVG of {panel:?}"
                );
            }
        }
        // The names read cleaned, as text (plotters escapes what it draws, we the titles).
        let svg = svg(&nasty_features(), Range::H24);
        let texts = xml_texts(&svg, "text");
        for name in ["ab[31m<x>&\"'", "ship 🚀 it", "ok"] {
            assert!(
                texts.iter().any(|t| t == name),
                "no label {name:?} in {texts:?}"
            );
        }
        assert_eq!(
            xml_texts(&svg, "title"),
            [
                "ab[31m<x>&\"' · 9 users · 9 events",
                "ship 🚀 it · 5 users · 5 events",
                "ok · 2 users · 2 events",
            ]
        );
    }

    #[test]
    fn empty_panels_render_axes_and_a_notice() {
        let empty = [
            Panel::ActiveUsers(ActiveUsers {
                value: 0,
                series: vec![],
            }),
            Panel::SignupFunnel(vec![]),
            Panel::TopFeatures(vec![]),
            Panel::ErrorRate(ErrorRate {
                threshold_pct: 1.0,
                series: vec![],
            }),
        ];
        for panel in &empty {
            for range in Range::ALL {
                let svg = svg(panel, range);
                assert_svg(&svg);
                assert!(svg.contains("No data yet"), "{panel:?} {range:?}");
            }
        }
    }
}
