//! How numbers, times and names read on the charts and in their hover titles.

/// Longer feature names are cut, to fit the label area left of the bars.
pub(super) const FEATURE_NAME_MAX: usize = 20;

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

pub(super) fn hh_mm(t: &i64) -> String {
    let minutes = t.rem_euclid(86_400) / 60;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A percentage with at most two decimals ("1 %", "0.25 %"), hiding float noise in ticks.
pub(super) fn pct(v: &f64) -> String {
    format!("{} %", (v * 100.0).round() / 100.0)
}

pub(super) fn short_name(name: &str) -> String {
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
pub(super) enum Output {
    Svg,
    Png,
}

/// Text from events (feature names), safe to draw: control characters (C0, DEL, C1) and the
/// code points XML forbids (U+FFFE, U+FFFF) removed. Markup is escaped where it is written:
/// plotters escapes the text it draws, [`super::hover::Hover::svg`] the titles.
pub(super) fn event_text(text: &str, out: Output) -> String {
    let clean = text
        .chars()
        .filter(|&c| !c.is_control() && !matches!(c, '\u{fffe}' | '\u{ffff}'));
    match out {
        Output::Svg => clean.collect(),
        Output::Png => clean.collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::fixtures::T0;

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
}
