//! `cases-automation check` and `cases-automation schema`, run as a user runs them: offline, the
//! checks of the cold start; with `--domain`, against the local Cases service through the SDK
//! (`AWS_ENDPOINT_URL_CONNECTCASES`), every problem listed and a non-zero exit. The JSON Schema is
//! generated from the loader's types, committed as `rules/schema.json`, named by the default rules
//! for editors, and accepts what the loader accepts.

mod support;

use std::path::PathBuf;
use std::process::Output;

use cases_automation::rules::{DEFAULT_RULES, RuleSet};
use serde_json::Value;
use support::cases_service::DOMAIN;

fn run(args: &[&str], endpoint: Option<&str>) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cases-automation"));
    command.env_clear().args(args).env("AWS_REGION", "us-east-1").env("AWS_ACCESS_KEY_ID", "local").env("AWS_SECRET_ACCESS_KEY", "local");
    if let Some(endpoint) = endpoint {
        command.env("AWS_ENDPOINT_URL_CONNECTCASES", endpoint);
    }
    command.output().expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn rules_file(name: &str, yaml: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cases-automation-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn offline_the_checks_of_the_cold_start() {
    let output = run(&["check"], None);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains(&format!("version {}", RuleSet::default_rules().version)), "{}", text(&output));

    let bad = rules_file("bad.yaml", "rules:\n  - name: one\n    match: { source: x }\n    case: {}\n");
    let output = run(&["check", "--rules", bad.to_str().unwrap()], None);
    assert!(!output.status.success());
    for needle in ["rule `one`, at `match.source`", "rule `one`, at `case`"] {
        assert!(text(&output).contains(needle), "missing {needle:?} in {}", text(&output));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn against_a_domain_every_problem_is_listed() {
    let service = support::cases_service::start().await;
    let endpoint = service.endpoint_url();
    let output = run(&["check", "--domain", DOMAIN], Some(&endpoint));
    assert!(output.status.success(), "the default rules fit the demo domain: {}", text(&output));

    let yaml = r#"
rules:
  - name: wrong
    match: { source: [x] }
    case:
      find: [ { search: { fields: { Colour: red }, sort: { field: Shade } } } ]
      create:
        template: Callback request
        fields: { title: Call back, customer_id: $.detail.customer, Priority: { path: $.detail.total, type: number } }
    actions:
      - update: { fields: { Priority: Critical, Order total: lots, Promised by: next week } }
      - sla: { name: Answer, minutes: 30, field: Priority, targetValues: [ urgent ] }
  - name: unknown-template
    match: { source: [y] }
    case: { create: { template: Onboarding, fields: { title: t, customer_id: $.c } } }
"#;
    let file = rules_file("wrong.yaml", yaml);
    let requests_before = service.writes();
    let output = run(&["check", "--rules", file.to_str().unwrap(), "--domain", DOMAIN], Some(&endpoint));
    let report = text(&output);
    assert!(!output.status.success(), "{report}");
    for needle in [
        "rule `wrong`, at `case.find[0].search.fields.Colour`",
        "rule `wrong`, at `case.find[0].search.sort.field`",
        "rule `wrong`, at `case.create.fields.Priority`: a value of type number cannot go into SingleSelect field",
        "rule `wrong`, at `case.create.fields`: template `Callback request` requires field `Customer phone`",
        "rule `wrong`, at `actions[0].update.fields.Priority`: the value is not one of the options of field `Priority`",
        "rule `wrong`, at `actions[0].update.fields.Order total`",
        "rule `wrong`, at `actions[0].update.fields.Promised by`: a DateTime field needs an RFC 3339 date and time",
        "rule `unknown-template`, at `case.create.template`",
    ] {
        assert!(report.contains(needle), "missing {needle:?} in:\n{report}");
    }
    assert!(!report.contains("targetValues"), "`urgent` is an option of Priority: {report}");
    assert_eq!(service.writes(), requests_before, "checking writes nothing");
    for operation in ["ListFields", "ListTemplates", "ListFieldOptions", "GetTemplate"] {
        assert!(service.call_count(operation) > 0, "{operation} was not called");
    }
}

#[test]
fn an_unreadable_domain_is_an_error_not_a_pass() {
    let output = run(&["check", "--domain", DOMAIN], Some("http://127.0.0.1:9"));
    assert!(!output.status.success());
    assert!(text(&output).contains("could not be read"), "{}", text(&output));
}

fn schema() -> Value {
    serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/schema.json")).unwrap()).unwrap()
}

#[test]
fn the_committed_schema_is_what_the_schema_command_prints() {
    let output = run(&["schema"], None);
    assert!(output.status.success());
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, schema(), "rules/schema.json is out of date: cases-automation schema > rules/schema.json");
    assert!(DEFAULT_RULES.starts_with("# yaml-language-server: $schema=./schema.json\n"), "editors find the schema");
}

#[test]
fn the_schema_accepts_the_rules_the_loader_accepts_and_refuses_their_shape_errors() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid JSON Schema");
    let yaml = |text: &str| -> Value { serde_norway::from_str(text).unwrap() };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let text = std::fs::read_to_string(&path).unwrap();
            RuleSet::from_yaml(&text, &path.display().to_string()).expect("the loader accepts it");
            let errors: Vec<String> = validator.iter_errors(&yaml(&text)).map(|e| format!("{} at {}", e, e.instance_path())).collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        }
    }
    for bad in [
        "rules:\n  - name: r\n    match: { source: [x] }\n    case: { find: [ { id: $.id } ] }\n    colour: red\n".to_owned(),
        "rules:\n  - name: r\n    match: { source: [x] }\n    case: { find: [ { id: $.id } ] }\n    actions: [ { frobnicate: {} } ]\n".into(),
        "rules:\n  - name: r\n    match: { source: [x] }\n    case: { find: [ { search: { fields: { a: { customer: { ifNone: maybe } } } } } ] }\n".into(),
        "rulez: []\n".into(),
    ] {
        let document = yaml(&bad);
        assert!(!validator.is_valid(&document), "the schema accepts {bad}");
        assert!(RuleSet::from_yaml(&bad, "bad").is_err(), "the loader accepts {bad}");
    }
}
