//! The dark theme: every colour the charts paint with, and the one text style.

use plotters::style::{FontFamily, RGBColor, TextStyle};

const FONT: FontFamily = FontFamily::SansSerif;

pub(super) const PAGE: RGBColor = RGBColor(0x0b, 0x11, 0x20);
pub(super) const BACKGROUND: RGBColor = RGBColor(0x11, 0x18, 0x27);
pub(super) const TEXT: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
pub(super) const GRID: RGBColor = RGBColor(0x37, 0x41, 0x51);
pub(super) const SESSIONS: RGBColor = RGBColor(0x60, 0xa5, 0xfa);
pub(super) const STARTED: RGBColor = RGBColor(0x60, 0xa5, 0xfa);
pub(super) const COMPLETED: RGBColor = RGBColor(0x34, 0xd3, 0x99);
pub(super) const CONVERSION: RGBColor = RGBColor(0xfb, 0xbf, 0x24);
pub(super) const FEATURE: RGBColor = RGBColor(0xa7, 0x8b, 0xfa);
pub(super) const RATE: RGBColor = RGBColor(0xf8, 0x71, 0x71);
pub(super) const STEP: RGBColor = RGBColor(0x60, 0xa5, 0xfa);
/// The actors a funnel step lost.
pub(super) const DROPPED: RGBColor = RGBColor(0xf8, 0x71, 0x71);
pub(super) const THRESHOLD: RGBColor = RGBColor(0xef, 0x44, 0x44);

/// Text of `px` pixels; the SVG backend writes `size / 1.24` as the font size.
pub(super) fn text(px: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, px * 1.24)).color(&TEXT)
}
