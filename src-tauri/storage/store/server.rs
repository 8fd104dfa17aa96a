//! The server store: a team's ClickHouse server, cluster or cloud service over HTTP(S), through
//! the official `clickhouse` crate.
//!
//! Every call is bounded by the profile's timeout, and every failure is sorted: `Unreachable`
//! (the batcher keeps the rows and retries) or `Rejected` (a retry cannot help: credentials,
//! grants, or a statement this server refuses). An insert sends the journal's RowBinary as it is,
//! with the flush's deduplication token, so re-sending a flush whose answer was lost is a no-op.

use std::error::Error as StdError;
use std::future::Future;
use std::time::Duration;

use clickhouse::sql::Identifier;
use clickhouse::Client;

use super::error::refusal;
use super::rowbinary;
use super::{Params, Refusal, StoreError};
use crate::support::secret::Sensitive;

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `http://host:8123` or `https://host:8443`, without credentials.
    pub url: String,
    pub user: String,
    pub password: Option<Sensitive<String>>,
    /// Created when missing; every statement runs in it.
    pub database: String,
    /// The longest one call may take, from connecting to the last byte of the answer.
    pub timeout: Duration,
}

/// A ClickHouse server reached over HTTP(S).
pub struct Server {
    /// Every statement runs in the profile's database.
    client: Client,
    /// Without a database: checks (and creates) it, which `client` cannot while it is missing.
    admin: Client,
    database: String,
    /// Set once the database is known to exist.
    ready: tokio::sync::OnceCell<()>,
    url: String,
    user: String,
    timeout: Duration,
}

impl Server {
    /// Connects to the server, creates the database if it is missing and makes it the database
    /// of every later statement.
    pub async fn connect(config: ServerConfig) -> Result<Self, StoreError> {
        let server = Self::offline(&config)?;
        server.ready().await?;
        Ok(server)
    }

    /// The server without any I/O yet: the database is checked on first use, so Pulseboard can
    /// start (and spill to its journal) while the server is down. Credentials travel in
    /// headers, never in the URL.
    pub fn offline(config: &ServerConfig) -> Result<Self, StoreError> {
        check_url(&config.url)?;
        let mut admin = Client::default()
            .with_url(&config.url)
            .with_user(&config.user);
        if let Some(password) = &config.password {
            admin = admin.with_password(password.expose());
        }
        Ok(Self {
            client: admin.clone().with_database(&config.database),
            admin,
            database: config.database.clone(),
            ready: tokio::sync::OnceCell::new(),
            url: config.url.clone(),
            user: config.user.clone(),
            timeout: config.timeout,
        })
    }

    async fn ready(&self) -> Result<(), StoreError> {
        self.ready
            .get_or_try_init(|| self.ensure_database())
            .await
            .map(drop)
    }

    /// Looks before creating: a team's server may grant the database but not CREATE DATABASE.
    /// This first query also proves that the server answers and accepts the credentials.
    async fn ensure_database(&self) -> Result<(), StoreError> {
        let found: u64 = self
            .call(
                self.admin
                    .query_raw("SELECT count() FROM system.databases WHERE name = {db:String}")
                    .param("db", &self.database)
                    .fetch_one(),
            )
            .await?;
        if found == 0 {
            self.call(
                self.admin
                    .query("CREATE DATABASE IF NOT EXISTS ?")
                    .bind(Identifier(&self.database))
                    .execute(),
            )
            .await?;
        }
        Ok(())
    }

