//! Privacy (SPEC §4): INFO logs carry ids and outcomes, never phone numbers, e-mail addresses or
//! comment text; error messages describe values instead of echoing them — including the messages
//! the Cases service sends back, which may quote what it was given.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use cases_automation::cases::catalog::Offline;
use cases_automation::inbound::{Inbound, classify};
use cases_automation::plan::{PlanInput, plan_rule};
use cases_automation::rules::RuleSet;
use cases_automation::rules::value::TemplateContext;
use cases_emulator::{Emulator, ErrorKind, Fault, Seed};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{Value, json};
use support::lambda::{sample, samples, spawn_function, stop_and_collect_logs};
use support::readback;
use support::runtime_api::{Answer, RuntimeApi};

/// The timeout of every invocation.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Keys whose values are personal or free text in the samples (names, notes, reasons, task
/// descriptions), besides anything shaped like a phone number or an e-mail address.
const FREE_TEXT_KEYS: &[&str] = &["note", "reason", "Description", "customerName", "customerEmail", "Name"];

/// Every phone number, e-mail address and free text in `value`, SQS bodies included.
fn personal_data(value: &Value, key: Option<&str>, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            let phone = s.starts_with('+') && s.len() >= 8 && s[1..].chars().all(|c| c.is_ascii_digit());
            let email = s.contains('@') && s.contains('.') && !s.contains(' ');
            let free_text = key.is_some_and(|k| FREE_TEXT_KEYS.contains(&k)) && s != "ContactFlowEvent";
            if phone || email || free_text {
                out.insert(s.clone());
            }
            if key == Some("body")
                && let Ok(inner) = serde_json::from_str::<Value>(s)
            {
                personal_data(&inner, None, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| personal_data(v, key, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| personal_data(v, Some(k), out)),
        _ => {}
    }
}

/// Events that fail, each carrying personal data where the failure is.
fn bad_events() -> Vec<(&'static str, Value)> {
    let phone = "+12065550199";
    let email = "jordan.rivera@example.com";
    let mut bad = Vec::new();

    // A value the rule needs is missing.
    let mut e = sample("custom-order-delayed.json");
    e["id"] = json!("bad-missing");
    e["detail"].as_object_mut().unwrap().remove("newPromisedBy");
    e["detail"]["reason"] = json!(format!("call me at {phone}"));
    bad.push(("a missing value", e));

    // A phone number where a Customer Profiles ARN belongs: the service refuses it (and quotes it).
    let mut e = sample("custom-order-delayed.json");
    e["id"] = json!("bad-customer");
    e["detail"]["customerProfileArn"] = json!(phone);
    e["detail"]["orderNumber"] = json!("ORD-BAD-1");
    bad.push(("a phone number as the customer", e));

    // An e-mail address as a single-select option: refused by the service, which quotes it.
    let mut e = sample("custom-order-delayed.json");
    e["id"] = json!("bad-priority");
    e["detail"]["priority"] = json!(email);
    e["detail"]["orderNumber"] = json!("ORD-BAD-2");
    bad.push(("an e-mail address as the priority", e));

    // A phone number as a date.
    let mut e = sample("custom-order-delayed.json");
    e["id"] = json!("bad-date");
    e["detail"]["newPromisedBy"] = json!(phone);
    e["detail"]["orderNumber"] = json!("ORD-BAD-3");
    bad.push(("a phone number as a date", e));

    // An e-mail address as a number.
    let mut e = sample("custom-order-priority-changed.json");
    e["id"] = json!("bad-total");
    e["detail"]["orderTotal"] = json!(email);
    bad.push(("an e-mail address as a number", e));

    // Personal data where the contact-flow parser expects structure.
    let mut e = sample("flow-voice-open-case.json");
    e["Details"]["ContactData"] = json!(phone);
    bad.push(("a phone number as ContactData", e));
    let mut e = sample("flow-voice-open-case.json");
    e["Details"]["ContactData"]["ContactId"] = json!({"email": email});
    bad.push(("an e-mail address in the ContactId", e));

    // A note longer than a comment may be.
    let mut e = sample("flow-task-nested-params.json");
    e["Details"]["ContactData"]["ContactId"] = json!("bad-note");
    e["Details"]["Parameters"]["note"] = json!(format!("{phone} {}", "x".repeat(15_000)));
    bad.push(("a note too long", e));

    // SQS records with personal data where ids and bodies belong.
    bad.push((
        "SQS records with personal data in the wrong places",
        json!({"Records": [
            {"messageId": "m-1", "eventSource": "aws:sqs", "body": phone},
            {"messageId": "m-2", "eventSource": "aws:sqs", "body": json!({"id": email, "source": 1, "detail-type": "x", "detail": {}}).to_string()},
            {"messageId": "m-3", "eventSource": "aws:sqs", "body": json!({"id": "e", "source": "s", "detail-type": "t", "detail": phone}).to_string()},
        ]}),
    ));
    bad.push((
        "an SQS record whose id is a phone number",
        json!({"Records": [{"messageId": 12065550199u64, "eventSource": "aws:sqs", "body": "{}"}]}),
    ));
    bad.push((
        "an SQS record whose body is an object",
        json!({"Records": [{"messageId": "m", "eventSource": "aws:sqs", "body": {"email": email}}]}),
    ));
    bad
}

/// The compiled binary, as Lambda runs it with JSON logs at INFO, handles every sample in
/// `events/` (and the change events its writes cause) and a set of failing events against the
/// local Cases service. Neither its logs nor its error answers contain a phone number, an e-mail
/// address, a note, a reason or a comment body.
#[tokio::test]
async fn info_logs_and_errors_carry_no_phone_number_email_address_or_comment_text() {
    let service = Emulator::builder().seed(Seed::demo()).start().await.unwrap();
    let client = support::cases_service::client(&service);
    let runtime = RuntimeApi::start().await;
    let child = spawn_function(&runtime, &service.endpoint_url(), &[]);

    let mut secrets = BTreeSet::new();
    let mut answers = Vec::new();
    let mut invoke = |payload: Value| {
        personal_data(&payload, None, &mut secrets);
        runtime.invoke(payload, TIMEOUT)
    };
    let mut sent = 0;
    for (_, payload) in samples() {
        invoke(payload);
        sent += 1;
    }
    for (_, payload) in bad_events() {
        invoke(payload);
        sent += 1;
    }
    for _ in 0..sent {
        answers.push(runtime.answer_within(TIMEOUT).await.expect("an answer").1);
    }
    // The change events the writes caused, fed back as EventBridge would.
    let echoes = service.events();
    assert!(!echoes.is_empty());
    for event in &echoes {
        runtime.invoke(event.clone(), TIMEOUT);
    }
    for _ in &echoes {
        answers.push(runtime.answer_within(TIMEOUT).await.expect("an answer").1);
    }
    let logs = stop_and_collect_logs(child).await;

    // What was written: every comment body is free text too.
    for case in readback::all_cases(&client).await {
        secrets.extend(readback::comments(&client, &case).await);
    }
    secrets.extend(["+12065550199".to_owned(), "jordan.rivera@example.com".to_owned()]);
    assert!(secrets.len() >= 10, "{secrets:#?}");

    let errors: Vec<&Answer> = answers.iter().filter(|a| matches!(a, Answer::Error { .. })).collect();
    assert!(errors.len() >= 8, "the bad events failed: {answers:#?}");
    let answered = format!("{answers:?}");
    let mut leaks = Vec::new();
    for secret in &secrets {
        if logs.contains(secret.as_str()) {
            leaks.push(format!("in the logs: {secret:?}"));
        }
        if errors.iter().any(|e| format!("{e:?}").contains(secret.as_str())) {
            leaks.push(format!("in an error: {secret:?}"));
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}\n--- logs ---\n{logs}\n--- answers ---\n{answered}");

    // The logs are not empty of meaning: JSON lines with event ids, kinds, outcomes.
    let lines: Vec<Value> = logs.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("JSON logs")).collect();
    let text = |line: &Value, key: &str| line.pointer(&format!("/fields/{key}")).or_else(|| line.get(key)).cloned();
    assert!(lines.iter().any(|l| text(l, "message") == Some(json!("event handled"))), "{logs}");
    assert!(lines.iter().any(|l| text(l, "event") == Some(json!("e0826073-2e99-4a6e-b5c6-b35d6a5e3357"))), "event ids are logged");
    assert!(lines.iter().any(|l| text(l, "message") == Some(json!("event failed"))), "{logs}");
    assert!(lines.iter().any(|l| text(l, "message") == Some(json!("skipping a change this automation made"))), "{logs}");
}

/// The log levels `template.yaml` lets a deployer choose (`LogLevel`, which Lambda passes as
/// `AWS_LAMBDA_LOG_LEVEL`).
fn template_log_levels() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    let template: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let allowed = &template["Parameters"]["LogLevel"]["AllowedValues"];
    allowed.as_sequence().expect("LogLevel has AllowedValues").iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// At every level the template offers, the compiled binary's logs (its own and those of the
/// libraries it runs on: the AWS SDK logs error responses at DEBUG and request and response bodies
/// at TRACE) carry no phone number, e-mail address, note or comment text, over a note the service
/// refuses quoting it, a flow that finds a customer by phone and opens a case, and an abandoned
/// call. The environment is Lambda's: `AWS_LAMBDA_LOG_LEVEL` set, `RUST_LOG` empty.
#[tokio::test]
async fn no_log_level_the_template_offers_logs_personal_data() {
    let levels = template_log_levels();
    assert!(levels.iter().any(|l| l == "INFO"), "{levels:?}");
    let text = "Call back Jordan O'Brien at +12065550142 or jordan.obrien@example.com";
    for level in levels {
        let service = Emulator::builder().seed(Seed::demo()).start().await.unwrap();
        let client = support::cases_service::client(&service);
        // The service refuses the note quoting it, as validation messages do.
        let quoting = format!("1 validation error detected: Value '{text}' at 'content.comment.body' failed to satisfy constraint");
        service.inject_fault(Fault::error("CreateRelatedItem", ErrorKind::ValidationException, 1).with_message(quoting));
        let runtime = RuntimeApi::start().await;
        let environment = [("AWS_LAMBDA_LOG_LEVEL", level.as_str()), ("RUST_LOG", "")];
        let mut child = spawn_function(&runtime, &service.endpoint_url(), &environment);
        // Read as it is written: TRACE logs would fill the pipe and stall the function.
        let drain = |pipe: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>| {
            tokio::spawn(async move {
                let mut text = String::new();
                if let Some(mut pipe) = pipe {
                    let mut bytes = Vec::new();
                    let _ = tokio::io::AsyncReadExt::read_to_end(&mut pipe, &mut bytes).await;
                    text = String::from_utf8_lossy(&bytes).into_owned();
                }
                text
            })
        };
        let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Send + Unpin>));
        let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Send + Unpin>));

        let mut note = sample("flow-task-nested-params.json");
        note["Details"]["Parameters"]["note"] = json!(text);
        let mut without_profile = sample("flow-voice-open-case.json");
        without_profile["Details"]["Parameters"].as_object_mut().unwrap().remove("customerProfileArn");
        without_profile["Details"]["ContactData"]["Attributes"].as_object_mut().unwrap().remove("customerProfileArn");
        let mut secrets = BTreeSet::from([text.to_owned(), "+12065550142".to_owned(), "jordan.obrien@example.com".to_owned()]);
        let payloads = [note, without_profile, sample("contact-disconnected-abandoned.json")];
        for payload in &payloads {
            personal_data(payload, None, &mut secrets);
            runtime.invoke(payload.clone(), TIMEOUT);
        }
        let mut answers = Vec::new();
        for _ in &payloads {
            answers.push(runtime.answer_within(TIMEOUT).await.expect("an answer").1);
        }
        child.kill().await.expect("the function stops");
        let logs = format!("{}{}", stdout.await.unwrap(), stderr.await.unwrap());
        for case in readback::all_cases(&client).await {
            secrets.extend(readback::comments(&client, &case).await);
        }
        assert!(
            matches!(&answers[0], Answer::Error { error_type, .. } if error_type == "Permanent.ValidationException"),
            "{level}: the service refused the note: {answers:?}"
        );
        assert!(answers[1..].iter().all(|a| matches!(a, Answer::Response(_))), "{level}: {answers:?}");

        let leaks: Vec<&String> = secrets.iter().filter(|secret| logs.contains(secret.as_str())).collect();
        assert!(leaks.is_empty(), "{level}: {leaks:#?}\n--- logs ---\n{logs}");
        let own_debug = logs.contains("\"invocation\"") || logs.contains(" invocation");
        assert_eq!(own_debug, level == "DEBUG" || level == "TRACE", "{level}: the function's own DEBUG logs follow the level\n{logs}");
    }
}

