//! Top features: the 10 values of `properties.feature` among `feature_used` events with the
//! most unique users (ties by name), drawn as horizontal bars, most used on top.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

use crate::delivery::charts::axes::mesh;
use crate::delivery::charts::frame::{canvas, caption};
use crate::delivery::charts::labels::{event_text, short_name, thousands};
use crate::delivery::charts::theme::{text, FEATURE};
use crate::delivery::charts::{Area, DrawResult, Hover, Mark, Output};
use crate::questions::panels::kind::Kind;
use crate::questions::panels::query::{Query, Sql};
use crate::questions::range::Range;
use crate::storage::store::StoreError;
use crate::support::csv::{Cell, Csv};

const SQL: Sql = Sql {
    rollups: include_str!("../../../../sql/panels/top_features.sql"),
    raw: include_str!("../../../../sql/panels/raw/top_features.sql"),
};

/// The features, most users first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct TopFeatures(pub Vec<FeatureRow>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRow {
    pub feature: String,
    pub users: u64,
    pub events: u64,
}

/// Room for feature names left of the bars (names are cut to `FEATURE_NAME_MAX` chars).
const FEATURE_LABELS_W: u32 = 140;
/// Y units per feature row. The axis is integer because plotters cannot format a float axis
/// with custom ticks; several units per row let a bar be thinner than its row.
const SLOT: i64 = 20;
const BAR_HALF: i64 = 7;

impl Kind for TopFeatures {
    const NAME: &'static str = "top_features";
    const TITLE: &'static str = "Top features";

    fn empty() -> Self {
        Self(Vec::new())
    }

    async fn compute(q: &Query<'_>) -> Result<Self, StoreError> {
        Ok(Self(q.rows(&SQL).await?))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &Area<DB>,
        range: Range,
        _marks: &[Mark],
        out: Output,
        hovers: &mut Vec<Hover>,
    ) -> DrawResult<DB> {
        // Feature names come from events: made safe to draw on `out` (see `event_text`).
        let rows: Vec<FeatureRow> = self
            .0
            .iter()
            .map(|row| FeatureRow {
                feature: event_text(&row.feature, out),
                ..row.clone()
            })
            .collect();
        let area = canvas(root, &caption(Self::TITLE, &range.to_string()))?;
        if rows.is_empty() {
            // `Panel::draw` says why.
            return Ok(());
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

    fn csv(&self) -> Csv {
        let mut csv = Csv::new(&["feature", "users", "events"]);
        for row in &self.0 {
            csv.row([
                Cell::text(row.feature.as_str()),
                Cell::number(row.users),
                Cell::number(row.events),
            ]);
        }
        csv
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn slot_centre(rank: usize, n: usize) -> i64 {
    (n - rank) as i64 * SLOT - SLOT / 2
}

fn slot_rank(y: i64, n: usize) -> Option<usize> {
    usize::try_from(n as i64 - (y + SLOT / 2).div_euclid(SLOT)).ok()
}

#[cfg(test)]
mod tests {
    use crate::delivery::charts::fixtures::{assert_svg, has_text, text_y};
    use crate::delivery::charts::frame::Empty;
    use crate::questions::panels::fixtures::features;
    use crate::questions::range::Range;

    #[test]
    fn top_features_lists_names_by_rank_with_counts() {
        let svg = features().svg(Range::H24, &[], Empty::NoData);
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
    fn its_csv_guards_names_that_look_like_formulas() {
        use super::{FeatureRow, TopFeatures};
        use crate::questions::panels::Kind;
        let row = |feature: &str, users| FeatureRow {
            feature: feature.into(),
            users,
            events: users * 2,
        };
        let top = TopFeatures(vec![row("search", 42), row("=HYPERLINK(\"x\")", 3)]);
        assert_eq!(
            top.csv().render(),
            "feature,users,events\r\nsearch,42,84\r\n\"'=HYPERLINK(\"\"x\"\")\",3,6\r\n"
        );
    }
}
