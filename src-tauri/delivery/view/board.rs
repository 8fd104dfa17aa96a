//! The dashboard the team arranged, as the window shows it: each tile in order, the panels
//! drawn with the rest of the view (`charts`), insights and funnels computed here over the same
//! range and filters, from the same flush.

use std::sync::Arc;

use serde::Serialize;

use super::FunnelPanel;
use crate::delivery::charts::{thousands, Mark};
use crate::engine::Engine;
use crate::questions::insights::{chart, Answer, Chart, Insight, InsightError};
use crate::questions::layout::TileKind;
use crate::questions::panels::{PanelName, Scope};

/// One tile of the arranged dashboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardTile {
    pub kind: TileKind,
    pub id: String,
    /// The element it is shown in: `panel-<name>`, `insight-<id>`, `funnel-<id>`.
    pub element: String,
    pub title: String,
    /// An insight's or funnel's chart (SVG); a panel's is the view's `charts[id]`. None for an
    /// insight drawn as a number or a table, and when it could not be computed.
    pub chart: Option<String>,
    /// A line under the title: the total, the top groups, the conversion, or why it failed.
    pub summary: String,
    /// An insight drawn as a number: its total, large.
    pub number: Option<String>,
    /// An insight drawn as a table: each group and its total.
    pub rows: Vec<(String, String)>,
}

impl BoardTile {
    fn new(kind: TileKind, id: &str, title: String) -> Self {
        let prefix = match kind {
            TileKind::Panel => "panel",
            TileKind::Insight => "insight",
            TileKind::Funnel => "funnel",
        };
        Self {
            kind,
            id: id.to_owned(),
            element: format!("{prefix}-{id}"),
            title,
            chart: None,
            summary: String::new(),
            number: None,
            rows: Vec::new(),
        }
    }
}

/// Every tile of the engine's arranged dashboard over `scope`, marked with `notes`.
pub async fn board(engine: &Engine, scope: &Scope, notes: &[Mark]) -> Vec<BoardTile> {
    let mut board = Vec::new();
    for tile in engine.tiles().tiles {
        let shown = match tile.kind {
            TileKind::Panel => PanelName::parse(&tile.id)
                .map(|name| BoardTile::new(TileKind::Panel, &tile.id, name.title().to_owned())),
            TileKind::Insight => Some(insight(engine, &tile.id, scope, notes).await),
            TileKind::Funnel => funnel(engine, &tile.id, scope).await,
        };
        board.extend(shown);
    }
    board
}

async fn insight(engine: &Engine, id: &str, scope: &Scope, notes: &[Mark]) -> BoardTile {
    let defined = match engine.insights.get(id) {
        Ok(defined) => defined,
        Err(error) => {
            let mut tile = BoardTile::new(TileKind::Insight, id, id.to_owned());
            tile.summary = format!("unavailable: {error}");
            return tile;
        }
    };
    let answer = engine.insights.answer(id, scope, false).await;
    insight_tile(id, &defined, answer, notes)
}

/// An insight's tile from its answer (or why there is none), drawn as its chart type: also the
/// live preview of one being defined.
pub fn insight_tile(
    id: &str,
    insight: &Insight,
    answer: Result<Arc<Answer>, InsightError>,
    notes: &[Mark],
) -> BoardTile {
    let mut tile = BoardTile::new(TileKind::Insight, id, insight.name.clone());
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            tile.summary = format!("unavailable: {error}");
            return tile;
        }
    };
    tile.summary = summary(&answer);
    match insight.chart {
        Chart::Line | Chart::Bar => tile.chart = Some(chart::svg(&answer, insight.chart, notes)),
        Chart::Number => {
            tile.number = Some(total_text(answer.series.first().and_then(|s| s.total)))
        }
        Chart::Table => {
            tile.rows = (answer.series.iter())
                .map(|s| {
                    let group = s.group.clone().unwrap_or_else(|| "all".into());
                    (group, total_text(s.total))
                })
                .collect();
        }
    }
    tile
}

/// A funnel's steps; none when it cannot be computed (it is left off, as on the signup panel).
async fn funnel(engine: &Engine, id: &str, scope: &Scope) -> Option<BoardTile> {
    let FunnelPanel {
        name,
        chart,
        summary,
        ..
    } = super::funnel_panel(engine, id, scope).await?;
    let mut tile = BoardTile::new(TileKind::Funnel, id, name);
    tile.chart = Some(chart);
    tile.summary = summary;
    Some(tile)
}

/// `1,204 count over 24h`; with a breakdown, the largest groups: `count over 24h · DE 40, FR 31`.
fn summary(answer: &Answer) -> String {
    let head = format!("{} over {}", answer.measure, answer.range);
    if answer.breakdown.is_none() {
        let total = answer.series.first().and_then(|s| s.total);
        return format!("{} {head}", total_text(total));
    }
    let top: Vec<String> = (answer.series.iter().take(3))
        .map(|s| {
            format!(
                "{} {}",
                s.group.as_deref().unwrap_or(""),
                total_text(s.total)
            )
        })
        .collect();
    match top.is_empty() {
        true => format!("{head} · nothing matched"),
        false => format!("{head} · {}", top.join(", ")),
    }
}

/// A total for people: whole numbers with thousands separators, others to two decimals.
fn total_text(total: Option<f64>) -> String {
    match total {
        None => "–".into(),
        Some(v) if v.fract() == 0.0 && (0.0..9e15).contains(&v) => thousands(v as u64),
        Some(v) => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_read_as_people_write_them() {
        assert_eq!(total_text(Some(1204.0)), "1,204");
        assert_eq!(total_text(Some(12.345)), "12.35");
        assert_eq!(total_text(Some(-3.0)), "-3.00");
        assert_eq!(total_text(None), "–");
    }
}
