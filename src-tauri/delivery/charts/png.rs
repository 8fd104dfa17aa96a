//! PNG: what a drawing paints on a bitmap, encoded (`pulseboard export`, "Save as PNG").
//!
//! `::png` is the encoder crate, which this module shares its name with.

use plotters::prelude::*;

use super::{font, Area, DrawResult};

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot draw the dashboard: {0}")]
    Draw(String),
    #[error("cannot encode the PNG: {0}")]
    Encode(#[from] ::png::EncodingError),
}

/// What `draw` paints on a `size` bitmap, as a PNG.
pub fn png(
    size: (u32, u32),
    draw: impl for<'a, 'b> FnOnce(&'b Area<BitMapBackend<'a>>) -> DrawResult<BitMapBackend<'a>>,
) -> Result<Vec<u8>, ChartError> {
    font::register();
    let (w, h) = size;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root)
            .and_then(|()| root.present())
            .map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    let mut png = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut png, w, h);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&rgb)?;
    Ok(png)
}
