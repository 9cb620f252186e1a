//! Request-shape checks like the real service's: the request shapes of `wire::input` are checked
//! against the model's constraints (required members, lengths, patterns, enums, list sizes, ranges,
//! union cardinality) and turned into the backend's types. Every failure is a 400
//! ValidationException whose message names the member, in the style of AWS
//! (`Value at 'performedBy.customEntity' failed to satisfy constraint: …`).
//!
//! Checks that need the stored data (value type against field type, select options, profile ARNs)
//! are the backend's ([`crate::state::validate`]); Customer Profiles bodies are checked in
//! [`super::profiles::validate`].

use std::collections::BTreeMap;

use crate::error::{ApiError, ApiResult};
use crate::state::model::{Empty, FieldValue, User, Value};
use crate::state::search::{CaseFilter, CustomFieldsFilter, FieldFilter, FilterOp, RelatedItemFilter, Sort};
use crate::wire::input::*;

/// The `CustomEntity` pattern of the model.
pub const CUSTOM_ENTITY_PATTERN: &str = r"^[a-zA-Z0-9_\-\.@:/ ]*[a-zA-Z0-9_\-\.@:/]$";
/// The `^.*[\S]$` pattern of names.
pub const NAME_PATTERN: &str = r"^.*[\S]$";

pub(crate) fn constraint(path: &str, what: impl std::fmt::Display) -> ApiError {
    ApiError::validation(format!("1 validation error detected: Value at '{path}' failed to satisfy constraint: {what}"))
}

/// A required member.
pub fn required<'a, T>(v: &'a Option<T>, path: &str) -> ApiResult<&'a T> {
    v.as_ref().ok_or_else(|| constraint(path, "Member must not be null"))
}

/// Length in characters within `min..=max`.
pub fn length(s: &str, path: &str, min: usize, max: usize) -> ApiResult<()> {
    let n = s.chars().count();
    if n < min {
        return Err(constraint(path, format_args!("Member must have length greater than or equal to {min}")));
    }
    if n > max {
        return Err(constraint(path, format_args!("Member must have length less than or equal to {max}")));
    }
    Ok(())
}

/// A required string of length `min..=max`.
pub fn req_str(v: &Option<String>, path: &str, min: usize, max: usize) -> ApiResult<String> {
    let s = required(v, path)?;
    length(s, path, min, max)?;
    Ok(s.clone())
}

/// An optional string of length `min..=max`.
pub fn opt_str(v: &Option<String>, path: &str, min: usize, max: usize) -> ApiResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(s) => {
            length(s, path, min, max)?;
            Ok(Some(s.clone()))
        }
    }
}

/// A required identifier (`DomainId`, `FieldId`, … : 1–500 characters).
pub fn req_id(v: &Option<String>, path: &str) -> ApiResult<String> {
    req_str(v, path, 1, 500)
}

/// A path label (already decoded): 1–500 characters.
pub fn label(s: &str, path: &str) -> ApiResult<()> {
    length(s, path, 1, 500)
}

/// `^.*[\S]$`: not empty and not ending in whitespace.
pub fn name_pattern(s: &str, path: &str) -> ApiResult<()> {
    match s.chars().last() {
        Some(c) if !c.is_whitespace() => Ok(()),
        _ => Err(constraint(path, format_args!("Member must satisfy regular expression pattern: {NAME_PATTERN}"))),
    }
}

/// A required name (1–100, `^.*[\S]$`).
pub fn req_name(v: &Option<String>, path: &str) -> ApiResult<String> {
    let s = req_str(v, path, 1, 100)?;
    name_pattern(&s, path)?;
    Ok(s)
}

/// Whether `s` matches the `CustomEntity` pattern (length not checked).
pub fn is_custom_entity(s: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | ':' | '/' | ' ');
    !s.is_empty() && s.chars().all(ok_char) && !s.ends_with(' ')
}

/// `UserUnion`: exactly one of `userArn` (1–500) / `customEntity` (1–500 + pattern).
pub fn user(u: &UserUnionIn, path: &str) -> ApiResult<User> {
    let set = exactly_one(path, "UserUnion", &[("userArn", u.user_arn.is_some()), ("customEntity", u.custom_entity.is_some())])?;
    if set == "userArn" {
        let s = u.user_arn.clone().unwrap_or_default();
        length(&s, &format!("{path}.userArn"), 1, 500)?;
        Ok(User::UserArn(s))
    } else {
        let s = u.custom_entity.clone().unwrap_or_default();
        let p = format!("{path}.customEntity");
        length(&s, &p, 1, 500)?;
        if !is_custom_entity(&s) {
            return Err(constraint(&p, format_args!("Member must satisfy regular expression pattern: {CUSTOM_ENTITY_PATTERN}")));
        }
        Ok(User::CustomEntity(s))
    }
}

