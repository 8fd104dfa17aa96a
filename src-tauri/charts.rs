//! Panel charts: each panel drawn as a dark-theme SVG with plotters.
//!
//! Plotters is built without a font rasteriser, which is fine for SVG: text becomes `<text>`
//! elements that the viewer's browser lays out. Times are Unix seconds on an `i64` axis with
//! hand-picked ticks, because plotters' own numeric ticks would land on odd clock times.

use std::ops::Range as Span;

use chrono::Utc;
use plotters::chart::MeshStyle;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordi64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::panels::{ActiveUsers, ErrorRate, FeatureRow, FunnelHour, Panel, PanelName, Range};

const SIZE: (u32, u32) = (640, 320);
const FONT: FontFamily = FontFamily::SansSerif;

const BACKGROUND: RGBColor = RGBColor(0x11, 0x18, 0x27);
const TEXT: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
const GRID: RGBColor = RGBColor(0x37, 0x41, 0x51);
const SESSIONS: RGBColor = RGBColor(0x60, 0xa5, 0xfa);
const STARTED: RGBColor = RGBColor(0x60, 0xa5, 0xfa);
const COMPLETED: RGBColor = RGBColor(0x34, 0xd3, 0x99);
const CONVERSION: RGBColor = RGBColor(0xfb, 0xbf, 0x24);
const FEATURE: RGBColor = RGBColor(0xa7, 0x8b, 0xfa);
const RATE: RGBColor = RGBColor(0xf8, 0x71, 0x71);
const THRESHOLD: RGBColor = RGBColor(0xef, 0x44, 0x44);

const HOUR: i64 = 3600;
/// Room for y labels such as "1000" or "12.5 %".
const Y_LABELS_W: u32 = 56;
/// Room for feature names left of the bars (names are cut to `FEATURE_NAME_MAX` chars).
const FEATURE_LABELS_W: u32 = 140;
const FEATURE_NAME_MAX: usize = 20;
/// Y units per feature row. The axis is integer because plotters cannot format a float axis
/// with custom ticks; several units per row let a bar be thinner than its row.
const SLOT: i64 = 20;
const BAR_HALF: i64 = 7;
/// Tick intervals that land on round clock times; the first giving at most 6 intervals wins.
const TICK_STEPS: [i64; 11] = [
    60, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200,
];

type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;
type Chart<'a, 'b, X, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>;
type DrawResult<T = ()> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

/// The chart of one panel as an SVG document (dark theme).
pub fn svg(panel: &Panel, range: Range) -> String {
    render(|root| match panel {
        Panel::ActiveUsers(p) => active_users(root, p, range),
        Panel::SignupFunnel(hours) => signup_funnel(root, hours, range),
        Panel::TopFeatures(rows) => top_features(root, rows, range),
        Panel::ErrorRate(p) => error_rate(root, p, range),
    })
}

fn render(draw: impl FnOnce(&Area) -> DrawResult) -> String {
    let mut out = String::new();
    {
        // The backend writes into `out` on present; the scope ends its borrow before we return.
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root)
            .and_then(|()| root.present())
            .expect("drawing into a string cannot fail");
    }
    out
}

fn active_users(root: &Area, p: &ActiveUsers, range: Range) -> DrawResult {
    let title = format!(
        "{} · {} now",
        caption(PanelName::ActiveUsers, range),
        p.value
    );
    let area = canvas(root, &title)?;
    let span = time_span(p.series.iter().map(|s| s.t), range, 0);
    let max = p.series.iter().map(|s| s.sessions).max().unwrap_or(0);
    let mut chart = chart_on(&area, time_axis(span), count_axis(max), 0)?;
    time_mesh(&mut chart).draw()?;
    let points = p.series.iter().map(|s| (s.t, s.sessions));
    chart.draw_series(
        AreaSeries::new(points, 0, SESSIONS.mix(0.3)).border_style(SESSIONS.stroke_width(2)),
    )?;
    no_data_if(p.series.is_empty(), &area)
}

