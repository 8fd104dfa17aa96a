//! How numbers, times and names read on the charts and in their hover titles.

use chrono::{Local, TimeZone};

use super::font;

/// Longer feature names are cut, to fit the label area left of the bars.
pub(crate) const FEATURE_NAME_MAX: usize = 20;

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

/// A time of day on this computer's clock (the API stays UTC; people read local time).
pub(crate) fn hh_mm(t: &i64) -> String {
    let minutes = (t + local_offset_s(*t)).rem_euclid(86_400) / 60;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// How far this computer's clock is ahead of UTC at `t` (Unix seconds).
pub(crate) fn local_offset_s(t: i64) -> i64 {
    Local
        .timestamp_opt(t, 0)
        .single()
        .map_or(0, |l| i64::from(l.offset().local_minus_utc()))
}

/// A percentage with at most two decimals ("1 %", "0.25 %"), hiding float noise in ticks.
pub(crate) fn pct(v: &f64) -> String {
    format!("{} %", (v * 100.0).round() / 100.0)
}

pub(crate) fn short_name(name: &str) -> String {
    if name.chars().count() <= FEATURE_NAME_MAX {
        return name.to_owned();
    }
    name.chars()
        .take(FEATURE_NAME_MAX - 1)
        .chain(['…'])
        .collect()
}

/// Where text is drawn. The SVG keeps every printable character (a browser falls back to other
/// fonts for what DejaVu Sans lacks); the PNG is drawn with the bundled font alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Svg,
    Png,
}

/// Text from events (feature names), safe to draw: control characters (C0, DEL, C1) and the
/// code points XML forbids (U+FFFE, U+FFFF) removed; in the PNG, what the bundled font cannot
/// draw shown as [`missing_mark`]. Markup is escaped where it is written: plotters escapes the
/// text it draws, [`super::hover::Hover::svg`] the titles.
pub(crate) fn event_text(text: &str, out: Output) -> String {
    let clean = text
        .chars()
        .filter(|&c| !c.is_control() && !matches!(c, '\u{fffe}' | '\u{ffff}'));
    match out {
        Output::Svg => clean.collect(),
        Output::Png => drawable(clean, font::has_glyph),
    }
}

/// The mark that stands for characters the bundled font lacks: U+FFFD (the replacement
/// character) when the font has it, else `?`.
pub(crate) fn missing_mark() -> char {
    if font::has_glyph('\u{fffd}') {
        '\u{fffd}'
    } else {
        '?'
    }
}

/// `text` with one [`missing_mark`] for each run the font cannot draw: an emoji with its
/// modifiers, variation selectors and zero-width-joined parts (👍🏽, 👨‍👩‍👧, ❤️) or a flag's pair of
/// regional indicators makes one mark, not a row of them. Invisible characters the font lacks
/// (a lone variation selector or joiner) are dropped rather than marked.
fn drawable(text: impl Iterator<Item = char>, has_glyph: impl Fn(char) -> bool) -> String {
    let mark = missing_mark();
    let mut out = String::new();
    // Whether the last thing written is a mark, and what it may still absorb.
    let mut after_mark = false;
    let mut joined = false;
    let mut open_flag = false;
    for c in text {
        let regional = ('\u{1f1e6}'..='\u{1f1ff}').contains(&c);
        if after_mark && (extends(c) || (joined && !has_glyph(c)) || (open_flag && regional)) {
            joined = c == '\u{200d}';
            open_flag = false;
            continue;
        }
        if has_glyph(c) {
            out.push(c);
            after_mark = false;
        } else if !invisible(c) {
            out.push(mark);
            after_mark = true;
            open_flag = regional;
        }
        joined = false;
    }
    out
}

/// Characters that only modify the one before them: joiner, variation selectors, skin tones,
/// tags, the keycap.
fn extends(c: char) -> bool {
    matches!(c,
        '\u{200d}' | '\u{20e3}' | '\u{fe00}'..='\u{fe0f}' | '\u{1f3fb}'..='\u{1f3ff}'
        | '\u{e0020}'..='\u{e007f}' | '\u{e0100}'..='\u{e01ef}')
}

/// Characters with no ink: nothing is missing when the font lacks them.
fn invisible(c: char) -> bool {
    extends(c) || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::charts::fixtures::T0;
    use crate::delivery::charts::font;

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

    #[test]
    fn event_text_drops_controls_everywhere_and_marks_missing_glyphs_in_the_png() {
        for out in [Output::Svg, Output::Png] {
            assert_eq!(
                event_text("a\u{0}b\u{1b}[31m\u{7f}\u{85}\u{fffe}", out),
                "ab[31m"
            );
            assert_eq!(event_text("café Ω ü <&>", out), "café Ω ü <&>");
        }
        // The SVG keeps what the browser can draw with its fallback fonts.
        assert_eq!(event_text("ship 🚀 it", Output::Svg), "ship 🚀 it");
        // The PNG has the bundled font only: one replacement mark per emoji or missing letter.
        let png = |s: &str| event_text(s, Output::Png);
        let m = '\u{fffd}';
        assert_eq!(
            missing_mark(),
            m,
            "DejaVu Sans has the replacement character"
        );
        assert_eq!(png("ship 🚀 it"), format!("ship {m} it"));
        assert_eq!(png("👍🏽 ok"), format!("{m} ok"));
        assert_eq!(png("👨\u{200d}👩\u{200d}👧"), m.to_string());
        assert_eq!(png("🇩🇪🇫🇷"), format!("{m}{m}"));
        assert_eq!(png("漢字"), format!("{m}{m}"));
        // Characters with no ink are never marked, whether the font has them or not.
        assert!(!png("a\u{200b}\u{fe0f}\u{2060}b").contains(m));
        let many = "🚀 ❤️ 1️⃣ 👍🏽 🇩🇪 漢 ✓ ü";
        assert!(png(many).chars().all(font::has_glyph), "{:?}", png(many));
    }
}