/// An optional `performedBy`.
pub fn opt_user(u: &Option<UserUnionIn>, path: &str) -> ApiResult<Option<User>> {
    u.as_ref().map(|u| user(u, path)).transpose()
}

/// Union cardinality: exactly one member set; returns its name.
pub fn exactly_one<'a>(path: &str, shape: &str, members: &[(&'a str, bool)]) -> ApiResult<&'a str> {
    let set: Vec<&str> = members.iter().filter(|(_, s)| *s).map(|(n, _)| *n).collect();
    match set.as_slice() {
        [one] => Ok(one),
        [] => Err(constraint(
            path,
            format_args!(
                "{shape} is a union: exactly one member must be set, none was (expected one of: {})",
                members.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        )),
        many => Err(constraint(
            path,
            format_args!("{shape} is a union: exactly one member must be set, found {} ({})", many.len(), many.join(", ")),
        )),
    }
}

/// `FieldValueUnion`.
pub fn value(u: &FieldValueUnionIn, path: &str) -> ApiResult<Value> {
    let set = exactly_one(
        path,
        "FieldValueUnion",
        &[
            ("stringValue", u.string_value.is_some()),
            ("doubleValue", u.double_value.is_some()),
            ("booleanValue", u.boolean_value.is_some()),
            ("emptyValue", u.empty_value.is_some()),
            ("userArnValue", u.user_arn_value.is_some()),
        ],
    )?;
    Ok(match set {
        "stringValue" => {
            let s = u.string_value.clone().unwrap_or_default();
            length(&s, &format!("{path}.stringValue"), 0, 4100)?;
            Value::String(s)
        }
        "doubleValue" => {
            let d = u.double_value.unwrap_or_default();
            if !d.is_finite() {
                return Err(constraint(&format!("{path}.doubleValue"), "Member must be a finite number"));
            }
            Value::Double(d)
        }
        "booleanValue" => Value::Boolean(u.boolean_value.unwrap_or_default()),
        "emptyValue" => {
            if !u.empty_value.as_ref().is_some_and(|v| v.is_object()) {
                return Err(constraint(&format!("{path}.emptyValue"), "Member must be an empty object {}"));
            }
            Value::Empty(Empty {})
        }
        _ => {
            let s = u.user_arn_value.clone().unwrap_or_default();
            length(&s, &format!("{path}.userArnValue"), 1, 500)?;
            Value::UserArn(s)
        }
    })
}

/// `FieldValue` (`id` required 1–500, `value` required).
pub fn field_value(f: &FieldValueIn, path: &str) -> ApiResult<FieldValue> {
    let id = req_id(&f.id, &format!("{path}.id"))?;
    let vp = format!("{path}.value");
    let v = value(required(&f.value, &vp)?, &vp)?;
    Ok(FieldValue { id, value: v })
}

/// A `FieldValue` list with at most `max` entries and no duplicate ids.
pub fn field_values(list: &[FieldValueIn], path: &str, min: usize, max: usize) -> ApiResult<Vec<FieldValue>> {
    list_size(list.len(), path, min, max)?;
    let mut out: Vec<FieldValue> = Vec::with_capacity(list.len());
    for (i, f) in list.iter().enumerate() {
        let fv = field_value(f, &format!("{path}[{i}]"))?;
        if out.iter().any(|o| o.id == fv.id) {
            return Err(ApiError::validation(format!("Duplicate field id '{}' in {path}", fv.id)));
        }
        out.push(fv);
    }
    Ok(out)
}

/// A list of `FieldIdentifier`s.
pub fn field_ids(list: &[FieldIdentifierIn], path: &str, min: usize, max: usize) -> ApiResult<Vec<String>> {
    list_size(list.len(), path, min, max)?;
    list.iter().enumerate().map(|(i, f)| req_id(&f.id, &format!("{path}[{i}].id"))).collect()
}

/// List length within `min..=max`.
pub fn list_size(n: usize, path: &str, min: usize, max: usize) -> ApiResult<()> {
    if n < min {
        return Err(constraint(path, format_args!("Member must have length greater than or equal to {min}")));
    }
    if n > max {
        return Err(constraint(path, format_args!("Member must have length less than or equal to {max}")));
    }
    Ok(())
}

