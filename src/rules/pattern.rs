//! EventBridge event patterns, compiled once and matched against any JSON event.
//!
//! Semantics follow the EventBridge documentation: every key of the pattern must match; a
//! leaf is a list of alternatives; an event array matches when any element does; a missing
//! field only matches `{"exists": false}`. Supported matchers: exact values (string, number,
//! boolean, null), `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (value,
//! list, or `prefix`/`suffix`), `exists`, `numeric` (one or two comparisons), and `$or`.

use serde_json::{Map, Value};

use super::at::At;

/// A compiled pattern: a conjunction of field conditions, or `$or` alternatives.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    fields: Vec<(String, Node)>,
    any_of: Vec<Vec<Pattern>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Nested(Pattern),
    Leaf(Vec<Matcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Exact(Value),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    Wildcard(String),
    AnythingBut(Vec<Value>),
    AnythingButPrefix(String),
    AnythingButSuffix(String),
    Exists(bool),
    Numeric(Vec<(Cmp, f64)>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One problem in a pattern, with the JSON path of the offending part.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternError {
    pub path: String,
    pub reason: String,
}

impl Pattern {
    /// Compiles a pattern, collecting every problem rather than stopping at the first.
    pub fn compile(pattern: &Value) -> Result<Pattern, Vec<PatternError>> {
        let mut errors = Vec::new();
        let compiled = compile_object(pattern, At::Root("match"), &mut errors);
        if errors.is_empty() { Ok(compiled) } else { Err(errors) }
    }

    /// A pattern that matches every event.
    pub fn any() -> Pattern {
        Pattern { fields: Vec::new(), any_of: Vec::new() }
    }

    pub fn matches(&self, event: &Value) -> bool {
        let Some(object) = event.as_object() else {
            return self.fields.is_empty() && self.any_of.is_empty();
        };
        self.matches_object(object)
    }

    fn matches_object(&self, object: &Map<String, Value>) -> bool {
        self.fields.iter().all(|(key, node)| node.matches(object.get(key)))
            && self.any_of.iter().all(|alternatives| alternatives.iter().any(|p| p.matches_object(object)))
    }
}

impl Node {
    fn matches(&self, value: Option<&Value>) -> bool {
        match self {
            Node::Nested(pattern) => match value {
                Some(Value::Object(object)) => pattern.matches_object(object),
                Some(Value::Array(items)) => items.iter().any(|item| item.as_object().is_some_and(|o| pattern.matches_object(o))),
                // A nested pattern on a missing field still matches if all it asks is absence.
                None => pattern.matches_missing(),
                Some(_) => false,
            },
            Node::Leaf(matchers) => matchers.iter().any(|m| m.matches(value)),
        }
    }
}

impl Pattern {
    fn matches_missing(&self) -> bool {
        self.fields.iter().all(|(_, node)| node.matches(None))
            && self.any_of.iter().all(|alts| alts.iter().any(|p| p.matches_missing()))
            && !(self.fields.is_empty() && self.any_of.is_empty())
    }
}

impl Matcher {
    fn matches(&self, value: Option<&Value>) -> bool {
        match (self, value) {
            (Matcher::Exists(expected), v) => v.is_some() == *expected,
            (_, None) => false,
            (_, Some(Value::Array(items))) => items.iter().any(|item| self.matches_scalar(item)),
            (_, Some(v)) => self.matches_scalar(v),
        }
    }

    fn matches_scalar(&self, value: &Value) -> bool {
        match self {
            Matcher::Exact(expected) => values_equal(expected, value),
            Matcher::Prefix(p) => value.as_str().is_some_and(|s| s.starts_with(p.as_str())),
            Matcher::Suffix(p) => value.as_str().is_some_and(|s| s.ends_with(p.as_str())),
            Matcher::EqualsIgnoreCase(p) => value.as_str().is_some_and(|s| s.eq_ignore_ascii_case(p)),
            Matcher::Wildcard(p) => value.as_str().is_some_and(|s| wildcard_match(p, s)),
            Matcher::AnythingBut(excluded) => !excluded.iter().any(|e| values_equal(e, value)),
            Matcher::AnythingButPrefix(p) => value.as_str().is_some_and(|s| !s.starts_with(p.as_str())),
            Matcher::AnythingButSuffix(p) => value.as_str().is_some_and(|s| !s.ends_with(p.as_str())),
            Matcher::Exists(expected) => *expected,
            Matcher::Numeric(conditions) => value.as_f64().is_some_and(|n| {
                conditions.iter().all(|(cmp, bound)| match cmp {
                    Cmp::Eq => n == *bound,
                    Cmp::Lt => n < *bound,
                    Cmp::Le => n <= *bound,
                    Cmp::Gt => n > *bound,
                    Cmp::Ge => n >= *bound,
                })
            }),
        }
    }
}

/// Numbers compare by value (`5` equals `5.0`), everything else structurally.
fn values_equal(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => expected == actual,
    }
}

/// `*` matches any run of characters; everything else is literal.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn compile_object(value: &Value, at: At, errors: &mut Vec<PatternError>) -> Pattern {
    let mut pattern = Pattern::any();
    let Some(object) = value.as_object() else {
        errors.push(PatternError { path: at.to_string(), reason: "a pattern must be an object".into() });
        return pattern;
    };
    for (key, value) in object {
        let child = at.key(key);
        if key == "$or" {
            match value.as_array() {
                Some(items) if items.len() >= 2 => {
                    let alternatives = items.iter().enumerate().map(|(i, item)| compile_object(item, child.index(i), errors)).collect();
                    pattern.any_of.push(alternatives);
                }
                _ => errors.push(PatternError { path: child.to_string(), reason: "`$or` takes a list of at least two patterns".into() }),
            }
            continue;
        }
        match value {
            Value::Object(_) => pattern.fields.push((key.clone(), Node::Nested(compile_object(value, child, errors)))),
            Value::Array(items) if items.is_empty() => errors
                .push(PatternError { path: child.to_string(), reason: "an empty list matches nothing; list at least one value".into() }),
            Value::Array(items) => {
                let matchers = items.iter().enumerate().filter_map(|(i, item)| compile_matcher(item, child.index(i), errors)).collect();
                pattern.fields.push((key.clone(), Node::Leaf(matchers)));
            }
            _ => errors
                .push(PatternError { path: child.to_string(), reason: format!("values in a pattern must be in a list, e.g. [{value}]") }),
        }
    }
    pattern
}

