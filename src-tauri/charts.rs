//! Panel charts: each panel drawn with plotters in a dark theme, as SVG (the API and the window,
//! with a hover `<title>` on every point and bar) and as one PNG of the whole dashboard (export).
//!
//! The same drawing code serves both backends. Text is measured (and, in the PNG, drawn) with a
//! bundled DejaVu Sans through ab_glyph, so no system font library is needed. Times are Unix
//! seconds on an `i64` axis with hand-picked ticks, because plotters' own numeric ticks would
//! land on odd clock times.

use std::ops::Range as Span;

use chrono::{TimeZone, Utc};
use plotters::chart::MeshStyle;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordi64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::panels::{
    ActiveUsers, Dashboard, ErrorRate, FeatureRow, FunnelHour, Panel, PanelName, Range,
};

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

// Every panel is drawn through these generic types: the same code paints the SVG charts and
// the PNG of the whole dashboard.
type Area<DB> = DrawingArea<DB, Shift>;
type Chart<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;
type DrawResult<DB, T = ()> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The chart of one panel as an SVG document (dark theme).
pub fn svg(panel: &Panel, range: Range) -> String {
    fonts::register();
    let mut out = String::new();
    let mut hovers = Vec::new();
    {
        // The backend writes into `out` on present; the scope ends its borrow before we return.
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw_panel(&root, panel, range, &mut hovers)
            .and_then(|()| root.present())
            .expect("drawing into a string cannot fail");
    }
    let targets: String = hovers.iter().map(Hover::svg).collect();
    let end = out.rfind("</svg>").unwrap_or(out.len());
    out.insert_str(end, &targets);
    out
}

/// The size of [`dashboard_png`]'s image.
pub const DASHBOARD_PNG_SIZE: (u32, u32) = (1600, 1000);
const PAGE: RGBColor = RGBColor(0x0b, 0x11, 0x20);
const HEADER_H: u32 = 56;
const GAP: i32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot draw the dashboard: {0}")]
    Draw(String),
    #[error("cannot encode the PNG: {0}")]
    Encode(#[from] png::EncodingError),
}

/// The whole dashboard as a PNG: a header line, then the four panels in a 2x2 grid, drawn by
/// the same code as the SVG charts.
pub fn dashboard_png(dashboard: &Dashboard, range: Range) -> Result<Vec<u8>, ChartError> {
    fonts::register();
    let (w, h) = DASHBOARD_PNG_SIZE;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, DASHBOARD_PNG_SIZE).into_drawing_area();
        draw_dashboard(&root, dashboard, range)
            .and_then(|()| root.present())
            .map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&rgb)?;
    Ok(png)
}

fn draw_dashboard<DB: DrawingBackend>(
    root: &Area<DB>,
    d: &Dashboard,
    range: Range,
) -> DrawResult<DB> {
    root.fill(&PAGE)?;
    let (header, body) = root.split_vertically(HEADER_H);
    let generated = Utc
        .timestamp_millis_opt(d.generated_at)
        .single()
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string());
    let title = format!("Pulseboard — {} — generated {generated}", range.as_str());
    header.draw(&Text::new(title, (20, 16), text(22.0)))?;
    let panels = [
        Panel::ActiveUsers(d.active_users.clone()),
        Panel::SignupFunnel(d.signup_funnel.clone()),
        Panel::TopFeatures(d.top_features.clone()),
        Panel::ErrorRate(d.error_rate.clone()),
    ];
    for (cell, panel) in body.split_evenly((2, 2)).iter().zip(&panels) {
        let cell = cell.margin(0, GAP, GAP, GAP);
        draw_panel(&cell, panel, range, &mut Vec::new())?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    root: &Area<DB>,
    panel: &Panel,
    range: Range,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    match panel {
        Panel::ActiveUsers(p) => active_users(root, p, range, hovers),
        Panel::SignupFunnel(hours) => signup_funnel(root, hours, range, hovers),
        Panel::TopFeatures(rows) => top_features(root, rows, range, hovers),
        Panel::ErrorRate(p) => error_rate(root, p, range, hovers),
    }
}

fn active_users<DB: DrawingBackend>(
    root: &Area<DB>,
    p: &ActiveUsers,
    range: Range,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
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
    let xs: Vec<i32> = p
        .series
        .iter()
        .map(|s| chart.backend_coord(&(s.t, 0)).0)
        .collect();
    let titles = p
        .series
        .iter()
        .map(|s| format!("{} · {} sessions", hh_mm(&s.t), thousands(s.sessions)));
    hovers.extend(columns(
        &xs,
        chart.plotting_area().get_pixel_range(),
        titles,
    ));
    no_data_if(p.series.is_empty(), &area)
}

