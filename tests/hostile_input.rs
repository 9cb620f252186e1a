//! Hostile and malformed input (SPEC §4 "Bad input"): any JSON, of any size or shape, gets a clear
//! error or is handled; never a panic, never unbounded work, never a write when the input is refused.
//!
//! The property tests run `PROPTEST_CASES` cases each (64 by default, so `make test` stays fast;
//! `make fuzz` runs them with many more). A failing case is shrunk, printed, and saved in
//! `tests/hostile_input.proptest-regressions`, which later runs replay first.

mod support;

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use cases_automation::cases::catalog::Offline;
use cases_automation::cases::model::RelatedItemContent;
use cases_automation::error::Error;
use cases_automation::handler::Invocation;
use cases_automation::inbound::{Event, Inbound, classify};
use cases_automation::plan::{PlanInput, PlannedAction, plan_rule};
use cases_automation::rules::RuleSet;
use cases_automation::rules::pattern::Pattern;
use cases_automation::rules::value::{Limit, TemplateCheck, TemplateContext, ValueSpec, template_environment};
use cases_emulator::{Emulator, Seed};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{Value, json};
use support::cases_service::{self, LocalApp};
use support::lambda::{sample, samples, spawn_function, sqs_batch, stop_and_collect_logs};
use support::runtime_api::{Answer, RuntimeApi};

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

fn proptest_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// Keys the parsers, the default rules and the pattern language look at, so that generated
/// payloads reach deep into the code instead of being refused at the first check.
const KEYS: &[&str] = &[
    "Name",
    "Details",
    "ContactData",
    "ContactId",
    "InstanceARN",
    "Parameters",
    "Channel",
    "Records",
    "eventSource",
    "messageId",
    "body",
    "id",
    "source",
    "detail-type",
    "detail",
    "performedBy",
    "user",
    "customEntity",
    "userArn",
    "instanceArn",
    "contactId",
    "eventType",
    "agentInfo",
    "connectedToAgentTimestamp",
    "queueInfo",
    "enqueueTimestamp",
    "tags",
    "customerProfileArn",
    "action",
    "caseId",
    "note",
    "case",
    "fields",
    "status",
    "value",
    "stringValue",
    "changedFieldIds",
    "orderNumber",
    "reason",
    "newPromisedBy",
    "priority",
    "orderTotal",
    "customerEndpoint",
    "address",
    "channel",
    "initiationMethod",
    "$or",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "numeric",
    "wildcard",
    "equals-ignore-case",
];

/// Values that steer the classifier and the default rules, and values known to be awkward.
const STRINGS: &[&str] = &[
    "ContactFlowEvent",
    "aws:sqs",
    "aws.connect",
    "aws.cases",
    "com.example.orders",
    "Amazon Connect Contact Event",
    "Amazon Connect Cases Change",
    "Order Delayed",
    "Order Priority Changed",
    "open-case",
    "add-note",
    "DISCONNECTED",
    "CASE.UPDATED",
    "VOICE",
    "INBOUND",
    "closed",
    "open",
    "cases-automation",
    "arn:aws:profile:us-east-1:123456789012:domains/d/profiles/p",
    "arn:aws:connect:us-east-1:123456789012:instance/i",
    "2026-12-03T17:00:00Z",
    "",
    " ",
    "{{",
    "}}",
    "{% if %}",
    "$",
    "$..*",
    "*",
    "**",
    "a*b*",
    "\u{0}",
    "\u{feff}",
    "é",
    "𝄞",
    "\\ud800",
    "\"",
    ">",
    "<=",
    "=",
];

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(STRINGS).prop_map(str::to_owned),
        3 => "\\PC{0,16}",
        1 => ".{0,8}",
        1 => (1usize..20_000).prop_map(|n| "x".repeat(n)),
    ]
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![4 => proptest::sample::select(KEYS).prop_map(str::to_owned), 1 => "\\PC{0,8}"]
}

const FLOATS: &[f64] = &[0.5, -1.0, 1e308, -1e-308, 129_600.0, 240.0];

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        1 => proptest::sample::select(FLOATS).prop_map(|f| json!(f)),
        6 => arb_string().prop_map(Value::String),
    ]
}

