//! Values taken from an event: JSON paths (RFC 9535, `serde_json_path`) and string templates
//! (Jinja syntax, `minijinja`), converted to the typed field values Cases accepts.
//!
//! In a rules file a value is written as
//! - `"$.detail.orderNumber"`: a JSON path (anything starting with `$`),
//! - `"Call from {{ Details.ContactData.Channel }}"`: a template (anything containing `{{` or `{%`),
//! - any other scalar: a literal,
//! - or a mapping `{path | template | value, type, default}` to say the type explicitly or give a
//!   default used when the path finds nothing.

use std::fmt;

use minijinja::Environment;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json_path::JsonPath;

use super::customer::{CompiledCustomer, CustomerSpec};

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
}

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

/// Where a compiled value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Path {
        text: String,
        path: Path,
    },
    /// Registered in the environment under its own text, so identical templates are shared.
    Template(String),
    Literal(Value),
    /// Resolved through Customer Profiles before planning; see `rules::customer`.
    Customer(Box<CompiledCustomer>),
}

/// A value ready to be extracted from events.
#[derive(Debug, Clone)]
pub struct CompiledValue {
    pub source: Source,
    pub ty: Option<ValueType>,
    pub default: Option<Value>,
}

/// The most characters a value may have where it goes: what the API accepts there. A template
/// stops rendering as soon as its output passes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub chars: usize,
    /// Where the value goes, for errors ("a comment").
    pub what: &'static str,
}

impl Limit {
    /// `CommentContent.body` (1–15000).
    pub const COMMENT: Limit = Limit { chars: 15_000, what: "a comment" };
    /// `FieldValueUnion.stringValue` (at most 4100).
    pub const FIELD_VALUE: Limit = Limit { chars: 4_100, what: "a field value" };
    /// Case ids, ARNs, SLA names (1–500), and a profile ARN or id.
    pub const IDENTIFIER: Limit = Limit { chars: 500, what: "an id, ARN or name" };
    /// A tag key (1–128) and a tag value (at most 256), the API's tag limits.
    pub const TAG_KEY: Limit = Limit { chars: 128, what: "a tag key" };
    pub const TAG_VALUE: Limit = Limit { chars: 256, what: "a tag value" };
    /// A value of `SearchProfiles` (1–255).
    pub const SEARCH_VALUE: Limit = Limit { chars: 255, what: "a profile search value" };
}

/// Instructions one render may run: far more than any template over one event needs, little
/// enough that a runaway one (nested loops) fails in milliseconds instead of stalling the
/// invocation and its SQS batch.
pub const TEMPLATE_FUEL: u64 = 100_000;

/// How deep a render may nest (loops over nested event data, expressions).
pub const TEMPLATE_RECURSION_LIMIT: usize = 64;

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

/// The event as templates see it: its own top-level keys, plus `event` for keys that are not
/// identifiers (e.g. `event["detail-type"]`). Built once per event and shared by every template.
pub struct TemplateContext(minijinja::Value);

impl TemplateContext {
    pub fn new(event: &Value) -> TemplateContext {
        let mut root = match event {
            Value::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        root.insert("event".into(), event.clone());
        TemplateContext(minijinja::Value::from_serialize(&root))
    }
}

impl ValueSpec {
    /// Whether this is a `customer` value (allowed only as the value of a field).
    pub fn is_customer(&self) -> bool {
        matches!(self, ValueSpec::Detailed(d) if d.customer.is_some())
    }

