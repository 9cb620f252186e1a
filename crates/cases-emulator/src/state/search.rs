//! Search: `CaseFilter` / `CustomFieldsFilter` / `RelatedItemTypeFilter` evaluation, sorting and
//! the free-text `searchTerm`.
//!
//! The semantics are **inferred** (the model does not document them; see README):
//! - `equalTo`: exact, type-aware equality (`emptyValue` matches a field that has no value);
//! - `contains`: case-insensitive substring on string/user values;
//! - `greaterThan…`/`lessThan…`: numeric for doubles, instant comparison for values that both
//!   parse as RFC 3339 date-times, otherwise lexicographic; a missing value never matches;
//! - `tag.equalTo`: key and value must both match when both are given; only a key: the tag
//!   exists; only a value: some tag has it;
//! - `searchTerm`: case-insensitive substring over every string / user value of the case.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::model::{Case, FieldValue, RelatedContent, RelatedItem, Value};
use crate::util::parse_ts;

/// A field comparison operator (`FieldFilter` member).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    EqualTo,
    Contains,
    GreaterThan,
    GreaterThanOrEqualTo,
    LessThan,
    LessThanOrEqualTo,
}

/// `FieldFilter`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldFilter {
    pub op: FilterOp,
    pub field: FieldValue,
}

/// `CaseFilter`.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseFilter {
    Field(FieldFilter),
    Not(Box<CaseFilter>),
    Tag { key: Option<String>, value: Option<String> },
    AndAll(Vec<CaseFilter>),
    OrAll(Vec<CaseFilter>),
}

/// `CustomFieldsFilter`.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomFieldsFilter {
    Field(FieldFilter),
    Not(Box<CustomFieldsFilter>),
    AndAll(Vec<CustomFieldsFilter>),
    OrAll(Vec<CustomFieldsFilter>),
}

/// `RelatedItemTypeFilter`.
#[derive(Debug, Clone, PartialEq)]
pub enum RelatedItemFilter {
    Contact { channels: Vec<String>, contact_arn: Option<String> },
    Comment,
    File { file_arn: Option<String> },
    Sla { name: Option<String>, status: Option<String> },
    ConnectCase { case_id: Option<String> },
    Custom { fields: Option<CustomFieldsFilter> },
}

/// `Sort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub field_id: String,
    pub descending: bool,
}

/// Compares two values of the same kind; None when they are not comparable.
pub fn compare_values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x.partial_cmp(y),
        (Value::Boolean(x), Value::Boolean(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) | (Value::UserArn(x), Value::UserArn(y)) => match (parse_ts(x), parse_ts(y)) {
            (Some(tx), Some(ty)) => Some(tx.cmp(&ty)),
            _ => Some(x.cmp(y)),
        },
        _ => None,
    }
}

/// Type-aware equality of two values (`equalTo`, SLA target values).
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x == y,
        (Value::UserArn(x), Value::UserArn(y)) => x == y,
        (Value::Double(x), Value::Double(y)) => x == y,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        (Value::Empty(_), Value::Empty(_)) => true,
        _ => false,
    }
}

/// Evaluates a field filter against a field map.
pub fn field_filter_matches(f: &FieldFilter, fields: &BTreeMap<String, Value>) -> bool {
    let actual = fields.get(&f.field.id);
    let wanted = &f.field.value;
    match f.op {
        FilterOp::EqualTo => match actual {
            Some(v) => values_equal(v, wanted),
            None => wanted.is_empty(),
        },
        FilterOp::Contains => match (actual.and_then(Value::as_text), wanted.as_text()) {
            (Some(a), Some(w)) => a.to_lowercase().contains(&w.to_lowercase()),
            _ => match (actual, wanted) {
                (Some(a), w) if !w.is_empty() => values_equal(a, w),
                _ => false,
            },
        },
        op => {
            let Some(actual) = actual else { return false };
            let Some(ord) = compare_values(actual, wanted) else { return false };
            match op {
                FilterOp::GreaterThan => ord == Ordering::Greater,
                FilterOp::GreaterThanOrEqualTo => ord != Ordering::Less,
                FilterOp::LessThan => ord == Ordering::Less,
                FilterOp::LessThanOrEqualTo => ord != Ordering::Greater,
                FilterOp::EqualTo | FilterOp::Contains => unreachable!(),
            }
        }
    }
}