fn signup_funnel(root: &Area, hours: &[FunnelHour], range: Range) -> DrawResult {
    let area = canvas(root, &caption(PanelName::SignupFunnel, range))?;
    // Bars fill their hour, so the axis must reach the end of the last one.
    let span = time_span(hours.iter().map(|h| h.hour), range, HOUR);
    let max = hours
        .iter()
        .map(|h| h.started.max(h.completed))
        .max()
        .unwrap_or(0);
    // Headroom above the bars for the legend.
    let mut chart = chart_on(
        &area,
        time_axis(span.clone()),
        count_axis(max.saturating_add(max / 2)),
        Y_LABELS_W,
    )?
    .set_secondary_coord(span, 0.0..100.0);
    time_mesh(&mut chart).draw()?;
    chart
        .configure_secondary_axes()
        .axis_style(GRID)
        .label_style(text(12.0))
        .y_labels(6)
        .y_label_formatter(&pct)
        .draw()?;

    // Each hour holds two bars side by side, with a gap either side of the pair.
    let tenth = HOUR / 10;
    let bars = |from: i64, color: RGBColor, count: fn(&FunnelHour) -> u64| {
        let drawn = hours.iter().filter(move |h| count(h) > 0);
        drawn.map(move |h| {
            let x = h.hour + from * tenth;
            Rectangle::new([(x, 0), (x + 4 * tenth, count(h))], color.filled())
        })
    };
    chart
        .draw_series(bars(1, STARTED, |h| h.started))?
        .label("started")
        .legend(swatch(STARTED));
    chart
        .draw_series(bars(5, COMPLETED, |h| h.completed))?
        .label("completed")
        .legend(swatch(COMPLETED));

    // A gap in the line where nothing started, rather than a line across it.
    let mid = |h: &FunnelHour| h.conversion_pct.map(|c| (h.hour + HOUR / 2, c));
    for run in hours.split(|h| h.conversion_pct.is_none()) {
        chart.draw_secondary_series(LineSeries::new(
            run.iter().filter_map(mid),
            CONVERSION.stroke_width(2),
        ))?;
    }
    chart
        .draw_secondary_series(
            hours
                .iter()
                .filter_map(mid)
                .map(|p| Circle::new(p, 3, CONVERSION.filled())),
        )?
        .label("conversion %")
        .legend(swatch(CONVERSION));

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(BACKGROUND.mix(0.8))
        .border_style(GRID)
        .label_font(text(12.0))
        .draw()?;
    no_data_if(hours.is_empty(), &area)
}

fn top_features(root: &Area, rows: &[FeatureRow], range: Range) -> DrawResult {
    let area = canvas(root, &caption(PanelName::TopFeatures, range))?;
    if rows.is_empty() {
        return no_data(&area);
    }
    let n = rows.len();
    let max = rows.iter().map(|r| r.users).max().unwrap_or(0);
    // One unit of y per feature, rank 1 in the top slot; ticks sit at slot centres to carry names.
    let slots =
        (0..n as i64 * SLOT).with_key_points((0..n).map(|rank| slot_centre(rank, n)).collect());
    // Extra x room so the count printed past the longest bar stays inside the plot.
    let x = 0..max.saturating_add(max / 5).saturating_add(1);
    let mut chart = ChartBuilder::on(&area)
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(FEATURE_LABELS_W)
        .build_cartesian_2d(x, slots)?;
    let name = |y: &i64| {
        slot_rank(*y, n)
            .and_then(|rank| rows.get(rank))
            .map_or_else(String::new, |r| short_name(&r.feature))
    };
    mesh(&mut chart)
        .disable_y_mesh()
        .x_labels(6)
        .y_label_formatter(&name)
        .draw()?;

    let ranked = || {
        rows.iter()
            .enumerate()
            .map(|(rank, row)| (slot_centre(rank, n), row.users))
    };
    chart.draw_series(ranked().map(|(y, users)| {
        Rectangle::new([(0, y - BAR_HALF), (users, y + BAR_HALF)], FEATURE.filled())
    }))?;
    let count_style = text(12.0).pos(Pos::new(HPos::Left, VPos::Center));
    chart.draw_series(ranked().map(|(y, users)| {
        EmptyElement::at((users, y)) + Text::new(users.to_string(), (4, 0), count_style.clone())
    }))?;
    Ok(())
}

fn error_rate(root: &Area, p: &ErrorRate, range: Range) -> DrawResult {
    let area = canvas(root, &caption(PanelName::ErrorRate, range))?;
    let span = time_span(p.series.iter().map(|m| m.minute), range, 0);
    let max = p.series.iter().map(|m| m.rate_pct).fold(0.0, f64::max);
    // Never so low that the threshold line would sit at the very top or off the chart.
    let top = (max * 1.2).max(2.0).max(p.threshold_pct * 1.2);
    let mut chart = chart_on(&area, time_axis(span.clone()), 0.0..top, 0)?;
    time_mesh(&mut chart).y_label_formatter(&pct).draw()?;

    let threshold = [(span.start, p.threshold_pct), (span.end, p.threshold_pct)];
    chart.draw_series(DashedLineSeries::new(
        threshold,
        6,
        4,
        THRESHOLD.stroke_width(1),
    ))?;
    let label = format!("{} threshold", pct(&p.threshold_pct));
    let label_style = text(12.0)
        .color(&THRESHOLD)
        .pos(Pos::new(HPos::Right, VPos::Bottom));
    chart.plotting_area().draw(
        &(EmptyElement::at((span.end, p.threshold_pct)) + Text::new(label, (-4, -3), label_style)),
    )?;

    let points = p.series.iter().map(|m| (m.minute, m.rate_pct));
    chart.draw_series(LineSeries::new(points, RATE.stroke_width(2)))?;
    no_data_if(p.series.is_empty(), &area)
}

