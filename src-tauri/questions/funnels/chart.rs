//! A funnel's steps: one bar per step (actors who reached it), the actors lost since the
//! previous step drawn faded on top of it, and the drop-off in percent between the bars.

use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::{RangedCoordi64, RangedCoordu64};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{FunnelReport, StepCount};
use crate::delivery::charts::axes::{count_axis, mesh};
use crate::delivery::charts::frame::{canvas, chart_on, notice_if, Empty};
use crate::delivery::charts::labels::{event_text, pct, short_name, thousands};
use crate::delivery::charts::theme::{text, DROPPED, RATE, STEP, TEXT};
use crate::delivery::charts::{self, Area, Chart, DrawResult, Hover, Output};

/// X units per step; the bar takes the middle half of its slot.
const SLOT: i64 = 20;
const BAR_HALF: i64 = 5;

/// A funnel's steps as an SVG document, captioned with the funnel's `name`.
pub fn svg(name: &str, report: &FunnelReport) -> String {
    charts::svg_of(|root, hovers| draw_on(root, name, report, Output::Svg, hovers))
}

/// The steps drawn on `root` for `out` (an SVG, or a cell of the dashboard's PNG).
pub fn draw_on<DB: DrawingBackend>(
    root: &Area<DB>,
    name: &str,
    report: &FunnelReport,
    out: Output,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    // The name is the user's text, the groups come from events; the event names keep to
    // [a-z0-9_.:-] but pass the same way.
    let caption = format!("{} — {}", event_text(name, out), report.range);
    let mut report = report.clone();
    for step in &mut report.steps {
        step.event_name = event_text(&step.event_name, out);
    }
    for group in &mut report.groups {
        group.value = event_text(&group.value, out);
    }
    draw(root, &caption, &report, hovers)
}

/// `caption` and `report` hold text safe to draw (see [`draw_on`]).
fn draw<DB: DrawingBackend>(
    root: &Area<DB>,
    caption: &str,
    report: &FunnelReport,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let area = canvas(root, caption)?;
    let steps = &report.steps;
    let n = steps.len() as i64;
    let max = steps.iter().map(|s| s.count).max().unwrap_or(0);
    let centres = (0..n).map(|i| i * SLOT + SLOT / 2).collect();
    let x = (0..n * SLOT).with_key_points(centres);
    let mut chart = chart_on(&area, x, count_axis(max.saturating_add(max / 5)), 0)?;
    let label = |x: &i64| {
        usize::try_from(x.div_euclid(SLOT))
            .ok()
            .and_then(|i| steps.get(i))
            .map_or_else(String::new, |s| short_name(&s.event_name))
    };
    mesh(&mut chart)
        .disable_x_mesh()
        .x_label_formatter(&label)
        .draw()?;

    let bar = |i: i64, from: u64, to: u64, color: RGBAColor| {
        let centre = i * SLOT + SLOT / 2;
        Rectangle::new(
            [(centre - BAR_HALF, from), (centre + BAR_HALF, to)],
            color.filled(),
        )
    };
    let previous = |i: usize| i.checked_sub(1).map_or(0, |p| steps[p].count);
    chart.draw_series((0..n).map(|i| bar(i, 0, steps[i as usize].count, STEP.to_rgba())))?;
    chart.draw_series((1..n).map(|i| {
        let s = &steps[i as usize];
        bar(
            i,
            s.count,
            previous(i as usize).max(s.count),
            DROPPED.mix(0.35),
        )
    }))?;
    let above = text(12.0).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(steps.iter().zip(0..).map(|(s, i)| {
        let top = previous(i as usize).max(s.count);
        EmptyElement::at((i * SLOT + SLOT / 2, top))
            + Text::new(thousands(s.count), (0, -4), above.clone())
    }))?;
    // The drop-off sits on the boundary between two steps, at the height of the earlier one.
    let between = text(12.0)
        .color(&DROPPED)
        .pos(Pos::new(HPos::Center, VPos::Center));
    chart.draw_series(steps.iter().zip(0..).skip(1).filter_map(|(s, i)| {
        let lost = drop_off(s)?;
        let y = previous(i as usize) / 2;
        Some(EmptyElement::at((i * SLOT, y)) + Text::new(lost, (0, 0), between.clone()))
    }))?;

    groups(&mut chart, report)?;

    hovers.extend(steps.iter().zip(0..).map(|(s, i)| {
        let (x0, y0) = chart.backend_coord(&(i * SLOT, max.max(1)));
        let (x1, y1) = chart.backend_coord(&((i + 1) * SLOT, 0));
        Hover::new(x0..x1, y0..y1, title(s))
    }));
    let empty = Empty::of(!report.filters.is_empty());
    notice_if((max == 0).then_some(empty), &area)
}

