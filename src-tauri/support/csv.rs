//! CSV as spreadsheets open it: RFC 4180 (a header row, CRLF, quotes where needed), and no
//! formula that runs on opening — a text cell starting with `=`, `+`, `-`, `@`, a tab or a CR
//! gets a leading `'` (numbers are written as numbers, so a negative one stays a number).

use std::fmt::Display;

/// One cell: text (from events: guarded), a number, or nothing (a null).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(String),
    Empty,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Cell::Text(text.into())
    }

    pub fn number(n: impl Display) -> Self {
        Cell::Number(n.to_string())
    }

    /// A number, or an empty cell for a null (a conversion with no base).
    pub fn maybe(n: Option<impl Display>) -> Self {
        n.map_or(Cell::Empty, Cell::number)
    }

    fn write(&self, out: &mut String) {
        let text = match self {
            Cell::Empty => return,
            Cell::Number(n) => return out.push_str(n),
            Cell::Text(t) => t,
        };
        let guarded = match text.chars().next() {
            Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
            _ => text.clone(),
        };
        if guarded.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&guarded.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&guarded);
        }
    }
}

/// A table with its header, written as one CSV document.
#[derive(Debug, Clone, PartialEq)]
pub struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Csv {
    pub fn new(header: &[&'static str]) -> Self {
        Self::with_header(header.iter().map(|h| h.to_string()).collect())
    }

    /// A table whose columns are known only at run time (a SQL answer's).
    pub fn with_header(header: Vec<String>) -> Self {
        Self {
            header,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: impl IntoIterator<Item = Cell>) {
        self.rows.push(cells.into_iter().collect());
    }

    /// The document: the header, then each row, every line ending in CRLF.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let header = self.header.iter().map(|h| Cell::text(h.clone())).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                cell.write(&mut out);
            }
            out.push_str("\r\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        for (cell, written) in [
            (Cell::text("export"), "export"),
            (Cell::text("a,b"), "\"a,b\""),
            (Cell::text("say \"hi\""), "\"say \"\"hi\"\"\""),
            (Cell::text("two\nlines"), "\"two\nlines\""),
            (Cell::text("=SUM(A1:A9)"), "'=SUM(A1:A9)"),
            (Cell::text("+1"), "'+1"),
            (Cell::text("-2"), "'-2"),
            (Cell::text("@cmd"), "'@cmd"),
            (Cell::text("\tx"), "'\tx"),
            (Cell::text("\rx"), "\"'\rx\""),
            (Cell::text("=1,2"), "\"'=1,2\""),
            (Cell::number(-2.5), "-2.5"),
            (Cell::number(42u64), "42"),
            (Cell::maybe(None::<f64>), ""),
            (Cell::maybe(Some(60.0)), "60"),
            (Cell::text(""), ""),
        ] {
            let mut out = String::new();
            cell.write(&mut out);
            assert_eq!(out, written, "{cell:?}");
        }
    }

    #[test]
    fn a_document_is_a_header_and_crlf_rows() {
        let mut csv = Csv::new(&["feature", "users"]);
        csv.row([Cell::text("search"), Cell::number(42)]);
        csv.row([Cell::text("a,b"), Cell::Empty]);
        assert_eq!(csv.render(), "feature,users\r\nsearch,42\r\n\"a,b\",\r\n");
    }
}
