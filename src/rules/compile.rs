//! Compiling a rules file into a `RuleSet`: parsing, the checks each rule must pass, and every
//! problem reported with its rule and place, so that one start-up lists them all. Templates are
//! compiled here for rules files (a syntax error fails the load), on first use for the shipped
//! rules.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use minijinja::Environment;
use serde::Deserialize;
use serde_json::Value;

use super::at::At;
use super::model::{Action, CaseSpec, CreateCase, IfMissing, ItemMode, KeepOne, LinkTarget, Lookup, MAX_SLA_MINUTES, Rule, RuleSet, Tag};
use super::pattern::Pattern;
use super::schedule;
use super::spec::{ActionSpec, CaseSpecFile, DocumentSpec, LookupSpec, RuleSpec};
use super::value::{self, CompiledValue, TemplateCheck, ValueSpec};
use crate::identity::validate_identity;

/// The rules shipped with the function, used when `RULES_FILE` is not set.
pub const DEFAULT_RULES: &str = include_str!("../../rules/default.yaml");

/// The same rules as JSON, converted at build time (`build.rs`): faster to parse at cold start.
const DEFAULT_RULES_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/default_rules.json"));

/// Their version, `content_version(DEFAULT_RULES)`, computed at build time (a test compares).
const DEFAULT_RULES_VERSION: &str = include_str!(concat!(env!("OUT_DIR"), "/default_rules_version.txt"));

/// One problem in a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub rule: String,
    pub path: String,
    pub reason: String,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule `{}`, at `{}`: {}", self.rule, self.path, self.reason)
    }
}

/// Every problem found in a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError {
    pub source: String,
    pub problems: Vec<RuleProblem>,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the rules in {} are invalid ({} problems):", self.source, self.problems.len())?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RulesError {}
impl RuleSet {
    /// Parses and validates a YAML rules file; `source` names it in errors.
    pub fn from_yaml(text: &str, source: &str) -> Result<RuleSet, RulesError> {
        let document: Value = serde_norway::from_str(text).map_err(|e| RulesError {
            source: source.into(),
            problems: vec![RuleProblem { rule: "(file)".into(), path: "(top)".into(), reason: format!("not valid YAML: {e}") }],
        })?;
        RuleSet::from_document(&document, source).map(|rules| rules.with_version(content_version(text)))
    }

    /// Validates a rules document already parsed into JSON values.
    pub fn from_document(document: &Value, source: &str) -> Result<RuleSet, RulesError> {
        let fail = |path: &str, reason: String| RulesError {
            source: source.into(),
            problems: vec![RuleProblem { rule: "(file)".into(), path: path.into(), reason }],
        };
        let Some(Value::Array(entries)) = document.get("rules") else {
            return Err(fail("rules", "the file must have a top-level `rules:` list".into()));
        };
        if let Some(extra) = document.as_object().and_then(|o| o.keys().find(|k| *k != "rules")) {
            return Err(fail("(top)", format!("unknown top-level key `{extra}`; the file has only `rules:`")));
        }

        let specs = entries.iter().enumerate().map(|(index, entry)| {
            // A rule without a usable name is named by its position, so that its problems can be found.
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .filter(|name| !name.trim().is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("#{}", index + 1));
            // The plain deserializer is fast; the path-tracking one runs only to explain an error.
            let spec = RuleSpec::deserialize(entry).map_err(|plain| match serde_path_to_error::deserialize::<_, RuleSpec>(entry) {
                Err(e) => {
                    let path = e.path().to_string();
                    (if path == "." { "(rule)".to_owned() } else { path }, e.into_inner().to_string())
                }
                Ok(_) => ("(rule)".to_owned(), plain.to_string()),
            });
            (name, spec)
        });
        // Templates compiled at load, so that a rules file with a broken one fails the start.
        let version = content_version(&document.to_string());
        compile_all(specs, source, OnceLock::from(value::template_environment())).map(|rules| rules.with_version(version))
    }

    /// The JSON Schema of a rules file, generated from the types the loader reads it into.
    pub fn schema() -> Value {
        let mut schema = schemars::generate::SchemaSettings::draft07().into_generator().into_root_schema_for::<DocumentSpec>();
        schema.insert("title".into(), "cases-automation rules".into());
        schema.to_value()
    }