/// Evaluates a `CaseFilter` against a case.
pub fn case_matches(filter: &CaseFilter, case: &Case) -> bool {
    match filter {
        CaseFilter::Field(f) => field_filter_matches(f, &case.fields),
        CaseFilter::Not(inner) => !case_matches(inner, case),
        CaseFilter::Tag { key, value } => match (key, value) {
            (Some(k), Some(v)) => case.tags.get(k) == Some(v),
            (Some(k), None) => case.tags.contains_key(k),
            (None, Some(v)) => case.tags.values().any(|x| x == v),
            (None, None) => true,
        },
        CaseFilter::AndAll(list) => list.iter().all(|f| case_matches(f, case)),
        CaseFilter::OrAll(list) => list.iter().any(|f| case_matches(f, case)),
    }
}

/// Case-insensitive substring match of `term` over the case's string values.
pub fn search_term_matches(term: &str, case: &Case) -> bool {
    let term = term.trim().to_lowercase();
    if term.is_empty() {
        return true;
    }
    case.id.to_lowercase().contains(&term)
        || case.fields.values().any(|v| match v {
            Value::String(s) | Value::UserArn(s) => s.to_lowercase().contains(&term),
            Value::Double(d) => d.to_string().contains(&term),
            _ => false,
        })
}

/// Orders cases by `sorts`, then newest first (creation order) as the tie breaker.
/// Cases without a value for a sort field come last, whatever the order.
pub fn sort_cases(cases: &mut [&Case], sorts: &[Sort]) {
    cases.sort_by(|a, b| {
        for s in sorts {
            let (va, vb) = (a.fields.get(&s.field_id), b.fields.get(&s.field_id));
            let ord = match (va, vb) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => return Ordering::Greater,
                (Some(_), None) => return Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = compare_values(x, y).unwrap_or_else(|| x.variant().cmp(y.variant()));
                    if s.descending { o.reverse() } else { o }
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        b.seq.cmp(&a.seq)
    });
}

fn custom_fields_matches(f: &CustomFieldsFilter, fields: &BTreeMap<String, Value>) -> bool {
    match f {
        CustomFieldsFilter::Field(ff) => field_filter_matches(ff, fields),
        CustomFieldsFilter::Not(inner) => !custom_fields_matches(inner, fields),
        CustomFieldsFilter::AndAll(l) => l.iter().all(|x| custom_fields_matches(x, fields)),
        CustomFieldsFilter::OrAll(l) => l.iter().any(|x| custom_fields_matches(x, fields)),
    }
}

/// Evaluates one `RelatedItemTypeFilter`; several filters are OR-ed by the caller.
pub fn related_item_matches(filter: &RelatedItemFilter, item: &RelatedItem) -> bool {
    match (filter, &item.content) {
        (RelatedItemFilter::Contact { channels, contact_arn }, RelatedContent::Contact(c)) => {
            contact_arn.as_ref().is_none_or(|a| a == &c.contact_arn)
                && (channels.is_empty() || channels.iter().any(|ch| ch.eq_ignore_ascii_case(&c.channel)))
        }
        (RelatedItemFilter::Comment, RelatedContent::Comment(_)) => true,
        (RelatedItemFilter::File { file_arn }, RelatedContent::File(f)) => file_arn.as_ref().is_none_or(|a| a == &f.file_arn),
        (RelatedItemFilter::Sla { name, status }, RelatedContent::Sla(s)) => {
            name.as_ref().is_none_or(|n| n == &s.sla_configuration.name)
                && status.as_ref().is_none_or(|st| st == &s.sla_configuration.status)
        }
        (RelatedItemFilter::ConnectCase { case_id }, RelatedContent::ConnectCase(c)) => case_id.as_ref().is_none_or(|id| id == &c.case_id),
        (RelatedItemFilter::Custom { fields }, RelatedContent::Custom(c)) => match fields {
            None => true,
            Some(f) => {
                let map: BTreeMap<String, Value> = c.fields.iter().map(|fv| (fv.id.clone(), fv.value.clone())).collect();
                custom_fields_matches(f, &map)
            }
        },
        _ => false,
    }
}

/// True when `filters` is empty or any of them matches.
pub fn related_item_matches_any(filters: &[RelatedItemFilter], item: &RelatedItem) -> bool {
    filters.is_empty() || filters.iter().any(|f| related_item_matches(f, item))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(seq: u64, fields: &[(&str, Value)], tags: &[(&str, &str)]) -> Case {
        Case {
            id: format!("case-{seq}"),
            arn: String::new(),
            template_id: "t".into(),
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            related_items: vec![],
            audit_events: vec![],
            seq,
        }
    }

    fn ff(op: FilterOp, id: &str, value: Value) -> CaseFilter {
        CaseFilter::Field(FieldFilter { op, field: FieldValue { id: id.into(), value } })
    }

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn equality_contains_and_ranges() {
        let c = case(1, &[("status", s("open")), ("title", s("Broken Widget")), ("n", Value::Double(5.0))], &[]);
        assert!(case_matches(&ff(FilterOp::EqualTo, "status", s("open")), &c));
        assert!(!case_matches(&ff(FilterOp::EqualTo, "status", s("Open")), &c));
        assert!(!case_matches(&ff(FilterOp::EqualTo, "status", Value::Double(1.0)), &c));
        assert!(case_matches(&ff(FilterOp::Contains, "title", s("widget")), &c));
        assert!(!case_matches(&ff(FilterOp::Contains, "title", s("gadget")), &c));
        assert!(case_matches(&ff(FilterOp::GreaterThan, "n", Value::Double(3.0)), &c));
        assert!(!case_matches(&ff(FilterOp::GreaterThan, "n", Value::Double(5.0)), &c));
        assert!(case_matches(&ff(FilterOp::GreaterThanOrEqualTo, "n", Value::Double(5.0)), &c));
        assert!(case_matches(&ff(FilterOp::LessThan, "n", Value::Double(10.0)), &c));
        assert!(case_matches(&ff(FilterOp::LessThanOrEqualTo, "n", Value::Double(5.0)), &c));
        // missing field: only equalTo emptyValue matches
        assert!(!case_matches(&ff(FilterOp::LessThan, "missing", Value::Double(10.0)), &c));
        assert!(case_matches(&ff(FilterOp::EqualTo, "missing", Value::Empty(Default::default())), &c));
    }

    #[test]
    fn date_ranges_compare_instants() {
        let c = case(1, &[("d", s("2026-05-01T12:00:00.000Z"))], &[]);
        assert!(case_matches(&ff(FilterOp::GreaterThan, "d", s("2026-05-01T11:59:59Z")), &c));
        assert!(case_matches(&ff(FilterOp::LessThan, "d", s("2026-05-01T13:00:00+00:30")), &c));
    }

    #[test]
    fn boolean_combinators_and_tags() {
        let c = case(1, &[("status", s("open")), ("p", s("high"))], &[("Department", "Fraud")]);
        let open = ff(FilterOp::EqualTo, "status", s("open"));
        let low = ff(FilterOp::EqualTo, "p", s("low"));
        assert!(case_matches(&CaseFilter::AndAll(vec![open.clone(), CaseFilter::Not(Box::new(low.clone()))]), &c));
        assert!(!case_matches(&CaseFilter::AndAll(vec![open.clone(), low.clone()]), &c));
        assert!(case_matches(&CaseFilter::OrAll(vec![low.clone(), open]), &c));
        assert!(!case_matches(&CaseFilter::OrAll(vec![]), &c));
        assert!(case_matches(&CaseFilter::AndAll(vec![]), &c));
        let tag = |k: Option<&str>, v: Option<&str>| CaseFilter::Tag { key: k.map(Into::into), value: v.map(Into::into) };
        assert!(case_matches(&tag(Some("Department"), Some("Fraud")), &c));
        assert!(!case_matches(&tag(Some("Department"), Some("Sales")), &c));
        assert!(case_matches(&tag(Some("Department"), None), &c));
        assert!(case_matches(&tag(None, Some("Fraud")), &c));
    }

    #[test]
    fn search_term_and_sorting() {
        let a = case(1, &[("title", s("Alpha order")), ("n", Value::Double(2.0))], &[]);
        let b = case(2, &[("title", s("beta ORDER")), ("n", Value::Double(1.0))], &[]);
        let c = case(3, &[("title", s("gamma"))], &[]);
        assert!(search_term_matches("order", &a) && search_term_matches("order", &b));
        assert!(!search_term_matches("order", &c));
        let mut v = vec![&a, &b, &c];
        sort_cases(&mut v, &[]);
        assert_eq!(v.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![3, 2, 1]);
        sort_cases(&mut v, &[Sort { field_id: "n".into(), descending: false }]);
        assert_eq!(v.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![2, 1, 3]);
        sort_cases(&mut v, &[Sort { field_id: "n".into(), descending: true }]);
        assert_eq!(v.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
