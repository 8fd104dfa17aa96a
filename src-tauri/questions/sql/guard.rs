//! The read-only rule for SQL a user sends, decided on the statement ClickHouse parsed.
//!
//! Three layers, each enough for part of the threat and none trusted alone:
//! 1. ClickHouse parses the text (`formatQuery`): one statement or a syntax error, comments
//!    gone. That canonical text is what is checked and what runs, so no second statement can
//!    hide behind a comment, odd casing or a string the two parsers would read differently.
//! 2. Its `EXPLAIN AST` (query parameters bound) is walked here ([`check`]): what kind of
//!    statement, every table it names, every table function and function that reaches outside
//!    the store, no `SETTINGS` and no `INTO OUTFILE`.
//! 3. It runs with Pulseboard's settings last (`readonly = 1`, `allow_ddl = 0`, the limits),
//!    which it cannot change: `SETTINGS` is refused in step 2 and `readonly = 1` refuses any
//!    change anyway. Step 2 is needed because `readonly` alone lets `file('/etc/passwd')` (the
//!    function) and `default.`/etc/passwd`` (chDB's file-backed database) read files.

/// Why a statement was refused: a sentence naming the part of it that broke the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

fn refuse<T>(why: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(why.into()))
}

/// What a checked statement is: its canonical text and the `FORMAT` it names, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub text: String,
    pub format: Option<String>,
}

/// Table functions that read only what they are given or make up (everything else reaches
/// a file, a URL, an object store, another database, a program or the request body).
const TABLE_FUNCTIONS: &[&str] = &[
    "numbers",
    "numbers_mt",
    "zeros",
    "zeros_mt",
    "generate_series",
    "generateSeries",
    "generateRandom",
    "values",
    "null",
    "view",
];

/// Functions refused wherever they appear: they read files (`file`, `catboostEvaluate`), reach
/// outside as table functions do even when written as a scalar, or read dictionaries and Join
/// tables, whose sources may be outside the store.
const FUNCTIONS: &[&str] = &[
    "file",
    "catboostEvaluate",
    "url",
    "s3",
    "hdfs",
    "remote",
    "remoteSecure",
    "cluster",
    "clusterAllReplicas",
    "mysql",
    "postgresql",
    "sqlite",
    "mongodb",
    "redis",
    "jdbc",
    "odbc",
    "executable",
    "input",
    "dictionary",
    "joinGet",
    "joinGetOrNull",
    "getClientHTTPHeader",
];

/// Tables of `system` an analyst or a client's catalogue needs; none reveals more of the
/// machine than the store's own paths (`tables.data_paths`) and the engine's settings.
/// (`dictionaries` and `clusters` list none: none can be made.) Refused among others:
/// `processes`, `query_log`, `disks`, `server_settings`, `users`, `asynchronous_metrics`,
/// `errors`, `stack_trace`.
const SYSTEM_TABLES: &[&str] = &[
    "one",
    "numbers",
    "numbers_mt",
    "zeros",
    "zeros_mt",
    "databases",
    "tables",
    "columns",
    "parts",
    "parts_columns",
    "data_skipping_indices",
    "functions",
    "table_functions",
    "table_engines",
    "formats",
    "data_type_families",
    "aggregate_function_combinators",
    "settings",
    "clusters",
    "dictionaries",
    "time_zones",
    "collations",
    "keywords",
];

/// The statements a user may run: reads, and the catalogue's questions.
const ROOTS: &[&str] = &[
    "SelectWithUnionQuery",
    "ShowTables",
    "DescribeQuery",
    "ShowCreateTableQuery",
    "ExistsTableQuery",
    "Explain",
];

/// One line of `EXPLAIN AST`: its depth, kind (`Function`), and the rest (`file`).
#[derive(Debug)]
struct Node<'a> {
    depth: usize,
    kind: &'a str,
    name: &'a str,
    parent: Option<usize>,
}

fn parse(ast: &str) -> Vec<Node<'_>> {
    let mut nodes: Vec<Node> = Vec::new();
    for line in ast.lines() {
        let depth = line.len() - line.trim_start().len();
        let line = line.trim();
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let name = rest
            .split(" (")
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or_default();
        let parent = nodes.iter().rposition(|n| n.depth < depth);
        nodes.push(Node {
            depth,
            kind,
            name,
            parent,
        });
    }
    nodes
}

