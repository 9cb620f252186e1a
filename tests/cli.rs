//! `cases-automation plan`: every sample event, and the errors a rule author meets.

use std::process::{Command, Output};

use serde_json::Value;

fn plan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cases-automation")).arg("plan").args(args).env_remove("RULES_FILE").output().unwrap()
}

fn operations(rule: &Value) -> Vec<&str> {
    rule["requests"].as_array().unwrap().iter().map(|r| r["operation"].as_str().unwrap()).collect()
}

#[test]
fn every_sample_event_plans_without_aws() {
    let dir = format!("{}/events", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let output = plan(&["--event", path.to_str().unwrap()]);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report["rulesVersion"], cases_automation::rules::RuleSet::default_rules().version.as_str(), "{name}");
        match name.as_str() {
            "flow-voice-open-case.json" => {
                let rule = &report["event"]["rules"][0];
                assert_eq!(rule["rule"], "flow-open-case");
                assert_eq!(
                    operations(rule),
                    ["SearchCases", "CreateCase", "SearchRelatedItems", "CreateRelatedItem"],
                    "what the function sends: the link is looked for, then created"
                );
                let create = &rule["requests"][1]["body"];
                assert_eq!(create["performedBy"]["customEntity"], "cases-automation");
                assert_eq!(create["clientToken"].as_str().unwrap().len(), 64);
                assert_eq!(create["templateId"], "General inquiry", "names are shown as written");
            }
            "contact-disconnected-abandoned.json" => {
                let lookup = &report["event"]["rules"][0]["customerLookups"][0];
                assert_eq!(lookup["at"], "case.create.fields.customer_id");
                assert_eq!(lookup["lookup"]["operation"], "SearchProfiles");
                assert_eq!(lookup["lookup"]["body"]["KeyName"], "_phone");
                assert_eq!(lookup["lookup"]["body"]["Values"][0], "+12065550147", "in E.164");
            }
            "flow-chat-null-endpoint.json" => {
                let lookup = &report["event"]["rules"][0]["customerLookups"][0]["lookup"];
                assert_eq!(lookup["calls"], "none: the event names the profile", "{report}");
            }
            "cases-case-updated-by-automation.json" => {
                assert!(report["event"]["skipped"].as_str().unwrap().starts_with("caused by this automation"), "{report}")
            }
            "contact-connected-to-agent.json" => assert_eq!(report["event"]["skipped"], "no rule matches"),
            "contact-updated-attributes.json" => {
                let lookups = &report["event"]["contactLookups"];
                assert_eq!(lookups["rules"], serde_json::json!(["contact-order-number"]), "{report}");
                let requests = lookups["requests"].as_array().unwrap();
                assert_eq!(requests.len(), 1, "only the attributes are asked for: {report}");
                assert_eq!(requests[0]["operation"], "GetContactAttributes");
                assert_eq!(requests[0]["InstanceId"], "a1b2c3d4-1111-4222-8333-444455556666");
                assert_eq!(requests[0]["InitialContactId"], "33393138-3701-403f-b745-3614dba55617");
                assert_eq!(operations(&report["event"]["rules"][0]), ["ListCasesForContact"], "no attributes given: no update to send");
            }
            "schedule-auto-close.json" => {
                let sweep = &report["event"]["sweep"];
                assert_eq!(sweep["rule"], "auto-close-idle-cases");
                assert_eq!(sweep["selection"]["operation"], "SearchCases");
                let conditions = sweep["selection"]["body"]["filter"]["andAll"].as_array().unwrap();
                assert_eq!(
                    conditions[1]["field"]["lessThan"]["value"]["stringValue"], "2026-12-01T02:00:00Z",
                    "14 days before the scheduled time (the schedule's idleDays): {sweep}"
                );
                let each: Vec<&str> = operations(&report["event"]["eachWorkItem"][0]);
                assert!(each.contains(&"UpdateCase"), "{report}");
            }
            "sqs-batch.json" => {
                let records = report["records"].as_array().unwrap();
                assert_eq!(records.len(), 3);
                assert_eq!(records.iter().filter(|r| r["wouldFail"] == true).count(), 1, "{report}");
            }
            _ => assert!(!report["event"]["rules"].as_array().unwrap().is_empty(), "{name}: {report}"),
        }
    }
}

