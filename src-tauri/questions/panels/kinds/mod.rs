//! The registry of built-in panels: the one list of them. Each panel is a type implementing
//! [`Kind`] in a file of its own in this folder — its rows, how its queries compute them, its
//! chart, its CSV and the window's line under it — and a `mod` line and one line in `panels!`
//! below register it. Everything
//! that goes over every panel (`/api/panels`, the dashboard's PNG, the window's charts, bench)
//! goes through [`PanelName::ALL`] and [`Panel`].

use plotters::prelude::DrawingBackend;
use serde::Serialize;

mod active_users;
mod error_rate;
mod signup_funnel;
mod top_features;

use super::kind::Kind;
use super::query::Query;
use crate::delivery::charts::frame::{notice_if, Empty};
use crate::delivery::charts::{self, Area, DrawResult, Hover, Mark, Output};
use crate::questions::range::Range;
use crate::storage::store::StoreError;
use crate::support::csv::Csv;

pub use active_users::{ActiveUsers, SessionsPoint};
pub use error_rate::{ErrorMinute, ErrorRate};
pub use signup_funnel::{FunnelHour, SignupFunnel};
pub use top_features::{FeatureRow, TopFeatures};

/// The typed panel inside a [`Panel`] (`dashboard.get::<ActiveUsers>()`).
pub trait Member: Kind {
    fn of(panel: &Panel) -> Option<&Self>;
}

/// Declares the panels: `PanelName`, `Panel`, and the dispatch from one to each kind.
macro_rules! panels {
    ($($variant:ident($kind:ty)),+ $(,)?) => {
        /// A built-in panel, in the dashboard's order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum PanelName {
            $($variant),+
        }

        /// One panel's answer (serialised as its kind's JSON).
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum Panel {
            $($variant($kind)),+
        }

        const COUNT: usize = [$(PanelName::$variant),+].len();

        impl PanelName {
            /// Every panel, in the dashboard's order.
            pub const ALL: [PanelName; COUNT] = [$(PanelName::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(PanelName::$variant => <$kind as Kind>::NAME),+
                }
            }

            pub fn title(self) -> &'static str {
                match self {
                    $(PanelName::$variant => <$kind as Kind>::TITLE),+
                }
            }

            pub(super) fn empty(self) -> Panel {
                match self {
                    $(PanelName::$variant => Panel::$variant(<$kind as Kind>::empty())),+
                }
            }

            pub(super) async fn compute(self, q: &Query<'_>) -> Result<Panel, StoreError> {
                Ok(match self {
                    $(PanelName::$variant => Panel::$variant(<$kind as Kind>::compute(q).await?)),+
                })
            }
        }

        impl Panel {
            pub fn name(&self) -> PanelName {
                match self {
                    $(Panel::$variant(_) => PanelName::$variant),+
                }
            }

            /// Draws the chart; an empty one says why (`empty`: what the filters make of it).
            pub fn draw<DB: DrawingBackend>(
                &self,
                root: &Area<DB>,
                range: Range,
                marks: &[Mark],
                out: Output,
                empty: Empty,
                hovers: &mut Vec<Hover>,
            ) -> DrawResult<DB> {
                match self {
                    $(Panel::$variant(p) => p.draw(root, range, marks, out, hovers)?),+
                }
                notice_if(self.is_empty().then_some(empty), root)
            }

            pub fn csv(&self) -> Csv {
                match self {
                    $(Panel::$variant(p) => p.csv()),+
                }
            }

            pub fn is_empty(&self) -> bool {
                match self {
                    $(Panel::$variant(p) => p.is_empty()),+
                }
            }

            pub fn summary(&self) -> Option<String> {
                match self {
                    $(Panel::$variant(p) => p.summary()),+
                }
            }
        }

        $(
            impl Member for $kind {
                fn of(panel: &Panel) -> Option<&Self> {
                    match panel {
                        Panel::$variant(p) => Some(p),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }

            impl From<$kind> for Panel {
                fn from(p: $kind) -> Self {
                    Panel::$variant(p)
                }
            }
        )+
    };
}

panels! {
    ActiveUsers(ActiveUsers),
    SignupFunnel(SignupFunnel),
    TopFeatures(TopFeatures),
    ErrorRate(ErrorRate),
}

impl PanelName {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Every panel's name, in order: `active_users, signup_funnel, …`.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl Panel {
    /// The chart as an SVG document, with alert `marks` (the time charts draw them); empty, it
    /// says `empty`'s notice.
    pub fn svg(&self, range: Range, marks: &[Mark], empty: Empty) -> String {
        charts::svg_of(|root, hovers| self.draw(root, range, marks, Output::Svg, empty, hovers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::charts::fixtures::titles;
    use crate::questions::panels::fixtures::{active_users, assert_svg, errors, features, funnel};
    use crate::questions::panels::{ActiveUsers, ErrorRate, FeatureRow, SignupFunnel, TopFeatures};

    fn svg(panel: &Panel, range: Range) -> String {
        panel.svg(range, &[], Empty::NoData)
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
            rows.extend(more.0);
        }
        let top = titles(&svg(&Panel::TopFeatures(TopFeatures(rows)), Range::H24));
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
        Panel::TopFeatures(TopFeatures(vec![
            row(NASTY, 9),
            row("ship \u{7f}🚀\u{85} it\r\n", 5),
            row("\u{9b}\u{fffe}ok", 2),
        ]))
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
            Panel::SignupFunnel(SignupFunnel(vec![])),
            Panel::TopFeatures(TopFeatures(vec![])),
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
