//! Hover titles: transparent regions appended to an SVG chart, each with a `<title>` that tells
//! the value under the pointer.

use std::ops::Range as Span;

/// A transparent region of an SVG chart whose `<title>` tells the value under the pointer.
pub struct Hover {
    x: Span<i32>,
    y: Span<i32>,
    title: String,
}

impl Hover {
    pub(crate) fn new(x: Span<i32>, y: Span<i32>, title: String) -> Self {
        let order = |r: Span<i32>| r.start.min(r.end)..r.start.max(r.end);
        Self {
            x: order(x),
            y: order(y),
            title,
        }
    }

    pub(crate) fn svg(&self) -> String {
        format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"transparent\"><title>{}</title></rect>\n",
            self.x.start,
            self.y.start,
            self.x.end - self.x.start,
            self.y.end - self.y.start,
            escape(&self.title)
        )
    }
}

/// One full-height column per point at pixel `xs`, each reaching halfway to its neighbours.
pub(crate) fn columns(
    xs: &[i32],
    (plot_x, plot_y): (Span<i32>, Span<i32>),
    titles: impl Iterator<Item = String>,
) -> Vec<Hover> {
    let mids: Vec<i32> = xs.windows(2).map(|w| (w[0] + w[1]) / 2).collect();
    titles
        .enumerate()
        .map(|(i, title)| {
            let left = if i == 0 { plot_x.start } else { mids[i - 1] };
            let right = mids.get(i).copied().unwrap_or(plot_x.end);
            Hover::new(left..right, plot_y.clone(), title)
        })
        .collect()
}

/// Text for SVG: feature names are user data.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hover_columns_meet_halfway_and_span_the_plot() {
        let titles = ["a", "b", "c"].map(String::from).into_iter();
        let cols = columns(&[100, 200, 400], (50..500, 10..90), titles);
        let spans: Vec<_> = cols.iter().map(|h| (h.x.clone(), h.y.clone())).collect();
        assert_eq!(
            spans,
            [(50..150, 10..90), (150..300, 10..90), (300..500, 10..90)]
        );
    }
}