/// Contact attributes and descriptions can hold personal data (names, e-mail addresses, phone
/// numbers): read from Amazon Connect, they are in neither the logs (at DEBUG, the most detailed
/// level that keeps the libraries at INFO) nor the errors, when a rule uses them well or badly.
#[tokio::test]
async fn contact_attributes_and_descriptions_reach_neither_logs_nor_errors() {
    let service = Emulator::builder().seed(Seed::demo()).start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("cases-automation-privacy-contact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        r#"
rules:
  - name: chat-summary
    match: { Name: [ContactFlowEvent] }
    contact: { attributes: true, description: true }
    case:
      create:
        template: General inquiry
        fields:
          title: "Chat about {{ contact.attributes.chatTopic }}"
          customer_id: arn:aws:profile:us-east-1:123456789012:domains/demo-profiles/profiles/5966eb44e0c6774455113dc30e9a8df5
          Order total: $.contact.attributes.customerName
  - name: phone-on-case
    match: { source: [aws.connect] }
    contact: { attributes: true, description: true }
    case:
      create:
        template: Callback request
        fields:
          title: Call back
          customer_id: arn:aws:profile:us-east-1:123456789012:domains/demo-profiles/profiles/f768064f958507ad239eed24c2c063fe
          Customer phone: $.contact.description.CustomerEndpoint.Address
          Order number: $.contact.attributes.orderNumber
"#,
    )
    .unwrap();
    let runtime = RuntimeApi::start().await;
    let environment = [("RULES_FILE", rules.to_str().unwrap()), ("RUST_LOG", "debug")];
    let child = spawn_function(&runtime, &service.endpoint_url(), &environment);
    runtime.invoke(sample("flow-chat-null-endpoint.json"), TIMEOUT);
    runtime.invoke(sample("contact-updated-attributes.json"), TIMEOUT);
    let answers = [runtime.answer_within(TIMEOUT).await.expect("an answer").1, runtime.answer_within(TIMEOUT).await.expect("an answer").1];
    let logs = stop_and_collect_logs(child).await;
    std::fs::remove_dir_all(&dir).ok();

    let failed = answers.iter().find_map(|a| match a {
        Answer::Error { error_type, message } => Some((error_type.clone(), message.clone())),
        _ => None,
    });
    let (error_type, message) = failed.expect("the chat's name is not a number");
    assert_eq!(error_type, "Permanent.RuleDoesNotFitEvent", "{message}");
    assert!(message.contains("Order total"), "{message}");
    assert!(answers.iter().any(|a| matches!(a, Answer::Response(r) if r["outcome"] == "applied")), "{answers:?}");
    assert_eq!(service.call_count("GetContactAttributes"), 2);
    assert!(logs.contains("read the contact"), "the function's DEBUG line, with ids and counts: {logs}");
    let secrets = ["Jordan Rivera", "jordan.rivera@example.com", "+12065550123", "billing_dispute"];
    let answered = format!("{answers:?}");
    for secret in secrets {
        assert!(!logs.contains(secret), "in the logs: {secret}\n{logs}");
        assert!(!answered.contains(secret), "in an answer: {secret}\n{answered}");
    }
}

