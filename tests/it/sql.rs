//! SQL for analysts (DESIGN part 3, "SQL, for analysts and their tools"): `/api/sql` answers
//! exactly and within its limits; the read-only rule refuses every way out of the store
//! (a table of attempts, after which the events are unchanged and no file was read or
//! written); `/clickhouse` serves the real clients, clickhouse-connect and @clickhouse/client.

use std::path::Path;

use chrono::Utc;
use serde_json::{json, Value};

use crate::common::Server;

const SECRET: &str = "canary-7f3a";

/// 3 page views (s1, s2 for u1; s3), 2 signups (u1, u2): counts known without ClickHouse.
fn events() -> Value {
    let at = Utc::now().timestamp_millis() - 60_000;
    json!([
        {"event_name": "page_view", "session_id": "s1", "user_id": "u1", "timestamp": at,
         "properties": {"path": "=HYPERLINK(\"http://evil.example\")"}},
        {"event_name": "page_view", "session_id": "s2", "user_id": "u1", "timestamp": at + 1},
        {"event_name": "page_view", "session_id": "s3", "timestamp": at + 2},
        {"event_name": "signup", "session_id": "s1", "user_id": "u1", "timestamp": at + 3},
        {"event_name": "signup", "session_id": "s4", "user_id": "u2", "timestamp": at + 4},
    ])
}