fn compile_matcher(item: &Value, at: At, errors: &mut Vec<PatternError>) -> Option<Matcher> {
    let mut fail = |reason: String| {
        errors.push(PatternError { path: at.to_string(), reason });
        None
    };
    let object = match item {
        Value::Object(object) => object,
        Value::Array(_) => return fail("a list inside a list is not a valid matcher".into()),
        scalar => return Some(Matcher::Exact(scalar.clone())),
    };
    if object.len() != 1 {
        return fail("a matcher object has exactly one key (prefix, suffix, anything-but, exists, numeric, …)".into());
    }
    let (kind, arg) = object.iter().next().expect("one key");
    match (kind.as_str(), arg) {
        ("prefix", Value::String(s)) => Some(Matcher::Prefix(s.clone())),
        ("suffix", Value::String(s)) => Some(Matcher::Suffix(s.clone())),
        ("equals-ignore-case", Value::String(s)) => Some(Matcher::EqualsIgnoreCase(s.clone())),
        ("wildcard", Value::String(s)) => Some(Matcher::Wildcard(s.clone())),
        ("exists", Value::Bool(b)) => Some(Matcher::Exists(*b)),
        ("anything-but", Value::Array(values)) if values.iter().all(|v| !v.is_object() && !v.is_array()) => {
            Some(Matcher::AnythingBut(values.clone()))
        }
        ("anything-but", Value::Object(inner)) => match inner.iter().next() {
            Some((k, Value::String(s))) if inner.len() == 1 && k == "prefix" => Some(Matcher::AnythingButPrefix(s.clone())),
            Some((k, Value::String(s))) if inner.len() == 1 && k == "suffix" => Some(Matcher::AnythingButSuffix(s.clone())),
            _ => fail("`anything-but` takes a value, a list of values, or {\"prefix\": …} / {\"suffix\": …}".into()),
        },
        ("anything-but", v) if !v.is_array() => Some(Matcher::AnythingBut(vec![v.clone()])),
        ("numeric", Value::Array(parts)) => compile_numeric(parts)
            .map(Matcher::Numeric)
            .or_else(|| fail("`numeric` takes one or two comparisons, e.g. [\">\", 0, \"<=\", 5] or [\"=\", 3]".into())),
        ("prefix" | "suffix" | "equals-ignore-case" | "wildcard", _) => fail(format!("`{kind}` takes a string")),
        ("exists", _) => fail("`exists` takes true or false".into()),
        (other, _) => fail(format!(
            "unknown matcher `{other}`; supported: prefix, suffix, equals-ignore-case, wildcard, anything-but, exists, numeric"
        )),
    }
}

