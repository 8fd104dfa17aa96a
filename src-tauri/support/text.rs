//! The one rule for text people give us in definitions and filters (funnel and rule names,
//! filter values): no control characters. A NUL or a line break in a value is never what was
//! meant, and ClickHouse refuses a NUL in a bound parameter. And how to cut text to a size.

/// What the rule says, after the parameter or field it names.
pub const NO_CONTROL: &str = "must not contain control characters (NUL, tabs, line breaks…)";

/// `Err(NO_CONTROL)` when `text` holds a control character.
pub fn check(text: &str) -> Result<(), &'static str> {
    match text.chars().any(char::is_control) {
        true => Err(NO_CONTROL),
        false => Ok(()),
    }
}

/// `text` cut to at most `max` bytes, at a character's boundary.
pub fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let end = (0..=max)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        assert_eq!(cut("abc".into(), 5), "abc");
        assert_eq!(cut("abcdef".into(), 3), "abc");
        // "é" is two bytes: a cut through it leaves it out whole.
        assert_eq!(cut("aé".into(), 2), "a");
        assert_eq!(cut("aé".into(), 3), "aé");
    }

    #[test]
    fn control_characters_are_refused_anywhere_in_the_text() {
        for bad in ["\0", "a\0", "a\nb", "\t", "x\u{7f}", "\u{85}"] {
            assert_eq!(check(bad), Err(NO_CONTROL), "{bad:?}");
        }
        for good in ["", "gmail.com", "Ünïcode 🚀", "a,b", "=SUM()"] {
            assert_eq!(check(good), Ok(()), "{good:?}");
        }
    }
}