async fn sql(server: &Server, query: &str) -> (u16, Value) {
    let response = server
        .http
        .post(format!("{}/api/sql", server.url))
        .header("content-type", "text/plain")
        .body(query.to_string())
        .send()
        .await
        .expect("POST /api/sql");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn rows(server: &Server, query: &str) -> Value {
    let (status, answer) = sql(server, query).await;
    assert_eq!(status, 200, "{query}: {answer}");
    answer["rows"].clone()
}

#[tokio::test]
async fn sql_answers_exactly_as_json_and_csv_within_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &["--sql-max-rows", "5", "--sql-timeout", "500ms"],
    );
    server.post_ok(&events()).await;
    server.drained().await;

    let (status, answer) = sql(
        &server,
        "select event_name, count() as n, uniqExact(user_id) as users from events \
         group by event_name order by event_name",
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["columns"],
        json!([{"name": "event_name", "type": "LowCardinality(String)"},
               {"name": "n", "type": "UInt64"}, {"name": "users", "type": "UInt64"}])
    );
    // u1 (a view without a user has none) for page views; u1, u2 for signups.
    assert_eq!(
        answer["rows"],
        json!([["page_view", 3, 1], ["signup", 2, 2]])
    );
    assert_eq!(answer["truncated"], false);
    assert_eq!(answer["rows_read"], 5);

    // A JSON body, a CTE over the store's table, a join of two of its tables.
    let (status, answer) = server
        .post_to(
            "/api/sql",
            &json!({"query": "WITH s AS (SELECT session_id FROM events WHERE event_name = 'signup') \
                     SELECT count() FROM events WHERE session_id IN s"})
            .to_string(),
        )
        .await;
    assert_eq!((status, &answer["rows"]), (200, &json!([[3]])), "{answer}");

    // --sql-max-rows 5: five rows and `truncated`; exactly five is not cut.
    let (_, cut) = sql(&server, "SELECT number FROM numbers(100)").await;
    assert_eq!(cut["rows"], json!([[0], [1], [2], [3], [4]]));
    assert_eq!(cut["truncated"], true);
    let (_, whole) = sql(&server, "SELECT number FROM numbers(5)").await;
    assert_eq!(whole["truncated"], false);

    // --sql-timeout 500ms: ClickHouse's own message, and the next statement runs.
    let (status, slow) = sql(&server, "SELECT sleep(2)").await;
    assert_eq!(status, 400, "{slow}");
    assert!(
        slow["error"].as_str().unwrap().contains("Timeout exceeded"),
        "{slow}"
    );
    assert_eq!(rows(&server, "SELECT 1").await, json!([[1]]));

    // ClickHouse's error text reaches the user.
    let (status, wrong) = sql(&server, "SELECT nope FROM events").await;
    assert_eq!(status, 400);
    let text = wrong["error"].as_str().unwrap();
    assert!(text.contains("Code: 47") && text.contains("nope"), "{text}");

    // CSV: a header, RFC 4180 quoting, and the formula made text.
    let csv = server
        .http
        .post(format!("{}/api/sql", server.url))
        .json(
            &json!({"query": "SELECT event_name, JSONExtractString(properties, 'path') AS path \
                       FROM events WHERE path != '' ", "format": "csv"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.text().await.unwrap(),
        "event_name,path\r\npage_view,\"'=HYPERLINK(\"\"http://evil.example\"\")\"\r\n"
    );

    // A body that is neither: the field named.
    let (status, bad) = server
        .post_to("/api/sql", r#"{"query": "SELECT 1", "format": "xml"}"#)
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        bad["error"],
        "bad query: format must be json or csv (got \"xml\")"
    );
}

/// Each attempt, and a part of the reason it is refused with.
fn attempts(canary: &Path, out: &Path) -> Vec<(String, &'static str)> {
    let canary = canary.display();
    let out = out.display();
    let only = "only SELECT, WITH";
    let settings = "SETTINGS clauses are not allowed";
    let multi = "Multi-statements are not allowed";
    let outfile = "INTO OUTFILE writes a file";
    let file = "file() reaches outside the store";
    let lines = format!("file('{canary}', 'LineAsString')");
    let attempts: Vec<(String, &str)> = vec![
        // Writes and DDL.
        ("INSERT INTO events (event_name) VALUES ('x')".into(), only),
        ("ALTER TABLE events DELETE WHERE 1".into(), only),
        ("ALTER TABLE events ADD COLUMN x UInt8".into(), only),
        ("CREATE TABLE t (a UInt8) ENGINE = Memory".into(), only),
        ("CREATE TABLE t ENGINE = File(CSV) AS SELECT 1".into(), only),
        ("DROP TABLE events".into(), only),
        ("TRUNCATE TABLE events".into(), only),
        ("OPTIMIZE TABLE events FINAL".into(), only),
        ("RENAME TABLE events TO gone".into(), only),
        ("DETACH TABLE events".into(), only),
        ("SYSTEM FLUSH LOGS".into(), only),
        ("KILL QUERY WHERE 1".into(), only),
        ("SET readonly = 0".into(), only),
        ("GRANT SELECT ON *.* TO default".into(), only),
        ("USE default".into(), only),
        (
            format!("CREATE DICTIONARY d (a UInt64) PRIMARY KEY a SOURCE(FILE(path '{canary}' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)"),
            only,
        ),
        ("SHOW PROCESSLIST".into(), only),
        ("SHOW SETTINGS LIKE 'max%'".into(), "of the SHOW statements"),
        // A second statement behind a comment, a string, odd casing.
        ("SELECT 1; DROP TABLE events".into(), multi),
        ("SELECT 1 -- a comment\n; DROP TABLE events".into(), multi),
        ("SELECT 1 /* ; */ ; INSERT INTO events (event_name) VALUES ('x')".into(), multi),
        ("sElEcT 1;dRoP tAbLe events".into(), multi),
        ("SELECT ';'; TRUNCATE TABLE events".into(), multi),
        // Settings that would lift a limit or the read-only rule.
        ("SELECT 1 SETTINGS readonly = 0".into(), settings),
        ("SELECT count() FROM events SETTINGS max_execution_time = 1000".into(), settings),
        ("SELECT * FROM (SELECT 1 SETTINGS max_result_rows = 0)".into(), settings),
        ("SELECT 1 FORMAT JSON SETTINGS allow_ddl = 1".into(), settings),
        ("EXPLAIN PIPELINE header = 1 SELECT 1".into(), settings),
        // Every table function that reaches outside, by name and nested.
        (format!("SELECT * FROM {lines}"), file),
        (format!("SELECT file('{canary}')"), file),
        (format!("SELECT * FROM FILE('{canary}', 'LineAsString')"), "FILE() reaches outside"),
        ("SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')".into(), "url() reaches"),
        ("SELECT * FROM s3('http://127.0.0.1:1/b/k', 'CSV')".into(), "s3() reaches"),
        ("SELECT * FROM s3Cluster('c', 'http://127.0.0.1:1/b/k', 'CSV')".into(), "s3Cluster() reaches"),
        ("SELECT * FROM hdfs('hdfs://127.0.0.1:1/x', 'CSV')".into(), "hdfs() reaches"),
        ("SELECT * FROM remote('127.0.0.1', system.one)".into(), "remote() reaches"),
        ("SELECT * FROM mysql('127.0.0.1:1', 'd', 't', 'u', 'p')".into(), "mysql() reaches"),
        ("SELECT * FROM postgresql('127.0.0.1:1', 'd', 't', 'u', 'p')".into(), "postgresql() reaches"),
        (format!("SELECT * FROM sqlite('{canary}', 't')"), "sqlite() reaches"),
        ("SELECT * FROM executable('cat /etc/passwd', 'LineAsString', 'x String')".into(), "executable() reaches"),
        ("SELECT * FROM input('x String')".into(), "input() reaches"),
        ("SELECT * FROM azureBlobStorage('http://127.0.0.1:1', 'c', 'b')".into(), "table function azureBlobStorage()"),
        ("SELECT * FROM merge('system', 'processes')".into(), "table function merge()"),
        (format!("SELECT * FROM events WHERE event_name IN (SELECT * FROM {lines})"), file),
        (format!("WITH t AS (SELECT * FROM {lines}) SELECT * FROM t"), file),
        (format!("SELECT * FROM events AS e JOIN (SELECT * FROM {lines}) AS f ON 1"), file),
        (format!("SELECT * FROM view(SELECT * FROM {lines})"), file),
        (format!("SELECT (SELECT count() FROM {lines})"), file),
        (format!("DESCRIBE TABLE {lines}"), file),
        // chDB's default database reads files by name.
        (format!("SELECT * FROM default.`{canary}`"), "database default is not readable"),
        (format!("SELECT * FROM `{canary}`"), "is not a table of the store"),
        (format!("SHOW CREATE TABLE default.`{canary}`"), "database default is not readable"),
        ("SHOW TABLES FROM default".into(), "database default is not readable"),
        // Dictionaries.
        ("SELECT dictGet('d', 'a', toUInt64(1))".into(), "dictGet() reaches"),
        ("SELECT * FROM dictionary('d')".into(), "dictionary() reaches"),
        ("SELECT * FROM system.errors".into(), "system.errors is not readable"),
        // System tables that show the machine or other sessions.
        ("SELECT * FROM system.processes".into(), "system.processes is not readable"),
        ("SELECT * FROM system.disks".into(), "system.disks is not readable"),
        ("SELECT * FROM system.server_settings".into(), "system.server_settings is not readable"),
        ("SELECT 1 WHERE 1 IN (SELECT 1 FROM system.query_log)".into(), "system.query_log is not readable"),
        ("SELECT 1 WHERE 'x' IN system.users".into(), "system.users is not readable"),
        // Files written.
        (format!("SELECT * FROM events INTO OUTFILE '{out}'"), outfile),
        (format!("SELECT 1 INTO OUTFILE '{out}' FORMAT CSV"), outfile),
        // The engine's own guards, and a forged line of the parsed tree.
        ("SELECT addressToSymbol(1)".into(), "Introspection functions are disabled"),
        ("SELECT 1 AS `a\nFunction numbers`".into(), "line breaks"),
        ("SELECT 1 FORMAT TSV".into(), "FORMAT TSV: /api/sql answers JSON or CSV"),
    ];
    attempts
}

#[tokio::test]
async fn every_way_out_of_the_store_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("canary.txt");
    std::fs::write(&canary, format!("{SECRET}\n")).unwrap();
    let out = dir.path().join("out.csv");
    let server = Server::start(&dir.path().join("data"), &[]);
    server.post_ok(&events()).await;
    server.drained().await;
    let state = "SELECT count(), sum(cityHash64(event_id)), \
                 (SELECT groupArray(name) FROM (SELECT name FROM system.tables \
                  WHERE database = currentDatabase() ORDER BY name)) FROM events";
    let before = rows(&server, state).await;
    assert_eq!(before[0][0], 5);

    let attempts = attempts(&canary, &out);
    assert!(attempts.len() >= 40, "{} attempts", attempts.len());
    for (query, reason) in &attempts {
        let (status, answer) = sql(&server, query).await;
        let error = answer["error"].as_str().unwrap_or_default();
        assert_eq!(status, 400, "{query}: {answer}");
        assert!(
            error.contains(reason),
            "{query}: expected {reason:?} in {error}"
        );
        assert!(
            !answer.to_string().contains(SECRET),
            "{query} read the file"
        );
    }
    assert_eq!(rows(&server, state).await, before, "the store changed");
    assert!(!out.exists(), "a file was written");

    // What stays allowed: the store's tables, the catalogue, made-up rows, EXPLAIN.
    let allowed = [
        ("SHOW TABLES", json!(["count_rollups"])),
        ("SELECT count() FROM system.tables WHERE name = 'events' AND database = currentDatabase()", json!([1])),
        ("SELECT count() FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'event_name'", json!([1])),
        ("SELECT sum(number) FROM numbers(10)", json!([45])),
        ("SELECT name FROM system.columns WHERE table = 'events' AND name = 'event_id' AND database = currentDatabase()", json!(["event_id"])),
        ("DESCRIBE TABLE events", json!(["event_id", "UUID", "", "", "", "", ""])),
        ("EXISTS TABLE events", json!([1])),
    ];
    for (query, first) in allowed {
        let rows = rows(&server, query).await;
        assert_eq!(rows[0], first, "{query}: {rows}");
    }
    let explain = rows(&server, "EXPLAIN SELECT count() FROM events").await;
    assert!(explain.to_string().contains("ReadFrom"), "{explain}");
}