fn signup_funnel<DB: DrawingBackend>(
    root: &Area<DB>,
    hours: &[FunnelHour],
    range: Range,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
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

    let (_, ys) = chart.plotting_area().get_pixel_range();
    hovers.extend(hours.iter().map(|h| {
        let (x0, x1) = (
            chart.backend_coord(&(h.hour, 0)).0,
            chart.backend_coord(&(h.hour + HOUR, 0)).0,
        );
        let conversion = h.conversion_pct.map_or_else(|| "–".into(), |c| pct(&c));
        let title = format!(
            "{} · {} started · {} completed · {conversion} conversion",
            hh_mm(&h.hour),
            thousands(h.started),
            thousands(h.completed)
        );
        Hover::new(x0..x1, ys.clone(), title)
    }));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(BACKGROUND.mix(0.8))
        .border_style(GRID)
        .label_font(text(12.0))
        .draw()?;
    no_data_if(hours.is_empty(), &area)
}

fn top_features<DB: DrawingBackend>(
    root: &Area<DB>,
    rows: &[FeatureRow],
    range: Range,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
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
    hovers.extend(rows.iter().zip(ranked()).map(|(row, (y, users))| {
        let (x0, y0) = chart.backend_coord(&(0, y + BAR_HALF));
        let (x1, y1) = chart.backend_coord(&(users, y - BAR_HALF));
        let title = format!(
            "{} · {} users · {} events",
            row.feature,
            thousands(row.users),
            thousands(row.events)
        );
        Hover::new(x0..x1.max(x0 + 4), y0..y1, title)
    }));
    Ok(())
}

fn error_rate<DB: DrawingBackend>(
    root: &Area<DB>,
    p: &ErrorRate,
    range: Range,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
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
    // A lone minute with events draws no line: mark it, so its hover title has a mark under it.
    if let [m] = p.series.as_slice() {
        chart.draw_series([Circle::new((m.minute, m.rate_pct), 3, RATE.filled())])?;
    }
    let xs: Vec<i32> = p
        .series
        .iter()
        .map(|m| chart.backend_coord(&(m.minute, 0.0)).0)
        .collect();
    let titles = p.series.iter().map(|m| {
        format!(
            "{} · {} errors of {} events · {}",
            hh_mm(&m.minute),
            thousands(m.errors),
            thousands(m.total),
            pct(&m.rate_pct)
        )
    });
    hovers.extend(columns(
        &xs,
        chart.plotting_area().get_pixel_range(),
        titles,
    ));
    no_data_if(p.series.is_empty(), &area)
}

// --- The shared frame -------------------------------------------------------------------------

fn caption(panel: PanelName, range: Range) -> String {
    format!("{} — {}", panel.title(), range.as_str())
}

/// Paints the background and the caption; returns the area left below the caption.
fn canvas<DB: DrawingBackend>(root: &Area<DB>, caption: &str) -> DrawResult<DB, Area<DB>> {
    root.fill(&BACKGROUND)?;
    root.titled(caption, text(16.0))
}

/// A chart with the common margins; `right` is the width of a secondary y axis (0 for none).
fn chart_on<'a, DB: DrawingBackend, X: AsRangedCoord, Y: AsRangedCoord>(
    area: &'a Area<DB>,
    x: X,
    y: Y,
    right: u32,
) -> DrawResult<DB, Chart<'a, DB, X::CoordDescType, Y::CoordDescType>> {
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
fn mesh<'a, 'c, DB: DrawingBackend, X, Y>(
    chart: &'c mut Chart<'a, DB, X, Y>,
) -> MeshStyle<'a, 'c, X, Y, DB>
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
fn time_mesh<'a, 'c, DB: DrawingBackend, Y>(
    chart: &'c mut Chart<'a, DB, TimeAxis, Y>,
) -> MeshStyle<'a, 'c, TimeAxis, Y, DB>
where
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = mesh(chart);
    mesh.x_label_formatter(&hh_mm).x_desc("UTC");
    mesh
}

fn no_data_if<DB: DrawingBackend>(empty: bool, area: &Area<DB>) -> DrawResult<DB> {
    if empty {
        no_data(area)?;
    }
    Ok(())
}

