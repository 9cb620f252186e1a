//! A rules file against a live Cases domain, before it runs (`cases-automation check --domain`):
//! every field and template it names exists, values of a known type fit their field's type,
//! literal values of single-select fields are active options, and each `create` sets every field
//! its template requires. What the domain allows is read and checked by the same code the
//! function uses before each event's first write (`cases::domain_cache`, `cases::domain`); values
//! taken from events are checked as far as they are known without an event (their explicit type).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::cases::catalog::Resolve;
use crate::cases::domain::{DomainModel, Needs, check_required, check_value};
use crate::cases::domain_cache::DomainCache;
use crate::cases::model::{CreateCaseInput, FieldEntry, FieldType, FieldValue, PerformedBy};
use crate::cases::value::coerce;
use crate::cases::{ApiError, CasesApi};
use crate::rules::value::{CompiledValue, Source, ValueType, convert};
use crate::rules::{Action, Lookup, Rule, RuleProblem, RuleSet};

/// Every problem of `rules` against the domain `api` serves; an error when the domain cannot be read.
pub async fn check_against_domain<C: CasesApi>(rules: &RuleSet, api: &C) -> Result<Vec<RuleProblem>, ApiError> {
    let cache = DomainCache::default();
    let names = cache.names(api).await?;
    let mut needs = Needs::default();
    for rule in &rules.rules {
        for place in places(rule) {
            if let Ok((id, Some(FieldType::SingleSelect))) = names.catalog.field(place.field)
                && place.value.is_some_and(|v| matches!(v.source, Source::Literal(Value::String(_))))
            {
                needs.options.insert(id);
            }
        }
        if let Some(create) = &rule.case.create
            && let Ok(id) = names.catalog.template(&create.template)
        {
            needs.templates.insert(id);
        }
    }
    let model = cache.complete(api, &needs).await?;
    Ok(rules.rules.iter().flat_map(|rule| check_rule(rule, &model)).collect())
}

/// A field a rule names, where, and the value it writes or searches for (none for a sort).
struct Place<'r> {
    path: String,
    field: &'r str,
    value: Option<&'r CompiledValue>,
}

fn places(rule: &Rule) -> Vec<Place<'_>> {
    let mut out = Vec::new();
    for (i, lookup) in rule.case.find.iter().enumerate() {
        if let Lookup::Search { fields: entries, sort } = lookup {
            let at = format!("case.find[{i}].search");
            out.extend(entries.iter().map(|(field, value)| Place { path: format!("{at}.fields.{field}"), field, value: Some(value) }));
            out.push(Place { path: format!("{at}.sort.field"), field: &sort.field, value: None });
        }
    }
    if let Some(create) = &rule.case.create {
        out.extend(create.fields.iter().map(|(field, value)| Place {
            path: format!("case.create.fields.{field}"),
            field,
            value: Some(value),
        }));
    }
    for (i, action) in rule.actions.iter().enumerate() {
        match action {
            Action::Update { fields: entries } => {
                let at = format!("actions[{i}].update.fields");
                out.extend(entries.iter().map(|(field, value)| Place { path: format!("{at}.{field}"), field, value: Some(value) }));
            }
            Action::Sla { field: Some(field), target_values, .. } => {
                let path = format!("actions[{i}].sla.targetValues");
                out.extend(target_values.iter().map(|value| Place { path: path.clone(), field, value: Some(value) }));
                if target_values.is_empty() {
                    out.push(Place { path: format!("actions[{i}].sla.field"), field, value: None });
                }
            }
            _ => {}
        }
    }
    out
}

/// Every problem of one rule against the model.
pub fn check_rule(rule: &Rule, model: &DomainModel) -> Vec<RuleProblem> {
    let mut problems = Vec::new();
    let mut problem = |path: &str, reason: String| problems.push(RuleProblem { rule: rule.name.clone(), path: path.to_owned(), reason });
    let mut seen = BTreeSet::new();
    for place in places(rule) {
        let (id, field_type) = match model.catalog.field(place.field) {
            Ok(found) => found,
            Err(reason) => {
                if seen.insert((place.path.clone(), reason.clone())) {
                    problem(&place.path, reason);
                }
                continue;
            }
        };
        let Some(value) = place.value else { continue };
        match (&value.source, value.ty, field_type) {
            (Source::Literal(literal), ty, _) => {
                let typed = convert(literal, ty).map_err(|expected| format!("the value is not a valid {expected}"));
                let typed = typed.and_then(|v| coerce(v, field_type));
                match typed {
                    Err(reason) => problem(&place.path, reason),
                    Ok(typed) => {
                        if let Err(violation) = check_value(model, &rule.name, &id, &typed, &place.path) {
                            problem(&violation.error.path, violation.error.reason);
                        }
                    }
                }
            }
            (Source::Customer(_), _, _) | (_, None, _) | (_, _, None) => {}
            (_, Some(ty), Some(field_type)) => {
                if !fits(ty, field_type) {
                    problem(&place.path, format!("a value of type {ty} cannot go into {field_type:?} field `{}`", place.field));
                }
            }
        }
    }
    if let Some(create) = &rule.case.create {
        match model.catalog.template(&create.template) {
            Err(reason) => problem("case.create.template", reason),
            Ok(template_id) => {
                // Values from the event stand as placeholders: what counts here is which fields are set.
                let fields = create
                    .fields
                    .iter()
                    .filter_map(|(field, value)| {
                        let (id, _) = model.catalog.field(field).ok()?;
                        let value = match &value.source {
                            Source::Literal(literal) => convert(literal, value.ty).ok()?,
                            _ => FieldValue::String("<from the event>".into()),
                        };
                        Some(FieldEntry { id, value })
                    })
                    .collect();
                let input = CreateCaseInput {
                    template_id,
                    fields,
                    client_token: String::new(),
                    performed_by: PerformedBy { custom_entity: String::new() },
                    tags: Default::default(),
                };
                if let Err(violation) = check_required(model, &rule.name, &input) {
                    problem(&violation.error.path, violation.error.reason);
                }
            }
        }
    }
    problems
}

/// Whether a value given this type can go into a field of that type.
fn fits(ty: ValueType, field: FieldType) -> bool {
    use FieldType::*;
    match ty {
        ValueType::Empty => true,
        ValueType::String => matches!(field, Text | Url | SingleSelect | DateTime | Other),
        ValueType::Number => matches!(field, Number | Other),
        ValueType::Boolean => matches!(field, Boolean | Other),
        ValueType::UserArn => matches!(field, User | Other),
    }
}