// ---------------------------------------------------------------------------------------------
// Error messages never echo values (property)
// ---------------------------------------------------------------------------------------------

const MARKERS: &[&str] = &["+15550100999", "pat.doe@example.org", "Confidential note 7731"];

/// Slots whose values are identifiers that errors name on purpose (the event, the contact, the record).
const ID_KEYS: &[&str] = &["id", "ContactId", "messageId", "InstanceARN", "instanceArn", "contactId"];

/// Every node of `value` but the root and the identifiers, as JSON pointers.
fn slots(value: &Value, at: String, out: &mut Vec<String>) {
    let mut visit = |child: String, v: &Value| {
        out.push(child.clone());
        slots(v, child, out);
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter().filter(|(k, _)| !ID_KEYS.contains(&k.as_str())) {
                visit(format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), v);
            }
        }
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| visit(format!("{at}/{i}"), v)),
        _ => {}
    }
}

fn bases() -> Vec<Value> {
    let mut bases: Vec<Value> = samples().into_iter().map(|(_, v)| v).collect();
    for record in sample("sqs-batch.json")["Records"].as_array().unwrap() {
        if let Ok(event) = serde_json::from_str::<Value>(record["body"].as_str().unwrap()) {
            bases.push(event);
        }
    }
    bases
}

