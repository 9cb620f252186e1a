//! Per-event CPU cost of what the function does before any I/O: parse the payload, classify it,
//! match the rules, and plan the Cases requests (values extracted, names resolved from a cached
//! catalog). For every file in `events/`, with the one rule that applies and with 200 rules.
//!
//!     cargo bench --bench pipeline

use std::hint::black_box;

use cases_automation::cases::catalog::{Catalog, SYSTEM_FIELDS};
use cases_automation::cases::model::{FieldInfo, FieldType, TemplateInfo};
use cases_automation::inbound::{Event, Inbound, classify};
use cases_automation::plan::{RulePlan, plan_rules, select};
use cases_automation::rules::RuleSet;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// The demo domain's fields and templates, as ListFields/ListTemplates would give them.
fn catalog() -> Catalog {
    let custom = [
        ("Customer phone", FieldType::Text),
        ("Order number", FieldType::Text),
        ("Order total", FieldType::Number),
        ("Callback requested", FieldType::Boolean),
        ("Priority", FieldType::SingleSelect),
        ("Promised by", FieldType::DateTime),
        ("Owner", FieldType::User),
        ("Contact channel", FieldType::Text),
        ("Disconnect reason", FieldType::Text),
    ];
    let mut fields: Vec<FieldInfo> =
        SYSTEM_FIELDS.iter().map(|(id, name, ty)| FieldInfo { id: id.to_string(), name: name.to_string(), field_type: *ty }).collect();
    fields.extend(custom.iter().enumerate().map(|(i, (name, ty))| FieldInfo {
        id: format!("6f1e2d3c-0000-4000-8000-{:012}", i + 1),
        name: name.to_string(),
        field_type: *ty,
    }));
    let templates = ["General inquiry", "Callback request", "Order issue"]
        .iter()
        .enumerate()
        .map(|(i, name)| TemplateInfo { id: format!("7a2b3c4d-0000-4000-8000-{:012}", i + 1), name: name.to_string(), active: true })
        .collect();
    Catalog { fields, templates }
}

/// `count - 1` rules of realistic shape that match none of the samples, then `rule`.
fn rules_with(rule: &str, count: usize) -> RuleSet {
    let mut yaml = String::from("rules:\n");
    for i in 0..count.saturating_sub(1) {
        if i % 2 == 0 {
            yaml.push_str(&format!(
                "  - name: system-{i}\n    match: {{ source: [com.example.system-{i}], detail-type: [Thing {i} Happened], detail: {{ kind: [{{ prefix: \"k{i}\" }}] }} }}\n    case: {{ find: [ {{ id: $.detail.caseId }} ] }}\n    actions: [ {{ comment: \"Thing {{{{ detail.n }}}} happened\" }} ]\n"
            ));
        } else {
            yaml.push_str(&format!(
                "  - name: flow-{i}\n    match: {{ Name: [ContactFlowEvent], Details: {{ Parameters: {{ action: [action-{i}] }} }} }}\n    case: {{ find: [ {{ id: $.Details.Parameters.caseId }} ] }}\n    actions: [ {{ update: {{ fields: {{ Priority: $.Details.Parameters.priority }} }} }} ]\n"
            ));
        }
    }
    yaml.push_str(rule);
    RuleSet::from_yaml(&yaml, "bench").expect("bench rules are valid")
}

/// The default rule named `name`, as YAML text.
fn default_rule(name: &str) -> String {
    let text = cases_automation::rules::DEFAULT_RULES;
    let start = text.find(&format!("  - name: {name}\n")).expect("a default rule");
    let end = text[start + 1..].find("\n  - name: ").map(|e| start + 1 + e + 1).unwrap_or(text.len());
    text[start..end].to_owned()
}

/// Everything the function computes for one payload before its first Cases call.
fn pipeline(payload: &str, rules: &RuleSet, catalog: &Catalog) -> Vec<RulePlan> {
    let value: serde_json::Value = serde_json::from_str(payload).expect("valid JSON");
    let events: Vec<Event> = match classify(value).expect("a known trigger") {
        Inbound::ContactFlow(e) | Inbound::EventBridge(e) => vec![e],
        Inbound::SqsBatch(records) => records.into_iter().filter_map(|r| r.body.ok()).collect(),
    };
    let own = rules.identities("cases-automation");
    let mut plans = Vec::new();
    for event in &events {
        if let Ok(matched) = select(rules, event, &own) {
            plans.extend(plan_rules(rules, &matched, event, "cases-automation", catalog).into_iter().filter_map(Result::ok));
        }
    }
    plans
}

fn bench(c: &mut Criterion) {
    let catalog = catalog();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let mut files: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    files.sort();
    let defaults = RuleSet::default_rules();
    let mut group = c.benchmark_group("classify+match+plan");
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let payload = std::fs::read_to_string(&path).unwrap();
        // The default rule this event matches (the first, for a batch), or any for events no rule matches.
        let value: serde_json::Value = serde_json::from_str(&payload).unwrap();
        let probe = match classify(value).unwrap() {
            Inbound::ContactFlow(e) | Inbound::EventBridge(e) => e.raw,
            Inbound::SqsBatch(records) => records.into_iter().find_map(|r| r.body.ok()).unwrap().raw,
        };
        let rule_name = defaults.matching(&probe).next().map(|r| r.name.clone()).unwrap_or_else(|| "flow-open-case".into());
        let rule = default_rule(&rule_name);
        for count in [1, 200] {
            let rules = rules_with(&rule, count);
            group.bench_with_input(BenchmarkId::new(name.clone(), format!("{count} rules")), &payload, |b, payload| {
                b.iter(|| black_box(pipeline(black_box(payload), &rules, &catalog)))
            });
        }
    }
    group.finish();
}

/// What loading the rules costs at cold start, and its parts.
fn load_rules(c: &mut Criterion) {
    let text = cases_automation::rules::DEFAULT_RULES;
    let mut group = c.benchmark_group("cold start: rules");
    group.bench_function("parse YAML", |b| b.iter(|| black_box(serde_norway::from_str::<serde_json::Value>(black_box(text)).unwrap())));
    group.bench_function("load and validate the default rules", |b| {
        b.iter(|| black_box(RuleSet::from_yaml(black_box(text), "default").unwrap()))
    });
    // What the cold start runs: the same rules, converted to JSON at build time.
    group.bench_function("the shipped default rules (build-time JSON)", |b| b.iter(|| black_box(RuleSet::default_rules())));
    group.finish();
}

criterion_group!(benches, bench, load_rules);
criterion_main!(benches);