/// `/clickhouse` takes settings and parameters in its URL: none may carry SQL or a path past
/// the rule (ClickHouse applies a request's settings before `readonly` takes effect).
#[tokio::test]
async fn clickhouse_interface_refuses_settings_and_parameters_that_reach_outside() {
    let dir = tempfile::tempdir().unwrap();
    let canary = dir.path().join("canary.txt");
    std::fs::write(&canary, format!("{SECRET}\n")).unwrap();
    let schema = dir.path().join("written.proto");
    let server = Server::start(&dir.path().join("data"), &[]);
    server.post_ok(&events()).await;
    server.drained().await;
    let canary = canary.display().to_string();
    let schema_path = schema.display().to_string();
    let file_filter = format!("toUInt32(file('{canary}')) > 0");
    // The statement, the URL's other parameters, and a part of the refusal.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "SELECT * FROM (SELECT * FROM {d:Identifier}.{t:Identifier})",
            vec![("param_d", "system"), ("param_t", "processes")],
            "a query parameter of type Identifier",
        ),
        (
            "SELECT count() FROM events",
            vec![("additional_result_filter", &file_filter)],
            "'additional_result_filter'",
        ),
        (
            "SELECT *",
            vec![("implicit_table_at_top_level", "system.processes")],
            "'implicit_table_at_top_level'",
        ),
        (
            "SELECT 1",
            vec![
                ("format_template_resultset", &canary),
                ("default_format", "Template"),
            ],
            "'format_template_resultset'",
        ),
        (
            "SELECT 1 AS a",
            vec![
                ("output_format_schema", &schema_path),
                ("default_format", "Protobuf"),
            ],
            "'output_format_schema'",
        ),
        (
            "SELECT 1 AS a",
            vec![("default_format", "Protobuf")],
            "FORMAT Protobuf reads a schema file",
        ),
        ("SELECT 1", vec![("readonly", "0")], "'readonly'"),
        (
            "SELECT 1",
            vec![("max_execution_time", "3600")],
            "'max_execution_time'",
        ),
    ];
    for (query, params, reason) in cases {
        let response = server
            .http
            .get(format!("{}/clickhouse/", server.url))
            .query(&[("query", query)])
            .query(&params)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let code = response.headers()["x-clickhouse-exception-code"]
            .to_str()
            .unwrap()
            .to_string();
        let text = response.text().await.unwrap();
        assert_eq!(
            (status, code.as_str()),
            (403, "164"),
            "{query} {params:?}: {text}"
        );
        assert!(
            text.contains(reason),
            "{query} {params:?}: expected {reason:?} in {text}"
        );
        assert!(
            !text.contains(SECRET),
            "{query} {params:?} read the file: {text}"
        );
    }
    assert!(!schema.exists(), "a schema file was written");
    // What a client may set still applies: how the answer is written.
    let iso = server
        .http
        .get(format!("{}/clickhouse", server.url))
        .query(&[
            ("query", "SELECT toDateTime(0, 'UTC') AS t"),
            ("date_time_output_format", "iso"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(iso.text().await.unwrap(), "1970-01-01T00:00:00Z\n");
}

#[tokio::test]
async fn clickhouse_clients_connect_query_and_are_refused_writes() {
    let dir = tempfile::tempdir().unwrap();
    let token = "ch-t0ken";
    let server = Server::start_with_env(dir.path(), &[], &[("PULSEBOARD_INGEST_TOKEN", token)]);
    let posted = server
        .http
        .post(format!("{}/v1/events", server.url))
        .bearer_auth(token)
        .json(&events())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202);
    server.drained().await;
    let url = reqwest::Url::parse(&server.url).unwrap();

    let python = crate::sdks::run(
        "clickhouse_py.py",
        &json!({"host": url.host_str(), "port": url.port(), "password": token, "user_id": "u1"}),
    );
    assert_eq!(python["columns"], json!(["event_name", "n", "first"]));
    assert_eq!(
        python["types"],
        json!(["LowCardinality(String)", "UInt64", "DateTime64(3, 'UTC')"])
    );
    let names: Vec<&Value> = python["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r[0])
        .collect();
    assert_eq!(names, [&json!("page_view"), &json!("signup")]);
    assert_eq!(python["rows"][0][1], 3);
    assert_eq!(python["rows"][1][1], 2);
    assert_eq!(
        (&python["server_bound"], &python["client_bound"]),
        (&json!(3), &json!(3))
    );
    assert_eq!(python["command"], 5);
    for refused in ["drop", "insert", "file"] {
        let failure = &python[refused];
        assert_eq!(failure["type"], "DatabaseError", "{refused}: {failure}");
        assert!(
            failure["message"].as_str().unwrap().contains("code: 164"),
            "{refused}: {failure}"
        );
    }
    assert!(python["wrong_password"]["message"]
        .as_str()
        .unwrap()
        .contains("code: 516"));

    let node = crate::sdks::run(
        "clickhouse_node.mjs",
        &json!({"url": server.url, "password": token, "user_id": "u1"}),
    );
    assert_eq!(node["ping"], true);
    assert_eq!(
        node["json"],
        json!([{"event_name": "page_view", "n": 3}, {"event_name": "signup", "n": 2}])
    );
    assert_eq!(node["bound"], 3);
    for refused in ["drop", "insert"] {
        let failure = &node[refused];
        assert_eq!(
            (
                &failure["clickhouse_error"],
                &failure["code"],
                &failure["type"]
            ),
            (&json!(true), &json!("164"), &json!("READONLY")),
            "{refused}: {failure}"
        );
    }
    assert_eq!(node["wrong_password"]["code"], "516");

    // The stored events are as sent: nothing the clients tried changed them.
    let count = server
        .http
        .post(format!("{}/api/sql", server.url))
        .bearer_auth(token)
        .body("SELECT count() FROM events")
        .send()
        .await
        .unwrap();
    assert_eq!(count.json::<Value>().await.unwrap()["rows"], json!([[5]]));
}
