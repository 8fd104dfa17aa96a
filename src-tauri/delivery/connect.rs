//! "Connect your product": copyable snippets for the SDKs products already have (Segment,
//! PostHog), pointed at this instance with its key, for the window and the README.

use serde::Serialize;

/// One SDK's snippet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snippet {
    /// A stable id for the page (`segment-python`, …).
    pub id: &'static str,
    pub title: &'static str,
    pub code: String,
}

/// What the window's "Connect your product" shows.
#[derive(Debug, Clone, Serialize)]
pub struct Connect {
    pub url: String,
    /// Whether SDKs must send the ingest token as their key.
    pub key_required: bool,
    pub snippets: Vec<Snippet>,
}

/// The key an SDK needs to send: the ingest token, or any text when there is none.
const ANY_KEY: &str = "pulseboard";

/// Snippets for the instance at `url` (`http://127.0.0.1:8787`), keyed by `token` if set.
pub fn connect(url: &str, token: Option<&str>) -> Connect {
    let key = token.unwrap_or(ANY_KEY);
    let host_port = url
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let protocol = if url.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    let fill = |template: &str| {
        template
            .replace("{url}", url)
            .replace("{key}", key)
            .replace("{host_port}", host_port)
            .replace("{protocol}", protocol)
    };
    let snippets = TEMPLATES
        .iter()
        .map(|(id, title, template)| Snippet {
            id,
            title,
            code: fill(template),
        })
        .collect();
    Connect {
        url: url.to_string(),
        key_required: token.is_some(),
        snippets,
    }
}

const TEMPLATES: [(&str, &str, &str); 6] = [
    (
        "segment-python",
        "Segment · Python (segment-analytics-python)",
        r#"import segment.analytics as analytics
analytics.write_key = "{key}"
analytics.host = "{url}"
analytics.track(user_id="u1", event="Signup Started")
analytics.flush()"#,
    ),
    (
        "segment-node",
        "Segment · Node (@segment/analytics-node)",
        r#"import { Analytics } from '@segment/analytics-node'
const analytics = new Analytics({ writeKey: '{key}', host: '{url}' })
analytics.track({ userId: 'u1', event: 'Signup Started' })
await analytics.closeAndFlush()"#,
    ),
    (
        "segment-browser",
        "Segment · browser (@segment/analytics-next; start Pulseboard with --cors-origins <your app>)",
        r#"import { AnalyticsBrowser } from '@segment/analytics-next'
export const analytics = AnalyticsBrowser.load({
  writeKey: '{key}',
  // Pulseboard serves no CDN settings: give them here.
  cdnSettings: { integrations: { 'Segment.io': { apiKey: '{key}', apiHost: '{host_port}/v1', protocol: '{protocol}' } } },
})"#,
    ),
    (
        "posthog-python",
        "PostHog · Python (posthog)",
        r#"from posthog import Posthog
posthog = Posthog("{key}", host="{url}")
posthog.capture("signup_started", distinct_id="u1")
posthog.shutdown()"#,
    ),
    (
        "posthog-node",
        "PostHog · Node (posthog-node)",
        r#"import { PostHog } from 'posthog-node'
const posthog = new PostHog('{key}', { host: '{url}' })
posthog.capture({ distinctId: 'u1', event: 'signup_started' })
await posthog.shutdown()"#,
    ),
    (
        "posthog-browser",
        "PostHog · browser (posthog-js; start Pulseboard with --cors-origins <your app>)",
        r#"import posthog from 'posthog-js'
posthog.init('{key}', {
  api_host: '{url}',
  // Pulseboard takes events only: no feature flags, surveys or recordings to ask for.
  advanced_disable_flags: true,
  disable_surveys: true,
  disable_session_recording: true,
})
posthog.capture('signup_started')"#,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_point_at_this_instance_with_its_key() {
        let open = connect("http://127.0.0.1:8787", None);
        assert!(!open.key_required);
        assert_eq!(open.snippets.len(), 6);
        let python = &open.snippets[0];
        assert_eq!(python.id, "segment-python");
        assert!(python
            .code
            .contains(r#"analytics.host = "http://127.0.0.1:8787""#));
        assert!(python
            .code
            .contains(r#"analytics.write_key = "pulseboard""#));
        let browser = open
            .snippets
            .iter()
            .find(|s| s.id == "segment-browser")
            .unwrap();
        assert!(browser
            .code
            .contains("apiHost: '127.0.0.1:8787/v1', protocol: 'http'"));
        let guarded = connect("http://10.0.0.2:8787", Some("tok-1"));
        assert!(guarded.key_required);
        assert!(guarded.snippets.iter().all(|s| s.code.contains("tok-1")));
    }
}
