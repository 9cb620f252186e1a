//! The rules file as written: the shapes serde reads a rule into, and from which schemars
//! generates the file's JSON Schema (`cases-automation schema`, `rules/schema.json`). Their doc
//! comments are the schema's descriptions. `compile` turns them into the model.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::model::{ContactData, IfMissing, ItemMode, Sort};
use super::value::{self, ValueSpec};
use super::{customer, schedule};

/// A whole rules file, for the shipped rules (files from users go rule by rule, for errors).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DocumentSpec {
    pub(super) rules: Vec<RuleSpec>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleSpec {
    pub(super) name: String,
    #[serde(default)]
    #[allow(dead_code)] // documentation for people reading the file
    pub(super) description: Option<String>,
    /// An EventBridge event pattern over the event (for a contact flow, the ContactFlowEvent JSON).
    #[serde(rename = "match")]
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    pub(super) pattern: Option<Value>,
    /// A scheduled rule: when its sweep runs, instead of `match`.
    pub(super) every: Option<String>,
    /// A scheduled rule: the cases its sweep acts on, instead of `case`.
    pub(super) select: Option<schedule::SelectSpec>,
    #[serde(rename = "performedBy")]
    pub(super) performed_by: Option<String>,
    /// What the rule reads about the event's contact from Amazon Connect before its values are
    /// taken (contact events and contact flows only).
    pub(super) contact: Option<ContactData>,
    pub(super) case: Option<CaseSpecFile>,
    #[serde(default)]
    pub(super) actions: Vec<ActionSpec>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CaseSpecFile {
    #[serde(default)]
    pub(super) find: Vec<LookupSpec>,
    pub(super) create: Option<CreateSpec>,
    pub(super) if_missing: Option<IfMissing>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) enum LookupSpec {
    Id(ValueSpec),
    Contact(Option<ContactSpec>),
    Search(SearchSpec),
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ContactSpec {
    pub(super) contact_arn: Option<ValueSpec>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchSpec {
    pub(super) fields: BTreeMap<String, ValueSpec>,
    #[serde(default)]
    pub(super) sort: Sort,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateSpec {
    pub(super) template: String,
    pub(super) fields: BTreeMap<String, ValueSpec>,
    /// Tags on the new case: each key is a value too (a path, a template or a literal).
    #[serde(default)]
    pub(super) tags: BTreeMap<String, ValueSpec>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) enum ActionSpec {
    Update(FieldsSpec),
    Comment(CommentSpec),
    LinkContact(Option<ContactSpec>),
    AttachFile(FileSpec),
    Sla(SlaSpec),
    Custom(CustomSpec),
    LinkCase(LinkCaseSpec),
}

/// `linkCase: {caseId: <value>}` or `linkCase: {find: [...], ifMissing: skip | fail}`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct LinkCaseSpec {
    pub(super) case_id: Option<ValueSpec>,
    #[serde(default)]
    pub(super) find: Vec<LookupSpec>,
    pub(super) if_missing: Option<IfMissing>,
}

/// `custom: {fields: {...}, mode?, key?}`: a Custom related item.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CustomSpec {
    pub(super) fields: BTreeMap<String, ValueSpec>,
    #[serde(default)]
    pub(super) mode: ItemMode,
    pub(super) key: Option<ValueSpec>,
}

/// `comment: <value>`, or `comment: {body: <value>, mode?, key?}`.
pub(super) struct CommentSpec {
    pub(super) body: ValueSpec,
    pub(super) mode: ItemMode,
    pub(super) key: Option<ValueSpec>,
    /// Written as a mapping with `body`.
    pub(super) long: bool,
}

/// A comment written as a mapping: the long form (`body`, `mode`, `key`) or a detailed value
/// (`path`, `template`, …). Read in one pass, so that a mistake is reported at its own key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentMapping {
    body: Option<ValueSpec>,
    mode: Option<ItemMode>,
    key: Option<ValueSpec>,
    path: Option<String>,
    template: Option<String>,
    value: Option<Value>,
    #[serde(rename = "type")]
    ty: Option<value::ValueType>,
    #[serde(default, deserialize_with = "value::some_even_if_null")]
    default: Option<Value>,
    customer: Option<Box<customer::CustomerSpec>>,
}

/// A comment: its text as a value, or the long form `{body, mode, key}`.
impl JsonSchema for CommentSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Comment".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "The comment's text (a value), or `{body: VALUE, mode: add | keep-one, key: VALUE}`",
            "anyOf": [
                generator.subschema_for::<ValueSpec>(),
                {
                    "type": "object",
                    "properties": {
                        "body": generator.subschema_for::<ValueSpec>(),
                        "mode": generator.subschema_for::<ItemMode>(),
                        "key": generator.subschema_for::<ValueSpec>(),
                    },
                    "required": ["body"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// A mapping with `body` is the long form; anything else is the comment's value.
impl<'de> Deserialize<'de> for CommentSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<CommentSpec, D::Error> {
        deserializer.deserialize_any(CommentSpecVisitor)
    }
}

struct CommentSpecVisitor;

macro_rules! comment_value {
    ($($visit:ident: $ty:ty),*) => {$(
        fn $visit<E: serde::de::Error>(self, v: $ty) -> Result<CommentSpec, E> {
            Ok(CommentSpec::short(serde::de::Visitor::$visit(value::ValueSpecVisitor, v)?))
        }
    )*};
}

impl CommentSpec {
    fn short(body: ValueSpec) -> CommentSpec {
        CommentSpec { body, mode: ItemMode::Add, key: None, long: false }
    }
}

impl<'de> serde::de::Visitor<'de> for CommentSpecVisitor {
    type Value = CommentSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a comment: a value, or a mapping with `body` (and `mode`, `key`)")
    }

    comment_value!(visit_str: &str, visit_string: String, visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64);

    fn visit_unit<E: serde::de::Error>(self) -> Result<CommentSpec, E> {
        Ok(CommentSpec::short(ValueSpec::Scalar(Value::Null)))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<CommentSpec, E> {
        self.visit_unit()
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<CommentSpec, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<CommentSpec, A::Error> {
        Ok(CommentSpec::short(value::ValueSpecVisitor.visit_seq(seq)?))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<CommentSpec, A::Error> {
        use serde::de::Error;
        let m = CommentMapping::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        let detailed =
            m.path.is_some() || m.template.is_some() || m.value.is_some() || m.ty.is_some() || m.default.is_some() || m.customer.is_some();
        match m.body {
            Some(_) if detailed => {
                Err(A::Error::custom("`body` holds the comment's value: put `path`, `template`, `value`, `type` or `default` inside it"))
            }
            Some(body) => Ok(CommentSpec { body, mode: m.mode.unwrap_or_default(), key: m.key, long: true }),
            None if m.mode.is_some() || m.key.is_some() => Err(A::Error::missing_field("body")),
            None => Ok(CommentSpec::short(ValueSpec::Detailed(value::DetailedValue {
                path: m.path,
                template: m.template,
                value: m.value,
                ty: m.ty,
                default: m.default,
                customer: m.customer,
            }))),
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FieldsSpec {
    pub(super) fields: BTreeMap<String, ValueSpec>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct FileSpec {
    pub(super) file_arn: ValueSpec,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct SlaSpec {
    pub(super) name: ValueSpec,
    pub(super) field: Option<String>,
    #[serde(default)]
    pub(super) target_values: Vec<ValueSpec>,
    pub(super) minutes: ValueSpec,
}