    /// Compiles the value; `check` says whether its templates are compiled now.
    pub fn compile(&self, check: &TemplateCheck) -> Result<CompiledValue, String> {
        let (text, ty, default) = match self {
            ValueSpec::Scalar(value) => (value.clone(), None, None),
            ValueSpec::Detailed(d) if d.customer.is_some() => {
                let customer = d.customer.as_ref().expect("checked");
                if d.path.is_some() || d.template.is_some() || d.value.is_some() || d.default.is_some() {
                    return Err("`customer` is a source on its own: remove `path`, `template`, `value` and `default` \
                                (`customer.ifNone` says what happens when there is no customer)"
                        .into());
                }
                if d.ty.is_some_and(|t| t != ValueType::String) {
                    return Err("`customer` gives a string (a profile ARN)".into());
                }
                let source = Source::Customer(Box::new(customer.compile(check)?));
                return Ok(CompiledValue { source, ty: Some(ValueType::String), default: None });
            }
            ValueSpec::Detailed(d) => {
                let given = [d.path.is_some(), d.template.is_some(), d.value.is_some()];
                let count = given.iter().filter(|g| **g).count();
                let empty_without_source = count == 0 && d.ty == Some(ValueType::Empty);
                if count != 1 && !empty_without_source {
                    return Err("give exactly one of `path`, `template` or `value`".into());
                }
                let source = if let Some(path) = &d.path {
                    Source::Path { text: path.clone(), path: parse_path(path)? }
                } else if let Some(template) = &d.template {
                    add_template(check, template)?
                } else if let Some(value) = &d.value {
                    Source::Literal(value.clone())
                } else {
                    Source::Literal(Value::Null)
                };
                return Ok(CompiledValue { source, ty: d.ty, default: d.default.clone() });
            }
        };
        let source = match &text {
            Value::String(s) if s.starts_with('$') => Source::Path { text: s.clone(), path: parse_path(s)? },
            Value::String(s) if s.contains("{{") || s.contains("{%") => add_template(check, s)?,
            Value::Array(_) | Value::Object(_) => {
                return Err("a value is a string, number, boolean, null, or a mapping with `path`, `template` or `value`".into());
            }
            literal => Source::Literal(literal.clone()),
        };
        Ok(CompiledValue { source, ty, default })
    }
}

/// A compiled JSON path. Most paths in rules are plain member chains (`$.detail.orderNumber`);
/// those are walked directly, which is what RFC 9535 gives for them (one node, or none), at a
/// fraction of the cost of compiling and running a general query (a fifth of the cold start).
#[derive(Debug, Clone)]
pub enum Path {
    Members(Vec<String>),
    General(JsonPath),
}

impl Path {
    /// Every node the path selects.
    fn query<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        match self {
            Path::Members(members) => {
                members.iter().try_fold(root, |node, member| node.as_object().and_then(|o| o.get(member))).into_iter().collect()
            }
            Path::General(path) => path.query(root).all(),
        }
    }
}

fn parse_path(text: &str) -> Result<Path, String> {
    if let Some(members) = member_chain(text) {
        return Ok(Path::Members(members));
    }
    JsonPath::parse(text).map(Path::General).map_err(|e| format!("invalid JSON path `{text}`: {e}"))
}

/// `$` followed by `.name` segments, where each name is an RFC 9535 member-name-shorthand in ASCII
/// (a letter or `_`, then letters, digits or `_`).
fn member_chain(text: &str) -> Option<Vec<String>> {
    let rest = text.strip_prefix('$')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    rest.strip_prefix('.')?
        .split('.')
        .map(|name| {
            let mut chars = name.chars();
            let first = chars.next()?;
            let valid = (first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            valid.then(|| name.to_owned())
        })
        .collect()
}

/// What a general JSON path reads under `$.contact`, when it starts there (`$.contact…`,
/// `$['contact']…`): the next member's name, or "" when there is none or it is not a name.
fn general_path_contact_read(text: &str) -> Option<String> {
    fn member(rest: &str) -> Option<(&str, &str)> {
        if let Some(rest) = rest.strip_prefix('.') {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            return (end > 0).then(|| rest.split_at(end));
        }
        for quote in ['\'', '"'] {
            if let Some(rest) = rest.strip_prefix('[').and_then(|r| r.strip_prefix(quote)) {
                let end = rest.find(quote)?;
                let after = rest[end + 1..].strip_prefix(']')?;
                return Some((&rest[..end], after));
            }
        }
        None
    }
    let rest = text.trim().strip_prefix('$')?.trim_start();
    let (first, rest) = member(rest)?;
    if first != crate::contacts::EVENT_KEY {
        return None;
    }
    Some(member(rest.trim_start()).map(|(name, _)| name.to_owned()).unwrap_or_default())
}

/// When the templates of values are compiled.
pub enum TemplateCheck<'a> {
    /// Now, into this environment: a template with a syntax error fails the load (rules files).
    Now(&'a Environment<'static>),
    /// On first render: the shipped default rules, whose templates a test compiles. An instance
    /// then compiles only the templates of the rules its events match.
    OnFirstUse,
}

