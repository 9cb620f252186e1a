//! Service messages without the values they quote. Validation messages quote what they were given
//! (`Value '+1206…' at 'fields.1.member.value' failed …`), which may be personal data, and they
//! reach WARN logs and error answers. Member paths (`fields[2].value`, `fields.1.member.value`)
//! are kept: they say where the problem is.
//!
//! An apostrophe inside a word (`field's`, `O'Brien`, `o'neil@example.com`) neither opens nor
//! closes a quotation: a quote opens one only after a non-alphanumeric character (or at the start)
//! and closes it only before one (or at the end). Between two member paths, everything from the
//! first opening quote to the last closing quote of the same kind is one redacted value, so a
//! value with quotes of its own inside (`'Rock 'n' roll'`) is redacted whole; a quote that never
//! closes redacts the rest of the text up to the next member path.

/// The message with every quoted value replaced by a description of it (`<a value of 12 characters>`).
pub fn quoted_values(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let mut out = String::with_capacity(message.len());
    let mut segment_start = 0;
    for (open, close) in member_paths(&chars) {
        redact_segment(&chars[segment_start..open], &mut out);
        out.extend(&chars[open..=close]);
        segment_start = close + 1;
    }
    redact_segment(&chars[segment_start..], &mut out);
    out
}

fn is_quote(c: char) -> bool {
    c == '\'' || c == '"'
}

/// A quote at `i` that can open a quotation: at the start, or after a non-alphanumeric character.
fn opens(chars: &[char], i: usize) -> bool {
    is_quote(chars[i]) && (i == 0 || !chars[i - 1].is_alphanumeric())
}

/// A quote at `i` that can close a quotation: at the end, or before a non-alphanumeric character.
fn closes(chars: &[char], i: usize) -> bool {
    is_quote(chars[i]) && chars.get(i + 1).is_none_or(|next| !next.is_alphanumeric())
}

/// The spans (opening and closing quote) of the quoted member paths, in order.
fn member_paths(chars: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if opens(chars, i) {
            let quote = chars[i];
            let close = (i + 1..chars.len()).find(|&j| chars[j] == quote && closes(chars, j));
            if let Some(close) = close {
                let inner: String = chars[i + 1..close].iter().collect();
                if is_member_path(&inner) {
                    spans.push((i, close));
                    i = close + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    spans
}

/// Copies `chars` into `out`, each quotation (first opening quote to last closing quote of the
/// same kind) replaced by its description.
fn redact_segment(chars: &[char], out: &mut String) {
    let mut i = 0;
    while i < chars.len() {
        if opens(chars, i) {
            let quote = chars[i];
            let close = (i + 1..chars.len()).rev().find(|&j| chars[j] == quote && closes(chars, j));
            let (inner, next) = match close {
                Some(close) => (close - i - 1, close + 1),
                None => (chars.len() - i - 1, chars.len()),
            };
            out.push_str(&format!("<a value of {inner} characters>"));
            i = next;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
}

/// `fields[2].value` or `fields.1.member.value`: a member name, then members and list indexes.
fn is_member_path(text: &str) -> bool {
    let mut parts = text.split(['.', '[', ']']).filter(|p| !p.is_empty());
    let starts_with_a_name = parts.next().is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic()));
    let allowed = text.chars().all(|c| c.is_ascii_alphanumeric() || ".[]_".contains(c));
    starts_with_a_name && allowed && text.split(['.', '[', ']']).any(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quoted_values_are_described_and_member_paths_kept() {
        assert_eq!(
            quoted_values("1 validation error detected: Value '+12065550199' at 'fields.1.member.value.stringValue' failed"),
            "1 validation error detected: Value <a value of 12 characters> at 'fields.1.member.value.stringValue' failed"
        );
        assert_eq!(
            quoted_values("Invalid value for field 'f-1' (Priority) at 'fields[1].value': 'pat@example.org' is not an active option"),
            "Invalid value for field <a value of 3 characters> (Priority) at 'fields[1].value': <a value of 15 characters> is not an active option"
        );
        assert_eq!(quoted_values("got \"Jordan Rivera\" and it's over"), "got <a value of 13 characters> and it's over");
        assert_eq!(quoted_values("Rate exceeded"), "Rate exceeded");
        assert_eq!(quoted_values("'2065550199'"), "<a value of 10 characters>");
    }

    #[test]
    fn apostrophes_inside_words_neither_open_nor_close_a_value() {
        for (message, expected) in [
            (
                "Value 'O'Brien' at 'fields.1.member.value.stringValue' failed",
                "Value <a value of 7 characters> at 'fields.1.member.value.stringValue' failed",
            ),
            ("The field's value '+12065550199' is invalid", "The field's value <a value of 12 characters> is invalid"),
            ("Value 'o'neil.d'arcy@example.com' is not valid", "Value <a value of 25 characters> is not valid"),
            ("Can't use 'Jordan's phone' here", "Can't use <a value of 14 characters> here"),
            // A value with quotes of its own is redacted whole, up to the next member path.
            ("Value 'Rock 'n' roll' at 'fields.0.member' failed", "Value <a value of 13 characters> at 'fields.0.member' failed"),
            // A quote that never closes hides the rest.
            ("Value 'O'Brien at 'fields.0.member'", "Value <a value of 11 characters>'fields.0.member'"),
            ("Value 'unterminated +12065550199", "Value <a value of 25 characters>"),
            ("The customer's case wasn't found", "The customer's case wasn't found"),
        ] {
            assert_eq!(quoted_values(message), expected, "{message}");
        }
    }

    /// Names, numbers and e-mail addresses with apostrophes, in the shapes the service's messages
    /// take: nothing of them is left.
    const MESSAGES: &[&str] = &[
        "1 validation error detected: Value '{}' at 'fields.1.member.value.stringValue' failed to satisfy constraint: Member must have length less than or equal to 4100",
        "The field's value '{}' is invalid",
        "Invalid value for field 'f-1' (Priority) at 'fields[1].value': '{}' is not an active option",
        "got \"{}\" and it's over",
        "2 validation errors detected: Value '{}' at 'fields.0.member.value.stringValue' failed; Value '{}' at 'performedBy.customEntity' failed",
        "Customer '{}' wasn't found",
    ];

    proptest! {
        #[test]
        fn no_part_of_a_quoted_name_number_or_address_is_left(
            secret in prop_oneof![
                "[QZJ]{1,6}'[QZJ]{2,8}( [QZJ']{1,8})?",
                "[QZJ]{2,6}('[QZJ]{1,4})?@[QZJ]{2,5}'?[QZJ]{0,3}\\.com",
                "\\+1[0-9]{10}",
                "[QZJ]{2,5}'",
            ],
            message in proptest::sample::select(MESSAGES),
        ) {
            let text = message.replace("{}", &secret);
            let redacted = quoted_values(&text);
            for part in secret.split(|c: char| !c.is_alphanumeric()).filter(|p| p.len() >= 2) {
                prop_assert!(!redacted.contains(part), "{part:?} of {secret:?} left in {redacted:?}");
            }
            prop_assert!(redacted.contains("fields") || !text.contains("'fields"), "member paths are kept: {redacted}");
        }
    }
}