/// `maxResults` within `min..=max`, `default` when absent.
pub fn max_results(v: Option<i64>, path: &str, min: i64, max: i64, default: i64) -> ApiResult<usize> {
    let n = v.unwrap_or(default);
    if n < min {
        return Err(constraint(path, format_args!("Member must have value greater than or equal to {min}")));
    }
    if n > max {
        return Err(constraint(path, format_args!("Member must have value less than or equal to {max}")));
    }
    Ok(n as usize)
}

/// An enum value.
pub fn enum_value(s: &str, path: &str, allowed: &[&str]) -> ApiResult<()> {
    if allowed.contains(&s) {
        Ok(())
    } else {
        Err(constraint(path, format_args!("Member must satisfy enum value set: [{}]", allowed.join(", "))))
    }
}

fn tag_chars_ok(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c))
}

/// `MutableTags`: 0–50 entries, key 1–128 `^(?![aA][wW][sS]:)[a-zA-Z0-9 _.:/=+\-@]+$`,
/// value 0–256 `^([a-zA-Z0-9 _.:/=+\-@]*)$`.
pub fn mutable_tags(tags: &TagsIn, path: &str) -> ApiResult<BTreeMap<String, String>> {
    if tags.len() > 50 {
        return Err(constraint(path, "Member must have length less than or equal to 50"));
    }
    let mut out = BTreeMap::new();
    for (k, v) in tags {
        let kp = format!("{path}.{k}");
        length(k, &kp, 1, 128)?;
        if k.to_ascii_lowercase().starts_with("aws:") || !tag_chars_ok(k) {
            return Err(constraint(&kp, r"Member key must satisfy regular expression pattern: ^(?![aA][wW][sS]:)[a-zA-Z0-9 _.:/=+\-@]+$"));
        }
        let v = v.clone().unwrap_or_default();
        length(&v, &kp, 0, 256)?;
        if !tag_chars_ok(&v) {
            return Err(constraint(&kp, r"Member value must satisfy regular expression pattern: ^([a-zA-Z0-9 _.:/=+\-@]*)$"));
        }
        out.insert(k.clone(), v);
    }
    Ok(out)
}

/// `FieldFilter` (exactly one operator).
pub fn field_filter(f: &FieldFilterIn, path: &str) -> ApiResult<FieldFilter> {
    let members = [
        ("equalTo", &f.equal_to, FilterOp::EqualTo),
        ("contains", &f.contains, FilterOp::Contains),
        ("greaterThan", &f.greater_than, FilterOp::GreaterThan),
        ("greaterThanOrEqualTo", &f.greater_than_or_equal_to, FilterOp::GreaterThanOrEqualTo),
        ("lessThan", &f.less_than, FilterOp::LessThan),
        ("lessThanOrEqualTo", &f.less_than_or_equal_to, FilterOp::LessThanOrEqualTo),
    ];
    let flags: Vec<(&str, bool)> = members.iter().map(|(n, v, _)| (*n, v.is_some())).collect();
    let set = exactly_one(path, "FieldFilter", &flags)?;
    let (name, fv, op) = members.iter().find(|(n, _, _)| *n == set).expect("member is set");
    let field = field_value(fv.as_ref().expect("member is set"), &format!("{path}.{name}"))?;
    Ok(FieldFilter { op: *op, field })
}

/// `CaseFilter` (recursive; `andAll`/`orAll` at most 10 each).
pub fn case_filter(f: &CaseFilterIn, path: &str) -> ApiResult<CaseFilter> {
    let set = exactly_one(
        path,
        "CaseFilter",
        &[
            ("field", f.field.is_some()),
            ("not", f.not.is_some()),
            ("tag", f.tag.is_some()),
            ("andAll", f.and_all.is_some()),
            ("orAll", f.or_all.is_some()),
        ],
    )?;
    Ok(match set {
        "field" => CaseFilter::Field(field_filter(f.field.as_ref().expect("set"), &format!("{path}.field"))?),
        "not" => CaseFilter::Not(Box::new(case_filter(f.not.as_ref().expect("set"), &format!("{path}.not"))?)),
        "tag" => {
            let tp = format!("{path}.tag");
            let t = f.tag.as_ref().expect("set");
            exactly_one(&tp, "TagFilter", &[("equalTo", t.equal_to.is_some())])?;
            let tv = t.equal_to.as_ref().expect("set");
            let key = opt_str(&tv.key, &format!("{tp}.equalTo.key"), 1, 128)?;
            if let Some(k) = &key
                && !tag_chars_ok(k)
            {
                return Err(constraint(
                    &format!("{tp}.equalTo.key"),
                    r"Member must satisfy regular expression pattern: ^[a-zA-Z0-9 _.:/=+\-@]+$",
                ));
            }
            let value = opt_str(&tv.value, &format!("{tp}.equalTo.value"), 0, 256)?;
            CaseFilter::Tag { key, value }
        }
        "andAll" | "orAll" => {
            let list = if set == "andAll" { f.and_all.as_ref() } else { f.or_all.as_ref() }.expect("set");
            let lp = format!("{path}.{set}");
            list_size(list.len(), &lp, 0, 10)?;
            let items = list.iter().enumerate().map(|(i, x)| case_filter(x, &format!("{lp}[{i}]"))).collect::<ApiResult<Vec<_>>>()?;
            if set == "andAll" { CaseFilter::AndAll(items) } else { CaseFilter::OrAll(items) }
        }
        _ => unreachable!(),
    })
}

