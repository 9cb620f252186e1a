//! A value as written in a rules file: a scalar (a JSON path, a template or a literal) or the
//! detailed mapping. Read by hand-written serde code (see `ValueSpec`'s `Deserialize`), described
//! to schemars by hand too; `compiled` turns it into a `CompiledValue`.
//!
//! `DetailedValue` holds a `customer::CustomerSpec`, whose keys are `ValueSpec`s again: the
//! grammar is recursive, so this module and `rules::customer` refer to each other.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rules::customer::CustomerSpec;

/// The explicit type a rule can give a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ValueType {
    String,
    Number,
    Boolean,
    Empty,
    UserArn,
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueType::String => "string",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
            ValueType::Empty => "empty",
            ValueType::UserArn => "userArn",
        })
    }
}

/// A value as written in the rules file, before compilation.
#[derive(Debug, Clone)]
pub enum ValueSpec {
    Detailed(DetailedValue),
    Scalar(Value),
}

/// A mapping is the detailed form, anything else a scalar. (Written by hand: serde's untagged
/// enums buffer and retry every value, and going through a JSON value first builds and drops a
/// tree for every mapping; both showed in the cold start.)
impl<'de> Deserialize<'de> for ValueSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ValueSpec, D::Error> {
        deserializer.deserialize_any(ValueSpecVisitor)
    }
}

/// A JSON path, a template or a literal (any scalar), or the detailed form.
impl schemars::JsonSchema for ValueSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Value".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A JSON path (`$.detail.orderNumber`), a template (`Call from {{ … }}`), a literal, or a mapping with `path`, `template`, `value` or `customer`",
            "anyOf": [{"type": ["string", "number", "boolean", "null"]}, generator.subschema_for::<DetailedValue>()]
        })
    }
}

pub(crate) struct ValueSpecVisitor;

impl<'de> serde::de::Visitor<'de> for ValueSpecVisitor {
    type Value = ValueSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value: a JSON path, a template, a literal, or a mapping with `path`, `template`, `value` or `customer`")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ValueSpec, A::Error> {
        DetailedValue::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(ValueSpec::Detailed)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<ValueSpec, A::Error> {
        // Refused when compiled, with the rule and field named.
        Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(ValueSpec::Scalar)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ValueSpec, E> {
        Ok(ValueSpec::Scalar(Value::String(v.to_owned())))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ValueSpec, E> {
        Ok(ValueSpec::Scalar(Value::String(v)))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ValueSpec, E> {
        Ok(ValueSpec::Scalar(Value::Bool(v)))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ValueSpec, E> {
        Ok(ValueSpec::Scalar(Value::from(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ValueSpec, E> {
        Ok(ValueSpec::Scalar(Value::from(v)))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ValueSpec, E> {
        Ok(ValueSpec::Scalar(Value::from(v)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<ValueSpec, E> {
        Ok(ValueSpec::Scalar(Value::Null))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<ValueSpec, E> {
        Ok(ValueSpec::Scalar(Value::Null))
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<ValueSpec, D::Error> {
        deserializer.deserialize_any(self)
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailedValue {
    pub path: Option<String>,
    pub template: Option<String>,
    pub value: Option<Value>,
    #[serde(rename = "type")]
    pub ty: Option<ValueType>,
    /// Used when the path or template finds nothing; `null` means "leave the field out".
    #[serde(default, deserialize_with = "some_even_if_null")]
    pub default: Option<Value>,
    /// A Customer Profiles ARN, from the event or looked up (`rules::customer`).
    pub customer: Option<Box<CustomerSpec>>,
}

pub(crate) fn some_even_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl ValueSpec {
    /// Whether this is a `customer` value (allowed only as the value of a field).
    pub fn is_customer(&self) -> bool {
        matches!(self, ValueSpec::Detailed(d) if d.customer.is_some())
    }
}
