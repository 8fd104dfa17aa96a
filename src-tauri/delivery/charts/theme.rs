//! The dark theme: every colour the charts paint with, and the one text style.

use plotters::style::{FontFamily, RGBColor, TextStyle};

const FONT: FontFamily = FontFamily::SansSerif;

pub(crate) const PAGE: RGBColor = RGBColor(0x0b, 0x11, 0x20);
pub(crate) const BACKGROUND: RGBColor = RGBColor(0x11, 0x18, 0x27);
pub(crate) const TEXT: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
pub(crate) const GRID: RGBColor = RGBColor(0x37, 0x41, 0x51);
pub(crate) const SESSIONS: RGBColor = RGBColor(0x60, 0xa5, 0xfa);
pub(crate) const STARTED: RGBColor = RGBColor(0x60, 0xa5, 0xfa);
pub(crate) const COMPLETED: RGBColor = RGBColor(0x34, 0xd3, 0x99);
pub(crate) const CONVERSION: RGBColor = RGBColor(0xfb, 0xbf, 0x24);
pub(crate) const FEATURE: RGBColor = RGBColor(0xa7, 0x8b, 0xfa);
pub(crate) const RATE: RGBColor = RGBColor(0xf8, 0x71, 0x71);
pub(crate) const STEP: RGBColor = RGBColor(0x60, 0xa5, 0xfa);
/// The actors a funnel step lost.
pub(crate) const DROPPED: RGBColor = RGBColor(0xf8, 0x71, 0x71);
pub(crate) const THRESHOLD: RGBColor = RGBColor(0xef, 0x44, 0x44);
/// Several series on one chart (an insight's groups, a SQL answer's columns), in this order.
pub(crate) const SERIES: [RGBColor; 6] = [CONVERSION, FEATURE, COMPLETED, SESSIONS, RATE, TEXT];

/// Text of `px` pixels; the SVG backend writes `size / 1.24` as the font size.
pub(crate) fn text(px: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, px * 1.24)).color(&TEXT)
}