/// `CustomFieldsFilter`.
pub fn custom_fields_filter(f: &CustomFieldsFilterIn, path: &str) -> ApiResult<CustomFieldsFilter> {
    let set = exactly_one(
        path,
        "CustomFieldsFilter",
        &[("field", f.field.is_some()), ("not", f.not.is_some()), ("andAll", f.and_all.is_some()), ("orAll", f.or_all.is_some())],
    )?;
    Ok(match set {
        "field" => CustomFieldsFilter::Field(field_filter(f.field.as_ref().expect("set"), &format!("{path}.field"))?),
        "not" => CustomFieldsFilter::Not(Box::new(custom_fields_filter(f.not.as_ref().expect("set"), &format!("{path}.not"))?)),
        _ => {
            let list = if set == "andAll" { f.and_all.as_ref() } else { f.or_all.as_ref() }.expect("set");
            let lp = format!("{path}.{set}");
            list_size(list.len(), &lp, 0, 10)?;
            let items =
                list.iter().enumerate().map(|(i, x)| custom_fields_filter(x, &format!("{lp}[{i}]"))).collect::<ApiResult<Vec<_>>>()?;
            if set == "andAll" { CustomFieldsFilter::AndAll(items) } else { CustomFieldsFilter::OrAll(items) }
        }
    })
}

/// `SlaStatus` values.
pub const SLA_STATUSES: [&str; 4] = ["Active", "Overdue", "Met", "NotMet"];

/// `RelatedItemTypeFilter` list (0–10).
pub fn related_item_filters(list: &[RelatedItemTypeFilterIn], path: &str) -> ApiResult<Vec<RelatedItemFilter>> {
    list_size(list.len(), path, 0, 10)?;
    let mut out = Vec::new();
    for (i, f) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let set = exactly_one(
            &p,
            "RelatedItemTypeFilter",
            &[
                ("contact", f.contact.is_some()),
                ("comment", f.comment.is_some()),
                ("file", f.file.is_some()),
                ("sla", f.sla.is_some()),
                ("connectCase", f.connect_case.is_some()),
                ("custom", f.custom.is_some()),
            ],
        )?;
        out.push(match set {
            "contact" => {
                let c = f.contact.as_ref().expect("set");
                let channels = c.channel.clone().unwrap_or_default();
                list_size(channels.len(), &format!("{p}.contact.channel"), 0, 3)?;
                for (j, ch) in channels.iter().enumerate() {
                    length(ch, &format!("{p}.contact.channel[{j}]"), 1, 100)?;
                }
                let contact_arn = opt_str(&c.contact_arn, &format!("{p}.contact.contactArn"), 1, 500)?;
                RelatedItemFilter::Contact { channels, contact_arn }
            }
            "comment" => RelatedItemFilter::Comment,
            "file" => RelatedItemFilter::File {
                file_arn: opt_str(&f.file.as_ref().expect("set").file_arn, &format!("{p}.file.fileArn"), 1, 500)?,
            },
            "sla" => {
                let s = f.sla.as_ref().expect("set");
                let name = opt_str(&s.name, &format!("{p}.sla.name"), 1, 500)?;
                if let Some(st) = &s.status {
                    enum_value(st, &format!("{p}.sla.status"), &SLA_STATUSES)?;
                }
                RelatedItemFilter::Sla { name, status: s.status.clone() }
            }
            "connectCase" => RelatedItemFilter::ConnectCase {
                case_id: opt_str(&f.connect_case.as_ref().expect("set").case_id, &format!("{p}.connectCase.caseId"), 1, 500)?,
            },
            _ => RelatedItemFilter::Custom {
                fields: f
                    .custom
                    .as_ref()
                    .expect("set")
                    .fields
                    .as_ref()
                    .map(|x| custom_fields_filter(x, &format!("{p}.custom.fields")))
                    .transpose()?,
            },
        });
    }
    Ok(out)
}

