//! Who may call the API: the ingest token (required off loopback) and the CORS allow-list for
//! browser SDKs.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::ApiError;
use crate::secret::Sensitive;

/// The access rules of one listening address.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// When set, every route but `/health` needs `Authorization: Bearer <token>`.
    pub token: Option<Sensitive<String>>,
    /// Origins whose browser pages may call the API (`*` allows any).
    pub cors_origins: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(
        "binding {0} exposes the ingest endpoint to the network: set an ingest token with \
         PULSEBOARD_INGEST_TOKEN (clients then send `Authorization: Bearer <token>`), or bind \
         127.0.0.1"
    )]
    TokenRequired(IpAddr),
    #[error("CORS origin {0:?} is not an origin like https://app.example.com (or *)")]
    BadOrigin(String),
}

impl Access {
    /// Refuses a non-loopback bind without a token: anyone on the network could write events.
    pub fn check(&self, bind: IpAddr) -> Result<(), AccessError> {
        if self.token.is_none() && !bind.is_loopback() {
            return Err(AccessError::TokenRequired(bind));
        }
        self.cors_origins
            .iter()
            .try_for_each(|origin| origin_header(origin).map(drop))
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
        crate::urls::check_origin(origin).map_err(|_| bad())?;
    }
    HeaderValue::from_str(origin).map_err(|_| bad())
}

/// Middleware: lets a request through when no token is configured or it carries the token.
pub async fn require_token(
    State(token): State<Option<Sensitive<String>>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(token) = token else {
        return Ok(next.run(request).await);
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(p) if same(p.as_bytes(), token.expose().as_bytes()) => Ok(next.run(request).await),
        _ => Err(ApiError::Unauthorized),
    }
}

/// Compares in time independent of where the inputs differ, so the token cannot be guessed a
/// byte at a time.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_needs_no_token_but_other_addresses_do() {
        let open = Access::default();
        assert!(open.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(open.check("::1".parse().unwrap()).is_ok());
        let err = open.check("0.0.0.0".parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("PULSEBOARD_INGEST_TOKEN"), "{err}");
        let guarded = Access {
            token: Some(Sensitive::from("t0ken".to_string())),
            ..Access::default()
        };
        assert!(guarded.check("0.0.0.0".parse().unwrap()).is_ok());
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
    fn token_comparison_needs_every_byte() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }
}
