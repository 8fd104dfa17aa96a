//! A dashboard: every registered panel of one snapshot, as `GET /api/panels` returns it and as
//! one PNG (`pulseboard export`, the window's "Save as PNG").

use chrono::{DateTime, Local, TimeZone, Utc};
use plotters::prelude::*;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::kinds::{Member, Panel, PanelName};
use super::model::format_time_ms;
use super::Scope;
use crate::delivery::charts::frame::Empty;
use crate::delivery::charts::theme::{text, PAGE};
use crate::delivery::charts::{self, Area, ChartError, DrawResult, Mark, Output};
use crate::questions::filters::Filters;
use crate::questions::range::Range;

type Bitmap<'a> = BitMapBackend<'a>;

/// A chart drawn in a panel's cell of [`Dashboard::png`] instead of the panel.
pub type Instead<'c> = (
    PanelName,
    &'c dyn for<'a, 'b> Fn(&'b Area<Bitmap<'a>>) -> DrawResult<Bitmap<'a>>,
);

/// The size of [`Dashboard::png`]'s image.
pub const DASHBOARD_PNG_SIZE: (u32, u32) = (1600, 1000);
const HEADER_H: u32 = 56;
const GAP: i32 = 8;

/// Every panel of one snapshot. Serialised as `{"range", "generated_at", "as_of_flush",
/// "filters", then each panel under its name, in `PanelName::ALL` order}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub range: Range,
    /// Unix milliseconds.
    pub generated_at: i64,
    /// Confirmed flushes the snapshot reflects.
    pub as_of_flush: u64,
    /// The filters applied, as the request gave them (normalised).
    pub filters: Filters,
    /// Indexed by `PanelName as usize`.
    panels: Vec<Panel>,
}

impl Dashboard {
    /// Puts the panels of one snapshot together; a panel not given shows empty.
    pub fn assemble(
        scope: &Scope,
        end: DateTime<Utc>,
        as_of_flush: u64,
        panels: Vec<Panel>,
    ) -> Self {
        let mut all: Vec<Panel> = PanelName::ALL.iter().map(|name| name.empty()).collect();
        for panel in panels {
            let at = panel.name() as usize;
            all[at] = panel;
        }
        Dashboard {
            range: scope.range,
            generated_at: end.timestamp_millis(),
            as_of_flush,
            filters: scope.filters.clone(),
            panels: all,
        }
    }

    /// Every panel, in `PanelName::ALL` order.
    pub fn panels(&self) -> &[Panel] {
        &self.panels
    }

    pub fn panel(&self, name: PanelName) -> &Panel {
        &self.panels[name as usize]
    }

    /// One panel's typed answer: `dashboard.get::<ActiveUsers>().value`.
    pub fn get<K: Member>(&self) -> &K {
        self.panels
            .iter()
            .find_map(K::of)
            .expect("every registered panel is in a dashboard")
    }

    /// Panel `name`'s chart as an SVG document with alert `marks`; empty, it says whether the
    /// filters left nothing or nothing came.
    pub fn svg(&self, name: PanelName, marks: &[Mark]) -> String {
        self.panel(name).svg(self.range, marks, self.empty())
    }

    fn empty(&self) -> Empty {
        Empty::of(!self.filters.is_empty())
    }

    /// True when the range holds no events at all.
    pub fn is_empty(&self) -> bool {
        self.panels.iter().all(Panel::is_empty)
    }

    /// The whole dashboard as a PNG: a header line, then the panels in a 2x2 grid, drawn by
    /// the same code as their SVG charts, with `marks` (annotations) on the time charts; a cell
    /// drawn `instead` of its panel (the window's chosen funnel in the signup panel's place).
    pub fn png(&self, marks: &[Mark], instead: Option<Instead>) -> Result<Vec<u8>, ChartError> {
        charts::png(DASHBOARD_PNG_SIZE, |root| self.draw(root, marks, instead))
    }

