//! Who may call the API, checked for every request before any handler runs:
//!
//! * `Host` must name this machine when bound to the loopback (or a name in `--allowed-hosts`):
//!   a DNS-rebinding page reaches 127.0.0.1 under its own name and gets 421.
//! * A browser page on an origin not in `--cors-origins` gets 403 on every route, whatever it
//!   sends (a form or `text/plain` needs no preflight); clients without `Origin` are unaffected.
//! * With an ingest token, every route but `/health` needs `Authorization: Bearer <token>`
//!   (401); `/health` then answers only its status to those without it.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{body, ApiError};
use crate::support::secret::Sensitive;

/// The access rules of one listening address.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// When set, every route but `/health` needs `Authorization: Bearer <token>`.
    pub token: Option<Sensitive<String>>,
    /// Origins whose browser pages may call the API (`*` allows any).
    pub cors_origins: Vec<String>,
    /// Host names besides the loopback's that requests may name (a reverse proxy's).
    pub allowed_hosts: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    #[error(
        "binding {0} exposes the ingest endpoint to the network: set an ingest token with \
         PULSEBOARD_INGEST_TOKEN (clients then send `Authorization: Bearer <token>`), or bind \
         127.0.0.1"
    )]
    TokenRequired(IpAddr),
    #[error(
        "PULSEBOARD_INGEST_TOKEN is set but empty: set it to a secret clients will send, or \
         unset it"
    )]
    EmptyToken,
    #[error("CORS origin {0:?} is not an origin like https://app.example.com (or *)")]
    BadOrigin(String),
}

/// Whether the request carried the ingest token (or none is needed): `/health` reads it, and
/// the SDK routes, whose clients send their key their own way, ask it about that key.
#[derive(Debug, Clone)]
pub struct Authorized {
    pub shown: bool,
    /// Shared with the guard: no copy of the token per request.
    token: Option<Arc<Sensitive<String>>>,
}

impl Authorized {
    /// The bearer token was shown, no token is needed, or `key` is the token.
    pub fn accepts(&self, key: Option<&str>) -> bool {
        self.shown
            || self.token.as_ref().is_none_or(|token| {
                key.is_some_and(|k| same(k.as_bytes(), token.expose().as_bytes()))
            })
    }
}

/// The rules as the middleware applies them to one address.
#[derive(Debug)]
pub(super) struct Guard {
    token: Option<Arc<Sensitive<String>>>,
    /// `None`: any origin may call.
    origins: Option<Vec<String>>,
    /// `None`: any host (bound off the loopback, where the token guards every route).
    hosts: Option<Vec<String>>,
}

impl Access {
    /// Refuses a non-loopback bind without a token (anyone on the network could write events),
    /// an empty token, and malformed origins.
    pub fn check(&self, bind: IpAddr) -> Result<(), AccessError> {
        if self.token.as_ref().is_some_and(|t| t.expose().is_empty()) {
            return Err(AccessError::EmptyToken);
        }
        if self.token.is_none() && !bind.is_loopback() {
            return Err(AccessError::TokenRequired(bind));
        }
        self.cors_origins
            .iter()
            .try_for_each(|origin| origin_header(origin).map(drop))
    }

    pub(super) fn guard(&self, bind: IpAddr) -> Arc<Guard> {
        let any_origin = self.cors_origins.iter().any(|o| o == "*");
        Arc::new(Guard {
            token: self.token.clone().map(Arc::new),
            origins: (!any_origin).then(|| self.cors_origins.clone()),
            hosts: bind.is_loopback().then(|| {
                ["localhost", "127.0.0.1", "[::1]"]
                    .iter()
                    .map(|h| h.to_string())
                    .chain(self.allowed_hosts.iter().map(|h| h.to_ascii_lowercase()))
                    .collect()
            }),
        })
    }

    /// The CORS layer: preflights answered for listed origins only; none when the list is empty.
    pub fn cors(&self) -> Result<Option<CorsLayer>, AccessError> {
        if self.cors_origins.is_empty() {
            return Ok(None);
        }
        let origins = if self.cors_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            let list: Result<Vec<_>, _> =
                self.cors_origins.iter().map(|o| origin_header(o)).collect();
            AllowOrigin::list(list?)
        };
        Ok(Some(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
                .max_age(std::time::Duration::from_secs(3600)),
        ))
    }
}

fn origin_header(origin: &str) -> Result<HeaderValue, AccessError> {
    let bad = || AccessError::BadOrigin(origin.to_string());
    if origin != "*" {
        crate::support::urls::check_origin(origin).map_err(|_| bad())?;
    }
    HeaderValue::from_str(origin).map_err(|_| bad())
}

impl Guard {
    /// Host, then Origin, then the token: the refusal, if any, and whether the token was shown.
    fn judge(&self, headers: &HeaderMap, path: &str) -> Result<Authorized, ApiError> {
        if let Some(hosts) = &self.hosts {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            if !host.is_some_and(|h| hosts.iter().any(|allowed| host_is(h, allowed))) {
                return Err(ApiError::WrongHost(host.unwrap_or_default().to_string()));
            }
        }
        if let (Some(origin), Some(allowed)) = (headers.get(header::ORIGIN), &self.origins) {
            let origin = origin.to_str().unwrap_or_default();
            if !allowed.iter().any(|o| o == origin) {
                return Err(ApiError::ForeignOrigin(origin.to_string()));
            }
        }
        let authorized = match &self.token {
            None => true,
            Some(token) => headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|p| same(p.as_bytes(), token.expose().as_bytes())),
        };
        // `/health` answers in part; the SDK routes and ClickHouse's interface check their
        // own keys.
        let own_key = super::sdk::is_sdk_route(path) || super::is_clickhouse_route(path);
        if !authorized && path != "/health" && !own_key {
            return Err(ApiError::Unauthorized);
        }
        Ok(Authorized {
            shown: authorized,
            token: self.token.clone(),
        })
    }
}

