//! A case field's value as the API takes it (the `FieldValueUnion`), and its conversion to what a
//! field of a given type accepts. The rules' values become these (`rules::value`), and the checks
//! against the domain read them (`domain`).

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

/// A field's type, as ListFields reports it (`Other` for a type this version does not know).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Number,
    Boolean,
    DateTime,
    SingleSelect,
    Url,
    User,
    Other,
}

/// The variants of the Cases `FieldValueUnion`, as the wire spells them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FieldValue {
    #[serde(rename = "stringValue")]
    String(String),
    #[serde(rename = "doubleValue")]
    Double(f64),
    #[serde(rename = "booleanValue")]
    Boolean(bool),
    #[serde(rename = "emptyValue")]
    Empty(EmptyValue),
    #[serde(rename = "userArnValue")]
    UserArn(String),
}

/// `emptyValue` is an empty JSON object on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct EmptyValue {}

impl FieldValue {
    pub fn empty() -> FieldValue {
        FieldValue::Empty(EmptyValue {})
    }

    /// A number written as text (`" 12.5 "`); None for anything else, and for infinities and NaN,
    /// which the API refuses.
    pub fn number_from_text(text: &str) -> Option<FieldValue> {
        text.trim().parse::<f64>().ok().filter(|n| n.is_finite()).map(FieldValue::Double)
    }

    /// `true` or `false` written as text, in any case.
    pub fn boolean_from_text(text: &str) -> Option<FieldValue> {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(FieldValue::Boolean(true)),
            "false" => Some(FieldValue::Boolean(false)),
            _ => None,
        }
    }

    /// What kind of value it is, for messages (never the value: it may be personal data).
    pub fn kind(&self) -> &'static str {
        match self {
            FieldValue::String(_) => "a string",
            FieldValue::Double(_) => "a number",
            FieldValue::Boolean(_) => "a boolean",
            FieldValue::Empty(_) => "an empty value",
            FieldValue::UserArn(_) => "a user ARN",
        }
    }
}

/// Converts a value to what a field of type `ty` accepts, when the conversion is unambiguous;
/// otherwise says why not. Values of unknown type pass unchanged.
pub fn coerce(value: FieldValue, ty: Option<FieldType>) -> Result<FieldValue, String> {
    use FieldType::*;
    let Some(ty) = ty else { return Ok(value) };
    match (ty, value) {
        (_, FieldValue::Empty(e)) => Ok(FieldValue::Empty(e)),
        (Number, FieldValue::Double(n)) => Ok(FieldValue::Double(n)),
        (Number, FieldValue::String(s)) => FieldValue::number_from_text(&s)
            .ok_or_else(|| format!("a Number field needs a number, got a string of {} characters", s.chars().count())),
        (Boolean, FieldValue::Boolean(b)) => Ok(FieldValue::Boolean(b)),
        (Boolean, FieldValue::String(s)) => FieldValue::boolean_from_text(&s).ok_or_else(|| "a Boolean field needs true or false".into()),
        (User, FieldValue::UserArn(arn) | FieldValue::String(arn)) => Ok(FieldValue::UserArn(arn)),
        // Checked here, so that a bad date is refused before the rule's first write, not by
        // UpdateCase after a comment was already added.
        // Sent in UTC (`…Z`): Cases compares and sorts DateTime values as text.
        (DateTime, FieldValue::String(s)) => match time::OffsetDateTime::parse(s.trim(), &Rfc3339) {
            Ok(t) => Ok(FieldValue::String(t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_else(|_| s.trim().to_owned()))),
            Err(_) => Err(format!(
                "a DateTime field needs an RFC 3339 date and time such as 2026-12-05T12:00:00Z, got a string of {} characters",
                s.chars().count()
            )),
        },
        (Text | SingleSelect | Url, FieldValue::String(s)) => Ok(FieldValue::String(s)),
        (Text | SingleSelect | Url, FieldValue::Double(n)) => Ok(FieldValue::String(format_number(n))),
        (Text | SingleSelect | Url, FieldValue::Boolean(b)) => Ok(FieldValue::String(b.to_string())),
        (Other, value) => Ok(value),
        (ty, value) => Err(format!("a {ty:?} field cannot take {}", value.kind())),
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_values_serialize_as_the_wire_union() {
        assert_eq!(serde_json::to_value(FieldValue::String("a".into())).unwrap(), json!({"stringValue": "a"}));
        assert_eq!(serde_json::to_value(FieldValue::empty()).unwrap(), json!({"emptyValue": {}}));
        assert_eq!(serde_json::to_value(FieldValue::UserArn("u".into())).unwrap(), json!({"userArnValue": "u"}));
    }

    #[test]
    fn numbers_and_booleans_written_as_text() {
        assert_eq!(FieldValue::number_from_text(" 12.5 "), Some(FieldValue::Double(12.5)));
        for not_a_number in ["inf", "NaN", "1e999", "12 apples", ""] {
            assert_eq!(FieldValue::number_from_text(not_a_number), None, "{not_a_number}");
        }
        assert_eq!(FieldValue::boolean_from_text("False "), Some(FieldValue::Boolean(false)));
        assert_eq!(FieldValue::boolean_from_text("yes"), None);
    }

    #[test]
    fn values_take_the_field_type() {
        use FieldType::*;
        assert_eq!(coerce(FieldValue::String("12.5".into()), Some(Number)), Ok(FieldValue::Double(12.5)));
        assert_eq!(coerce(FieldValue::Double(3.0), Some(Text)), Ok(FieldValue::String("3".into())));
        assert_eq!(coerce(FieldValue::String("TRUE".into()), Some(Boolean)), Ok(FieldValue::Boolean(true)));
        assert_eq!(coerce(FieldValue::String("arn:u".into()), Some(User)), Ok(FieldValue::UserArn("arn:u".into())));
        assert_eq!(coerce(FieldValue::empty(), Some(Number)), Ok(FieldValue::empty()));
        assert!(coerce(FieldValue::String("abc".into()), Some(Number)).is_err());
        assert!(coerce(FieldValue::Boolean(true), Some(Number)).is_err());
        assert_eq!(coerce(FieldValue::Boolean(true), None), Ok(FieldValue::Boolean(true)));
        assert_eq!(
            coerce(FieldValue::String("2026-12-05T12:00:00Z".into()), Some(DateTime)),
            Ok(FieldValue::String("2026-12-05T12:00:00Z".into()))
        );
        assert_eq!(
            coerce(FieldValue::String("2026-12-05T12:00:00.5+01:00".into()), Some(DateTime)),
            Ok(FieldValue::String("2026-12-05T11:00:00.5Z".into()))
        );
        for not_a_date in ["next tuesday", "2027-01-31", "2027-13-05T12:00:00Z"] {
            let error = coerce(FieldValue::String(not_a_date.into()), Some(DateTime)).unwrap_err();
            assert!(error.contains("RFC 3339") && !error.contains(not_a_date), "{error}");
        }
        assert!(coerce(FieldValue::Double(1_733_400_000.0), Some(DateTime)).is_err());
    }
}