fn no_data<DB: DrawingBackend>(area: &Area<DB>) -> DrawResult<DB> {
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

// --- Hover titles -----------------------------------------------------------------------------

/// A transparent region of an SVG chart whose `<title>` tells the value under the pointer.
struct Hover {
    x: Span<i32>,
    y: Span<i32>,
    title: String,
}

impl Hover {
    fn new(x: Span<i32>, y: Span<i32>, title: String) -> Self {
        let order = |r: Span<i32>| r.start.min(r.end)..r.start.max(r.end);
        Self {
            x: order(x),
            y: order(y),
            title,
        }
    }

    fn svg(&self) -> String {
        format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"transparent\"><title>{}</title></rect>\n",
            self.x.start,
            self.y.start,
            self.x.end - self.x.start,
            self.y.end - self.y.start,
            escape(&self.title)
        )
    }
}

/// One full-height column per point at pixel `xs`, each reaching halfway to its neighbours.
fn columns(
    xs: &[i32],
    (plot_x, plot_y): (Span<i32>, Span<i32>),
    titles: impl Iterator<Item = String>,
) -> Vec<Hover> {
    let mids: Vec<i32> = xs.windows(2).map(|w| (w[0] + w[1]) / 2).collect();
    titles
        .enumerate()
        .map(|(i, title)| {
            let left = if i == 0 { plot_x.start } else { mids[i - 1] };
            let right = mids.get(i).copied().unwrap_or(plot_x.end);
            Hover::new(left..right, plot_y.clone(), title)
        })
        .collect()
}

/// Text for SVG: feature names are user data.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `4210` → `4,210`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The bundled font, registered with plotters once before anything is drawn or measured.
mod fonts {
    use std::sync::Once;

    use plotters::style::{register_font, FontStyle};

    static DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

    pub fn register() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            for style in [FontStyle::Normal, FontStyle::Bold] {
                let registered = register_font("sans-serif", style, DEJAVU_SANS).is_ok();
                assert!(registered, "the bundled DejaVu Sans is a valid font");
            }
        });
    }
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

    /// The `<title>` texts of the hover targets, in order.
    fn titles(svg: &str) -> Vec<String> {
        svg.split("<title>")
            .skip(1)
            .map(|t| t.split("</title>").next().unwrap().to_string())
            .collect()
    }

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

    #[test]
    fn hover_columns_meet_halfway_and_span_the_plot() {
        let titles = ["a", "b", "c"].map(String::from).into_iter();
        let cols = columns(&[100, 200, 400], (50..500, 10..90), titles);
        let spans: Vec<_> = cols.iter().map(|h| (h.x.clone(), h.y.clone())).collect();
        assert_eq!(
            spans,
            [(50..150, 10..90), (150..300, 10..90), (300..500, 10..90)]
        );
    }

    #[test]
    fn the_dashboard_png_decodes_at_its_size_and_is_not_blank() {
        let dashboard = Dashboard {
            range: Range::H1,
            generated_at: T0 * 1000,
            active_users: match active_users() {
                Panel::ActiveUsers(p) => p,
                _ => unreachable!(),
            },
            signup_funnel: match funnel() {
                Panel::SignupFunnel(p) => p,
                _ => unreachable!(),
            },
            top_features: match features() {
                Panel::TopFeatures(p) => p,
                _ => unreachable!(),
            },
            error_rate: match errors() {
                Panel::ErrorRate(p) => p,
                _ => unreachable!(),
            },
        };
        let png = dashboard_png(&dashboard, Range::H1).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((frame.width, frame.height), DASHBOARD_PNG_SIZE);
        let pixels = &pixels[..frame.buffer_size()];
        let colours: std::collections::HashSet<&[u8]> = pixels.chunks(3).collect();
        assert!(colours.len() > 50, "only {} colours", colours.len());
        // Every panel colour is there: the page, a panel background, text, and the bars.
        for colour in [PAGE, BACKGROUND, TEXT, FEATURE, COMPLETED] {
            let rgb = [colour.0, colour.1, colour.2];
            assert!(colours.contains(&rgb[..]), "no pixel of {colour:?}");
        }
    }

    #[test]
    fn thousands_separators() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (4210, "4,210"),
            (1234567, "1,234,567"),
        ];
        for (n, s) in cases {
            assert_eq!(thousands(n), s);
        }
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
        // Two minutes draw a line and no dots; a lone minute, which draws no line, a dot.
        assert_eq!(svg.matches("<circle").count(), 0);
        let lone = Panel::ErrorRate(ErrorRate {
            threshold_pct: 1.0,
            series: vec![ErrorMinute {
                minute: T0,
                errors: 8,
                total: 3978,
                rate_pct: 0.2,
            }],
        });
        let svg = super::svg(&lone, Range::H24);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert_eq!(titles(&svg), ["12:00 · 8 errors of 3,978 events · 0.2 %"]);
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