/// A template is named by its own text: the environment's loader compiles it from its name on
/// first use, once, and one compiled template serves every value that uses the same text.
/// Templates cannot reach each other by name: minijinja's `multi_template` feature (`include`,
/// `extends`, `import`) is off.
fn add_template(check: &TemplateCheck, source: &str) -> Result<Source, String> {
    if let TemplateCheck::Now(env) = check {
        env.get_template(source).map_err(|e| format!("invalid template `{source}`: {}", e.detail().unwrap_or(&e.to_string())))?;
    }
    Ok(Source::Template(source.to_owned()))
}

impl CompiledValue {
    /// A short description of where the value comes from, for errors and plans.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Path { text, .. } | Source::Template(text) => text.clone(),
            Source::Literal(v) => v.to_string(),
            Source::Customer(_) => "customer".into(),
        }
    }

    /// What the value reads under `$.contact` (see `rules::ContactData`): the member after it
    /// (`attributes`, `description`, or another name), or "" for `$.contact` as a whole. A
    /// template is looked at when `templates` has compiled it; a `customer` value through the
    /// values it is made of.
    pub fn contact_reads(&self, templates: Option<&Environment<'static>>) -> Vec<String> {
        match &self.source {
            Source::Path { path: Path::Members(members), .. } => match members.split_first() {
                Some((first, rest)) if first == crate::contacts::EVENT_KEY => vec![rest.first().cloned().unwrap_or_default()],
                _ => vec![],
            },
            Source::Path { text, .. } => general_path_contact_read(text).into_iter().collect(),
            Source::Template(text) => {
                let Some(template) = templates.and_then(|env| env.get_template(text).ok()) else { return vec![] };
                let mut reads: Vec<String> = template
                    .undeclared_variables(true)
                    .into_iter()
                    .filter_map(|name| {
                        let mut parts = name.split('.');
                        (parts.next() == Some(crate::contacts::EVENT_KEY)).then(|| parts.next().unwrap_or_default().to_owned())
                    })
                    .collect();
                reads.sort();
                reads.dedup();
                reads
            }
            Source::Literal(_) => vec![],
            Source::Customer(customer) => {
                customer.profile.iter().chain(customer.keys.iter().map(|(_, v)| v)).flat_map(|v| v.contact_reads(templates)).collect()
            }
        }
    }

    /// The customer lookup, when this value is one.
    pub fn customer(&self) -> Option<&CompiledCustomer> {
        match &self.source {
            Source::Customer(customer) => Some(customer),
            _ => None,
        }
    }

    /// The raw JSON value, before typing; a template renders at most `limit` characters.
    /// `Ok(None)` means "leave the field out" (an explicit `default: null`).
    pub fn extract_raw(
        &self,
        event: &Value,
        env: &Environment<'static>,
        ctx: &TemplateContext,
        limit: Limit,
    ) -> Result<Option<Value>, ExtractError> {
        let found = match &self.source {
            Source::Literal(v) => Some(v.clone()),
            Source::Path { path, .. } => {
                let nodes = path.query(event);
                match nodes.as_slice() {
                    [] => None,
                    [one] => Some((*one).clone()),
                    many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
                }
            }
            Source::Template(text) => Some(Value::String(render_within(env, text, ctx, limit)?)),
            // Looked up before planning; the planner substitutes the answer.
            Source::Customer(_) => return Err(ExtractError::Lookup),
        };
        match (found, &self.default) {
            (Some(v), _) => Ok(Some(v)),
            (None, Some(Value::Null)) => Ok(None),
            (None, Some(default)) => Ok(Some(default.clone())),
            (None, None) => Err(ExtractError::Missing { source: self.describe() }),
        }
    }

    /// Extracts and types the value. `Ok(None)` means "leave the field out".
    pub fn extract(
        &self,
        event: &Value,
        env: &Environment<'static>,
        ctx: &TemplateContext,
        limit: Limit,
    ) -> Result<Option<FieldValue>, ExtractError> {
        let Some(raw) = self.extract_raw(event, env, ctx, limit)? else { return Ok(None) };
        convert(&raw, self.ty).map(Some).map_err(|expected| ExtractError::Type {
            source: self.describe(),
            expected,
            found: describe_json(&raw),
        })
    }

    /// Extracts a plain string (ids, ARNs, names, comment bodies).
    pub fn extract_string(
        &self,
        event: &Value,
        env: &Environment<'static>,
        ctx: &TemplateContext,
        limit: Limit,
    ) -> Result<Option<String>, ExtractError> {
        let Some(raw) = self.extract_raw(event, env, ctx, limit)? else { return Ok(None) };
        match raw {
            Value::String(s) => Ok(Some(s)),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            other => Err(ExtractError::Type { source: self.describe(), expected: ValueType::String, found: describe_json(&other) }),
        }
    }
}