    /// The shipped default rules.
    pub fn default_rules() -> RuleSet {
        // Straight from the JSON text to the rules: building and dropping a JSON value tree of the
        // whole file first was a third of the cold start. The template environment is built, and
        // each template compiled, on first use, like the SDK clients: an instance may never need
        // them. (They are valid, templates included: a test loads them as a rules file.)
        let document: DocumentSpec = serde_json::from_str(DEFAULT_RULES_JSON).expect("build.rs writes the default rules as JSON");
        let specs = document.rules.into_iter().map(|spec| (spec.name.clone(), Ok(spec)));
        let rules = compile_all(specs, "the default rules", OnceLock::new()).expect("the shipped default rules are valid");
        rules.with_version(DEFAULT_RULES_VERSION)
    }
}

/// Compiles every rule, collecting every problem of every rule. Templates are compiled now when
/// `templates` already holds an environment, else on first render.
fn compile_all(
    specs: impl Iterator<Item = (String, Result<RuleSpec, (String, String)>)>,
    source: &str,
    templates: OnceLock<Environment<'static>>,
) -> Result<RuleSet, RulesError> {
    let mut problems = Vec::new();
    let check = match templates.get() {
        Some(env) => TemplateCheck::Now(env),
        None => TemplateCheck::OnFirstUse,
    };
    let mut rules = Vec::new();
    let mut names = HashSet::new();
    for (name, spec) in specs {
        let mut problem = |path: &str, reason: String| problems.push(RuleProblem { rule: name.clone(), path: path.into(), reason });
        if !names.insert(name.clone()) {
            problem("name", "another rule has the same name; names must be unique (they are part of the idempotency token)".into());
        }
        let spec = match spec {
            Ok(spec) => spec,
            Err((path, reason)) => {
                problem(&path, reason);
                continue;
            }
        };
        if let Some(rule) = compile_rule(spec, &check, &mut problem) {
            rules.push(rule);
        }
    }
    if problems.is_empty() {
        Ok(RuleSet { rules, version: String::new(), templates })
    } else {
        Err(RulesError { source: source.into(), problems })
    }
}