/// Any JSON value, biased towards the keys and values the function looks at.
fn arb_json() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(arb_key(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every node of `value` except the root, as JSON pointers.
fn pointers(value: &Value) -> Vec<String> {
    fn walk(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let child = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                    out.push(child.clone());
                    walk(v, child, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let child = format!("{at}/{i}");
                    out.push(child.clone());
                    walk(v, child, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

/// Removes the node at `pointer` (a key of an object or an element of a list).
fn remove(value: &mut Value, pointer: &str) {
    let (parent, last) = pointer.rsplit_once('/').expect("not the root");
    let key = last.replace("~1", "/").replace("~0", "~");
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
    Insert(usize, String, Value),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), arb_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), arb_key(), arb_json()).prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
    ]
}

fn apply(mut value: Value, mutations: &[Mutation]) -> Value {
    for mutation in mutations {
        let nodes = pointers(&value);
        if nodes.is_empty() {
            break;
        }
        match mutation {
            Mutation::Replace(i, new) => *value.pointer_mut(&nodes[i % nodes.len()]).expect("exists") = new.clone(),
            Mutation::Remove(i) => remove(&mut value, &nodes[i % nodes.len()]),
            Mutation::Insert(i, key, new) => {
                if let Some(Value::Object(map)) = value.pointer_mut(&nodes[i % nodes.len()]) {
                    map.insert(key.clone(), new.clone());
                }
            }
        }
    }
    value
}

/// The samples, plus each EventBridge event inside `sqs-batch.json` on its own, so that
/// mutations reach the SQS bodies too.
static BASES: LazyLock<Vec<(String, Value)>> = LazyLock::new(|| {
    let mut bases = samples();
    let batch = sample("sqs-batch.json");
    for (i, record) in batch["Records"].as_array().unwrap().iter().enumerate() {
        if let Ok(event) = serde_json::from_str::<Value>(record["body"].as_str().unwrap()) {
            bases.push((format!("sqs-batch.json record {i}"), event));
        }
    }
    bases
});

/// A sample with a few mutations; sometimes the mutated event travels as an SQS record body.
fn arb_mutated_sample() -> impl Strategy<Value = Value> {
    (any::<usize>(), proptest::collection::vec(arb_mutation(), 1..5), any::<bool>()).prop_map(|(i, mutations, as_sqs)| {
        let (_, base) = &BASES[i % BASES.len()];
        let mutated = apply(base.clone(), &mutations);
        if as_sqs && mutated.get("detail").is_some() { sqs_batch(vec![mutated.to_string(), "{}".into()]) } else { mutated }
    })
}

// ---------------------------------------------------------------------------------------------
// The pipeline against the local Cases service
// ---------------------------------------------------------------------------------------------

/// Drives the synchronous tests and the local services they start (two workers, so that the
/// service answers whichever test thread is waiting on it).
static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap());

/// The function with the default rules, against its own local Cases service.
struct Local {
    service: Emulator,
    app: LocalApp,
}

impl Local {
    /// Requests that write, sent so far (failed ones included).
    fn writes(&self) -> u64 {
        ["CreateCase", "UpdateCase", "CreateRelatedItem"].iter().map(|op| self.service.call_count(op)).sum()
    }
}

/// Rules whose values read every part of `$.contact`, as paths and templates, for every event.
static CONTACT_RULES: LazyLock<RuleSet> = LazyLock::new(|| {
    RuleSet::from_yaml(
        r#"
rules:
  - name: reads-the-contact
    match: { id: [{ exists: true }] }
    contact: { attributes: true, description: true }
    case:
      find: [ { contact: {} } ]
      create:
        template: General inquiry
        fields:
          title: "{{ contact.attributes.orderNumber }} {{ contact.description.Channel }} {{ contact.description | tojson }}"
          customer_id: { path: $.contact.attributes.customerProfileArn, default: x }
          Order number: { path: $.contact.attributes.orderNumber, default: null }
          Order total: { path: $.contact.description.QueuePriority, type: number, default: null }
    actions:
      - comment: "{% for k, v in contact.attributes|items %}{{ k }}={{ v }} {% endfor %}"
"#,
        "contact rules",
    )
    .expect("the contact rules load")
});

/// A case of the demo seed (an "Order issue" the samples name).
const ORDER_CASE: &str = "068c193b-f65c-4902-9f77-7337923fe54e";

/// The demo domain with its cases (the samples name them).
fn local() -> Local {
    RUNTIME.block_on(async {
        let service = cases_service::start_with(Seed::demo()).await;
        let app = cases_service::app(&service);
        Local { service, app }
    })
}

/// Codes of errors found before anything is sent: such an event must have written nothing.
const REFUSED_BEFORE_ANY_WRITE: &[&str] = &[
    "Permanent.InvalidEvent",
    "Permanent.RuleDoesNotFitEvent",
    "Permanent.NoRuleMatched",
    "Permanent.CustomerNotResolved",
    "Permanent.ContactNotFound",
];

/// How late past its deadline an answer may come on a loaded machine: the handler itself stops
/// 250 ms before the deadline, and scheduling may delay that.
const SCHEDULING_MARGIN: Duration = Duration::from_secs(2);

/// Handles `payload` and checks what every answer must satisfy: by the deadline, and a refused
/// event wrote nothing.
fn handle_checked(local: &Local, payload: Value, what: &str) -> Result<Value, Error> {
    let writes_before = local.writes();
    let invocation = Invocation::with_budget(Duration::from_secs(20));
    let result = RUNTIME.block_on(local.app.handle(payload, &invocation));
    let late = Instant::now().saturating_duration_since(invocation.deadline);
    assert!(late <= SCHEDULING_MARGIN, "{what}: answered {late:?} after the deadline");
    if let Err(error) = &result {
        assert!(!error.message.is_empty(), "{what}: an error says what is wrong");
        if REFUSED_BEFORE_ANY_WRITE.contains(&error.error_type().as_str()) {
            assert_eq!(local.writes(), writes_before, "{what}: {error} yet something was written");
        }
        // What the service would refuse is refused before the first write, by the checks.
        assert_ne!(error.error_type(), "Permanent.ValidationException", "{what}: the service refused what the checks let through: {error}");
    }
    result
}

#[test]
fn a_date_that_is_not_a_date_is_refused_before_the_comment_before_it_is_written() {
    let local = local();
    let mut event = sample("custom-order-delayed.json");
    event["detail"]["newPromisedBy"] = json!("next week, probably");
    let error = handle_checked(&local, event, "a DateTime value that is not a date").unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent");
    assert!(error.message.contains("actions[1].update.fields.Promised by") && error.message.contains("RFC 3339"), "{error}");
    assert!(!error.message.contains("probably"), "{error}");
    assert_eq!(local.writes(), 0, "the comment of actions[0] was not written");
}

/// Every event the payload holds, classified (bad SQS records dropped).
fn events_of(payload: Value) -> Vec<Event> {
    match classify(payload) {
        Ok(Inbound::ContactFlow(e) | Inbound::EventBridge(e)) => vec![e],
        Ok(Inbound::SqsBatch(records)) => records.into_iter().filter_map(|r| r.body.ok()).collect(),
        Err(_) => vec![],
    }
}

/// Matches and plans every rule of `rules` for the event, checking the invariants of a plan.
fn plan_all(rules: &RuleSet, event: &Event) {
    let context = TemplateContext::new(&event.raw);
    let input = PlanInput { rules, event, context: &context, identity: "cases-automation", resolve: &Offline };
    for rule in rules.matching(&event.raw) {
        let Ok(plan) = plan_rule(rule, &input) else { continue };
        if let Some(create) = &plan.create {
            assert_eq!(create.client_token.len(), 64, "clientToken within the API's limit");
        }
        for action in &plan.actions {
            if let PlannedAction::Relate(item) = action
                && let RelatedItemContent::Comment { body, .. } = &item.content
            {
                assert!((1..=15_000).contains(&body.chars().count()), "a planned comment fits the API");
            }
        }
        // The `plan` command prints this; it must serialize whatever the event held.
        serde_json::to_string(&plan.requests()).expect("plans serialize");
    }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(proptest_config())]

    /// Phone numbers, e-mail addresses and other customer identifiers of any shape: normalised or
    /// refused with a reason that does not repeat them; never a panic (libphonenumber's parser
    /// included).
    #[test]
    fn customer_identifiers_of_any_shape(
        text in prop_oneof![any::<String>(), "[+]?[0-9 ()+.-]{0,40}", "(tel:)?[+][0-9]{1,3}[ -]?[0-9]{1,14}([;,]ext=[0-9]{1,6})?"],
    ) {
        use cases_automation::rules::customer::{known_profile, normalise_email, normalise_phone, normalise_plain};
        let echoed = |reason: &str| text.trim().chars().count() >= 6 && reason.contains(text.trim());
        if let Err(reason) = normalise_phone(&text, None) {
            prop_assert!(!echoed(&reason), "{reason}");
        } else {
            let e164 = normalise_phone(&text, None).unwrap();
            prop_assert!(e164.starts_with('+') && e164[1..].chars().all(|c| c.is_ascii_digit()), "{e164}");
        }
        for reason in [normalise_email(&text).err(), normalise_plain(&text).err(), known_profile(&text).err()].into_iter().flatten() {
            prop_assert!(!echoed(&reason), "{reason}");
        }
    }

    /// Whatever Amazon Connect answers about a contact (any attributes, any description) and
    /// whatever a contact event says about its contact: the contact is named or refused with a
    /// reason that repeats no value, and every rule plans or fails without a panic.
    #[test]
    fn contact_data_of_any_shape(payload in arb_mutated_sample(), data in arb_json()) {
        for event in events_of(payload) {
            match cases_automation::contacts::ContactRef::of(&event) {
                Ok(contact) => prop_assert!(!contact.contact_id.is_empty() && contact.instance_id.chars().count() <= 100),
                Err(reason) => prop_assert!(!reason.is_empty() && reason.len() < 300, "{reason}"),
            }
            let with = cases_automation::contacts::with_contact(&event, json!({"attributes": data.clone(), "description": data.clone()}));
            plan_all(&CONTACT_RULES, &with);
        }
    }

    /// The classifier takes any JSON value: a trigger, or an error that says what was expected.
    #[test]
    fn the_classifier_takes_any_json(payload in arb_json()) {
        if let Err(error) = classify(payload) {
            prop_assert!(!error.0.is_empty());
        }
    }

    /// Contact-flow, EventBridge and SQS parsing, rule matching and planning (value extraction)
    /// with the default rules, on samples with random parts replaced, removed or added.
    #[test]
    fn mutated_samples_are_classified_matched_and_planned(payload in arb_mutated_sample()) {
        let rules = RuleSet::default_rules();
        for event in events_of(payload) {
            plan_all(&rules, &event);
        }
    }

    /// The whole handler on mutated samples: an answer before the deadline, and nothing written
    /// when the event is refused.
    #[test]
    fn mutated_samples_through_the_handler(payload in arb_mutated_sample()) {
        static LOCAL: LazyLock<Local> = LazyLock::new(local);
        let _ = handle_checked(&LOCAL, payload, "a mutated sample");
    }

    /// SQS records whose bodies are anything at all: each fails alone, none is lost.
    #[test]
    fn sqs_bodies_of_any_kind_fail_one_by_one(bodies in proptest::collection::vec(
        prop_oneof![arb_string(), arb_json().prop_map(|v| v.to_string()), arb_mutated_sample().prop_map(|v| v.to_string())], 1..6)
    ) {
        static LOCAL: LazyLock<Local> = LazyLock::new(local);
        let count = bodies.len();
        let response = handle_checked(&LOCAL, sqs_batch(bodies), "an SQS batch").expect("a batch is always answered per record");
        let failures = response["batchItemFailures"].as_array().expect("batchItemFailures");
        prop_assert!(failures.len() <= count);
        for failure in failures {
            let id = failure["itemIdentifier"].as_str().unwrap();
            prop_assert!(id.starts_with("m-"), "only records of the batch are named: {}", id);
        }
    }

    /// Event patterns: compiling any JSON gives a pattern or problems with paths; matching any
    /// event against a compiled pattern terminates.
    #[test]
    fn patterns_compile_and_match_anything(pattern in arb_json(), events in proptest::collection::vec(arb_json(), 1..4)) {
        match Pattern::compile(&pattern) {
            Ok(compiled) => {
                for event in &events {
                    let _ = compiled.matches(event);
                }
            }
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for problem in problems {
                    prop_assert!(problem.path.starts_with("match"), "{:?}", problem);
                }
            }
        }
    }

    /// `wildcard` agrees with a plain reference implementation, on any Unicode text.
    #[test]
    fn wildcard_matches_like_the_reference(pattern in "[a*é𝄞]{0,10}", text in "[aé𝄞]{0,10}") {
        let compiled = Pattern::compile(&json!({"s": [{"wildcard": pattern}]})).unwrap();
        prop_assert_eq!(compiled.matches(&json!({"s": text})), reference_wildcard(&pattern, &text));
    }

    /// Values (paths, templates, literals, mappings) compile or are refused with a reason, and
    /// extracting them from any event terminates with a value or an error.
    #[test]
    fn values_compile_and_extract_from_anything(spec in arb_value_spec(), event in arb_json()) {
        let env = template_environment();
        if let Ok(spec) = serde_json::from_value::<ValueSpec>(spec)
            && let Ok(compiled) = spec.compile(&TemplateCheck::Now(&env))
        {
            let context = TemplateContext::new(&event);
            let _ = compiled.extract(&event, &env, &context, Limit::FIELD_VALUE);
            let _ = compiled.extract_string(&event, &env, &context, Limit::COMMENT);
        }
    }

    /// The rules loader takes any text.
    #[test]
    fn the_rules_loader_takes_any_text(text in "\\PC{0,300}") {
        check_rules_text(&text);
    }

    /// The rules loader takes the default rules with random edits: every problem names a rule
    /// and a path; whatever loads can be matched and planned against every sample.
    #[test]
    fn the_rules_loader_takes_mutated_default_rules(edits in proptest::collection::vec(arb_text_edit(), 1..6)) {
        let mut text = cases_automation::rules::DEFAULT_RULES.to_owned();
        for edit in &edits {
            text = edit.apply(&text);
        }
        check_rules_text(&text);
    }

    /// Rules built from random parts, serialized as YAML.
    #[test]
    fn the_rules_loader_takes_structured_random_rules(rules in proptest::collection::vec(arb_rule(), 1..4)) {
        let text = serde_norway::to_string(&json!({ "rules": rules })).unwrap();
        check_rules_text(&text);
    }

    /// Custom items, kept items and linked cases, well formed or not, with tags on the new case:
    /// loaded or refused with their problems listed, and planned for every sample without a panic.
    #[test]
    fn the_rules_loader_takes_random_custom_kept_and_linking_actions(
        actions in proptest::collection::vec(arb_newer_action(), 1..3),
        tag in (arb_key(), arb_value_spec()),
    ) {
        let rule = json!({"name": "newer", "match": {"source": ["com.example.orders"]},
            "case": {"find": [{"id": "$.detail.caseId"}], "create": {"template": "Order issue",
                "fields": {"title": "t", "customer_id": "$.detail.customerProfileArn"}, "tags": {tag.0: tag.1}}},
            "actions": actions});
        let text = serde_norway::to_string(&json!({ "rules": [rule] })).unwrap();
        check_rules_text(&text);
    }
}