/// Renders the template named `text` into at most `limit` characters, within the environment's
/// fuel and recursion limits.
fn render_within(env: &Environment<'static>, text: &str, ctx: &TemplateContext, limit: Limit) -> Result<String, ExtractError> {
    let failed = |e: &minijinja::Error| ExtractError::Template { source: text.to_owned(), reason: template_reason(e) };
    let template = env.get_template(text).map_err(|e| failed(&e))?;
    let mut out = CappedOutput { bytes: Vec::new(), chars: 0, max_chars: limit.chars, overflowed: false };
    match template.render_captured_to(&ctx.0, &mut out) {
        Ok(_) => Ok(String::from_utf8(out.bytes).expect("templates write whole strings")),
        Err(_) if out.overflowed => Err(ExtractError::TooLong { source: text.to_owned(), limit }),
        Err(e) => Err(failed(&e)),
    }
}

/// A template's output, refusing to grow past `max_chars` characters.
struct CappedOutput {
    bytes: Vec<u8>,
    chars: usize,
    max_chars: usize,
    overflowed: bool,
}

impl std::io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Characters are counted by their first bytes, so pieces split anywhere count right.
        self.chars += buf.iter().filter(|b| (**b & 0xC0) != 0x80).count();
        if self.chars > self.max_chars {
            self.overflowed = true;
            return Err(std::io::Error::other("the template's output is longer than its place takes"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn template_reason(error: &minijinja::Error) -> String {
    if error.kind() == minijinja::ErrorKind::OutOfFuel {
        return format!("it takes more than the {TEMPLATE_FUEL} steps a template may run (a loop too large for one event?)");
    }
    match error.detail() {
        Some(detail) => format!("{} ({detail})", error.kind()),
        None => error.kind().to_string(),
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
        (Some(ValueType::Number), Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(FieldValue::Double(n)),
            _ => Err(ValueType::Number),
        },
        (None | Some(ValueType::Boolean), Value::Bool(b)) => Ok(FieldValue::Boolean(*b)),
        (Some(ValueType::Boolean), Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(FieldValue::Boolean(true)),
            "false" => Ok(FieldValue::Boolean(false)),
            _ => Err(ValueType::Boolean),
        },
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

/// Templates are loaded from their names, which are their texts (see `add_template`); they fail
/// on undefined variables instead of rendering them empty, and never escape: they make plain-text
/// field values, and a name ending in `.html` or `.json` would otherwise switch escaping on. Each
/// render runs within `TEMPLATE_FUEL` steps and `TEMPLATE_RECURSION_LIMIT` levels: templates run
/// synchronously, so a runaway one would otherwise hold the thread that also runs the deadline
/// timer and the other records of an SQS batch.
pub fn template_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(|name| Ok(Some(name.to_owned())));
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(TEMPLATE_RECURSION_LIMIT);
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(spec: Value) -> (CompiledValue, Environment<'static>) {
        let env = template_environment();
        let spec: ValueSpec = serde_json::from_value(spec).unwrap();
        let compiled = spec.compile(&TemplateCheck::Now(&env)).unwrap();
        (compiled, env)
    }

    fn extract(spec: Value, event: &Value) -> Result<Option<FieldValue>, ExtractError> {
        let (compiled, env) = compile(spec);
        compiled.extract(event, &env, &TemplateContext::new(event), Limit::FIELD_VALUE)
    }

    #[test]
    fn paths_templates_and_literals() {
        let event = json!({"detail-type": "Order Delayed", "detail": {"order": "ORD-1", "total": 12.5, "ok": true}});
        assert_eq!(extract(json!("$.detail.order"), &event), Ok(Some(FieldValue::String("ORD-1".into()))));
        assert_eq!(extract(json!("$.detail.total"), &event), Ok(Some(FieldValue::Double(12.5))));
        assert_eq!(extract(json!("$.detail.ok"), &event), Ok(Some(FieldValue::Boolean(true))));
        assert_eq!(
            extract(json!("{{ event['detail-type'] }}: {{ detail.order }}"), &event),
            Ok(Some(FieldValue::String("Order Delayed: ORD-1".into())))
        );
        assert_eq!(extract(json!("open"), &event), Ok(Some(FieldValue::String("open".into()))));
        assert_eq!(extract(json!(3), &event), Ok(Some(FieldValue::Double(3.0))));
        assert_eq!(extract(json!(null), &event), Ok(Some(FieldValue::empty())));
    }

    #[test]
    fn templates_compile_once_on_first_use_and_nothing_is_escaped() {
        let event = json!({"detail": {"page": "<b>Q&A</b>"}});
        let env = template_environment();
        // Ends in `.html`: minijinja's default would escape a template named like that.
        let text = json!("{{ detail.page }} in index.html");
        let specs: Vec<ValueSpec> = (0..2).map(|_| serde_json::from_value(text.clone()).unwrap()).collect();
        let compiled: Vec<_> = specs.iter().map(|spec| spec.compile(&TemplateCheck::OnFirstUse).unwrap()).collect();
        assert_eq!(env.templates().count(), 0, "nothing is compiled before a render");
        for value in compiled {
            let rendered = value.extract(&event, &env, &TemplateContext::new(&event), Limit::FIELD_VALUE);
            assert_eq!(rendered, Ok(Some(FieldValue::String("<b>Q&A</b> in index.html".into()))));
        }
        assert_eq!(env.templates().count(), 1, "one compiled template serves both values");
        // Unchecked, a broken template fails when it renders, naming itself.
        let broken: ValueSpec = serde_json::from_value(json!("{{ unclosed")).unwrap();
        let broken = broken.compile(&TemplateCheck::OnFirstUse).unwrap();
        let err = broken.extract(&event, &env, &TemplateContext::new(&event), Limit::FIELD_VALUE).unwrap_err();
        assert!(matches!(&err, ExtractError::Template { source, .. } if source == "{{ unclosed"), "{err:?}");
    }

    #[test]
    fn explicit_types_convert_or_fail_without_leaking_content() {
        let event = json!({"n": "42.5", "b": "TRUE", "s": 7, "phone": "+15550100"});
        assert_eq!(extract(json!({"path": "$.n", "type": "number"}), &event), Ok(Some(FieldValue::Double(42.5))));
        assert_eq!(extract(json!({"path": "$.b", "type": "boolean"}), &event), Ok(Some(FieldValue::Boolean(true))));
        assert_eq!(extract(json!({"path": "$.s", "type": "string"}), &event), Ok(Some(FieldValue::String("7".into()))));
        assert_eq!(extract(json!({"type": "empty"}), &event), Ok(Some(FieldValue::empty())));
        let err = extract(json!({"path": "$.phone", "type": "boolean"}), &event).unwrap_err();
        assert!(!err.to_string().contains("5550100"), "{err}");
        assert!(err.to_string().contains("not a valid boolean"));
        assert_eq!(
            extract(json!({"template": "arn:aws:connect:::user/{{ s }}", "type": "userArn"}), &event),
            Ok(Some(FieldValue::UserArn("arn:aws:connect:::user/7".into())))
        );
    }

    #[test]
    fn missing_values_fail_unless_defaulted() {
        let event = json!({"detail": {}});
        assert_eq!(extract(json!("$.detail.nothing"), &event), Err(ExtractError::Missing { source: "$.detail.nothing".into() }));
        assert_eq!(extract(json!({"path": "$.detail.nothing", "default": "n/a"}), &event), Ok(Some(FieldValue::String("n/a".into()))));
        assert_eq!(extract(json!({"path": "$.detail.nothing", "default": null}), &event), Ok(None));
        let err = extract(json!("Hello {{ detail.name }}"), &event).unwrap_err();
        assert!(matches!(err, ExtractError::Template { .. }), "{err:?}");
        assert_eq!(
            extract(json!("Hello {{ detail.name | default('there') }}"), &event),
            Ok(Some(FieldValue::String("Hello there".into())))
        );
    }

    #[test]
    fn member_chains_select_what_the_general_engine_selects() {
        let event = json!({"a": {"b_1": {"c": [1, 2]}, "n": null}, "x": [{"a": 1}], "_": 5});
        for text in ["$", "$.a", "$.a.b_1", "$.a.b_1.c", "$.a.n", "$.a.missing", "$.x.a", "$._", "$.a.b_1.c.d"] {
            let fast = parse_path(text).unwrap();
            assert!(matches!(fast, Path::Members(_)), "{text} is a member chain");
            let general = JsonPath::parse(text).unwrap();
            assert_eq!(fast.query(&event), general.query(&event).all(), "{text}");
        }
        for text in ["$..a", "$.x[0].a", "$['a']", "$.1a", "$.a.", "$.a-b", "$.é", "$[*]"] {
            assert!(!matches!(parse_path(text), Ok(Path::Members(_))), "{text} goes to the general engine");
        }
    }

    #[test]
    fn bad_specs_are_rejected_at_compile_time() {
        let env = template_environment();
        // A template cannot pull in another by name (templates are named by their text).
        let include = json!("{% include '{{ detail.page }}' %}");
        for bad in [json!("$..["), json!("{{ unclosed"), json!({"path": "$.a", "value": 1}), json!([1]), include] {
            let spec: ValueSpec = serde_json::from_value(bad.clone()).unwrap();
            assert!(spec.compile(&TemplateCheck::Now(&env)).is_err(), "{bad} should not compile");
        }
    }

    #[test]
    fn runaway_templates_stop_within_their_fuel_depth_and_output_limits() {
        let deep = (0..200).fold(json!("leaf"), |inner, _| json!({"children": [inner]}));
        let event = json!({"detail": {"items": [1, 2, 3], "tree": deep}});
        let text = |spec: &str, limit: Limit| {
            let (compiled, env) = compile(json!(spec));
            compiled.extract_string(&event, &env, &TemplateContext::new(&event), limit)
        };
        // Nested loops of 10^10 steps: out of fuel at once, named as such.
        let started = std::time::Instant::now();
        let heavy = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
        let error = text(heavy, Limit::COMMENT).unwrap_err();
        assert!(error.to_string().contains(&format!("more than the {TEMPLATE_FUEL} steps")), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "stopped early: {:?}", started.elapsed());
        // Output: up to the limit, and not a character more.
        let exactly = format!("{{% for i in range({}) %}}é{{% endfor %}}", Limit::FIELD_VALUE.chars);
        assert_eq!(text(&exactly, Limit::FIELD_VALUE).unwrap().map(|s| s.chars().count()), Some(4_100));
        let over = format!("{{% for i in range({}) %}}é{{% endfor %}}", Limit::FIELD_VALUE.chars + 1);
        let error = text(&over, Limit::FIELD_VALUE).unwrap_err();
        assert_eq!(error, ExtractError::TooLong { source: over.clone(), limit: Limit::FIELD_VALUE });
        assert!(error.to_string().contains("more than 4100 characters, the most a field value takes"), "{error}");
        assert!(text(&over, Limit::COMMENT).is_ok(), "a comment takes more");
        // One step of the engine that writes a lot (a repeated string) is stopped by the cap too.
        let error = text("{{ 'x' * 1000000 }}", Limit::COMMENT).unwrap_err();
        assert!(matches!(error, ExtractError::TooLong { .. }), "{error}");
        // Recursion over nested event data stops at the depth limit.
        let recursive = "{% for node in [detail.tree] recursive %}{% if node.children %}{{ loop(node.children) }}{% else %}{{ node }}{% endif %}{% endfor %}";
        let error = text(recursive, Limit::COMMENT).unwrap_err();
        assert!(error.to_string().contains("recursion"), "{error}");
        // Everyday templates are untouched.
        assert_eq!(text("{{ detail.items | join(',') }}", Limit::IDENTIFIER), Ok(Some("1,2,3".into())));
    }

    #[test]
    fn field_values_serialize_as_the_wire_union() {
        assert_eq!(serde_json::to_value(FieldValue::String("a".into())).unwrap(), json!({"stringValue": "a"}));
        assert_eq!(serde_json::to_value(FieldValue::empty()).unwrap(), json!({"emptyValue": {}}));
        assert_eq!(serde_json::to_value(FieldValue::UserArn("u".into())).unwrap(), json!({"userArnValue": "u"}));
    }
}