/// A breakdown's groups over the bars: each group's share of its own first step at every step,
/// drawn to the total's scale (a group keeping 50 % sits at half the first bar), so the
/// groups compare with the total and each other whatever their size; the lagging group red.
fn groups<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB, WithKeyPoints<RangedCoordi64>, RangedCoordu64>,
    report: &FunnelReport,
) -> DrawResult<DB> {
    let first = report.steps.first().map_or(0, |s| s.count) as f64;
    let lagging = report.lagging();
    for group in &report.groups {
        let (colour, width) = match Some(group.value.as_str()) == lagging {
            true => (RATE.to_rgba(), 2),
            false => (TEXT.mix(0.35), 1),
        };
        let points: Vec<(i64, u64)> = group
            .steps
            .iter()
            .zip(0..)
            .filter_map(|(s, i)| {
                Some((
                    i * SLOT + SLOT / 2,
                    (first * s.pct_of_first? / 100.0) as u64,
                ))
            })
            .collect();
        chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(width)))?;
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
        if Some(group.value.as_str()) == lagging {
            let label = text(12.0)
                .color(&RATE)
                .pos(Pos::new(HPos::Left, VPos::Bottom));
            if let Some(last) = points.last() {
                chart.draw_series([EmptyElement::at(*last)
                    + Text::new(format!("{} ▼", group.value), (6, -4), label)])?;
            }
        }
    }
    Ok(())
}

/// "−25 %": the share of the previous step's actors who did not reach this one.
fn drop_off(step: &StepCount) -> Option<String> {
    step.pct_of_previous
        .map(|kept| format!("−{}", pct(&(100.0 - kept))))
}

fn title(step: &StepCount) -> String {
    let share = |p: Option<f64>| p.map_or_else(|| "–".to_owned(), |p| pct(&p));
    format!(
        "{} · {} · {} of first · {} of previous",
        step.event_name,
        thousands(step.count),
        share(step.pct_of_first),
        share(step.pct_of_previous)
    )
}

#[cfg(test)]
mod tests {
    use super::svg as funnel_svg;
    use crate::delivery::charts::fixtures::{assert_svg, has_text, titles};
    use crate::delivery::charts::theme::RATE;
    use crate::delivery::charts::Output;
    use crate::questions::funnels::{step_counts, CountBy, Funnel, FunnelReport, Group, Step};

    /// signup_started → email_verified → signup_completed.
    fn three_steps() -> Funnel {
        let step = |name: &str| Step {
            event_name: name.into(),
            filters: Default::default(),
        };
        Funnel {
            steps: vec![
                step("signup_started"),
                step("email_verified"),
                step("signup_completed"),
            ],
            ..Funnel::builtin_signup()
        }
    }

    /// The three steps: 240 started, 180 verified, 90 completed over 24h.
    fn funnel_report() -> FunnelReport {
        let funnel = three_steps();
        FunnelReport {
            id: funnel.id.clone(),
            range: crate::questions::panels::Range::H24,
            window_s: funnel.window_s,
            count_by: CountBy::User,
            as_of_flush: 3,
            filters: Default::default(),
            steps: step_counts(&funnel, &[240, 180, 90]),
            breakdown: None,
            groups: Vec::new(),
        }
    }

    #[test]
    fn the_png_draws_the_groups_too() {
        let mut report = funnel_report();
        let signup = three_steps();
        let lagging_red = |report: &FunnelReport| {
            let png = crate::delivery::charts::png((640, 320), |root| {
                super::draw_on(root, "Signup", report, Output::Png, &mut Vec::new())
            })
            .unwrap();
            let decoder = ::png::Decoder::new(std::io::Cursor::new(png));
            let mut reader = decoder.read_info().unwrap();
            let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
            reader.next_frame(&mut pixels).unwrap();
            let red = [RATE.0, RATE.1, RATE.2];
            pixels.chunks(3).filter(|p| *p == red).count()
        };
        // The drop-off labels share the colour: the group adds its line, points and name.
        let without = lagging_red(&report);
        report.groups = vec![Group {
            value: "gmail.com".into(),
            steps: step_counts(&signup, &[100, 40, 20]),
        }];
        let with = lagging_red(&report);
        assert!(with > without + 200, "{with} against {without}");
    }

    #[test]
    fn a_breakdown_draws_each_group_and_names_the_lagging_one() {
        let mut report = funnel_report();
        let signup = three_steps();
        report.groups = vec![
            Group {
                value: "outlook.com".into(),
                steps: step_counts(&signup, &[140, 140, 70]),
            },
            Group {
                value: "gmail.com".into(),
                steps: step_counts(&signup, &[100, 40, 20]),
            },
        ];
        // 20 % against the total's 37.5 %: gmail lags; outlook (50 %) does not.
        assert_eq!(report.lagging(), Some("gmail.com"));
        let svg = funnel_svg("Signup", &report);
        assert_svg(&svg);
        assert!(has_text(&svg, "gmail.com ▼"), "the lagging group named");
        assert!(!has_text(&svg, "outlook.com ▼"));
        // Each group's three points: a circle per step.
        assert_eq!(svg.matches("<circle").count(), 6);
    }

    #[test]
    fn steps_show_counts_drop_offs_and_titles() {
        let svg = funnel_svg("Signup <campaign>", &funnel_report());
        assert_svg(&svg);
        assert!(has_text(&svg, "Signup &lt;campaign&gt; — 24h"), "{svg}");
        for label in ["signup_started", "email_verified", "240", "180", "−25 %"] {
            assert!(has_text(&svg, label), "missing {label}");
        }
        assert_eq!(
            titles(&svg),
            [
                "signup_started · 240 · 100 % of first · – of previous",
                "email_verified · 180 · 75 % of first · 75 % of previous",
                "signup_completed · 90 · 37.5 % of first · 50 % of previous",
            ]
        );
        let mut empty = funnel_report();
        empty.steps.iter_mut().for_each(|s| {
            s.count = 0;
            s.pct_of_first = None;
            s.pct_of_previous = None;
        });
        assert!(funnel_svg("Signup", &empty).contains("No data yet"));
    }
}
