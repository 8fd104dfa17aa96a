//! A wrapper that keeps secrets out of logs, error messages and serialised output.

use std::fmt;

/// A secret value (a password). `Debug` and `Display` print `<redacted>`, and it deliberately does
/// not implement `Serialize`, so a secret reaches a file, a log line or the window only through
/// an explicit [`Sensitive::expose`].
#[derive(Clone)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// The secret itself: call it only where the value must leave the process (the keychain, the
    /// server's authentication).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let secret = Sensitive::from("hunter2-s3cret".to_string());
        let inside_a_struct = Some((1, secret.clone()));
        for shown in [
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{secret}"),
            format!("{secret:>40}"),
            format!("{inside_a_struct:?}"),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        assert_eq!(secret.expose(), "hunter2-s3cret");
    }
}
