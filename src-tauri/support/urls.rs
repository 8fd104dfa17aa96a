//! The one rule for the http(s) URLs Pulseboard is given: a server profile's URL, a CORS origin.

/// Checks `url` and returns its authority (`host[:port]`), or the rule it breaks. The URL is
/// never echoed by the caller: one pasted with credentials in it must not reach a message.
pub fn check_http_url(url: &str) -> Result<&str, &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err("must name a host after http(s)://");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    // `user:password@host` would put a password in files and logs: it belongs in the keychain.
    if authority.contains('@') {
        return Err("must not contain a user or password: give the user separately; the password goes to the keychain");
    }
    Ok(authority)
}

/// A browser origin: scheme and host (and port), nothing after them.
pub fn check_origin(origin: &str) -> Result<(), &'static str> {
    let authority = check_http_url(origin)?;
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    if rest != Some(authority) {
        return Err(
            "must be scheme and host only, like https://app.example.com (no path or trailing /)",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_a_scheme_a_host_and_no_credentials() {
        for (url, expected) in [
            ("https://ch.example.com:8443", Ok("ch.example.com:8443")),
            ("http://localhost:8123/path?x=1", Ok("localhost:8123")),
            ("ch.example.com", Err("must start with http:// or https://")),
            ("https://", Err("must name a host after http(s)://")),
            (
                "https://a b",
                Err("must not contain spaces or control characters"),
            ),
        ] {
            assert_eq!(check_http_url(url), expected, "{url}");
        }
        assert!(check_http_url("https://u:p@ch:8443")
            .unwrap_err()
            .contains("password"));
    }

    #[test]
    fn origins_are_scheme_and_host_only() {
        for good in ["https://app.example.com", "http://localhost:3000"] {
            assert_eq!(check_origin(good), Ok(()), "{good}");
        }
        for bad in [
            "app.example.com",
            "https://",
            "https://app.example.com/",
            "ftp://x",
            "http://http://a8443",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