/// Checks `canonical` (ClickHouse's `formatQuery` of the user's text) and its `EXPLAIN AST`;
/// `database` is the store's. The text itself is never parsed here beyond its clause lines,
/// which ClickHouse put at the start of a line.
pub fn check(canonical: &str, ast: &str, database: &str) -> Result<Checked, Refusal> {
    check_identifiers_are_one_line(canonical)?;
    let clause = |word: &str| {
        canonical
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(word).map(str::trim))
    };
    if clause("INTO OUTFILE ").is_some() {
        return refuse("INTO OUTFILE writes a file: only the answer comes back");
    }
    if clause("SETTINGS ").is_some() {
        return refuse(SETTINGS);
    }
    let format = clause("FORMAT ").map(str::to_string);
    // A bound `Identifier` parameter inside a subquery prints as a blank line: the table it
    // names would never be checked.
    if canonical.contains(":Identifier}") || ast.trim_end().lines().any(|l| l.trim().is_empty()) {
        return refuse(
            "a query parameter of type Identifier is not allowed: write the table's name",
        );
    }
    let nodes = parse(ast);
    let root = nodes
        .first()
        .ok_or_else(|| Refusal("an empty statement".into()))?;
    check_root(root.kind, canonical)?;
    for (i, node) in nodes.iter().enumerate() {
        let parent = node.parent.map(|p| &nodes[p]);
        check_node(node, parent, &nodes, i, database, format.as_deref())?;
    }
    Ok(Checked {
        text: canonical.to_string(),
        format,
    })
}

const SETTINGS: &str = "SETTINGS clauses are not allowed: the limits are Pulseboard's \
     (--sql-timeout, --sql-max-rows) and the statement runs read-only";

fn check_root(kind: &str, canonical: &str) -> Result<(), Refusal> {
    if !ROOTS.contains(&kind) {
        let first = canonical.split_whitespace().next().unwrap_or_default();
        return refuse(format!(
            "only SELECT, WITH, SHOW TABLES, SHOW DATABASES, SHOW CREATE TABLE, DESCRIBE, \
             EXISTS and EXPLAIN run here: the store is read-only to SQL (got {first})"
        ));
    }
    // `ShowTables` is also SHOW SETTINGS, SHOW CLUSTERS, SHOW FILESYSTEM CACHES…
    let shows = ["SHOW TABLES", "SHOW DATABASES", "SHOW FULL TABLES"];
    if kind == "ShowTables" && !shows.iter().any(|s| canonical.starts_with(s)) {
        return refuse(format!(
            "of the SHOW statements only SHOW TABLES, SHOW DATABASES and SHOW CREATE TABLE \
             run here (got {})",
            canonical.lines().next().unwrap_or_default()
        ));
    }
    Ok(())
}

fn check_node(
    node: &Node,
    parent: Option<&Node>,
    nodes: &[Node],
    index: usize,
    database: &str,
    format: Option<&str>,
) -> Result<(), Refusal> {
    let parent_kind = parent.map(|p| p.kind).unwrap_or_default();
    match node.kind {
        "Set" => refuse(SETTINGS),
        "Function" => check_function(node.name, parent_kind == "TableExpression"),
        "TableIdentifier" => check_table(node.name, database),
        "Identifier" if node.depth == 1 => {
            check_top_identifier(node, parent_kind, nodes, index, database, format)
        }
        "Identifier" => check_column_or_table(node.name, database),
        "Literal" if node.depth == 1 => {
            refuse("INTO OUTFILE writes a file: only the answer comes back")
        }
        kind if node.depth == 1 && parent_kind == "Explain" => match kind {
            "SelectWithUnionQuery" => Ok(()),
            _ => refuse("EXPLAIN explains a SELECT here"),
        },
        _ => Ok(()),
    }
}

/// A depth-1 identifier: the `FORMAT`, a database (`SHOW TABLES FROM db`), or the database
/// and table of `SHOW CREATE TABLE` / `EXISTS`.
fn check_top_identifier(
    node: &Node,
    root: &str,
    nodes: &[Node],
    index: usize,
    database: &str,
    format: Option<&str>,
) -> Result<(), Refusal> {
    if Some(node.name) == format && nodes.iter().skip(index + 1).all(|n| n.depth > 1) {
        return Ok(());
    }
    match root {
        "ShowTables" => check_database(node.name, database),
        "ShowCreateTableQuery" | "ExistsTableQuery" => {
            let names: Vec<&str> = nodes
                .iter()
                .filter(|n| n.depth == 1 && n.kind == "Identifier" && Some(n.name) != format)
                .map(|n| n.name)
                .collect();
            check_table(&names.join("."), database)
        }
        _ => check_column_or_table(node.name, database),
    }
}

fn check_function(name: &str, as_table: bool) -> Result<(), Refusal> {
    let outside = FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(name))
        || name.starts_with("dict")
        || name.ends_with("Cluster");
    if outside {
        return refuse(format!(
            "{name}() reaches outside the store (files, URLs, other databases, programs, \
             dictionaries): only the store's tables can be read"
        ));
    }
    if as_table && !TABLE_FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(name)) {
        return refuse(format!(
            "table function {name}() is not allowed: only the store's tables and {} can be read",
            TABLE_FUNCTIONS.join(", ")
        ));
    }
    Ok(())
}