/// `Sort` list (0–2) of SearchCases.
pub fn sorts(list: &[SortIn], path: &str) -> ApiResult<Vec<Sort>> {
    list_size(list.len(), path, 0, 2)?;
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            let field_id = req_id(&s.field_id, &format!("{path}[{i}].fieldId"))?;
            let op = format!("{path}[{i}].sortOrder");
            let order = required(&s.sort_order, &op)?;
            enum_value(order, &op, &["Asc", "Desc"])?;
            Ok(Sort { field_id, descending: order == "Desc" })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn custom_entity_pattern() {
        for ok in ["lambda:intake-bot", "a", "bot/v1.2@corp", "with space:x", "A_b-c.d@e:f/g"] {
            assert!(is_custom_entity(ok), "{ok}");
        }
        for bad in ["", " ", "ends with space ", "bad!", "naïve", "tab\tx", "new\nline"] {
            assert!(!is_custom_entity(bad), "{bad:?}");
        }
        let u = UserUnionIn { user_arn: None, custom_entity: Some("x".repeat(501)) };
        assert_eq!(user(&u, "performedBy").unwrap_err().kind, ErrorKind::ValidationException);
        let both = UserUnionIn { user_arn: Some("arn:x".into()), custom_entity: Some("bot".into()) };
        assert!(user(&both, "performedBy").unwrap_err().message.contains("found 2"));
        let none = UserUnionIn::default();
        assert!(user(&none, "performedBy").unwrap_err().message.contains("none was"));
    }

    #[test]
    fn value_union_cardinality() {
        let two = FieldValueUnionIn { string_value: Some("a".into()), double_value: Some(1.0), ..Default::default() };
        let e = value(&two, "fields[0].value").unwrap_err();
        assert!(e.message.contains("fields[0].value") && e.message.contains("stringValue, doubleValue"), "{}", e.message);
        assert!(value(&FieldValueUnionIn::default(), "v").is_err());
        let empty = FieldValueUnionIn { empty_value: Some(serde_json::json!({})), ..Default::default() };
        assert_eq!(value(&empty, "v").unwrap(), Value::Empty(Empty {}));
        let long = FieldValueUnionIn { string_value: Some("x".repeat(4101)), ..Default::default() };
        assert!(value(&long, "v").is_err());
        let nan = FieldValueUnionIn { double_value: Some(f64::NAN), ..Default::default() };
        assert!(value(&nan, "v").is_err());
    }

    #[test]
    fn filters_and_sizes() {
        let f: CaseFilterIn = serde_json::from_value(serde_json::json!({
            "andAll": [
                {"field": {"equalTo": {"id": "status", "value": {"stringValue": "open"}}}},
                {"not": {"tag": {"equalTo": {"key": "k", "value": "v"}}}}
            ]
        }))
        .unwrap();
        assert!(matches!(case_filter(&f, "filter").unwrap(), CaseFilter::AndAll(v) if v.len() == 2));
        let bad: CaseFilterIn = serde_json::from_value(serde_json::json!({
            "field": {"equalTo": {"id": "a", "value": {"stringValue": "x"}}}, "not": {"field": {}}
        }))
        .unwrap();
        assert!(case_filter(&bad, "filter").is_err());
        let inner_bad: CaseFilterIn = serde_json::from_value(serde_json::json!({"orAll": [{"field": {}}]})).unwrap();
        let e = case_filter(&inner_bad, "filter").unwrap_err();
        assert!(e.message.contains("filter.orAll[0].field"), "{}", e.message);
        let eleven: Vec<serde_json::Value> = (0..11).map(|_| serde_json::json!({"tag": {"equalTo": {}}})).collect();
        let big: CaseFilterIn = serde_json::from_value(serde_json::json!({ "andAll": eleven })).unwrap();
        assert!(case_filter(&big, "filter").is_err());
        assert!(max_results(Some(0), "maxResults", 1, 100, 25).is_err());
        assert!(max_results(Some(101), "maxResults", 1, 100, 25).is_err());
        assert_eq!(max_results(None, "maxResults", 1, 100, 25).unwrap(), 25);
        let mut tags = TagsIn::new();
        tags.insert("aws:x".into(), Some("v".into()));
        assert!(mutable_tags(&tags, "tags").is_err());
    }
}