fn reference_wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // matches[i][j]: p[..i] matches t[..j]
    let mut matches = vec![vec![false; t.len() + 1]; p.len() + 1];
    matches[0][0] = true;
    for i in 1..=p.len() {
        for j in 0..=t.len() {
            matches[i][j] = if p[i - 1] == '*' {
                matches[i - 1][j] || (j > 0 && matches[i][j - 1])
            } else {
                j > 0 && matches[i - 1][j - 1] && p[i - 1] == t[j - 1]
            };
        }
    }
    matches[p.len()][t.len()]
}

const PATH_PARTS: &[&str] = &[
    ".detail",
    ".Details",
    "..*",
    "[*]",
    "[0]",
    "[-1]",
    "[0:2]",
    "['detail-type']",
    "[?@.x == 1]",
    "[?length(@) > 1]",
    ".a",
    "[",
    "..",
    "$",
];
const TEMPLATE_PARTS: &[&str] = &[
    "{{ detail.orderNumber }}",
    "{{ event['detail-type'] }}",
    "{{ detail.reason | default('none') }}",
    "{% for k in detail %}{{ k }}{% endfor %}",
    "{{ detail | tojson }}",
    "{{ 1 / 0 }}",
    "{{ detail.x | int }}",
    "{{ undefined_thing }}",
    "{{ Details.Parameters.note | upper }}",
    "{%",
    "}}",
    "text ",
];

