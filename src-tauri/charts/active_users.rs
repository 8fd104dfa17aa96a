//! Active users: the sessions sparkline under the headline number.

use plotters::prelude::*;

use super::axes::{count_axis, time_axis, time_mesh, time_span};
use super::frame::{canvas, caption, chart_on, no_data_if};
use super::hover::{columns, Hover};
use super::labels::{hh_mm, thousands};
use super::marks::{self, Mark};
use super::theme::SESSIONS;
use super::{Area, DrawResult};
use crate::panels::{ActiveUsers, PanelName, Range};

pub(super) fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    p: &ActiveUsers,
    range: Range,
    marks: &[Mark],
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
    let y = count_axis(max);
    let mut chart = chart_on(&area, time_axis(span.clone()), y.clone(), 0)?;
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
    marks::draw(&mut chart, marks, &span, y, hovers)?;
    no_data_if(p.series.is_empty(), &area)
}

#[cfg(test)]
mod tests {
    use crate::charts::fixtures::{active_users, assert_svg, has_text};
    use crate::charts::svg;
    use crate::panels::Range;

    #[test]
    fn active_users_shows_headline_and_times() {
        let svg = svg(&active_users(), Range::H1);
        assert_svg(&svg);
        assert!(svg.contains("Active users — 1h · 12 now"));
        assert!(svg.contains(r##"fill="#111827""##), "no dark background");
        assert!(has_text(&svg, "12:00"), "no HH:MM tick at the hour");
    }
}
