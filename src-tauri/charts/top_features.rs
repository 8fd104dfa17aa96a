//! Top features: one horizontal bar of unique users per feature, most used on top.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::mesh;
use super::frame::{canvas, caption, no_data};
use super::hover::Hover;
use super::labels::{short_name, thousands};
use super::theme::{text, FEATURE};
use super::{Area, DrawResult};
use crate::panels::{FeatureRow, PanelName, Range};

/// Room for feature names left of the bars (names are cut to `FEATURE_NAME_MAX` chars).
const FEATURE_LABELS_W: u32 = 140;
/// Y units per feature row. The axis is integer because plotters cannot format a float axis
/// with custom ticks; several units per row let a bar be thinner than its row.
const SLOT: i64 = 20;
const BAR_HALF: i64 = 7;

pub(super) fn draw<DB: DrawingBackend>(
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

fn slot_centre(rank: usize, n: usize) -> i64 {
    (n - rank) as i64 * SLOT - SLOT / 2
}

fn slot_rank(y: i64, n: usize) -> Option<usize> {
    usize::try_from(n as i64 - (y + SLOT / 2).div_euclid(SLOT)).ok()
}

#[cfg(test)]
mod tests {
    use crate::charts::fixtures::{assert_svg, features, has_text, text_y};
    use crate::charts::svg;
    use crate::panels::Range;

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
}