/// Rules that put event values into tags, custom items, kept comments and links, beside the
/// default rules: their errors must not echo those values either.
const NEWER_ACTIONS: &str = r#"
rules:
  - name: everything-newer
    match: { source: [{ exists: true }] }
    case:
      find: [ { id: $.detail.caseId } ]
      create:
        template: Order issue
        fields: { title: "{{ detail.reason }}", customer_id: $.detail.customerProfileArn }
        tags: { Reason: $.detail.reason, "{{ detail.priority }}": $.detail.orderNumber }
    actions:
      - custom: { fields: { Order total: $.detail.orderTotal, Priority: $.detail.priority } }
      - comment: { body: "{{ detail.reason }}", mode: keep-one, key: $.detail.orderNumber }
      - linkCase: { caseId: $.detail.parentCase }
      - linkCase: { find: [ { search: { fields: { Order number: $.detail.reason } } } ] }
"#;

/// Every error the classifier and the planner can give for `payload`.
fn error_messages(payload: Value) -> Vec<String> {
    let rules = RuleSet::default_rules();
    let newer = RuleSet::from_yaml(NEWER_ACTIONS, "newer actions").unwrap();
    let mut messages = Vec::new();
    let events = match classify(payload) {
        Err(e) => {
            messages.push(e.0);
            vec![]
        }
        Ok(Inbound::ContactFlow(e) | Inbound::EventBridge(e)) => vec![e],
        Ok(Inbound::SqsBatch(records)) => records
            .into_iter()
            .filter_map(|r| match r.body {
                Ok(e) => Some(e),
                Err(e) => {
                    messages.push(e.0);
                    None
                }
            })
            .collect(),
    };
    for event in events {
        let context = TemplateContext::new(&event.raw);
        let input = PlanInput { rules: &rules, event: &event, context: &context, identity: "cases-automation", resolve: &Offline };
        for rule in rules.matching(&event.raw) {
            if let Err(e) = plan_rule(rule, &input) {
                messages.push(e.to_string());
            }
        }
        let input = PlanInput { rules: &newer, ..input };
        for rule in newer.matching(&event.raw) {
            if let Err(e) = plan_rule(rule, &input) {
                messages.push(e.to_string());
            }
        }
    }
    messages
}

