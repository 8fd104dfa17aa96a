//! The dashboard export: the four panels in a 2x2 grid under a header line, as one PNG.
//!
//! `::png` is the encoder crate, which this module shares its name with.

use chrono::{Local, TimeZone};
use plotters::prelude::*;

use super::font;
use super::labels::Output;
use super::theme::{text, PAGE};
use super::{draw_panel, Area, DrawResult};
use crate::panels::{Dashboard, Panel, Range};

/// The size of [`dashboard_png`]'s image.
pub const DASHBOARD_PNG_SIZE: (u32, u32) = (1600, 1000);
const HEADER_H: u32 = 56;
const GAP: i32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot draw the dashboard: {0}")]
    Draw(String),
    #[error("cannot encode the PNG: {0}")]
    Encode(#[from] ::png::EncodingError),
}

/// The whole dashboard as a PNG: a header line, then the four panels in a 2x2 grid, drawn by
/// the same code as the SVG charts.
pub fn dashboard_png(dashboard: &Dashboard, range: Range) -> Result<Vec<u8>, ChartError> {
    font::register();
    let (w, h) = DASHBOARD_PNG_SIZE;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, DASHBOARD_PNG_SIZE).into_drawing_area();
        draw_dashboard(&root, dashboard, range)
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

fn draw_dashboard<DB: DrawingBackend>(
    root: &Area<DB>,
    d: &Dashboard,
    range: Range,
) -> DrawResult<DB> {
    root.fill(&PAGE)?;
    let (header, body) = root.split_vertically(HEADER_H);
    // Local time, like the charts' labels, with the offset so a shared image is unambiguous.
    let generated = Local
        .timestamp_millis_opt(d.generated_at)
        .single()
        .map_or_else(String::new, |t| {
            t.format("%Y-%m-%d %H:%M (UTC%:z)").to_string()
        });
    let title = format!("Pulseboard — {} — generated {generated}", range.as_str());
    header.draw(&Text::new(title, (20, 16), text(22.0)))?;
    let panels = [
        Panel::ActiveUsers(d.active_users.clone()),
        Panel::SignupFunnel(d.signup_funnel.clone()),
        Panel::TopFeatures(d.top_features.clone()),
        Panel::ErrorRate(d.error_rate.clone()),
    ];
    for (cell, panel) in body.split_evenly((2, 2)).iter().zip(&panels) {
        let cell = cell.margin(0, GAP, GAP, GAP);
        draw_panel(&cell, panel, range, &[], Output::Png, &mut Vec::new())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::fixtures::{active_users, errors, features, funnel, T0};
    use crate::charts::theme::{BACKGROUND, COMPLETED, FEATURE, TEXT};
    use crate::panels::FeatureRow;

    fn dashboard(top_features: Panel) -> Dashboard {
        Dashboard {
            range: Range::H1,
            generated_at: T0 * 1000,
            as_of_flush: 1,
            filters: Default::default(),
            active_users: match active_users() {
                Panel::ActiveUsers(p) => p,
                _ => unreachable!(),
            },
            signup_funnel: match funnel() {
                Panel::SignupFunnel(p) => p,
                _ => unreachable!(),
            },
            top_features: match top_features {
                Panel::TopFeatures(p) => p,
                _ => unreachable!(),
            },
            error_rate: match errors() {
                Panel::ErrorRate(p) => p,
                _ => unreachable!(),
            },
        }
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
            Panel::TopFeatures(vec![FeatureRow {
                feature: name.into(),
                users: 7,
                events: 9,
            }])
        };
        let draw =
            |name: &str| decode(dashboard_png(&dashboard(features(name)), Range::H1).unwrap());
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
        let pixels = decode(dashboard_png(&dashboard, Range::H1).unwrap());
        let colours: std::collections::HashSet<&[u8]> = pixels.chunks(3).collect();
        assert!(colours.len() > 50, "only {} colours", colours.len());
        // Every panel colour is there: the page, a panel background, text, and the bars.
        for colour in [PAGE, BACKGROUND, TEXT, FEATURE, COMPLETED] {
            let rgb = [colour.0, colour.1, colour.2];
            assert!(colours.contains(&rgb[..]), "no pixel of {colour:?}");
        }
    }
}