const TYPES: &[&str] = &["string", "number", "boolean", "empty", "userArn", "colour"];

fn arb_value_spec() -> impl Strategy<Value = Value> {
    let path = proptest::collection::vec(proptest::sample::select(PATH_PARTS), 0..5).prop_map(|parts| format!("${}", parts.concat()));
    let template = proptest::collection::vec(proptest::sample::select(TEMPLATE_PARTS), 1..4).prop_map(|parts| parts.concat());
    let ty = proptest::sample::select(TYPES);
    prop_oneof![
        path.clone().prop_map(Value::String),
        template.clone().prop_map(Value::String),
        arb_leaf(),
        (path, ty.clone(), proptest::option::of(arb_leaf())).prop_map(|(p, t, d)| {
            let mut spec = json!({"path": p, "type": t});
            if let Some(d) = d {
                spec["default"] = d;
            }
            spec
        }),
        (template, ty).prop_map(|(t, ty)| json!({"template": t, "type": ty})),
        arb_json(),
    ]
}

#[derive(Debug, Clone)]
enum TextEdit {
    Delete(usize, usize),
    Insert(usize, &'static str),
    DuplicateLine(usize),
}

impl TextEdit {
    fn apply(&self, text: &str) -> String {
        let boundary = |at: usize| {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        match self {
            TextEdit::Delete(at, len) => {
                let start = boundary(*at);
                let end = boundary(start + len % 40);
                format!("{}{}", &text[..start], &text[end.max(start)..])
            }
            TextEdit::Insert(at, snippet) => {
                let at = boundary(*at);
                format!("{}{snippet}{}", &text[..at], &text[at..])
            }
            TextEdit::DuplicateLine(n) => {
                let lines: Vec<&str> = text.lines().collect();
                let n = n % lines.len().max(1);
                let mut out: Vec<&str> = lines.clone();
                if let Some(line) = lines.get(n) {
                    out.insert(n, line);
                }
                out.join("\n")
            }
        }
    }
}

const SNIPPETS: &[&str] = &[
    "{",
    "[",
    "]",
    ":",
    "- ",
    "\n  ",
    "\n    - ",
    "&anchor ",
    "*anchor",
    "!!binary ",
    "!Ref ",
    "\t",
    "{{",
    "$.",
    "~",
    "null",
    "'",
    "\"",
    "#",
    "? ",
    "<<: *anchor\n",
    "\n  - name: x\n    match: {}\n",
];

fn arb_text_edit() -> impl Strategy<Value = TextEdit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, l)| TextEdit::Delete(a, l)),
        (any::<usize>(), proptest::sample::select(SNIPPETS)).prop_map(|(a, s)| TextEdit::Insert(a, s)),
        any::<usize>().prop_map(TextEdit::DuplicateLine),
    ]
}

const NAMES: &[&str] = &["a", "b", "a", "", " "];

/// Custom items, kept comments and custom items, linked cases: well formed or random.
fn arb_newer_action() -> BoxedStrategy<Value> {
    prop_oneof![
        (arb_key(), arb_value_spec()).prop_map(|(k, v)| json!({"custom": {"fields": {k: v}}})),
        (arb_key(), arb_value_spec(), arb_value_spec())
            .prop_map(|(k, v, key)| json!({"custom": {"fields": {k: v}, "mode": "keep-one", "key": key}})),
        (arb_value_spec(), arb_leaf()).prop_map(|(body, mode)| json!({"comment": {"body": body, "mode": mode}})),
        arb_value_spec().prop_map(|v| json!({"linkCase": {"caseId": v}})),
        (arb_key(), arb_value_spec()).prop_map(|(k, v)| json!({"linkCase": {"find": [{"search": {"fields": {k: v}}}]}})),
    ]
    .boxed()
}

/// A rule whose every part is either well formed or random.
fn arb_rule() -> impl Strategy<Value = Value> {
    let name = prop_oneof![proptest::sample::select(NAMES).prop_map(Value::from), arb_leaf()];
    let pattern = prop_oneof![Just(json!({"source": ["com.example.orders"]})), Just(json!({"Name": ["ContactFlowEvent"]})), arb_json(),];
    let lookup = prop_oneof![
        arb_value_spec().prop_map(|v| json!({"id": v})),
        Just(json!({"contact": {}})),
        (arb_key(), arb_value_spec()).prop_map(|(k, v)| json!({"search": {"fields": {k: v}}})),
        arb_json(),
    ];
    let create = prop_oneof![
        (arb_value_spec(), arb_value_spec())
            .prop_map(|(t, c)| json!({"template": "General inquiry", "fields": {"title": t, "customer_id": c}})),
        (arb_value_spec(), arb_value_spec(), arb_key(), arb_value_spec())
            .prop_map(|(t, c, k, v)| json!({"template": "General inquiry", "fields": {"title": t, "customer_id": c}, "tags": {k: v}}))
            .boxed(),
        arb_json(),
    ];
    let action = prop_oneof![
        arb_value_spec().prop_map(|v| json!({"comment": v})),
        (arb_key(), arb_value_spec()).prop_map(|(k, v)| json!({"update": {"fields": {k: v}}})),
        Just(json!({"linkContact": {}})),
        arb_value_spec().prop_map(|v| json!({"attachFile": {"fileArn": v}})),
        (arb_value_spec(), arb_leaf()).prop_map(|(n, m)| json!({"sla": {"name": n, "minutes": m}})),
        arb_json(),
    ];
    (
        name,
        pattern,
        proptest::collection::vec(lookup, 0..3),
        proptest::option::of(create),
        proptest::collection::vec(action, 0..3),
        proptest::option::of(arb_leaf()),
    )
        .prop_map(|(name, pattern, find, create, actions, performed_by)| {
            let mut rule = json!({"name": name, "match": pattern, "case": {"find": find}, "actions": actions});
            if let Some(create) = create {
                rule["case"]["create"] = create;
            }
            if let Some(who) = performed_by {
                rule["performedBy"] = who;
            }
            rule
        })
}