// --- The shared frame -------------------------------------------------------------------------

fn caption(panel: PanelName, range: Range) -> String {
    format!("{} — {}", panel.title(), range.as_str())
}

/// Paints the background and the caption; returns the area left below the caption.
fn canvas<'b>(root: &Area<'b>, caption: &str) -> DrawResult<Area<'b>> {
    root.fill(&BACKGROUND)?;
    root.titled(caption, text(16.0))
}

/// A chart with the common margins; `right` is the width of a secondary y axis (0 for none).
fn chart_on<'a, 'b, X: AsRangedCoord, Y: AsRangedCoord>(
    area: &'a Area<'b>,
    x: X,
    y: Y,
    right: u32,
) -> DrawResult<Chart<'a, 'b, X::CoordDescType, Y::CoordDescType>> {
    ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(Y_LABELS_W)
        .right_y_label_area_size(right)
        .build_cartesian_2d(x, y)
}

/// The dark-theme mesh: one grid line per label, light labels. The finer lines are hidden by
/// colour (the SVG backend skips transparent strokes): `max_light_lines(0)` would make plotters
/// loop forever looking for integer ticks.
fn mesh<'a, 'b, 'c, X, Y>(
    chart: &'c mut Chart<'a, 'b, X, Y>,
) -> MeshStyle<'a, 'c, X, Y, SVGBackend<'b>>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(GRID)
        .label_style(text(12.0))
        .y_labels(6);
    mesh
}

/// The mesh of a chart whose x axis is time.
fn time_mesh<'a, 'b, 'c, Y>(
    chart: &'c mut Chart<'a, 'b, TimeAxis, Y>,
) -> MeshStyle<'a, 'c, TimeAxis, Y, SVGBackend<'b>>
where
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = mesh(chart);
    mesh.x_label_formatter(&hh_mm).x_desc("UTC");
    mesh
}

fn no_data_if(empty: bool, area: &Area) -> DrawResult {
    if empty {
        no_data(area)?;
    }
    Ok(())
}

fn no_data(area: &Area) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let style = text(14.0).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(
        "No data yet",
        (w as i32 / 2, h as i32 / 2),
        style,
    ))
}

/// Text of `px` pixels; the SVG backend writes `size / 1.24` as the font size.
fn text(px: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, px * 1.24)).color(&TEXT)
}

fn swatch(color: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
}

// --- Axes -------------------------------------------------------------------------------------

type TimeAxis = WithKeyPoints<RangedCoordi64>;

/// The x span of a time chart, `range` long and widened to take in every point. It ends now
/// while the data is live, else at the newest point (a panel asked for a past moment): the
/// error series only has minutes with events, so its last point may well be minutes old.
/// `width` is how far right of its time each point's mark reaches.
fn time_span(times: impl Iterator<Item = i64>, range: Range, width: i64) -> Span<i64> {
    let now = Utc::now().timestamp();
    let bounds = times.fold(None, |b: Option<(i64, i64)>, t| {
        Some(b.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))))
    });
    let end = match bounds {
        None => now,
        Some((_, hi)) if hi + width < now - range.seconds() => hi + width,
        Some((_, hi)) => now.max(hi + width),
    };
    let start = bounds.map_or(end, |(lo, _)| lo).min(end - range.seconds());
    start..end
}

fn time_axis(span: Span<i64>) -> TimeAxis {
    let length = span.end - span.start;
    let step = TICK_STEPS
        .into_iter()
        .find(|s| length / s <= 6)
        .unwrap_or(86_400);
    let first = (span.start + step - 1).div_euclid(step) * step;
    let ticks = (first..=span.end).step_by(step as usize).collect();
    span.with_key_points(ticks)
}

/// 0 up to a little above `max`, never empty.
fn count_axis(max: u64) -> Span<u64> {
    0..max.saturating_add(max / 10).saturating_add(1)
}

