//! The automation's identity (`performedBy.customEntity`) and the idempotency tokens derived from it.

use sha2::{Digest, Sha256};

use crate::cases::limits::IDENTIFIER;

/// The API's pattern for `CustomEntity`: 1–500 characters of `[a-zA-Z0-9_\-.@:/ ]`, not ending
/// in a space (cases-api.md §3.1).
pub fn validate_identity(identity: &str) -> Result<(), String> {
    let length = identity.chars().count();
    if !(1..=IDENTIFIER).contains(&length) {
        return Err(format!("an identity has 1 to {IDENTIFIER} characters, this one has {length}"));
    }
    if let Some(bad) = identity.chars().find(|c| !(c.is_ascii_alphanumeric() || "_-.@:/ ".contains(*c))) {
        return Err(format!("the identity contains {bad:?}; only letters, digits, space and _ - . @ : / are allowed"));
    }
    if identity.ends_with(' ') {
        return Err("an identity must not end with a space".into());
    }
    Ok(())
}

/// The `clientToken` for CreateCase: the same identity, rule and event always give the same
/// token (so a redelivered event returns the case it already created), and anything else a
/// different one. SHA-256 in hex is exactly the API's 64-character limit.
pub fn client_token(identity: &str, rule: &str, event_key: &str) -> String {
    let mut hasher = Sha256::new();
    // Lengths first so that ("ab", "c") and ("a", "bc") cannot collide.
    for part in [identity, rule, event_key] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_follow_the_api_pattern() {
        for good in ["cases-automation", "lambda:intake-bot", "erp/orders@acme.example", "a", &"x".repeat(500)] {
            assert_eq!(validate_identity(good), Ok(()), "{good}");
        }
        for bad in ["", " ", "ends ", "naïve", "semi;colon", &"x".repeat(501)] {
            assert!(validate_identity(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn tokens_are_deterministic_distinct_and_fit_the_api() {
        let token = client_token("bot", "rule", "event-1");
        assert_eq!(token, client_token("bot", "rule", "event-1"));
        assert_eq!(token.len(), 64);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(token, client_token("bot", "rule", "event-2"));
        assert_ne!(token, client_token("bot", "other", "event-1"));
        assert_ne!(token, client_token("other", "rule", "event-1"));
        assert_ne!(client_token("ab", "c", "e"), client_token("a", "bc", "e"));
    }
}