fn check_rules_text(text: &str) {
    match RuleSet::from_yaml(text, "fuzz.yaml") {
        Ok(rules) => {
            for (_, base) in BASES.iter() {
                for event in events_of(base.clone()) {
                    plan_all(&rules, &event);
                }
            }
        }
        Err(error) => {
            assert!(!error.problems.is_empty());
            for problem in &error.problems {
                assert!(!problem.rule.is_empty() && !problem.path.is_empty() && !problem.reason.is_empty(), "{problem:?}");
            }
            assert!(error.to_string().contains("fuzz.yaml"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wrong types everywhere
// ---------------------------------------------------------------------------------------------

/// Every node of every sample replaced by a value of each JSON type (and removed): the handler
/// answers every one, before the deadline, and writes nothing when it refuses the event.
#[test]
fn every_type_at_every_place_of_every_sample() {
    let replacements =
        [json!(null), json!(true), json!(-7), json!(1.5e300), json!(""), json!("x"), json!([]), json!(["a"]), json!({}), json!({"a": 1})];
    let mut handled = 0;
    let mut refused = 0;
    for (name, base) in BASES.iter() {
        let local = local();
        let mut variants = Vec::new();
        for pointer in pointers(base) {
            for replacement in &replacements {
                let mut variant = base.clone();
                *variant.pointer_mut(&pointer).unwrap() = replacement.clone();
                variants.push((format!("{name} with {pointer} = {replacement}"), variant));
            }
            let mut variant = base.clone();
            remove(&mut variant, &pointer);
            variants.push((format!("{name} without {pointer}"), variant));
        }
        for (what, variant) in variants {
            // Events that reach Cases through an SQS record are tried that way too.
            let payloads = if name.contains("record") { vec![sqs_batch(vec![variant.to_string()]), variant] } else { vec![variant] };
            for payload in payloads {
                handled += 1;
                if handle_checked(&local, payload, &what).is_err() {
                    refused += 1;
                }
            }
        }
    }
    assert!(handled > 3000, "{handled}");
    eprintln!("wrong types: {handled} payloads handled, {refused} refused with an error");
}

// ---------------------------------------------------------------------------------------------
// Oversized input
// ---------------------------------------------------------------------------------------------

const SIX_MB: usize = 6 * 1024 * 1024;

#[test]
fn six_megabyte_events_are_handled_or_refused_without_writing() {
    let local = local();

    // Six megabytes the rules do not use: the event is applied.
    let mut event = sample("custom-order-delayed.json");
    event["detail"]["padding"] = json!("x".repeat(SIX_MB));
    let outcome = handle_checked(&local, event, "6 MB unused").unwrap();
    assert_eq!(outcome["outcome"], "applied", "{}", outcome["outcome"]);

    // Six megabytes that would go into a comment: refused before any write.
    let mut event = sample("custom-order-delayed.json");
    event["id"] = json!("big-reason");
    event["detail"]["orderNumber"] = json!("ORD-BIG");
    event["detail"]["reason"] = json!("r".repeat(SIX_MB));
    let writes = local.writes();
    let error = handle_checked(&local, event, "6 MB comment").unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent", "{}", error.error_type());
    assert!(
        error.message.contains("15000") && error.message.len() < 1000,
        "a short, clear message: {}",
        &error.message[..200.min(error.message.len())]
    );
    assert_eq!(local.writes(), writes);

    // Six megabytes into a field value (4100 characters at most).
    let mut event = sample("custom-order-delayed.json");
    event["id"] = json!("big-order");
    event["detail"]["orderNumber"] = json!("o".repeat(SIX_MB));
    let error = handle_checked(&local, event, "6 MB field").unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent", "{}", error.error_type());
    assert!(error.message.len() < 1000);

    // A contact flow with six megabytes of attributes.
    let mut flow = sample("flow-voice-open-case.json");
    flow["Details"]["ContactData"]["Attributes"]["transcript"] = json!("t".repeat(SIX_MB));
    let answer = handle_checked(&local, flow, "6 MB attribute").unwrap();
    assert!(answer["caseId"].as_str().is_some_and(|id| !id.is_empty()));
}

#[test]
fn thousands_of_attributes_parameters_fields_and_records() {
    let local = local();
    let mut flow = sample("flow-voice-open-case.json");
    let attributes: serde_json::Map<String, Value> = (0..5_000).map(|i| (format!("attribute{i}"), json!(format!("value {i}")))).collect();
    flow["Details"]["ContactData"]["Attributes"] = Value::Object(attributes);
    for i in 0..2_000 {
        flow["Details"]["Parameters"][format!("p{i}")] = json!({"nested": [i, {"deeper": i}]});
    }
    let answer = handle_checked(&local, flow, "5000 attributes").unwrap();
    assert_eq!(answer["caseCreated"], "true");

    let mut event = sample("custom-order-delayed.json");
    for i in 0..10_000 {
        event["detail"][format!("extra{i}")] = json!(i);
    }
    let outcome = handle_checked(&local, event, "10 000 detail keys").unwrap();
    assert_eq!(outcome["outcome"], "applied");

    // A thousand records that are not events: every one is named in batchItemFailures.
    let response = handle_checked(&local, sqs_batch(vec!["{not json".into(); 1_000]), "1000 bad records").unwrap();
    assert_eq!(response["batchItemFailures"].as_array().unwrap().len(), 1_000);
}

#[test]
fn a_comment_longer_than_the_api_allows_is_refused_before_any_write() {
    let local = local();
    let mut flow = sample("flow-task-nested-params.json");
    flow["Details"]["Parameters"]["caseId"] = json!(ORDER_CASE);
    flow["Details"]["Parameters"]["note"] = json!("n".repeat(15_001));
    let error = handle_checked(&local, flow.clone(), "15 001 characters").unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent");
    // The template stops at the limit, so the error names the limit rather than the full length.
    assert!(error.message.contains("more than 15000 characters") && error.message.contains("flow-add-note"), "{error}");

    // Characters, not bytes: 15 000 four-byte characters are within the limit.
    flow["Details"]["Parameters"]["note"] = json!("𝄞".repeat(15_000));
    handle_checked(&local, flow, "15 000 characters").unwrap();
    assert_eq!(local.writes(), 1);
}

#[test]
fn identities_longer_than_500_characters_are_refused_at_start_and_in_rules() {
    let long = "a".repeat(501);
    let problems = cases_automation::config::Config::from_env(|name| match name {
        "CASES_DOMAIN_ID" => Some("d".into()),
        "AUTOMATION_IDENTITY" => Some(long.clone()),
        _ => None,
    })
    .unwrap_err();
    assert!(problems.iter().any(|p| p.contains("AUTOMATION_IDENTITY") && p.contains("501")), "{problems:?}");

    let yaml = format!(
        "rules:\n  - name: r\n    match: {{ source: [x] }}\n    performedBy: {long}\n    case: {{ find: [ {{ id: $.detail.id }} ] }}\n"
    );
    let error = RuleSet::from_yaml(&yaml, "long.yaml").unwrap_err();
    assert_eq!((error.problems[0].rule.as_str(), error.problems[0].path.as_str()), ("r", "performedBy"));
    assert!(!error.to_string().contains(&long), "the identity is described, not echoed");

    // A Cases change event from a 10 000-character performer is simply not this automation.
    let local = local();
    let mut event = sample("cases-case-updated-by-automation.json");
    event["detail"]["performedBy"]["user"]["customEntity"] = json!("c".repeat(10_000));
    let outcome = handle_checked(&local, event, "a long performer").unwrap();
    assert_eq!(outcome["outcome"], "skipped");
    assert_eq!(outcome["reason"], "no rule matches");
}

/// Identifiers from the event longer than the API's 500 characters, through the real SDK and the
/// local Cases service: refused before anything is written.
#[tokio::test]
async fn event_identifiers_longer_than_the_api_allows_write_nothing() {
    let service = cases_service::start().await;
    let app = cases_service::app(&service);
    let invocation = || Invocation::with_budget(Duration::from_secs(20));

    // A contact id that makes the contact ARN longer than 500 characters.
    let mut flow = sample("flow-voice-open-case.json");
    flow["Details"]["ContactData"]["ContactId"] = json!("c".repeat(600));
    let error = app.handle(flow, &invocation()).await.unwrap_err();
    assert!(error.error_type().starts_with("Permanent."), "{error}");

    // A case id longer than 500 characters.
    let mut note = sample("flow-task-nested-params.json");
    note["Details"]["Parameters"]["caseId"] = json!("k".repeat(501));
    let error = app.handle(note, &invocation()).await.unwrap_err();
    assert!(error.error_type().starts_with("Permanent."), "{error}");

    // A customer profile ARN of 5000 characters.
    let mut order = sample("custom-order-delayed.json");
    order["detail"]["customerProfileArn"] =
        json!(format!("arn:aws:profile:us-east-1:123456789012:domains/d/profiles/{}", "p".repeat(5_000)));
    let error = app.handle(order, &invocation()).await.unwrap_err();
    assert!(error.error_type().starts_with("Permanent."), "{error}");

    let writes: u64 = ["CreateCase", "UpdateCase", "CreateRelatedItem"].iter().map(|op| service.call_count(op)).sum();
    assert_eq!(writes, 0, "nothing was written: {:?}", service.calls());
}

/// A rule whose comment template runs nested loops of 10^10 steps (a rules-file mistake), and an
/// ordinary record, in one SQS batch: the template runs out of fuel at once, its record alone is
/// reported failed, having written nothing, and the other is applied, all before the deadline. The
/// handler runs on a thread of its own, so that a template that never stops fails this test at the
/// deadline instead of hanging it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_template_fails_its_record_only_and_the_batch_answers_before_its_deadline() {
    let service = cases_service::start_with(Seed::demo()).await;
    let client = cases_service::client(&service);
    let heavy_rule = r#"
  - name: order-review-note
    match: { source: [com.example.orders], detail-type: [Order Review] }
    case: { find: [ { id: $.detail.caseId } ] }
    actions:
      - comment: "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}reviewed"
"#;
    let rules =
        RuleSet::from_yaml(&format!("{}{heavy_rule}", cases_automation::rules::DEFAULT_RULES), "rules with a runaway template").unwrap();
    let app = std::sync::Arc::new(support::lambda::instance(&service, rules, &[]));
    let heavy = json!({"id": "e-heavy", "source": "com.example.orders", "detail-type": "Order Review", "detail": {"caseId": ORDER_CASE}});
    let ordinary = sample("custom-order-priority-changed.json");
    assert_eq!(ordinary["detail"]["caseId"], ORDER_CASE);
    let comments_before = support::readback::comments(&client, ORDER_CASE).await.len();

    let invocation = Invocation::with_budget(Duration::from_secs(10));
    let deadline = invocation.deadline;
    let (answer, answered) = tokio::sync::oneshot::channel();
    let handler = app.clone();
    let batch = sqs_batch(vec![heavy.to_string(), ordinary.to_string()]);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _ = answer.send(runtime.block_on(handler.handle(batch, &invocation)));
    });
    let response = tokio::time::timeout_at((deadline + SCHEDULING_MARGIN).into(), answered)
        .await
        .expect("the handler answers by its deadline (a runaway template would hold it)")
        .unwrap()
        .unwrap();
    let late = Instant::now().saturating_duration_since(deadline);
    assert!(late <= SCHEDULING_MARGIN, "answered {late:?} after the deadline");
    assert_eq!(response["batchItemFailures"], json!([{"itemIdentifier": "m-0"}]), "only the heavy record failed: {response}");
    assert_eq!(service.call_count("CreateRelatedItem"), 0, "the heavy record wrote nothing");
    assert_eq!(support::readback::comments(&client, ORDER_CASE).await.len(), comments_before);
    let priority = support::readback::fields_by_name(&client, ORDER_CASE).await;
    assert_eq!(
        priority.get("Priority").and_then(|v| v.as_string_value().ok()).map(String::as_str),
        ordinary["detail"]["priority"].as_str()
    );

    // On its own, the heavy event is refused as a rule that does not fit, naming the template's limit.
    let error = app.handle(heavy, &Invocation::with_budget(Duration::from_secs(10))).await.unwrap_err();
    assert_eq!(error.error_type(), "Permanent.RuleDoesNotFitEvent", "{error}");
    assert!(error.message.contains("rule `order-review-note`") && error.message.contains("steps a template may run"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Invalid UTF-8, lone surrogates, deep nesting
// ---------------------------------------------------------------------------------------------

#[test]
fn a_lone_surrogate_escape_in_an_sqs_body_fails_that_record_only() {
    let local = local();
    let good = serde_json::from_str::<Value>(sample("sqs-batch.json")["Records"][1]["body"].as_str().unwrap()).unwrap().to_string();
    // The body is text (SQS cannot carry invalid Unicode); inside it, JSON escapes may still
    // spell a lone surrogate, which is not a character.
    let lone = r#"{"id":"e-1","source":"com.example.orders","detail-type":"Order Delayed","detail":{"reason":"\ud800"}}"#;
    let reversed = r#"{"id":"e-2","source":"com.example.orders","detail-type":"Order Delayed","detail":{"reason":"\udc00\ud800"}}"#;
    let response = handle_checked(&local, sqs_batch(vec![lone.into(), good, reversed.into()]), "lone surrogates").unwrap();
    let failed: Vec<&str> =
        response["batchItemFailures"].as_array().unwrap().iter().map(|f| f["itemIdentifier"].as_str().unwrap()).collect();
    assert_eq!(failed, ["m-0", "m-2"], "{response}");

    let Inbound::SqsBatch(records) = classify(sqs_batch(vec![lone.into()])).unwrap() else { panic!() };
    let error = records[0].body.as_ref().unwrap_err();
    assert!(error.0.contains("not JSON") && error.0.contains("hex escape"), "{error}");
}

/// A JSON text nested deeper than the parser's limit of 128.
fn deep_json(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deeply_nested_sqs_bodies_fail_that_record_only() {
    let local = local();
    let deep_detail = format!(
        r#"{{"id":"e-1","source":"com.example.orders","detail-type":"Order Delayed","detail":{}1{}}}"#,
        r#"{"a":"#.repeat(100_000),
        "}".repeat(100_000)
    );
    let response = handle_checked(&local, sqs_batch(vec![deep_json(100_000), deep_detail]), "100 000 levels").unwrap();
    assert_eq!(response["batchItemFailures"].as_array().unwrap().len(), 2);
    let Inbound::SqsBatch(records) = classify(sqs_batch(vec![deep_json(100_000)])).unwrap() else { panic!() };
    assert!(records[0].body.as_ref().unwrap_err().0.contains("recursion limit"), "{:?}", records[0].body);
}

/// A 100 000-level value handed to the classifier directly (no entry point can: the Lambda
/// runtime's and the SQS body's JSON parser stop at 128 levels, tested above and below): it looks
/// only at the levels it needs, so it answers without recursing. Built and dropped on a thread
/// with a large stack, since dropping a `serde_json::Value` recurses.
#[test]
fn the_classifier_does_not_recurse_into_a_100_000_level_value() {
    std::thread::Builder::new()
        .stack_size(512 * 1024 * 1024)
        .spawn(|| {
            let mut deep = json!(1);
            for _ in 0..100_000 {
                let mut level = serde_json::Map::new();
                level.insert("a".into(), deep);
                deep = Value::Object(level);
            }
            let mut event = sample("custom-order-delayed.json");
            event["detail"]["nested"] = deep.clone();
            let Ok(Inbound::EventBridge(event)) = classify(event) else { panic!("an EventBridge event") };
            assert_eq!(event.key, "e0826073-2e99-4a6e-b5c6-b35d6a5e3357");
            let mut flow = sample("flow-voice-open-case.json");
            flow["Details"]["Parameters"]["nested"] = deep.clone();
            assert!(matches!(classify(flow), Ok(Inbound::ContactFlow(_))));
            let mut records = serde_json::Map::new();
            records.insert("Records".into(), deep);
            let error = classify(Value::Object(records)).unwrap_err();
            assert!(error.0.contains("not an SQS batch"), "{error}");
        })
        .unwrap()
        .join()
        .unwrap();
}

/// The deepest payload the Lambda runtime lets through (its parser stops at 128 levels) goes
/// through patterns, paths and templates of every default rule.
#[test]
fn the_deepest_parsable_payload_goes_through_every_rule() {
    let local = local();
    let nested: Value = serde_json::from_str(&deep_json(120)).unwrap();
    for (name, base) in BASES.iter() {
        let mut payload = base.clone();
        if let Some(detail) = payload.get_mut("detail").and_then(Value::as_object_mut) {
            detail.insert("nested".into(), nested.clone());
            detail.insert("tags".into(), nested.clone());
        } else if let Some(parameters) = payload.pointer_mut("/Details/Parameters").and_then(Value::as_object_mut) {
            parameters.insert("nested".into(), nested.clone());
        } else {
            continue;
        }
        // Still parsable as a Lambda payload: the runtime would hand it over.
        let text = payload.to_string();
        assert!(serde_json::from_str::<Value>(&text).is_ok(), "{name}");
        let _ = handle_checked(&local, payload, name);
    }
    // The same depth inside every place a pattern, a path and a template looks.
    let rules = RuleSet::from_yaml(
        r#"
rules:
  - name: deep
    match: { detail: { nested: [{ exists: true }] } }
    case: { find: [ { id: "$..*" } ], ifMissing: skip }
    actions:
      - comment: "{{ detail.nested }}"
"#,
        "deep.yaml",
    )
    .unwrap();
    let mut event = sample("custom-order-delayed.json");
    event["detail"]["nested"] = nested;
    for event in events_of(event) {
        plan_all(&rules, &event);
    }
}

/// Bytes the Lambda runtime cannot turn into a JSON payload, sent to the compiled binary: each
/// invocation gets an error, the process keeps serving, and nothing is written.
#[tokio::test]
async fn the_binary_answers_unparsable_payloads_with_an_error_and_keeps_serving() {
    let service = cases_service::start().await;
    let runtime = RuntimeApi::start().await;
    let child = spawn_function(&runtime, &service.endpoint_url(), &[]);

    let deep_detail = format!(
        r#"{{"id":"e-1","source":"com.example.orders","detail-type":"Order Delayed","detail":{}1{}}}"#,
        r#"{"a":"#.repeat(100_000),
        "}".repeat(100_000)
    );
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("invalid UTF-8", b"{\"id\": \"\xff\xfe\xfd\", \"source\": \"s\", \"detail-type\": \"t\", \"detail\": {}}".to_vec()),
        ("overlong UTF-8", b"{\"id\": \"\xc0\xaf\"}".to_vec()),
        ("a lone surrogate escape", br#"{"id":"e","source":"s","detail-type":"t","detail":{"x":"\ud800"}}"#.to_vec()),
        ("not JSON", b"{not json".to_vec()),
        ("nothing", Vec::new()),
        ("JSON then garbage", b"{} {}".to_vec()),
        ("100 000 nested lists", deep_json(100_000).into_bytes()),
        ("100 000 nested objects in detail", deep_detail.into_bytes()),
    ];
    for (what, body) in bad {
        let id = runtime.invoke_raw(body, Duration::from_secs(10));
        let (answered, answer) = runtime.answer_within(Duration::from_secs(10)).await.unwrap_or_else(|| panic!("{what}: no answer"));
        assert_eq!(answered, id, "{what}");
        let Answer::Error { error_type, message } = &answer else { panic!("{what}: {answer:?}") };
        assert!(!error_type.is_empty() && !message.is_empty(), "{what}: {answer:?}");
        assert!(message.len() < 2_000, "{what}: a short message, not the payload");
    }

    // Six megabytes the rules do not use: applied.
    let mut big = sample("custom-order-delayed.json");
    big["detail"]["padding"] = json!("x".repeat(SIX_MB - 4096));
    runtime.invoke(big, Duration::from_secs(20));
    let (_, answer) = runtime.answer_within(Duration::from_secs(20)).await.expect("an answer");
    assert!(matches!(&answer, Answer::Response(r) if r["outcome"] == "applied"), "{:?}", answer);

    // The same process still serves ordinary invocations.
    runtime.invoke(sample("flow-voice-open-case.json"), Duration::from_secs(8));
    let (_, answer) = runtime.answer_within(Duration::from_secs(8)).await.expect("an answer");
    assert!(matches!(&answer, Answer::Response(map) if map["caseCreated"] == "true"), "{answer:?}");

    let logs = stop_and_collect_logs(child).await;
    assert!(!logs.contains("panicked"), "{logs}");
    assert_eq!(service.call_count("CreateCase"), 2, "only the two usable events wrote: {:?}", service.calls());
}

// ---------------------------------------------------------------------------------------------
// Rules files with every kind of mistake
// ---------------------------------------------------------------------------------------------

#[test]
fn a_rules_file_with_every_kind_of_mistake_reports_each_with_rule_and_path_at_once() {
    let long_identity = "x".repeat(501);
    let many_fields: String = (0..221).map(|i| format!("            f{i}: v\n")).collect();
    let yaml = format!(
        r#"
rules:
  - name: pattern-mistakes
    match:
      source: aws.connect
      detail-type: []
      detail:
        a: [{{prefix: 1}}]
        b: [{{exists: "yes"}}]
        c: [{{numeric: [">"]}}]
        d: [{{bogus: 1}}]
        e: [[1]]
        f: [{{prefix: a, suffix: b}}]
        g: [{{anything-but: {{wildcard: x}}}}]
      $or: [{{x: [1]}}]
      version: "not an object or list"
    case: {{ find: [ {{ id: $.detail.caseId }} ] }}

  - name: value-mistakes
    match: {{ source: [x] }}
    case:
      find:
        - id: "$.detail..["
        - search: {{ fields: {{ title: {{ path: $.a, template: "{{{{ a }}}}" }} }} }}
      create:
        template: ""
        fields:
          title: "{{{{ unclosed"
          Priority: [1, 2]
          Order total: {{ type: number }}
      ifMissing: skip
    actions:
      - comment: [a, list]
      - update: {{ fields: {{}} }}
      - update:
          fields:
{many_fields}      - sla: {{ name: s, minutes: 0, field: Priority }}
      - sla: {{ name: s, minutes: 200000, targetValues: [a, b] }}

  - name: value-mapping-with-an-unknown-key
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}
    actions:
      - comment: {{ nested: {{ object: true }} }}

  - name: identity-mistakes
    match: {{ source: [x] }}
    performedBy: "ends with a space "
    case: {{}}

  - name: identity-too-long
    match: {{ source: [x] }}
    performedBy: {long_identity}
    case: {{ find: [ {{ contact: {{}} }} ] }}

  - name: identity-bad-characters
    match: {{ source: [x] }}
    performedBy: "robot;drop"
    case: {{ find: [ {{ contact: {{}} }} ] }}

  - name: duplicate
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}
  - name: duplicate
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}

  - name: ""
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}

  - match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}

  - name: unknown-key
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}
    actoins: []

  - name: unknown-action
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}
    actions: [ {{ frobnicate: {{}} }} ]

  - name: unknown-lookup
    match: {{ source: [x] }}
    case: {{ find: [ {{ guess: {{}} }} ] }}

  - name: wrong-if-missing
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ], ifMissing: sometimes }}

  - name: wrong-sort
    match: {{ source: [x] }}
    case: {{ find: [ {{ search: {{ fields: {{ status: open }}, sort: {{ field: title, order: sideways }} }} }} ] }}

  - name: actions-not-a-list
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}
    actions: {{ comment: hi }}

  - name: link-extra-key
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}
    actions: [ {{ linkContact: {{ contactArn: $.a, channel: VOICE }} }} ]

  - name: sla-without-minutes
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}
    actions: [ {{ sla: {{ name: s }} }} ]

  - name: no-match
    case: {{ find: [ {{ contact: {{}} }} ] }}

  - name: no-case
    match: {{ source: [x] }}

  - name: 42
    match: {{ source: [x] }}
    case: {{ find: [ {{ contact: {{}} }} ] }}

  - "just a string"