#[test]
fn the_identity_shows_in_every_write_and_is_checked() {
    let event = format!("{}/events/custom-order-delayed.json", env!("CARGO_MANIFEST_DIR"));
    let output = plan(&["--event", &event, "--identity", "erp-bridge"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    for request in report["event"]["rules"][0]["requests"].as_array().unwrap() {
        if ["CreateCase", "UpdateCase", "CreateRelatedItem"].contains(&request["operation"].as_str().unwrap()) {
            assert_eq!(request["body"]["performedBy"]["customEntity"], "erp-bridge", "{request}");
        }
    }
    let output = plan(&["--event", &event, "--identity", "ends with a space "]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("must not end with a space"));
}

#[test]
fn bad_events_and_rules_exit_non_zero_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("cases-automation-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let event = dir.join("event.json");
    std::fs::write(&event, r#"{"hello": "world"}"#).unwrap();
    let output = plan(&["--event", event.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unrecognised payload"));

    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, "rules:\n  - name: x\n    match: { source: [a] }\n    case: { find: [] }\n").unwrap();
    let sample = format!("{}/events/custom-order-delayed.json", env!("CARGO_MANIFEST_DIR"));
    let output = plan(&["--event", &sample, "--rules", rules.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("rule `x`, at `case`"), "{stderr}");

    // An event the rule cannot be applied to: the report says why, and the exit code is non-zero.
    let mut broken: Value = serde_json::from_str(&std::fs::read_to_string(&sample).unwrap()).unwrap();
    broken["detail"].as_object_mut().unwrap().remove("orderNumber");
    std::fs::write(&event, broken.to_string()).unwrap();
    let output = plan(&["--event", event.to_str().unwrap()]);
    assert!(!output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["event"]["rules"][0]["error"].as_str().unwrap().contains("orderNumber"), "{report}");
}

/// `plan --domain` runs a sweep's selection against a domain (here the local service): how many
/// cases match and the first few, with nothing written.
#[tokio::test]
async fn plan_shows_what_a_sweep_would_select_in_a_domain_and_writes_nothing() {
    let service = cases_emulator::Emulator::builder().seed(cases_emulator::Seed::demo()).start().await.unwrap();
    service.advance_clock(std::time::Duration::from_secs(30 * 86_400));
    let event = format!("{}/events/schedule-auto-close.json", env!("CARGO_MANIFEST_DIR"));
    let mut sample: Value = serde_json::from_str(&std::fs::read_to_string(&event).unwrap()).unwrap();
    let now = service.now().format(&time::format_description::well_known::Rfc3339).unwrap();
    sample["sweep"]["scheduledTime"] = Value::String(now);
    let path = std::env::temp_dir().join(format!("sweep-{}.json", std::process::id()));
    std::fs::write(&path, sample.to_string()).unwrap();
    let writes = service.writes();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_cases-automation"))
        .args(["plan", "--event", path.to_str().unwrap(), "--domain", "demo-domain"])
        .env_remove("RULES_FILE")
        .env("AWS_ENDPOINT_URL_CONNECTCASES", service.endpoint_url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let preview = &report["event"]["sweep"]["preview"];
    let is_open = |c: &&cases_emulator::state::model::Case| {
        c.fields.get("status").is_none_or(|v| matches!(v, cases_emulator::state::model::Value::String(s) if s == "open"))
    };
    let seeded_open = service.state().domains[0].cases.values().filter(is_open).count() as u64;
    assert!(seeded_open > 0, "the demo seed has open cases");
    assert_eq!(preview["matching"].as_u64(), Some(seeded_open), "every open seeded case is idle a month later: {preview}");
    assert!(!preview["first"].as_array().unwrap().is_empty());
    assert_eq!(service.writes(), writes, "plan writes nothing");
}

/// `--contact FILE` plans the rules with what Amazon Connect would answer about the contact; a
/// malformed file is refused with the reason.
#[test]
fn plan_takes_what_amazon_connect_would_answer_about_the_contact() {
    let event = concat!(env!("CARGO_MANIFEST_DIR"), "/events/contact-updated-attributes.json");
    let dir = std::env::temp_dir().join(format!("cases-automation-plan-contact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let contact = dir.join("contact.json");
    std::fs::write(&contact, r#"{"attributes": {"orderNumber": "ORD-1"}}"#).unwrap();
    let output = plan(&["--event", event, "--contact", contact.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["event"]["contactLookups"]["plannedWith"], "the --contact file");
    let rule = &report["event"]["rules"][0];
    assert_eq!(operations(rule), ["ListCasesForContact", "UpdateCase"], "{report}");
    assert_eq!(rule["requests"][1]["body"]["fields"], serde_json::json!([{"id": "Order number", "value": {"stringValue": "ORD-1"}}]));

    std::fs::write(&contact, r#"{"attributes": {"orderNumber": 7}}"#).unwrap();
    let output = plan(&["--event", event, "--contact", contact.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("`attributes` must be an object of strings"), "{output:?}");
}