/// `Host: name` or `Host: name:port` names `allowed`.
fn host_is(host: &str, allowed: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == allowed
        || host
            .strip_prefix(allowed)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

/// Middleware: applies the guard; a refusal is sent after reading (and discarding) the body,
/// so a client still sending it hears the answer instead of a reset.
pub(super) async fn guard(
    State(guard): State<Arc<Guard>>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match guard.judge(request.headers(), request.uri().path()) {
        Ok(authorized) => {
            request.extensions_mut().insert(authorized);
            Ok(next.run(request).await)
        }
        Err(refusal) => {
            body::discard(request.into_body()).await;
            Err(refusal)
        }
    }
}

/// Compares in time that depends only on the presented length: neither where the inputs
/// differ nor the token's length can be learnt by timing. `token` is never empty.
fn same(presented: &[u8], token: &[u8]) -> bool {
    let mut diff = presented.len() ^ token.len();
    for (i, byte) in presented.iter().enumerate() {
        diff |= usize::from(byte ^ token[i % token.len()]);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(t: &str) -> Option<Sensitive<String>> {
        Some(Sensitive::from(t.to_string()))
    }

    #[test]
    fn loopback_needs_no_token_but_other_addresses_do_and_an_empty_one_is_refused() {
        let open = Access::default();
        assert!(open.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(open.check("::1".parse().unwrap()).is_ok());
        let err = open.check("0.0.0.0".parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("PULSEBOARD_INGEST_TOKEN"), "{err}");
        let guarded = Access {
            token: token("t0ken"),
            ..Access::default()
        };
        assert!(guarded.check("0.0.0.0".parse().unwrap()).is_ok());
        let empty = Access {
            token: token(""),
            ..Access::default()
        };
        for bind in ["0.0.0.0", "127.0.0.1"] {
            let err = empty.check(bind.parse().unwrap()).unwrap_err();
            assert!(matches!(err, AccessError::EmptyToken), "{bind}: {err}");
        }
    }

    #[test]
    fn origins_must_be_scheme_and_host() {
        for good in ["https://app.example.com", "http://localhost:3000", "*"] {
            assert!(origin_header(good).is_ok(), "{good}");
        }
        for bad in [
            "app.example.com",
            "https://",
            "https://app.example.com/",
            "ftp://x",
        ] {
            assert!(origin_header(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_comparison_needs_every_byte_and_the_length() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(
            !same(b"abcabc", b"abc"),
            "a repeat of the token is not the token"
        );
        assert!(!same(b"", b"a"));
    }

    /// Each request's fate, by Host, Origin, token and path.
    #[test]
    fn the_guard_checks_host_then_origin_then_token() {
        let access = Access {
            token: token("s3cret"),
            cors_origins: vec!["https://app.example.com".into()],
            allowed_hosts: vec!["pulse.internal".into()],
        };
        let loopback = access.guard("127.0.0.1".parse().unwrap());
        let network = access.guard("0.0.0.0".parse().unwrap());
        // (guard, Host, Origin, bearer token, path, expected: authorized or the status)
        type Case<'a> = (
            &'a Guard,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
            Result<bool, u16>,
        );
        let cases: [Case; 12] = [
            (
                &loopback,
                "127.0.0.1:8787",
                None,
                Some("s3cret"),
                "/v1/events",
                Ok(true),
            ),
            (
                &loopback,
                "localhost",
                None,
                Some("s3cret"),
                "/api/panels",
                Ok(true),
            ),
            (
                &loopback,
                "[::1]:8787",
                None,
                Some("s3cret"),
                "/api/panels",
                Ok(true),
            ),
            (
                &loopback,
                "PULSE.internal:80",
                None,
                Some("s3cret"),
                "/api/panels",
                Ok(true),
            ),
            (
                &loopback,
                "evil.example:8787",
                None,
                Some("s3cret"),
                "/api/panels",
                Err(421),
            ),
            (
                &loopback,
                "localhost.evil.example",
                None,
                None,
                "/health",
                Err(421),
            ),
            (&loopback, "127.0.0.1:", None, None, "/health", Err(421)),
            (
                &network,
                "evil.example",
                None,
                Some("s3cret"),
                "/api/panels",
                Ok(true),
            ),
            (
                &loopback,
                "localhost",
                Some("https://evil.example"),
                Some("s3cret"),
                "/v1/events",
                Err(403),
            ),
            (
                &loopback,
                "localhost",
                Some("https://app.example.com"),
                Some("s3cret"),
                "/v1/events",
                Ok(true),
            ),
            (
                &loopback,
                "localhost",
                None,
                Some("wrong"),
                "/v1/events",
                Err(401),
            ),
            (&loopback, "localhost", None, None, "/health", Ok(false)),
        ];
        for (guard, host, origin, bearer, path, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, host.parse().unwrap());
            if let Some(origin) = origin {
                headers.insert(header::ORIGIN, origin.parse().unwrap());
            }
            if let Some(bearer) = bearer {
                let value = format!("Bearer {bearer}");
                headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            }
            let got = guard.judge(&headers, path).map(|a| a.shown).map_err(|e| {
                axum::response::IntoResponse::into_response(e)
                    .status()
                    .as_u16()
            });
            assert_eq!(got, expected, "{host} {origin:?} {bearer:?} {path}");
        }
    }
}