    pub async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        self.ready().await?;
        // `query_raw`: our SQL has no client-side `?` placeholders; a `?` in it stays literal.
        self.call(self.client.query_raw(sql).execute()).await
    }

    /// Runs `sql` with `params` bound server-side (`param_<name>`); returns JSONEachRow bytes.
    pub async fn query(&self, sql: &str, params: Params) -> Result<Vec<u8>, StoreError> {
        self.ready().await?;
        // Before ClickHouse 25.8, JSON output quotes 64-bit integers ("3"); panels decode numbers.
        let query = params.iter().fold(
            self.client
                .query_raw(sql)
                .with_setting("output_format_json_quote_64bit_integers", "0"),
            |query, (name, value)| query.param(name, value),
        );
        let bytes = self
            .call(async move { query.fetch_bytes("JSONEachRow")?.collect().await })
            .await?;
        Ok(bytes.to_vec())
    }

    /// A user's statement: parameters (already escaped) and settings as URL parameters, the
    /// output as the server wrote it.
    pub async fn raw(
        &self,
        sql: &str,
        format: &str,
        params: &Params,
        settings: &[(String, String)],
    ) -> Result<Vec<u8>, StoreError> {
        self.ready().await?;
        let query = params
            .iter()
            .map(|(name, value)| (format!("param_{name}"), value))
            .chain(settings.iter().map(|(name, value)| (name.clone(), value)))
            .fold(self.client.query_raw(sql), |query, (name, value)| {
                query.with_setting(name, value.as_str())
            });
        let format = format.to_owned();
        let bytes = self
            .call(async move { query.fetch_bytes(format)?.collect().await })
            .await?;
        Ok(bytes.to_vec())
    }

    /// Inserts RowBinary rows in `COLUMNS` order into `events`, deduplicated by `token`.
    pub async fn insert(&self, rows: Vec<u8>, token: &str) -> Result<(), StoreError> {
        self.ready().await?;
        let sql = format!(
            "INSERT INTO events ({}) FORMAT RowBinary",
            rowbinary::COLUMNS
        );
        // A setting travels as a URL parameter: the token is never quoted into SQL.
        let mut insert = self
            .client
            .insert_formatted_with(sql)
            .with_setting("insert_deduplication_token", token);
        self.call(async move {
            insert.send(rows.into()).await?;
            insert.end().await
        })
        .await
    }

    /// Nothing to release: the HTTP client's pooled connections close when it is dropped.
    pub async fn close(&self) {}

    /// The server's version: a cheap round trip that proves it answers as this user.
    pub async fn version(&self) -> Result<String, StoreError> {
        self.call(self.client.query_raw("SELECT version()").fetch_one())
            .await
    }

    /// Bounds `call` by the timeout and sorts its failure. A timed-out insert may still land:
    /// its retry carries the same token, so it is not stored twice.
    async fn call<T>(
        &self,
        call: impl Future<Output = clickhouse::error::Result<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.classify(error)),
            Err(_) => Err(self.unreachable(format!(
                "no answer within {:?}; if the server is just slow, raise the profile's timeout",
                self.timeout
            ))),
        }
    }

    fn classify(&self, error: clickhouse::error::Error) -> StoreError {
        use clickhouse::error::Error;
        match error {
            Error::Network(source) => self.unreachable(self.network_reason(&*source)),
            Error::BadResponse(text) => self.refused(text),
            Error::InvalidParams(source) => StoreError::Rejected {
                url: self.url.clone(),
                reason: format!("invalid request: {}", chain(&*source)),
            },
            other => StoreError::Query(other.to_string()),
        }
    }

    fn network_reason(&self, source: &(dyn StdError + 'static)) -> String {
        let reason = chain(source);
        let lower = reason.to_ascii_lowercase();
        let tls = TLS_WORDS.iter().any(|word| lower.contains(word));
        if self.url.starts_with("https://") && tls {
            format!(
                "the TLS handshake failed ({reason}); check that this port serves HTTPS \
                 (ClickHouse's default is 8443) with a certificate from a public authority"
            )
        } else {
            reason
        }
    }

    /// The server answered with an error: refused for good, or a failure a retry may get past.
    fn refused(&self, text: String) -> StoreError {
        let what_to_do = match refusal(&text) {
            Some(Refusal::Credentials) => format!(
                "user {:?} was not let in: check the user and password of the profile \
                 (`pulseboard profile test`)",
                self.user
            ),
            Some(Refusal::Grant) => format!(
                "user {:?} lacks a grant: ask the server's administrator for SELECT, INSERT, \
                 CREATE TABLE and CREATE VIEW on Pulseboard's database",
                self.user
            ),
            Some(Refusal::Statement) => "this server does not accept Pulseboard's SQL (schema \
                or version mismatch): restart Pulseboard to re-apply the migrations, and report \
                it if it persists"
                .to_owned(),
            None => return self.unreachable(format!("the server answered: {text}")),
        };
        StoreError::Rejected {
            url: self.url.clone(),
            reason: format!("{what_to_do} ({text})"),
        }
    }

    fn unreachable(&self, reason: String) -> StoreError {
        StoreError::Unreachable {
            url: self.url.clone(),
            reason,
        }
    }
}