fn proptest_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Personal data put anywhere in a sample, in place of any value or structure (as a string,
    /// inside a list or an object, in an oversized text), usually making the event invalid around
    /// it: no error message of the classifier or the planner contains it.
    #[test]
    fn errors_describe_values_instead_of_echoing_them(
        base in any::<usize>(),
        slot in any::<usize>(),
        marker in proptest::sample::select(MARKERS),
        shape in 0..5usize,
        as_sqs in any::<bool>(),
    ) {
        let bases = bases();
        let mut payload = bases[base % bases.len()].clone();
        let mut places = Vec::new();
        slots(&payload, String::new(), &mut places);
        let pointer = &places[slot % places.len()];
        let value = match shape {
            0 => json!(marker),
            1 => json!([marker]),
            2 => json!({"value": marker}),
            3 => json!(format!("{marker} {}", "x".repeat(15_000))),
            _ => json!({"nested": [{"deeper": marker}]}),
        };
        *payload.pointer_mut(pointer).unwrap() = value;
        if as_sqs && payload.get("detail").is_some() {
            payload = json!({"Records": [{"messageId": "m", "eventSource": "aws:sqs", "body": payload.to_string()}]});
        }
        for message in error_messages(payload) {
            prop_assert!(!message.contains(marker), "{} echoed in: {}", marker, message);
        }
    }
}