fn compile_numeric(parts: &[Value]) -> Option<Vec<(Cmp, f64)>> {
    if parts.is_empty() || !parts.len().is_multiple_of(2) || parts.len() > 4 {
        return None;
    }
    parts
        .chunks(2)
        .map(|pair| {
            let cmp = match pair[0].as_str()? {
                "=" => Cmp::Eq,
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                ">=" => Cmp::Ge,
                _ => return None,
            };
            Some((cmp, pair[1].as_f64()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matches(pattern: Value, event: Value) -> bool {
        Pattern::compile(&pattern).expect("valid pattern").matches(&event)
    }

    #[test]
    fn exact_values_and_nesting() {
        let p = json!({"source": ["aws.connect"], "detail": {"eventType": ["DISCONNECTED", "COMPLETED"]}});
        assert!(matches(p.clone(), json!({"source": "aws.connect", "detail": {"eventType": "COMPLETED"}})));
        assert!(!matches(p.clone(), json!({"source": "aws.connect", "detail": {"eventType": "QUEUED"}})));
        assert!(!matches(p, json!({"source": "aws.connect"})));
    }

    #[test]
    fn numbers_compare_by_value_and_arrays_match_any_element() {
        assert!(matches(json!({"n": [5]}), json!({"n": 5.0})));
        assert!(matches(json!({"tags": ["vip"]}), json!({"tags": ["new", "vip"]})));
        assert!(matches(json!({"items": {"kind": ["a"]}}), json!({"items": [{"kind": "b"}, {"kind": "a"}]})));
    }

    #[test]
    fn prefix_suffix_ignore_case_wildcard() {
        assert!(matches(json!({"s": [{"prefix": "com.example"}]}), json!({"s": "com.example.orders"})));
        assert!(matches(json!({"s": [{"suffix": ".orders"}]}), json!({"s": "com.example.orders"})));
        assert!(matches(json!({"s": [{"equals-ignore-case": "voice"}]}), json!({"s": "VOICE"})));
        assert!(matches(json!({"s": [{"wildcard": "arn:*:contact/*"}]}), json!({"s": "arn:aws:connect:x:contact/1"})));
        assert!(!matches(json!({"s": [{"wildcard": "a*b*c"}]}), json!({"s": "acb"})));
        assert!(!matches(json!({"s": [{"prefix": "x"}]}), json!({"s": 1})));
    }

    #[test]
    fn anything_but_never_matches_a_missing_field() {
        let p = json!({"eventType": [{"anything-but": ["QUEUED", "INITIATED"]}]});
        assert!(matches(p.clone(), json!({"eventType": "DISCONNECTED"})));
        assert!(!matches(p.clone(), json!({"eventType": "QUEUED"})));
        assert!(!matches(p, json!({})));
        assert!(matches(json!({"s": [{"anything-but": {"prefix": "aws."}}]}), json!({"s": "com.x"})));
        assert!(matches(json!({"s": [{"anything-but": "x"}]}), json!({"s": "y"})));
    }

    #[test]
    fn exists_true_and_false() {
        let absent = json!({"detail": {"agentInfo": [{"exists": false}]}});
        assert!(matches(absent.clone(), json!({"detail": {"queueInfo": {}}})));
        assert!(!matches(absent.clone(), json!({"detail": {"agentInfo": {"id": "a"}}})));
        // The whole parent missing also means the child is absent.
        assert!(matches(absent, json!({})));
        assert!(matches(json!({"a": [{"exists": true}]}), json!({"a": null})));
    }

    #[test]
    fn numeric_ranges() {
        let p = json!({"total": [{"numeric": [">", 100, "<=", 500]}]});
        assert!(matches(p.clone(), json!({"total": 100.5})));
        assert!(!matches(p.clone(), json!({"total": 100})));
        assert!(!matches(p, json!({"total": "200"})));
        assert!(matches(json!({"n": [{"numeric": [">=", 0]}]}), json!({"n": 0})));
    }

    #[test]
    fn or_alternatives() {
        let p = json!({"source": ["x"], "$or": [{"a": ["1"]}, {"b": ["2"]}]});
        assert!(matches(p.clone(), json!({"source": "x", "b": "2"})));
        assert!(!matches(p, json!({"source": "x", "a": "2"})));
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let errors = Pattern::compile(&json!({
            "source": "aws.connect",
            "detail": {"eventType": [], "n": [{"numeric": [">"]}], "x": [{"bogus": 1}]},
        }))
        .unwrap_err();
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["match.detail.eventType", "match.detail.n[0]", "match.detail.x[0]", "match.source"]);
    }
}
