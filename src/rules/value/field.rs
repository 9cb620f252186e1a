//! What a value gives: a Cases field value of the type asked for (`convert`), within the length
//! its place takes (`Limit`), or why it could not (`ExtractError`, which never quotes the value).

use std::fmt;

use serde_json::Value;

use super::spec::ValueType;

use crate::cases::limits;

pub use crate::cases::value::{EmptyValue, FieldValue};

/// The most characters a value may have where it goes: what the API accepts there. A template
/// stops rendering as soon as its output passes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub chars: usize,
    /// Where the value goes, for errors ("a comment").
    pub what: &'static str,
}

impl Limit {
    /// `CommentContent.body`.
    pub const COMMENT: Limit = Limit { chars: limits::COMMENT_BODY, what: "a comment" };
    /// `FieldValueUnion.stringValue`.
    pub const FIELD_VALUE: Limit = Limit { chars: limits::FIELD_STRING_VALUE, what: "a field value" };
    /// Case ids, ARNs, SLA names, and a profile ARN or id.
    pub const IDENTIFIER: Limit = Limit { chars: limits::IDENTIFIER, what: "an id, ARN or name" };
    /// A tag key and a tag value, the API's tag limits.
    pub const TAG_KEY: Limit = Limit { chars: limits::TAG_KEY, what: "a tag key" };
    pub const TAG_VALUE: Limit = Limit { chars: limits::TAG_VALUE, what: "a tag value" };
    /// A value of `SearchProfiles`.
    pub const SEARCH_VALUE: Limit = Limit { chars: limits::PROFILE_SEARCH_TEXT, what: "a profile search value" };
}

/// Why extraction failed; the caller adds the rule and field.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtractError {
    /// The path matched nothing and there is no default.
    Missing { source: String },
    /// The template failed (e.g. an undefined variable, or more work than a render may do).
    Template { source: String, reason: String },
    /// The template rendered more than the place it goes takes.
    TooLong { source: String, limit: Limit },
    /// The value exists but cannot have the requested type.
    Type { source: String, expected: ValueType, found: String },
    /// A `customer` source where only event values can be used.
    Lookup,
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtractError::Missing { source } => {
                write!(f, "`{source}` found nothing in the event (give the value a `default` if it is optional)")
            }
            ExtractError::Template { source, reason } => write!(f, "template `{source}` failed: {reason}"),
            ExtractError::TooLong { source, limit } => {
                write!(f, "template `{source}` renders more than {} characters, the most {} takes", limit.chars, limit.what)
            }
            ExtractError::Type { source, expected, found } => {
                write!(f, "`{source}` gave {found}, which is not a valid {expected}")
            }
            ExtractError::Lookup => f.write_str("a `customer` lookup can only give the value of a field"),
        }
    }
}

/// Converts a JSON value to a field value of the given type; without a type, the JSON type decides.
pub fn convert(raw: &Value, ty: Option<ValueType>) -> Result<FieldValue, ValueType> {
    match (ty, raw) {
        (Some(ValueType::Empty), _) | (None, Value::Null) => Ok(FieldValue::empty()),
        (None | Some(ValueType::String), Value::String(s)) => Ok(FieldValue::String(s.clone())),
        (Some(ValueType::String), Value::Number(n)) => Ok(FieldValue::String(n.to_string())),
        (Some(ValueType::String), Value::Bool(b)) => Ok(FieldValue::String(b.to_string())),
        (None | Some(ValueType::Number), Value::Number(n)) => n.as_f64().map(FieldValue::Double).ok_or(ValueType::Number),
        (Some(ValueType::Number), Value::String(s)) => FieldValue::number_from_text(s).ok_or(ValueType::Number),
        (None | Some(ValueType::Boolean), Value::Bool(b)) => Ok(FieldValue::Boolean(*b)),
        (Some(ValueType::Boolean), Value::String(s)) => FieldValue::boolean_from_text(s).ok_or(ValueType::Boolean),
        (Some(ValueType::UserArn), Value::String(s)) if !s.is_empty() => Ok(FieldValue::UserArn(s.clone())),
        (Some(t), _) => Err(t),
        (None, _) => Err(ValueType::String),
    }
}

/// A description of a JSON value that never includes its content (values may be personal data).
pub fn describe_json(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(s) => format!("a string of {} characters", s.chars().count()),
        Value::Array(a) => format!("a list of {} items", a.len()),
        Value::Object(_) => "an object".into(),
    }
}
