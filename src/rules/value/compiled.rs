//! A value compiled from its spec, and taken from an event: a path queried, a template rendered,
//! a literal, or a `customer` lookup (resolved before planning), then typed as a field value.
//!
//! `Source::Customer` holds a `customer::CompiledCustomer`, made of `CompiledValue`s again: the
//! grammar is recursive, so this module and `rules::customer` refer to each other.

use minijinja::Environment;
use serde_json::Value;

use super::field::{ExtractError, FieldValue, Limit, convert, describe_json};
use super::path::{Path, general_path_contact_read, parse_path};
use super::spec::{ValueSpec, ValueType};
use super::template::{TemplateCheck, TemplateContext, render_within};
use crate::rules::customer::CompiledCustomer;

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

impl ValueSpec {
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
                Some((first, rest)) if first == super::CONTACT_KEY => vec![rest.first().cloned().unwrap_or_default()],
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
                        (parts.next() == Some(super::CONTACT_KEY)).then(|| parts.next().unwrap_or_default().to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::value::template_environment;
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
    fn bad_specs_are_rejected_at_compile_time() {
        let env = template_environment();
        // A template cannot pull in another by name (templates are named by their text).
        let include = json!("{% include '{{ detail.page }}' %}");
        for bad in [json!("$..["), json!("{{ unclosed"), json!({"path": "$.a", "value": 1}), json!([1]), include] {
            let spec: ValueSpec = serde_json::from_value(bad.clone()).unwrap();
            assert!(spec.compile(&TemplateCheck::Now(&env)).is_err(), "{bad} should not compile");
        }
    }
}