fn hh_mm(t: &i64) -> String {
    let minutes = t.rem_euclid(86_400) / 60;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A percentage with at most two decimals ("1 %", "0.25 %"), hiding float noise in ticks.
fn pct(v: &f64) -> String {
    format!("{} %", (v * 100.0).round() / 100.0)
}

fn slot_centre(rank: usize, n: usize) -> i64 {
    (n - rank) as i64 * SLOT - SLOT / 2
}

fn slot_rank(y: i64, n: usize) -> Option<usize> {
    usize::try_from(n as i64 - (y + SLOT / 2).div_euclid(SLOT)).ok()
}

fn short_name(name: &str) -> String {
    if name.chars().count() <= FEATURE_NAME_MAX {
        return name.to_owned();
    }
    name.chars()
        .take(FEATURE_NAME_MAX - 1)
        .chain(['…'])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panels::{ErrorMinute, SessionsPoint};

    const T0: i64 = 1_767_268_800; // 2026-01-01T12:00:00Z

    fn assert_svg(svg: &str) {
        assert!(svg.starts_with("<svg"), "not an SVG document: {svg:.80}");
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("NaN"), "NaN coordinates in {svg}");
    }

    /// How the SVG backend writes a `<text>` element's content.
    fn text_tag(label: &str) -> String {
        format!(">\n{label}\n</text>")
    }

    fn has_text(svg: &str, label: &str) -> bool {
        svg.contains(&text_tag(label))
    }

    /// The y of the `<text>` element whose content is `label`.
    fn text_y(svg: &str, label: &str) -> i32 {
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

    fn active_users() -> Panel {
        let series = (0..60)
            .map(|i| SessionsPoint {
                t: T0 + i * 60,
                sessions: (i % 7) as u64,
            })
            .collect();
        Panel::ActiveUsers(ActiveUsers { value: 12, series })
    }

    fn funnel() -> Panel {
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

    fn features() -> Panel {
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

    fn errors() -> Panel {
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

    #[test]
    fn active_users_shows_headline_and_times() {
        let svg = svg(&active_users(), Range::H1);
        assert_svg(&svg);
        assert!(svg.contains("Active users — 1h · 12 now"));
        assert!(svg.contains(r##"fill="#111827""##), "no dark background");
        assert!(has_text(&svg, "12:00"), "no HH:MM tick at the hour");
    }

    #[test]
    fn funnel_has_legend_bars_and_conversion_axis() {
        let svg = svg(&funnel(), Range::H6);
        assert_svg(&svg);
        assert!(svg.contains("Signup funnel — 6h"));
        for label in ["started", "completed", "conversion %", "100 %"] {
            assert!(has_text(&svg, label), "missing {label}");
        }
        // One point per hour with a conversion, none for the hour where nothing started.
        assert_eq!(svg.matches("<circle").count(), 2);
    }

    #[test]
    fn top_features_lists_names_by_rank_with_counts() {
        let svg = svg(&features(), Range::H24);
        assert_svg(&svg);
        assert!(svg.contains("Top features — 24h"));
        assert!(has_text(&svg, "export &amp; share"));
        for count in ["42", "17", "3"] {
            assert!(has_text(&svg, count), "missing count {count}");
        }
        assert!(text_y(&svg, "search") < text_y(&svg, "export &amp; share"));
        assert!(text_y(&svg, "export &amp; share") < text_y(&svg, "billing"));
    }

    #[test]
    fn error_rate_draws_the_threshold() {
        let svg = svg(&errors(), Range::H1);
        assert_svg(&svg);
        assert!(svg.contains("Error rate — 1h"));
        assert!(has_text(&svg, "1 % threshold"));
        // 5 % peak: the axis reaches 6 %, so the peak is not clipped.
        assert!(has_text(&svg, "6 %"));
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

    #[test]
    fn time_ticks_fall_on_round_clock_times() {
        for range in Range::ALL {
            let span = T0 + 7..T0 + 7 + range.seconds();
            let ticks = time_axis(span.clone()).bold_points().to_vec();
            assert!((5..=7).contains(&ticks.len()), "{range:?}: {ticks:?}");
            assert!(ticks.iter().all(|t| span.contains(t) || *t == span.end));
            assert!(ticks.iter().all(|t| t % 600 == 0), "{range:?}: {ticks:?}");
        }
    }

    #[test]
    fn labels_are_readable() {
        assert_eq!(hh_mm(&(T0 + 5 * 60 + 59)), "12:05");
        assert_eq!(pct(&1.0), "1 %");
        assert_eq!(pct(&(0.1 + 0.2)), "0.3 %");
        assert_eq!(short_name("search"), "search");
        assert_eq!(
            short_name(&"x".repeat(30)).chars().count(),
            FEATURE_NAME_MAX
        );
    }
}