/// The URL must name the scheme and a host and carry no credentials (they belong in the profile,
/// and a URL gets printed in error messages).
fn check_url(url: &str) -> Result<(), StoreError> {
    crate::support::urls::check_http_url(url)
        .map(drop)
        .map_err(|rule| StoreError::Rejected {
            // Not echoed: the URL may hold a password.
            url: "<the profile's URL>".to_owned(),
            reason: format!("the server URL {rule}"),
        })
}

// How rustls failures read ("invalid peer certificate: UnknownIssuer", "received corrupt message
// of type InvalidContentType" from a plain HTTP port, "received fatal alert: …").
const TLS_WORDS: &[&str] = &[
    "tls",
    "certificate",
    "handshake",
    "corrupt message",
    "alert",
];

/// An error and its causes: hyper's own message is just "client error (Connect)".
fn chain(error: &(dyn StdError + 'static)) -> String {
    std::iter::successors(Some(error), |&e| e.source())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod fake;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use clickhouse::test::{handlers, status, Mock};
    use clickhouse::Compression;
    use uuid::Uuid;

    use super::*;
    use crate::ingest::event::Event;
    use crate::questions::panels::{
        ActiveUsers, FeatureRow, Panels, Range, Scope, Source, TopFeatures,
    };
    use crate::storage::batcher::Status;
    use crate::storage::store::{migrations, Store};

    const PASSWORD: &str = "hunter2-pw";

    fn config(url: &str) -> ServerConfig {
        ServerConfig {
            url: url.to_owned(),
            user: "analyst".to_owned(),
            password: Some(Sensitive::from(PASSWORD.to_string())),
            database: "pulseboard".to_owned(),
            timeout: Duration::from_secs(5),
        }
    }

    /// A server on `url` as `connect` leaves it, without connect's database check. Uncompressed,
    /// so that what reaches the wire is our RowBinary as sent.
    fn server_at(url: &str) -> Server {
        let server = Server::offline(&config(url)).unwrap();
        Server {
            client: server.client.clone().with_compression(Compression::None),
            ready: tokio::sync::OnceCell::new_with(Some(())),
            ..server
        }
    }

    fn event(n: u128, name: &str, session: &str, user: Option<&str>, properties: &str) -> Event {
        Event {
            event_id: Uuid::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3200 + n),
            event_name: name.to_owned(),
            // Two minutes ago: a whole minute, which the panels read from the minute views.
            timestamp_ms: Utc::now().timestamp_millis() - 120_000 - 1_000 * n as i64,
            session_id: session.to_owned(),
            user_id: user.map(str::to_owned),
            device_type: "desktop".to_owned(),
            country_code: "DE".to_owned(),
            properties: properties.to_owned(),
            id_given: false,
        }
    }

    fn events() -> Vec<Event> {
        vec![
            event(1, "page_view", "s1", None, "{}"),
            event(2, "signup_started", "s1", Some("u1"), "{}"),
            event(
                3,
                "feature_used",
                "s2",
                Some("u2"),
                r#"{"feature":"export"}"#,
            ),
        ]
    }

    fn assert_unreachable(error: &StoreError, reason_has: &str) {
        match error {
            StoreError::Unreachable { reason, .. } => {
                assert!(reason.contains(reason_has), "{reason:?}");
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
        assert!(error.is_retryable());
    }

    #[tokio::test]
    async fn connect_creates_the_database_only_when_missing() {
        let mock = Mock::new();
        mock.add(handlers::provide([1u64]));
        let server = Server::connect(config(mock.url())).await.unwrap();
        assert_eq!(server.client.database(), Some("pulseboard"));

        mock.add(handlers::provide([0u64]));
        let ddl = mock.add(handlers::record_ddl());
        let server = Server::connect(config(mock.url())).await.unwrap();
        assert_eq!(
            ddl.query().await,
            "CREATE DATABASE IF NOT EXISTS `pulseboard`"
        );
        assert_eq!(server.client.database(), Some("pulseboard"));
    }

    #[tokio::test]
    async fn insert_sends_our_rowbinary_unchanged() {
        let mock = Mock::new();
        let server = server_at(mock.url());
        let rows = rowbinary::encode_all(&events());
        let recorded = mock.add(handlers::record::<u8>());
        server.insert(rows.clone(), "flush-7").await.unwrap();
        let body: Vec<u8> = recorded.collect().await;
        assert_eq!(body, rows);
    }

    #[derive(Debug, PartialEq, clickhouse::Row, serde::Deserialize)]
    struct EventRow {
        #[serde(with = "clickhouse::serde::uuid")]
        event_id: Uuid,
        event_name: String,
        timestamp: i64,
        session_id: String,
        user_id: Option<String>,
        device_type: String,
        country_code: String,
        properties: String,
    }

    #[tokio::test]
    async fn the_official_client_reads_our_rowbinary() {
        let mock = Mock::new();
        let server = server_at(mock.url());
        let events = events();
        let recorded = mock.add(handlers::record::<EventRow>());
        server
            .insert(rowbinary::encode_all(&events), "flush-7")
            .await
            .unwrap();
        let rows: Vec<EventRow> = recorded.collect().await;
        let expected: Vec<EventRow> = events
            .into_iter()
            .map(|e| EventRow {
                event_id: e.event_id,
                event_name: e.event_name,
                timestamp: e.timestamp_ms,
                session_id: e.session_id,
                user_id: e.user_id,
                device_type: e.device_type,
                country_code: e.country_code,
                properties: e.properties,
            })
            .collect();
        assert_eq!(rows, expected);
    }

    #[tokio::test]
    async fn insert_names_table_columns_format_and_token() {
        let (url, request) = fake::server(Some(fake::reply("200 OK", "")));
        server_at(&url)
            .insert(rowbinary::encode_all(&events()), "flush-7")
            .await
            .unwrap();
        let request = request.join().unwrap();
        let query = fake::query_pairs(&request);
        assert_eq!(
            query,
            vec![
                ("database".to_owned(), "pulseboard".to_owned()),
                (
                    "query".to_owned(),
                    "INSERT INTO events (event_id, event_name, timestamp, session_id, user_id, \
                     device_type, country_code, properties) FORMAT RowBinary"
                        .to_owned()
                ),
                (
                    "insert_deduplication_token".to_owned(),
                    "flush-7".to_owned()
                ),
            ]
        );
        assert!(
            request.contains("x-clickhouse-user: analyst\r\n"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn query_binds_params_server_side_and_returns_json_rows() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Row {
            sessions: u64,
        }
        let sql = "SELECT uniqExact(session_id) AS sessions FROM events \
                   WHERE timestamp <= fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')";
        let mock = Mock::new();
        let store = Store::Server(server_at(mock.url()));
        let recorded = mock.add(handlers::record::<u8>());
        store
            .query::<Row>(sql, vec![("end_ms".to_owned(), "1700000000123".to_owned())])
            .await
            .unwrap();
        // The body is multipart: the SQL untouched, the value in its own `param_end_ms` part.
        let body = String::from_utf8(recorded.collect::<Vec<u8>>().await).unwrap();
        assert!(body.contains(sql), "{body}");
        assert!(
            body.contains("name=\"param_end_ms\"\r\n\r\n1700000000123\r\n"),
            "{body}"
        );

        let json = b"{\"sessions\":2}\n{\"sessions\":5}\n";
        mock.add(handlers::provide(json.iter().copied()));
        let rows: Vec<Row> = store.query(sql, Vec::new()).await.unwrap();
        assert_eq!(rows, vec![Row { sessions: 2 }, Row { sessions: 5 }]);
    }

    #[tokio::test]
    async fn query_asks_for_json_with_unquoted_64bit_integers() {
        let (url, request) = fake::server(Some(fake::reply("200 OK", "")));
        server_at(&url).query("SELECT 1", Vec::new()).await.unwrap();
        let query = fake::query_pairs(&request.join().unwrap());
        for pair in [
            ("default_format", "JSONEachRow"),
            ("database", "pulseboard"),
            ("output_format_json_quote_64bit_integers", "0"),
        ] {
            assert!(
                query.contains(&(pair.0.to_owned(), pair.1.to_owned())),
                "{query:?}"
            );
        }
    }

    /// A user's statement (`/api/sql`, `/clickhouse`): its format, its parameters as the
    /// client wrote them and Pulseboard's settings, all as URL parameters; the answer as is.
    #[tokio::test]
    async fn a_users_statement_carries_its_format_parameters_and_settings() {
        let (url, request) = fake::server(Some(fake::reply("200 OK", "1\ta\n")));
        let bytes = server_at(&url)
            .raw(
                "SELECT {x:String}",
                "TSV",
                &vec![("x".to_owned(), "a\\tb".to_owned())],
                &[("readonly".to_owned(), "1".to_owned())],
            )
            .await
            .unwrap();
        assert_eq!(bytes, b"1\ta\n");
        let request = request.join().unwrap();
        let query = fake::query_pairs(&request);
        for pair in [
            ("default_format", "TSV"),
            ("database", "pulseboard"),
            ("readonly", "1"),
        ] {
            assert!(
                query.contains(&(pair.0.to_owned(), pair.1.to_owned())),
                "{pair:?} in {query:?}"
            );
        }
        // The statement and its parameters travel in the multipart body, untouched.
        assert!(request.contains("SELECT {x:String}"), "{request}");
        assert!(
            request.contains("name=\"param_x\"\r\n\r\na\\tb\r\n"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn wrong_password_is_rejected_without_the_password() {
        let body = "Code: 516. DB::Exception: analyst: Authentication failed: password is \
                    incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) \
                    (version 24.8.4.13 (official build))";
        let (url, _) = fake::server(Some(fake::reply("403 Forbidden", body)));
        let error = Server::connect(config(&url)).await.err().unwrap();
        assert!(matches!(error, StoreError::Rejected { .. }), "{error:?}");
        assert!(!error.is_retryable());
        let message = error.to_string();
        assert_eq!(
            message,
            format!(
                "ClickHouse at {url} refused the request: user \"analyst\" was not let in: \
                 check the user and password of the profile (`pulseboard profile test`) ({body})"
            )
        );
        assert!(!format!("{message} {error:?}").contains(PASSWORD));
    }

    #[tokio::test]
    async fn bare_unauthorized_status_is_rejected() {
        let mock = Mock::new();
        mock.add(handlers::failure(status::UNAUTHORIZED));
        let error = server_at(mock.url()).execute("SELECT 1").await.unwrap_err();
        assert!(matches!(error, StoreError::Rejected { .. }), "{error:?}");
        assert!(!error.is_retryable());
    }

    #[tokio::test]
    async fn server_error_is_unreachable_and_retryable() {
        let mock = Mock::new();
        mock.add(handlers::failure(status::INTERNAL_SERVER_ERROR));
        let error = server_at(mock.url())
            .insert(vec![1, 2, 3], "flush-8")
            .await
            .unwrap_err();
        assert_unreachable(&error, "the server answered: Internal Server Error");
    }

    #[tokio::test]
    async fn a_silent_server_times_out_as_retryable() {
        let (url, _held) = fake::server(None);
        let server = Server {
            timeout: Duration::from_millis(200),
            ..server_at(&url)
        };
        let started = std::time::Instant::now();
        let error = server.execute("SELECT 1").await.unwrap_err();
        assert_unreachable(&error, "no answer within 200ms");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn offline_needs_no_server_and_checks_the_database_on_first_use() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = Server::offline(&config(&format!("http://127.0.0.1:{port}"))).unwrap();
        // The first call is the database check, which finds nobody.
        let error = server.execute("SELECT 1").await.unwrap_err();
        assert_unreachable(&error, "Connection refused");
        assert!(
            server.ready.get().is_none(),
            "checked again on the next call"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = server_at(&format!("http://127.0.0.1:{port}"))
            .execute("SELECT 1")
            .await
            .unwrap_err();
        assert_unreachable(&error, "Connection refused");
    }

    #[tokio::test]
    async fn https_to_a_plain_http_port_says_tls_failed() {
        let (url, _) = fake::server(Some(fake::reply("400 Bad Request", "")));
        let url = url.replace("http://", "https://");
        let error = server_at(&url).execute("SELECT 1").await.unwrap_err();
        assert_unreachable(&error, "the TLS handshake failed");
    }

    #[test]
    fn sorts_server_answers() {
        let cases = [
            (
                "Code: 62. DB::Exception: Syntax error",
                Some(Refusal::Statement),
            ),
            (
                "Code: 60. DB::Exception: Unknown table",
                Some(Refusal::Statement),
            ),
            (
                "Code: 497. DB::Exception: Not enough privileges",
                Some(Refusal::Grant),
            ),
            ("Code: 194", Some(Refusal::Credentials)),
            ("Code: 252. DB::Exception: Too many parts", None),
            ("Code: 241. DB::Exception: Memory limit exceeded", None),
            ("401 Unauthorized", Some(Refusal::Credentials)),
            ("Bad Gateway", None),
            ("<html>503 Service Unavailable</html>", None),
        ];
        for (text, expected) in cases {
            assert_eq!(refusal(text), expected, "{text}");
        }
    }

    #[test]
    fn urls_need_a_scheme_and_no_credentials() {
        assert!(check_url("https://ch.example.com:8443").is_ok());
        assert!(check_url("http://localhost:8123/").is_ok());
        let error = check_url("http://analyst:hunter2-pw@localhost:8123").unwrap_err();
        assert!(!error.to_string().contains(PASSWORD), "{error}");
        assert!(!error.is_retryable());
        assert!(check_url("localhost:8123").is_err());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let printed = format!("{:?}", config("http://localhost:8123"));
        assert!(printed.contains("password: Some(<redacted>)"), "{printed}");
        assert!(!printed.contains(PASSWORD));
    }

    /// Against a real server: every migration, exactly-once inserts through every view, the
    /// panels from the views equal to those from raw events; in a throwaway database it drops.
    /// `scripts/test-server.sh URL [USER] [PASSWORD]` runs it (and fails without a server).
    #[tokio::test]
    #[ignore = "needs a ClickHouse server: scripts/test-server.sh URL"]
    async fn real_server_roundtrip() {
        let url = std::env::var("PULSEBOARD_TEST_CLICKHOUSE_URL").expect(
            "PULSEBOARD_TEST_CLICKHOUSE_URL is not set: this test needs a ClickHouse server; \
             run it with scripts/test-server.sh URL [USER] [PASSWORD]",
        );
        let database = format!("pulseboard_test_{}", fastrand::u32(..));
        let server = Server::connect(real_config(&url, &database)).await.unwrap();
        let store = Arc::new(Store::Server(server));
        let every_migration: Vec<&str> = migrations::MIGRATIONS
            .iter()
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(store.migrate(90).await.unwrap(), every_migration);
        assert!(store.migrate(90).await.unwrap().is_empty());

        let rows = rowbinary::encode_all(&events());
        store.insert(rows.clone(), "real-flush-1").await.unwrap();
        store.insert(rows, "real-flush-1").await.unwrap();
        #[derive(serde::Deserialize)]
        struct N {
            n: u64,
        }
        // Three events, one of them a used feature: counted once in the raw table and in every
        // table a view fills, though the flush was inserted twice.
        for (sql, expected) in [
            ("SELECT count() AS n FROM events", 3),
            (
                "SELECT sum(events) AS n FROM count_rollups WHERE by_dims = 0",
                3,
            ),
            (
                "SELECT sum(events) AS n FROM count_rollups WHERE by_dims = 1",
                3,
            ),
            (
                "SELECT sum(events) AS n FROM feature_rollups WHERE grain = 3600",
                1,
            ),
        ] {
            let counted: Vec<N> = store.query(sql, Vec::new()).await.unwrap();
            assert_eq!(counted[0].n, expected, "{sql}");
        }

        let panels = Panels::new(
            store.clone(),
            Arc::new(Status::default()),
            crate::support::clock::Clock::system(),
        );
        let at = Some(Utc::now());
        for range in Range::ALL {
            let views = Scope {
                at,
                ..Scope::new(range)
            };
            let raw = Scope {
                source: Source::Raw,
                ..views.clone()
            };
            let views = panels.dashboard(&views).await.unwrap();
            let raw = panels.dashboard(&raw).await.unwrap();
            assert_eq!(views.panels(), raw.panels(), "{}", range);
        }
        let views = Scope {
            at,
            ..Scope::new(Range::H1)
        };
        let views = panels.dashboard(&views).await.unwrap();
        assert_eq!(views.get::<ActiveUsers>().value, 2);
        assert_eq!(
            views.get::<TopFeatures>().0,
            vec![FeatureRow {
                feature: "export".to_owned(),
                users: 1,
                events: 1
            }]
        );
        store
            .execute(&format!("DROP DATABASE {database}"))
            .await
            .unwrap();
        store.close().await;
    }

    /// The server to test against: `PULSEBOARD_TEST_CLICKHOUSE_URL`, with the user and password
    /// from `PULSEBOARD_TEST_CLICKHOUSE_USER` and `_PASSWORD` or from the URL
    /// (`http://user:pass@host:8123`; the store refuses credentials in URLs, so they are split off).
    fn real_config(url: &str, database: &str) -> ServerConfig {
        let mut parsed = url::Url::parse(url).unwrap();
        let user = std::env::var("PULSEBOARD_TEST_CLICKHOUSE_USER")
            .ok()
            .filter(|user| !user.is_empty())
            .unwrap_or_else(|| parsed.username().to_owned());
        let password = std::env::var("PULSEBOARD_TEST_CLICKHOUSE_PASSWORD")
            .ok()
            .or_else(|| parsed.password().map(str::to_owned))
            .map(Sensitive::from);
        parsed.set_username("").unwrap();
        parsed.set_password(None).unwrap();
        ServerConfig {
            url: parsed.as_str().trim_end_matches('/').to_owned(),
            user: if user.is_empty() {
                "default".to_owned()
            } else {
                user
            },
            password,
            database: database.to_owned(),
            timeout: Duration::from_secs(30),
        }
    }
}
