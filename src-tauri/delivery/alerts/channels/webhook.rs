//! The webhook channel: a JSON POST per transition to the rule's `webhook` (a valid Slack
//! incoming-webhook body, since it has `text`), retried with backoff on the channel's task so
//! that a slow or failing receiver never holds up evaluation or ingest.

use std::time::Duration;

use serde::Serialize;

use super::{Channel, ChannelError, Delivery};
use crate::delivery::alerts::{Notice, Rule};

/// Delivers to the URL a rule names.
#[derive(Default)]
pub struct Webhook {
    client: reqwest::Client,
}

impl Channel for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn wants(&self, rule: &Rule) -> bool {
        rule.webhook.is_some()
    }

    fn durable(&self) -> bool {
        true
    }

    fn deliver<'a>(&'a self, notice: &'a Notice) -> Delivery<'a> {
        Box::pin(async move {
            let Some(url) = &notice.rule.webhook else {
                return Ok(());
            };
            deliver(&self.client, url, &notice.payload())
                .await
                .map_err(|failed| ChannelError(failed.to_string()))
        })
    }
}

/// Retries after the first attempt, and the pause before the first retry (doubling after it).
pub const RETRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// One attempt's limit: a receiver that hangs is a failed attempt, not a stuck queue.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The POSTed body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload {
    pub text: String,
    pub rule: String,
    pub state: &'static str,
    pub metric: String,
    pub value: f64,
    pub threshold: f64,
    /// RFC 3339.
    pub at: String,
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    #[error("the receiver could not be reached: {0}")]
    Unreachable(String),
}

impl WebhookError {
    /// A 4xx (but 408 and 429) says the request itself is wrong — a revoked Slack hook, a wrong
    /// path — and a retry gets the same answer; anything else may pass.
    pub fn is_retryable(&self) -> bool {
        match self {
            WebhookError::Status(code) => {
                !(400..500).contains(code) || *code == 408 || *code == 429
            }
            WebhookError::Unreachable(_) => true,
        }
    }
}

/// The delivery's outcome after every attempt it made.
#[derive(Debug)]
pub struct Failed {
    pub attempts: u32,
    pub error: WebhookError,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hint = match self.error.is_retryable() {
            true => "check that the receiver is up",
            false => "check the webhook URL",
        };
        write!(
            f,
            "{} (after {} attempts); {hint}",
            self.error, self.attempts
        )
    }
}

/// POSTs `payload` to `url`: once, then up to [`RETRIES`] more times with doubling pauses while
/// the failure is one a retry may fix.
pub async fn deliver(client: &reqwest::Client, url: &str, payload: &Payload) -> Result<(), Failed> {
    let mut pause = FIRST_BACKOFF;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match attempt(client, url, payload).await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        if attempts > RETRIES || !error.is_retryable() {
            return Err(Failed { attempts, error });
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
}

async fn attempt(
    client: &reqwest::Client,
    url: &str,
    payload: &Payload,
) -> Result<(), WebhookError> {
    let response = client
        .post(url)
        .timeout(ATTEMPT_TIMEOUT)
        .json(payload)
        .send()
        .await
        // Without the URL: a Slack hook's path is its secret.
        .map_err(|e| WebhookError::Unreachable(e.without_url().to_string()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    Err(WebhookError::Status(status.as_u16()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_not_retried_but_overload_is() {
        for (code, retry) in [
            (500, true),
            (503, true),
            (404, false),
            (400, false),
            (408, true),
            (429, true),
        ] {
            assert_eq!(WebhookError::Status(code).is_retryable(), retry, "{code}");
        }
        let failed = Failed {
            attempts: 4,
            error: WebhookError::Status(500),
        };
        assert_eq!(
            failed.to_string(),
            "the receiver answered HTTP 500 (after 4 attempts); check that the receiver is up"
        );
    }
}
