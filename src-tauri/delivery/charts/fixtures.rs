//! SVG probes shared by the chart tests (the kit's and every tile kind's).

pub(crate) const T0: i64 = 1_767_268_800; // 2026-01-01T12:00:00Z

pub(crate) fn assert_svg(svg: &str) {
    assert!(svg.starts_with("<svg"), "not an SVG document: {svg:.80}");
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(!svg.contains("NaN"), "NaN coordinates in {svg}");
}

/// How the SVG backend writes a `<text>` element's content.
fn text_tag(label: &str) -> String {
    format!(">\n{label}\n</text>")
}

pub(crate) fn has_text(svg: &str, label: &str) -> bool {
    svg.contains(&text_tag(label))
}

/// The y of the `<text>` element whose content is `label`.
pub(crate) fn text_y(svg: &str, label: &str) -> i32 {
    let end = svg
        .find(&text_tag(label))
        .unwrap_or_else(|| panic!("no text {label}"));
    let tag = &svg[svg[..end].rfind("<text").expect("text tag")..end];
    let y = tag
        .split(" y=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("y attribute");
    y.parse().expect("numeric y")
}

/// The `<title>` texts of the hover targets, in order.
pub(crate) fn titles(svg: &str) -> Vec<String> {
    svg.split("<title>")
        .skip(1)
        .map(|t| t.split("</title>").next().unwrap().to_string())
        .collect()
}