    fn draw(
        &self,
        root: &Area<Bitmap<'_>>,
        marks: &[Mark],
        instead: Option<Instead>,
    ) -> DrawResult<Bitmap<'_>> {
        root.fill(&PAGE)?;
        let (header, body) = root.split_vertically(HEADER_H);
        // Local time, like the charts' labels, with the offset so a shared image is unambiguous.
        let generated = Local
            .timestamp_millis_opt(self.generated_at)
            .single()
            .map_or_else(String::new, |t| {
                t.format("%Y-%m-%d %H:%M (UTC%:z)").to_string()
            });
        let title = format!("Pulseboard — {} — generated {generated}", self.range);
        header.draw(&Text::new(title, (20, 16), text(22.0)))?;
        for (cell, panel) in body.split_evenly((2, 2)).iter().zip(&self.panels) {
            let cell = cell.margin(0, GAP, GAP, GAP);
            if let Some((_, draw)) = instead.filter(|(name, _)| *name == panel.name()) {
                draw(&cell)?;
                continue;
            }
            panel.draw(
                &cell,
                self.range,
                marks,
                Output::Png,
                self.empty(),
                &mut Vec::new(),
            )?;
        }
        Ok(())
    }
}

impl Serialize for Dashboard {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4 + self.panels.len()))?;
        map.serialize_entry("range", &self.range)?;
        map.serialize_entry("generated_at", &format_time_ms(self.generated_at))?;
        map.serialize_entry("as_of_flush", &self.as_of_flush)?;
        map.serialize_entry("filters", &self.filters)?;
        for panel in &self.panels {
            map.serialize_entry(panel.name().as_str(), panel)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::charts::theme::{BACKGROUND, COMPLETED, FEATURE, TEXT};
    use crate::questions::panels::fixtures::{active_users, errors, features, funnel, T0};
    use crate::questions::panels::{FeatureRow, TopFeatures};

    fn dashboard(top_features: Panel) -> Dashboard {
        let at = Utc.timestamp_opt(T0, 0).unwrap();
        let panels = vec![active_users(), funnel(), top_features, errors()];
        Dashboard::assemble(&Scope::new(Range::H1), at, 1, panels)
    }

    #[test]
    fn its_json_has_the_contracts_members_in_order() {
        let json = serde_json::to_string(&dashboard(features())).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
        // serde_json's map sorts keys; the text keeps the written order.
        let order: Vec<usize> = [
            "\"range\"",
            "\"generated_at\"",
            "\"as_of_flush\"",
            "\"filters\"",
            "\"active_users\"",
            "\"signup_funnel\"",
            "\"top_features\"",
            "\"error_rate\"",
        ]
        .iter()
        .map(|k| json.find(k).unwrap())
        .collect();
        assert!(order.is_sorted(), "{json}");
        assert_eq!(keys.len(), 8);
        assert_eq!(value["generated_at"], "2026-01-01T12:00:00.000Z");
        assert_eq!(value["active_users"]["value"], 12);
        assert_eq!(value["top_features"][1]["feature"], "export & share");
        assert_eq!(value["signup_funnel"][0]["conversion_pct"], 60.0);
        assert_eq!(value["error_rate"]["threshold_pct"], 1.0);
    }

    #[test]
    fn a_panel_not_given_is_empty_and_typed_access_finds_each() {
        let at = Utc.timestamp_opt(T0, 0).unwrap();
        let d = Dashboard::assemble(&Scope::new(Range::H1), at, 0, vec![features()]);
        assert!(d.get::<TopFeatures>().0.len() == 3);
        assert_eq!(d.get::<crate::questions::panels::ActiveUsers>().value, 0);
        assert!(!d.is_empty());
        let none = Dashboard::assemble(&Scope::new(Range::H1), at, 0, vec![]);
        assert!(none.is_empty());
        for name in PanelName::ALL {
            assert_eq!(none.panel(name).name(), name);
        }
    }

    #[test]
    fn an_empty_chart_says_whether_the_filters_left_nothing() {
        let at = Utc.timestamp_opt(T0, 0).unwrap();
        let unfiltered = Dashboard::assemble(&Scope::new(Range::H1), at, 0, vec![]);
        let filters = Filters::parse([("prop.email_domain", "Gmail.com")]).unwrap();
        let scope = Scope {
            filters,
            ..Scope::new(Range::H1)
        };
        let filtered = Dashboard::assemble(&scope, at, 0, vec![]);
        for name in PanelName::ALL {
            let (plain, narrowed) = (unfiltered.svg(name, &[]), filtered.svg(name, &[]));
            assert!(plain.contains("No data yet"), "{name:?}: {plain}");
            assert!(
                narrowed.contains("No events match these filters"),
                "{name:?}"
            );
            assert!(!narrowed.contains("No data yet"), "{name:?}");
        }
        let full = dashboard(features()).svg(PanelName::TopFeatures, &[]);
        assert!(!full.contains("No data yet") && !full.contains("No events match"));
    }

    #[test]
    fn a_chart_drawn_instead_of_a_panel_takes_its_cell() {
        let red = |pixels: &[u8]| pixels.chunks(3).filter(|p| *p == [255, 0, 0]).count();
        let d = dashboard(features());
        assert_eq!(red(&decode(d.png(&[], None).unwrap())), 0);
        let draw: &dyn for<'a, 'b> Fn(&'b Area<Bitmap<'a>>) -> DrawResult<Bitmap<'a>> =
            &|area| area.fill(&RED);
        let pixels = decode(d.png(&[], Some((PanelName::SignupFunnel, draw))).unwrap());
        // The signup panel's cell (top right) is red, and only it: a quarter of the body.
        let (w, h) = DASHBOARD_PNG_SIZE;
        let body = (w * (h - HEADER_H)) as usize;
        let reds = red(&pixels);
        assert!(reds > body / 5 && reds < body / 4, "{reds} of {body}");
        let (w, middle) = (w as usize, (HEADER_H + (h - HEADER_H) / 2) as usize);
        let top_right = |i: usize| i % w >= w / 2 && i / w <= middle;
        let outside = pixels
            .chunks(3)
            .enumerate()
            .filter(|(i, p)| *p == [255, 0, 0] && !top_right(*i))
            .count();
        assert_eq!(outside, 0);
    }

    /// The RGB pixels of a PNG of the dashboard's size.
    fn decode(png: Vec<u8>) -> Vec<u8> {
        let decoder = ::png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((frame.width, frame.height), DASHBOARD_PNG_SIZE);
        pixels.truncate(frame.buffer_size());
        pixels
    }

    #[test]
    fn emoji_in_feature_names_draw_as_the_replacement_mark() {
        let features = |name: &str| {
            Panel::TopFeatures(TopFeatures(vec![FeatureRow {
                feature: name.into(),
                users: 7,
                events: 9,
            }]))
        };
        let draw = |name: &str| decode(dashboard(features(name)).png(&[], None).unwrap());
        // The top features cell (bottom left) does not move with the clock, unlike the others.
        let (w, h) = DASHBOARD_PNG_SIZE;
        let cell = |pixels: &[u8]| -> Vec<u8> {
            let row = w as usize * 3;
            let top = (HEADER_H + (h - HEADER_H) / 2) as usize;
            pixels[top * row..]
                .chunks(row)
                .flat_map(|r| r[..row / 2].to_vec())
                .collect()
        };
        let emoji = cell(&draw("ship 🚀 it\u{1b}[0m"));
        // (`assert!`, not `assert_eq!`: a failure would print a million pixels.)
        let mark = cell(&draw("ship \u{fffd} it[0m"));
        assert!(emoji == mark, "the emoji is not drawn as the mark");
        assert!(emoji != cell(&draw("ship it[0m")), "the name is not drawn");
    }

    #[test]
    fn the_dashboard_png_decodes_at_its_size_and_is_not_blank() {
        let dashboard = dashboard(features());
        let pixels = decode(dashboard.png(&[], None).unwrap());
        let colours: std::collections::HashSet<&[u8]> = pixels.chunks(3).collect();
        assert!(colours.len() > 50, "only {} colours", colours.len());
        // Every panel colour is there: the page, a panel background, text, and the bars.
        for colour in [PAGE, BACKGROUND, TEXT, FEATURE, COMPLETED] {
            let rgb = [colour.0, colour.1, colour.2];
            assert!(colours.contains(&rgb[..]), "no pixel of {colour:?}");
        }
    }
}
