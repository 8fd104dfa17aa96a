//! The bundled font, registered with plotters once before anything is drawn or measured.

use std::sync::Once;

use plotters::style::{register_font, FontStyle};

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

pub(super) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let registered = register_font("sans-serif", style, DEJAVU_SANS).is_ok();
            assert!(registered, "the bundled DejaVu Sans is a valid font");
        }
    });
}