/// The first 12 hex digits of the SHA-256 of a rules file's text: the same file, the same version.
pub fn content_version(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// The `keep-one` of a comment or custom action, its key compiled.
fn keep_one(
    mode: ItemMode,
    key: Option<&ValueSpec>,
    at: At,
    value: &mut dyn FnMut(At, &ValueSpec) -> Option<CompiledValue>,
) -> Option<KeepOne> {
    (mode == ItemMode::KeepOne).then(|| KeepOne { key: key.and_then(|k| value(at, k)) })
}

fn compile_rule(spec: RuleSpec, check: &TemplateCheck, problem: &mut impl FnMut(&str, String)) -> Option<Rule> {
    let name = spec.name;
    if name.trim().is_empty() {
        problem("name", "a rule needs a non-empty name".into());
    }
    let (pattern, schedule, case_spec) = match (&spec.pattern, &spec.every) {
        (Some(pattern), None) => {
            let pattern = match Pattern::compile(pattern) {
                Ok(p) => p,
                Err(errors) => {
                    for e in errors {
                        problem(&e.path, e.reason);
                    }
                    Pattern::any()
                }
            };
            if spec.select.is_some() {
                problem("select", "`select` is for scheduled rules (with `every`); a rule with `match` finds its case with `case`".into());
            }
            let Some(case) = spec.case else {
                problem("case", "say how to find the case (`find`), how to create it (`create`), or both".into());
                return None;
            };
            (pattern, None, case)
        }
        (None, Some(every)) => {
            if spec.contact.is_some() {
                problem("contact", "a scheduled rule acts on the cases it selects, which name no contact".into());
            }
            if spec.case.is_some() {
                problem("case", "a scheduled rule acts on the cases it selects (`select`), not on a `case`".into());
            }
            let schedule = schedule::compile(every, spec.select.as_ref(), check, problem)?;
            // Each selected case comes back as a work item naming it.
            let case = CaseSpecFile {
                find: vec![LookupSpec::Id(ValueSpec::Scalar(Value::String("$.detail.caseId".into())))],
                create: None,
                if_missing: Some(IfMissing::Skip),
            };
            (schedule::work_item_pattern(&name), Some(schedule), case)
        }
        (Some(_), Some(_)) => {
            problem("every", "a rule has `match` (events) or `every` (a schedule), not both".into());
            return None;
        }
        (None, None) => {
            problem("match", "say which events the rule acts on (`match`), or when it runs (`every`)".into());
            return None;
        }
    };
    if let Some(identity) = &spec.performed_by
        && let Err(reason) = validate_identity(identity)
    {
        problem("performedBy", reason);
    }

    let contact = spec.contact.unwrap_or_default();
    if spec.contact.is_some() && !contact.any() {
        problem("contact", "ask for `attributes: true`, `description: true` or both (or remove `contact`)".into());
    }
    let compiled_templates = match check {
        TemplateCheck::Now(env) => Some(*env),
        TemplateCheck::OnFirstUse => None,
    };
    let mut value = |at: At, spec: &ValueSpec| -> Option<CompiledValue> {
        // A customer is looked up only for field values (search, create or update); elsewhere it
        // would be sent as its placeholder.
        if spec.is_customer() && !at.in_fields() {
            problem(&at.to_string(), "a `customer` value can only be the value of a field (in search, create or update fields)".into());
            return None;
        }
        let compiled = spec.compile(check).map_err(|reason| problem(&at.to_string(), reason)).ok()?;
        // What the value reads under `$.contact` must be what the rule asks Amazon Connect for:
        // otherwise it would find nothing, or only when another matching rule asked.
        for part in compiled.contact_reads(compiled_templates) {
            let reason = match part.as_str() {
                "attributes" if contact.attributes => continue,
                "description" if contact.description => continue,
                "attributes" => "reads the contact's attributes: add `contact: {attributes: true}` to the rule, so that they \
                                 are read from Amazon Connect (GetContactAttributes) before the values are taken"
                    .to_owned(),
                "description" => "reads the contact's description: add `contact: {description: true}` to the rule, so that it \
                                  is read from Amazon Connect (DescribeContact) before the values are taken"
                    .to_owned(),
                _ => "`$.contact` holds `attributes` and `description`, as the rule's `contact` asks for them".to_owned(),
            };
            problem(&at.to_string(), reason);
        }
        Some(compiled)
    };
    let fields = |at: At, map: &BTreeMap<String, ValueSpec>, value: &mut dyn FnMut(At, &ValueSpec) -> Option<CompiledValue>| {
        map.iter().filter_map(|(field, spec)| Some((field.clone(), value(at.key(field), spec)?))).collect::<Vec<_>>()
    };

    let lookups = |find_at: At, specs: &[LookupSpec], value: &mut dyn FnMut(At, &ValueSpec) -> Option<CompiledValue>| {
        let mut find = Vec::new();
        for (i, lookup) in specs.iter().enumerate() {
            let at = find_at.index(i);
            match lookup {
                LookupSpec::Id(v) => find.extend(value(at.key("id"), v).map(Lookup::Id)),
                LookupSpec::Contact(c) => {
                    let arn = c.as_ref().and_then(|c| c.contact_arn.as_ref()).and_then(|v| value(at.key("contact").key("contactArn"), v));
                    find.push(Lookup::Contact(arn));
                }
                LookupSpec::Search(s) => {
                    let fields = fields(at.key("search").key("fields"), &s.fields, value);
                    find.push(Lookup::Search { fields, sort: s.sort.clone() });
                }
            }
        }
        find
    };

    let (case_at, actions_at) = (At::Root("case"), At::Root("actions"));
    let find = lookups(case_at.key("find"), &case_spec.find, &mut value);
    let create = case_spec.create.as_ref().map(|c| {
        let create_at = case_at.key("create");
        let fields = fields(create_at.key("fields"), &c.fields, &mut value);
        let tags_at = create_at.key("tags");
        let tags = c
            .tags
            .iter()
            .filter_map(|(written, spec)| {
                let at = tags_at.key(written);
                let key = value(at, &ValueSpec::Scalar(Value::String(written.clone())))?;
                let value = value(at, spec)?;
                Some(Tag { written: written.clone(), key, value })
            })
            .collect();
        CreateCase { template: c.template.clone(), fields, tags }
    });

    let mut actions = Vec::new();
    for (i, action) in spec.actions.iter().enumerate() {
        let at = actions_at.index(i);
        let compiled = match action {
            ActionSpec::Update(f) => Some(Action::Update { fields: fields(at.key("update").key("fields"), &f.fields, &mut value) }),
            ActionSpec::Comment(c) => {
                let keep = keep_one(c.mode, c.key.as_ref(), at.key("comment").key("key"), &mut value);
                let comment_at = at.key("comment");
                let long_at = comment_at.key("body");
                value(if c.long { long_at } else { comment_at }, &c.body).map(|body| Action::Comment { body, keep })
            }
            ActionSpec::LinkContact(c) => Some(Action::LinkContact {
                contact_arn: c
                    .as_ref()
                    .and_then(|c| c.contact_arn.as_ref())
                    .and_then(|v| value(at.key("linkContact").key("contactArn"), v)),
            }),
            ActionSpec::AttachFile(f) => {
                value(at.key("attachFile").key("fileArn"), &f.file_arn).map(|file_arn| Action::AttachFile { file_arn })
            }
            ActionSpec::Sla(s) => {
                let sla = at.key("sla");
                let name = value(sla.key("name"), &s.name);
                let minutes = value(sla.key("minutes"), &s.minutes);
                let targets_at = sla.key("targetValues");
                let targets: Vec<_> = s.target_values.iter().enumerate().filter_map(|(j, v)| value(targets_at.index(j), v)).collect();
                match (name, minutes) {
                    (Some(name), Some(minutes)) => Some(Action::Sla { name, field: s.field.clone(), target_values: targets, minutes }),
                    _ => None,
                }
            }
            ActionSpec::Custom(c) => {
                let keep = keep_one(c.mode, c.key.as_ref(), at.key("custom").key("key"), &mut value);
                Some(Action::Custom { fields: fields(at.key("custom").key("fields"), &c.fields, &mut value), keep })
            }
            ActionSpec::LinkCase(l) => {
                let link = at.key("linkCase");
                match &l.case_id {
                    Some(id) => value(link.key("caseId"), id).map(|id| Action::LinkCase { target: LinkTarget::Id(id) }),
                    None => {
                        let lookups = lookups(link.key("find"), &l.find, &mut value);
                        let if_missing = l.if_missing.unwrap_or(IfMissing::Skip);
                        Some(Action::LinkCase { target: LinkTarget::Find { lookups, if_missing } })
                    }
                }
            }
        };
        actions.extend(compiled);
    }

    // Checks that need the whole rule.
    for (i, action) in spec.actions.iter().enumerate() {
        let (kind, mode, key) = match action {
            ActionSpec::Comment(c) => ("comment", c.mode, &c.key),
            ActionSpec::Custom(c) => ("custom", c.mode, &c.key),
            _ => continue,
        };
        if mode == ItemMode::Add && key.is_some() {
            problem(
                &format!("actions[{i}].{kind}.key"),
                "a key names the item of `mode: keep-one`; add that mode or remove the key".into(),
            );
        }
    }
    if find.is_empty() && create.is_none() {
        problem("case", "say how to find the case (`find`), how to create it (`create`), or both".into());
    }
    if let Some(create) = &case_spec.create {
        if create.template.trim().is_empty() {
            problem("case.create.template", "name the template (by name or id)".into());
        }
        for required in ["title", "customer_id"] {
            if !create.fields.contains_key(required) {
                problem("case.create.fields", format!("CreateCase requires the `{required}` field"));
            }
        }
        if create.tags.len() > crate::cases::tags::MAX_TAGS {
            problem("case.create.tags", format!("a case takes at most {} tags", crate::cases::tags::MAX_TAGS));
        }
        // Literal keys and values are checked now; the others when an event is planned.
        for (key, tag) in &create.tags {
            let at = format!("case.create.tags.{key}");
            if !key.starts_with('$')
                && !key.contains("{{")
                && !key.contains("{%")
                && let Err(reason) = crate::cases::tags::check_key(key)
            {
                problem(&at, reason);
            }
            if let ValueSpec::Scalar(literal @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) = tag {
                let text = match literal {
                    Value::String(s) if s.starts_with('$') || s.contains("{{") || s.contains("{%") => continue,
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if let Err(reason) = crate::cases::tags::check_value(&text) {
                    problem(&at, reason);
                }
            }
        }
    }
    if case_spec.if_missing.is_some() && create.is_some() {
        problem("case.ifMissing", "has no effect when the rule creates missing cases; remove it or `create`".into());
    }
    for (i, action) in spec.actions.iter().enumerate() {
        match action {
            ActionSpec::Update(f) if f.fields.is_empty() => {
                problem(&format!("actions[{i}].update.fields"), "list at least one field".into())
            }
            ActionSpec::Update(f) if f.fields.len() > 220 => {
                problem(&format!("actions[{i}].update.fields"), "UpdateCase takes at most 220 fields".into())
            }
            ActionSpec::Custom(c) if c.fields.is_empty() || c.fields.len() > 50 => {
                problem(&format!("actions[{i}].custom.fields"), "a custom item has 1 to 50 fields".into())
            }
            ActionSpec::LinkCase(l) if l.case_id.is_some() != l.find.is_empty() => problem(
                &format!("actions[{i}].linkCase"),
                "give the case to link: `caseId` (from the event) or `find` (lookups, like case.find), not both".into(),
            ),
            ActionSpec::LinkCase(l) if l.case_id.is_some() && l.if_missing.is_some() => {
                problem(&format!("actions[{i}].linkCase.ifMissing"), "applies to `find` only".into())
            }
            ActionSpec::Sla(s) => {
                if s.target_values.len() > 1 {
                    problem(&format!("actions[{i}].sla.targetValues"), "an SLA takes exactly one target value".into());
                }
                if s.field.is_some() == s.target_values.is_empty() {
                    problem(&format!("actions[{i}].sla"), "give `field` and `targetValues` together, or neither".into());
                }
                if let ValueSpec::Scalar(Value::Number(n)) = &s.minutes
                    && !n.as_i64().is_some_and(|m| (1..=MAX_SLA_MINUTES).contains(&m))
                {
                    problem(&format!("actions[{i}].sla.minutes"), format!("must be a whole number of minutes from 1 to {MAX_SLA_MINUTES}"));
                }
            }
            _ => {}
        }
    }

    Some(Rule {
        name,
        pattern,
        schedule,
        performed_by: spec.performed_by,
        case: CaseSpec { find, create, if_missing: case_spec.if_missing.unwrap_or_default() },
        actions,
        contact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::ContactData;

    #[test]
    fn the_default_rules_are_valid_and_the_build_time_json_matches_the_yaml() {
        let rules = RuleSet::default_rules();
        assert!(rules.rules.len() >= 6, "{rules:?}");
        let yaml: Value = serde_norway::from_str(DEFAULT_RULES).unwrap();
        assert_eq!(yaml, serde_json::from_str::<Value>(DEFAULT_RULES_JSON).unwrap());
        // Loaded as a rules file, their templates are compiled at load: this is what lets the
        // shipped rules compile theirs on first use.
        let checked = RuleSet::from_yaml(DEFAULT_RULES, "rules/default.yaml").expect("every default template compiles");
        assert!(checked.templates().templates().count() >= 5, "the default rules' templates were compiled");
        assert!(rules.templates.get().is_none(), "the shipped rules build their template environment on first use");
        assert_eq!(rules.templates().templates().count(), 0, "and compile each template on its first use");
    }

    #[test]
    fn the_version_is_the_hash_of_the_text() {
        let default = RuleSet::default_rules();
        assert_eq!(default.version, content_version(DEFAULT_RULES), "the build-time version is the hash of the text");
        assert_eq!(default.version, RuleSet::from_yaml(DEFAULT_RULES, "rules/default.yaml").unwrap().version, "same text, same version");
        let edited = format!("{DEFAULT_RULES}\n# a comment\n");
        assert_ne!(RuleSet::from_yaml(&edited, "edited").unwrap().version, default.version, "another text, another version");
    }

    #[test]
    fn every_problem_is_listed_with_rule_and_path() {
        let yaml = r#"
rules:
  - name: a
    match: { source: "aws.connect" }
    case: { find: [ { id: "$.detail..[" } ] }
    actions:
      - comment: "{{ unclosed"
  - name: a
    match: { source: ["x"] }
    performedBy: "ends with space "
    case: { create: { template: "", fields: { title: "t" } } }
  - name: c
    match: { source: ["x"] }
    case: {}
    actions:
      - frobnicate: {}
"#;
        let err = RuleSet::from_yaml(yaml, "test.yaml").unwrap_err();
        let found: Vec<(String, String)> = err.problems.iter().map(|p| (p.rule.clone(), p.path.clone())).collect();
        for expected in [
            ("a", "match.source"),
            ("a", "case.find[0].id"),
            ("a", "actions[0].comment"),
            ("a", "name"),
            ("a", "performedBy"),
            ("a", "case.create.template"),
            ("a", "case.create.fields"),
            ("c", "actions[0]"),
        ] {
            assert!(found.iter().any(|(r, p)| r == expected.0 && p.starts_with(expected.1)), "missing {expected:?} in {found:#?}");
        }
        let text = err.to_string();
        assert!(text.contains("test.yaml") && text.contains("rule `c`"), "{text}");
    }

    #[test]
    fn customer_values_are_only_for_fields() {
        let yaml = r#"
rules:
  - name: c
    match: { source: [x] }
    case:
      find: [ { id: { customer: { phone: $.p } } } ]
      create: { template: t, fields: { title: t, customer_id: { customer: { phone: $.p } } } }
    actions:
      - comment: { customer: { phone: $.p } }
      - sla: { name: s, minutes: 5, field: f, targetValues: [ { customer: { phone: $.p } } ] }
      - update: { fields: { customer_id: { customer: { email: $.e } } } }
"#;
        let err = RuleSet::from_yaml(yaml, "test").unwrap_err();
        let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["case.find[0].id", "actions[0].comment", "actions[1].sla.targetValues[0]"], "{err}");
    }

    #[test]
    fn literal_tags_are_checked_at_load_and_the_others_compile() {
        let yaml = r#"
rules:
  - name: t
    match: { source: [x] }
    case:
      create:
        template: t
        fields: { title: t, customer_id: $.c }
        tags:
          Department: Fraud
          "aws:owner": me
          "team#1": x
          Tier: "gold; drop"
          "{{ detail.team }}": $.detail.level
          $.detail.key: "{{ detail.value }}"
          Escalated: true
          Phone: { customer: { phone: $.p } }
"#;
        let err = RuleSet::from_yaml(yaml, "test").unwrap_err();
        let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["case.create.tags.Phone", "case.create.tags.Tier", "case.create.tags.aws:owner", "case.create.tags.team#1"],
            "{err}"
        );
        let fine =
            yaml.lines().filter(|l| !["aws:owner", "team#1", "gold;", "Phone"].iter().any(|bad| l.contains(bad))).collect::<Vec<_>>();
        let rules = RuleSet::from_yaml(&fine.join("\n"), "test").unwrap();
        assert_eq!(rules.rules[0].case.create.as_ref().unwrap().tags.len(), 4);
        let many: String = (0..51).map(|i| format!("          k{i}: v\n")).collect();
        let too_many = format!(
            "rules:\n  - name: t\n    match: {{ source: [x] }}\n    case:\n      create:\n        template: t\n        fields: {{ title: t, customer_id: $.c }}\n        tags:\n{many}"
        );
        let err = RuleSet::from_yaml(&too_many, "test").unwrap_err();
        assert!(err.to_string().contains("at most 50 tags"), "{err}");
    }

    #[test]
    fn contact_data_is_read_only_by_the_rules_that_ask_for_it() {
        let yaml = r#"
rules:
  - name: asks
    match: { source: [aws.connect] }
    contact: { attributes: true }
    case: { find: [ { contact: {} } ] }
    actions:
      - update: { fields: { Order number: $.contact.attributes.orderNumber } }
      - comment: "Order {{ contact.attributes.orderNumber }}"
  - name: forgets
    match: { source: [aws.connect] }
    case: { find: [ { contact: {} } ] }
    actions:
      - update: { fields: { Order number: $.contact.attributes.orderNumber } }
      - comment: "Queue {{ contact.description.QueueInfo.Id }}"
      - update: { fields: { title: "$['contact']['description'].Channel" } }
      - update: { fields: { customer_id: { customer: { phone: $.contact.description.CustomerEndpoint.Address } } } }
  - name: empty
    match: { source: [aws.connect] }
    contact: {}
    case: { find: [ { contact: {} } ] }
  - name: other-part
    match: { source: [aws.connect] }
    contact: { description: true }
    case: { find: [ { contact: {} } ] }
    actions: [ { comment: $.contact.tags.x } ]
  - name: scheduled
    every: rate(1 day)
    contact: { attributes: true }
    select: { cases: { equalTo: { status: open } } }
    actions: [ { comment: x } ]
"#;
        let err = RuleSet::from_yaml(yaml, "test").unwrap_err();
        let found: Vec<(&str, &str)> = err.problems.iter().map(|p| (p.rule.as_str(), p.path.as_str())).collect();
        assert_eq!(
            found,
            [
                ("forgets", "actions[0].update.fields.Order number"),
                ("forgets", "actions[1].comment"),
                ("forgets", "actions[2].update.fields.title"),
                ("forgets", "actions[3].update.fields.customer_id"),
                ("empty", "contact"),
                ("other-part", "actions[0].comment"),
                ("scheduled", "contact"),
            ],
            "{err}"
        );
        assert!(err.problems[0].reason.contains("contact: {attributes: true}"), "{err}");
        assert!(err.problems[1].reason.contains("contact: {description: true}"), "{err}");

        let fine: String = yaml.split("  - name: forgets").next().unwrap().into();
        let rules = RuleSet::from_yaml(&fine, "test").unwrap();
        assert_eq!(rules.rules[0].contact, ContactData { attributes: true, description: false });
    }

    #[test]
    fn yaml_syntax_errors_name_the_place() {
        let err = RuleSet::from_yaml("rules: [ {", "bad.yaml").unwrap_err();
        assert!(err.to_string().contains("line"), "{err}");
        let err = RuleSet::from_yaml("rulez: []", "bad.yaml").unwrap_err();
        assert!(err.to_string().contains("`rules:`"), "{err}");
    }

    #[test]
    fn scheduled_rules_select_cases_and_act_on_their_work_items() {
        let yaml = r#"
rules:
  - name: auto-close
    every: rate(1 day)
    select:
      cases:
        andAll:
          - equalTo: { status: open }
          - lessThan: { last_updated_datetime: "now - {{ sweep.parameters.idleDays | default(14) }}d" }
          - not: { contains: { title: test } }
          - orAll: [ { tag: { Department: Fraud } }, { greaterThan: { Order total: 100 } } ]
    actions:
      - update: { fields: { status: closed } }
  - name: overdue
    every: rate(1 hour)
    select: { slas: { status: Overdue, name: Call back within 4 hours } }
    actions:
      - comment: "The SLA is overdue."
"#;
        let rules = RuleSet::from_yaml(yaml, "sweeps.yaml").unwrap();
        let close = &rules.rules[0];
        assert!(matches!(&close.schedule, Some(schedule::Schedule { select: schedule::Selection::Cases(_), .. })));
        assert!(matches!(close.case.find[..], [Lookup::Id(_)]), "the work item names the case");
        assert_eq!(close.case.if_missing, IfMissing::Skip, "a case deleted since the selection is skipped");
        let item =
            schedule::Sweep::from_payload(&serde_json::json!({"sweep": {"rule": "auto-close", "scheduledTime": "2026-12-15T02:00:00Z"}}))
                .unwrap()
                .work_item("c-1", "k", "123456789012", "us-east-1", serde_json::json!({}));
        assert_eq!(rules.matching(&item).map(|r| r.name.as_str()).collect::<Vec<_>>(), ["auto-close"]);
        assert!(matches!(&rules.rules[1].schedule, Some(schedule::Schedule { select: schedule::Selection::Slas { .. }, .. })));
    }

    #[test]
    fn scheduled_rules_are_checked_like_the_others() {
        let yaml = r#"
rules:
  - name: both
    match: { source: [x] }
    every: rate(1 day)
    select: { slas: {} }
  - name: neither
    actions: []
  - name: select-with-match
    match: { source: [x] }
    select: { slas: {} }
    case: { find: [ { id: $.a } ] }
  - name: bad-every
    every: daily
    select: { slas: { status: Overdue } }
  - name: no-select
    every: rate(1 day)
  - name: two-fields
    every: rate(1 day)
    select: { cases: { equalTo: { status: open, title: x } } }
  - name: with-case
    every: rate(1 day)
    select: { cases: { equalTo: { status: open } } }
    case: { find: [ { id: $.a } ] }
"#;
        let err = RuleSet::from_yaml(yaml, "sweeps.yaml").unwrap_err();
        let found: Vec<(&str, &str)> = err.problems.iter().map(|p| (p.rule.as_str(), p.path.as_str())).collect();
        for expected in [
            ("both", "every"),
            ("neither", "match"),
            ("select-with-match", "select"),
            ("bad-every", "every"),
            ("no-select", "select"),
            ("two-fields", "select.cases.equalTo"),
            ("with-case", "case"),
        ] {
            assert!(found.contains(&expected), "missing {expected:?} in {found:#?}");
        }
    }
}