"#
    );
    let error = RuleSet::from_yaml(&yaml, "mistakes.yaml").unwrap_err();
    let found: Vec<(String, String)> = error.problems.iter().map(|p| (p.rule.clone(), p.path.clone())).collect();
    let expected: &[(&str, &str)] = &[
        ("pattern-mistakes", "match.source"),
        ("pattern-mistakes", "match.detail-type"),
        ("pattern-mistakes", "match.detail.a[0]"),
        ("pattern-mistakes", "match.detail.b[0]"),
        ("pattern-mistakes", "match.detail.c[0]"),
        ("pattern-mistakes", "match.detail.d[0]"),
        ("pattern-mistakes", "match.detail.e[0]"),
        ("pattern-mistakes", "match.detail.f[0]"),
        ("pattern-mistakes", "match.detail.g[0]"),
        ("pattern-mistakes", "match.$or"),
        ("pattern-mistakes", "match.version"),
        ("value-mistakes", "case.find[0].id"),
        ("value-mistakes", "case.find[1].search.fields.title"),
        ("value-mistakes", "case.create.template"),
        ("value-mistakes", "case.create.fields.title"),
        ("value-mistakes", "case.create.fields.Priority"),
        ("value-mistakes", "case.create.fields.Order total"),
        ("value-mistakes", "case.create.fields"), // customer_id missing
        ("value-mistakes", "case.ifMissing"),
        ("value-mistakes", "actions[0].comment"),
        ("value-mistakes", "actions[1].update.fields"),
        ("value-mistakes", "actions[2].update.fields"),
        ("value-mistakes", "actions[3].sla"),
        ("value-mistakes", "actions[3].sla.minutes"),
        ("value-mistakes", "actions[4].sla.targetValues"),
        ("value-mistakes", "actions[4].sla.minutes"),
        ("value-mapping-with-an-unknown-key", "actions[0].comment"),
        ("identity-mistakes", "performedBy"),
        ("identity-mistakes", "case"),
        ("identity-too-long", "performedBy"),
        ("identity-bad-characters", "performedBy"),
        ("duplicate", "name"),
        ("#9", "name"),
        ("#10", "(rule)"),
        ("unknown-key", "actoins"),
        ("unknown-action", "actions[0]"),
        ("unknown-lookup", "case.find[0]"),
        ("wrong-if-missing", "case.ifMissing"),
        ("wrong-sort", "case.find[0].search.sort.order"),
        ("actions-not-a-list", "actions"),
        ("link-extra-key", "actions[0].linkContact"),
        ("sla-without-minutes", "actions[0].sla"),
        ("no-match", "match"),
        ("no-case", "case"),
        ("#21", "name"),
        ("#22", "(rule)"),
    ];
    let mut missing = Vec::new();
    for (rule, path) in expected {
        if !found.iter().any(|(r, p)| r == rule && (p == path || p.starts_with(&format!("{path}.")) || p.starts_with(&format!("{path}["))))
        {
            missing.push((rule, path));
        }
    }
    assert!(missing.is_empty(), "not reported: {missing:#?}\nreported:\n{error}");
    // A mistake inside a detailed value is reported at the key that is wrong, not at the value.
    let unknown_key = ("value-mapping-with-an-unknown-key".to_owned(), "actions[0].comment.nested".to_owned());
    assert!(found.contains(&unknown_key), "reported:\n{error}");
    let text = error.to_string();
    assert!(text.starts_with("the rules in mistakes.yaml are invalid"), "{text}");
    assert!(!text.contains(&long_identity), "values are described, not echoed");
    for problem in &error.problems {
        assert!(!problem.reason.is_empty() && problem.reason.len() < 400, "{problem}");
    }
    eprintln!("{text}");
}

#[test]
fn mistakes_in_the_file_as_a_whole_are_reported_with_their_place() {
    for (yaml, needle) in [
        ("rules: [ {", "line"),
        ("rules:\n  - name: a\n\tmatch: {}\n", "not valid YAML"),
        ("rulez: []", "`rules:`"),
        ("rules: {}", "`rules:`"),
        ("rules: []\nextra: 1", "unknown top-level key `extra`"),
        ("", "`rules:`"),
        ("- just\n- a list", "`rules:`"),
        ("rules: !Ref Rules", "not valid YAML"),
        // A billion laughs: aliases are not expanded without bound. Expanded, they would make a
        // valid document (and another error), so "not valid YAML" shows they were refused.
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\nrules: [*h]\n",
            "not valid YAML",
        ),
    ] {
        let error = RuleSet::from_yaml(yaml, "whole.yaml").unwrap_err();
        assert!(error.to_string().contains(needle), "{yaml:?}: {error}");
    }
    // Nesting deeper than the YAML parser allows.
    let deep = format!("rules:\n  - name: d\n    match: {}1{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let error = RuleSet::from_yaml(&deep, "deep.yaml").unwrap_err();
    assert!(error.to_string().contains("recursion limit"), "{error}");
}
