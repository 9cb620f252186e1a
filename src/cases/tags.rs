//! The tags CreateCase accepts (`MutableTags` of the Smithy model): at most 50, keys of 1–128
//! characters of `[a-zA-Z0-9 _.:/=+\-@]` not starting with `aws:` (any case), values of at most 256
//! characters of the same set. Checked for literal tags when the rules load and for every tag when
//! an event is planned, so that a bad tag is refused before anything is written. Messages describe
//! values, never quote them.

/// Tags on one case at most.
pub use super::limits::TAGS as MAX_TAGS;
use super::limits::{TAG_KEY as MAX_KEY, TAG_VALUE as MAX_VALUE};

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c)
}

/// A tag key as `MutableTagKey` allows it.
pub fn check_key(key: &str) -> Result<(), String> {
    let length = key.chars().count();
    if !(1..=MAX_KEY).contains(&length) {
        return Err(format!("a tag key has 1 to {MAX_KEY} characters, this one has {length}"));
    }
    if key.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:")) {
        return Err("a tag key must not start with `aws:` (reserved for AWS)".into());
    }
    if !key.chars().all(allowed) {
        return Err(format!(
            "a tag key has only letters, digits, spaces and _ . : / = + - @ (this one, of {length} characters, has others)"
        ));
    }
    Ok(())
}

/// A tag value as `TagValueString` allows it.
pub fn check_value(value: &str) -> Result<(), String> {
    let length = value.chars().count();
    if length > MAX_VALUE {
        return Err(format!("a tag value has at most {MAX_VALUE} characters, this one has {length}"));
    }
    if !value.chars().all(allowed) {
        return Err(format!(
            "a tag value has only letters, digits, spaces and _ . : / = + - @ (this one, of {length} characters, has others)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_follow_the_model_patterns() {
        for key in ["Department", "team:returns", "a b", "x=y+z/w@v-u_t.s", &"k".repeat(128)] {
            assert_eq!(check_key(key), Ok(()), "{key}");
        }
        for (key, why) in
            [("", "1 to 128"), (&"k".repeat(129) as &str, "129"), ("aws:team", "aws:"), ("AWS:team", "aws:"), ("team#1", "others")]
        {
            let error = check_key(key).unwrap_err();
            assert!(error.contains(why), "{key}: {error}");
        }
        for value in ["", "Fraud", "tier 1", &"v".repeat(256)] {
            assert_eq!(check_value(value), Ok(()), "{value}");
        }
        assert!(check_value(&"v".repeat(257)).unwrap_err().contains("257"));
        let error = check_value("pat@example.org;drop").unwrap_err();
        assert!(error.contains("others") && !error.contains("pat@"), "described, not quoted: {error}");
        assert!(check_value("é").is_err(), "ASCII only");
    }
}
