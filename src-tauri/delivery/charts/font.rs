//! The bundled font, registered with plotters once before anything is drawn or measured.

use std::sync::{Once, OnceLock};

use ab_glyph::{Font, FontRef};
use plotters::style::{register_font, FontStyle};

static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

pub(super) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let registered = register_font("sans-serif", style, DEJAVU_SANS).is_ok();
            assert!(registered, "the bundled DejaVu Sans is a valid font");
        }
    });
}

/// Whether the bundled font has a glyph for `c` (else the PNG would draw an empty box).
pub(super) fn has_glyph(c: char) -> bool {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    let font = FONT.get_or_init(|| {
        FontRef::try_from_slice(DEJAVU_SANS).expect("the bundled DejaVu Sans is a valid font")
    });
    font.glyph_id(c).0 != 0
}