fn check_database(db: &str, database: &str) -> Result<(), Refusal> {
    if db == database || db == "system" || db.eq_ignore_ascii_case("information_schema") {
        return Ok(());
    }
    refuse(format!(
        "database {db} is not readable here: the store's tables are {database}.* (or unqualified), \
         with the catalogue in system and information_schema"
    ))
}

/// A table name as `EXPLAIN AST` prints it: `events`, `db.events`.
fn check_table(name: &str, database: &str) -> Result<(), Refusal> {
    let (db, table) = match name.split_once('.') {
        Some((db, table)) if !db.contains('/') => (db, table),
        _ => ("", name), // a path's dots are not a database's
    };
    if !db.is_empty() {
        check_database(db, database)?;
    }
    if table.contains('/') {
        return refuse(format!("{name} is not a table of the store"));
    }
    if db == "system" && !SYSTEM_TABLES.contains(&table) {
        return refuse(format!(
            "system.{table} is not readable here (it shows the machine or other sessions); \
             system tables that are: {}",
            SYSTEM_TABLES.join(", ")
        ));
    }
    Ok(())
}

/// `x IN system.processes` names a table with a plain identifier; so may a column
/// (`e.event_name`): only the databases' own names are checked.
fn check_column_or_table(name: &str, database: &str) -> Result<(), Refusal> {
    match name.split_once('.') {
        Some(("system" | "default" | "_temporary_and_external_tables", _)) => {
            check_table(name, database)
        }
        _ => Ok(()),
    }
}

/// `EXPLAIN AST` prints a back-quoted identifier's line breaks as they are, which would let
/// a name forge lines of the tree: refuse them (ClickHouse's canonical text escapes them).
fn check_identifiers_are_one_line(canonical: &str) -> Result<(), Refusal> {
    let mut quote = None;
    let mut chars = canonical.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                let escaped = chars.next();
                if quote == Some('`') && matches!(escaped, Some('n' | 'r' | '0')) {
                    return refuse("identifiers with line breaks are not allowed");
                }
            }
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '`' | '"') => quote = Some(c),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SELECT_FILE: &str = "SelectWithUnionQuery (children 2)
 ExpressionList (children 1)
  SelectQuery (children 2)
   ExpressionList (children 1)
    Asterisk
   TablesInSelectQuery (children 1)
    TablesInSelectQueryElement (children 1)
     TableExpression (children 1)
      Function file (children 1)
       ExpressionList (children 1)
        Literal \\'a\\'
 Identifier JSON
";

    #[test]
    fn a_table_function_is_refused_where_a_scalar_of_the_same_name_is_not() {
        let refusal = check(
            "SELECT *\nFROM file('a')\nFORMAT JSON",
            SELECT_FILE,
            "pulseboard",
        );
        assert!(refusal.unwrap_err().0.starts_with("file() reaches outside"));
        let format = SELECT_FILE.replace("Function file", "Function format");
        let refusal = check(
            "SELECT *\nFROM format('a')\nFORMAT JSON",
            &format,
            "pulseboard",
        );
        assert!(refusal
            .unwrap_err()
            .0
            .starts_with("table function format()"));
        let numbers = SELECT_FILE.replace("Function file", "Function numbers");
        let checked = check(
            "SELECT *\nFROM numbers(3)\nFORMAT JSON",
            &numbers,
            "pulseboard",
        );
        assert_eq!(checked.unwrap().format.as_deref(), Some("JSON"));
    }

    #[test]
    fn tables_are_the_stores_or_the_catalogues() {
        assert_eq!(check_table("events", "pulseboard"), Ok(()));
        assert_eq!(check_table("pulseboard.events", "pulseboard"), Ok(()));
        assert_eq!(check_table("system.tables", "pulseboard"), Ok(()));
        assert_eq!(
            check_table("INFORMATION_SCHEMA.tables", "pulseboard"),
            Ok(())
        );
        for name in [
            "system.processes",
            "default./etc/passwd",
            "other.events",
            "/etc/passwd",
        ] {
            assert!(check_table(name, "pulseboard").is_err(), "{name}");
        }
        assert_eq!(check_column_or_table("e.event_name", "pulseboard"), Ok(()));
        assert!(check_column_or_table("system.query_log", "pulseboard").is_err());
    }

    #[test]
    fn a_line_break_inside_a_name_is_refused_but_not_inside_a_string() {
        assert!(check_identifiers_are_one_line("SELECT 1 AS `a\\nb`").is_err());
        assert_eq!(
            check_identifiers_are_one_line("SELECT 'a\\nb', `c\\`d`"),
            Ok(())
        );
    }
}
