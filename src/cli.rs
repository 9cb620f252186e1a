//! The command line. `cases-automation plan`: which rules an event matches and the exact Cases
//! requests they would send, without calling AWS (the tool rule authors use).
//! `cases-automation check`: a rules file checked as the cold start checks it, and against a live
//! domain. `cases-automation schema`: the JSON Schema of the rules file.
//! `cases-automation claims init`: creates the coordination store's table (local use and tests;
//! in AWS the template creates it).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::cases::catalog::Offline;
use crate::config::FALLBACK_IDENTITY;
use crate::identity::validate_identity;
use crate::inbound::{Event, EventKind, Inbound, classify};
use crate::plan::{FilterInput, plan_filter};
use crate::plan::{Skip, plan_rules, select};
use crate::rules::schedule::Selection;
use crate::rules::value::TemplateContext;
use crate::rules::{Rule, RuleSet};

#[derive(Parser)]
#[command(
    name = "cases-automation",
    about = "Amazon Connect events to Amazon Connect Cases writes. Without arguments, runs as a Lambda function."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show which rules an event matches and the Cases requests they would send, without calling AWS.
    Plan {
        /// The event: a contact-flow invocation, an EventBridge event or an SQS batch (JSON).
        #[arg(long)]
        event: PathBuf,
        /// A rules file; default: RULES_FILE, else the shipped default rules.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The automation identity; default: AUTOMATION_IDENTITY, else "cases-automation".
        #[arg(long)]
        identity: Option<String>,
        /// What Amazon Connect would answer about the event's contact, for rules with `contact`
        /// (JSON: `{"attributes": {...}, "description": {...}}`); without it they are planned
        /// with none (no attributes, an empty description).
        #[arg(long)]
        contact: Option<PathBuf>,
        /// For a scheduled sweep: also run its selection against this Cases domain (the SDK's usual
        /// endpoint settings, e.g. AWS_ENDPOINT_URL_CONNECTCASES), showing how many cases match and
        /// the first few. Nothing is written.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Check a rules file: everything the cold start checks, and with --domain, against a live
    /// Cases domain (fields, templates, value types, single-select options, required fields).
    /// Lists every problem; exits non-zero when there is one.
    Check {
        /// The rules file; default: RULES_FILE, else the shipped default rules.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// A Cases domain id to check against (read with ListFields, ListTemplates,
        /// ListFieldOptions, GetTemplate; AWS credentials and region from the environment, the
        /// endpoint from AWS_ENDPOINT_URL_CONNECTCASES when set).
        #[arg(long)]
        domain: Option<String>,
    },
    /// Print the JSON Schema of the rules file (rules/schema.json).
    Schema,
    /// The coordination store (a DynamoDB table, `CLAIMS_TABLE`).
    Claims {
        #[command(subcommand)]
        command: ClaimsCommand,
    },
}

#[derive(Subcommand)]
enum ClaimsCommand {
    /// Create the table with the template's definition (on-demand, TTL on expiresAt, encrypted).
    /// Idempotent. The endpoint comes from AWS_ENDPOINT_URL_DYNAMODB (e.g. a local server).
    Init {
        /// The table name; default: CLAIMS_TABLE.
        #[arg(long)]
        table: Option<String>,
    },
}

/// Runs the command line; `args` includes the program name.
pub async fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let (event, rules, identity, domain, contact) = match cli.command {
        Command::Plan { event, rules, identity, domain, contact } => (event, rules, identity, domain, contact),
        Command::Claims { command: ClaimsCommand::Init { table } } => return claims_init(table).await,
        Command::Check { rules, domain } => return check(rules, domain).await,
        Command::Schema => {
            println!("{}", serde_json::to_string_pretty(&RuleSet::schema()).expect("schemas serialize"));
            return ExitCode::SUCCESS;
        }
    };
    let rules = rules.or_else(|| std::env::var_os("RULES_FILE").map(PathBuf::from));
    let identity = identity.or_else(|| std::env::var("AUTOMATION_IDENTITY").ok()).unwrap_or_else(|| FALLBACK_IDENTITY.into());
    let planned = match plan_command(&event, rules.as_deref(), &identity, contact.as_deref()) {
        Ok((mut report, ok)) => match &domain {
            Some(domain) => preview_sweep(&mut report, domain).await.map(|()| (report, ok)),
            None => Ok((report, ok)),
        },
        Err(message) => Err(message),
    };
    match planned {
        Ok((report, ok)) => {
            println!("{}", serde_json::to_string_pretty(&report).expect("reports serialize"));
            if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn check(rules: Option<PathBuf>, domain: Option<String>) -> ExitCode {
    let rules = rules.or_else(|| std::env::var_os("RULES_FILE").map(PathBuf::from));
    let name = rules.as_ref().map_or_else(|| "the default rules".to_owned(), |p| p.display().to_string());
    let loaded = match crate::live_rules::load(rules.as_deref()) {
        Ok(loaded) => loaded,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    println!("{name} (version {}): {} rules, valid", loaded.version, loaded.rules.len());
    let Some(domain) = domain.filter(|d| !d.trim().is_empty()) else { return ExitCode::SUCCESS };
    let api = crate::cases::sdk::SdkCases::lazy(crate::aws::sdk_config().await, domain.clone());
    match crate::rules_check::check_against_domain(&loaded, &api).await {
        Ok(problems) if problems.is_empty() => {
            println!("against domain {domain}: every field, template, value and required field fits");
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            eprintln!("against domain {domain}, {name} has {} problems:", problems.len());
            for problem in problems {
                eprintln!("  - {problem}");
            }
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: the domain {domain} could not be read: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn claims_init(table: Option<String>) -> ExitCode {
    let Some(table) = table.or_else(|| std::env::var("CLAIMS_TABLE").ok()).filter(|t| !t.trim().is_empty()) else {
        eprintln!("error: no table: pass --table NAME or set CLAIMS_TABLE");
        return ExitCode::from(2);
    };
    let client = aws_sdk_dynamodb::Client::new(&crate::aws::sdk_config().await);
    match crate::claims::dynamodb::create_table(&client, &table).await {
        Ok(()) => {
            println!("claims table {table} is ready");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The plan report and whether the event itself is usable (a failing SQS record does not count).
/// `contact`: a file with what Amazon Connect would answer about the event's contact.
pub fn plan_command(
    event: &std::path::Path,
    rules: Option<&std::path::Path>,
    identity: &str,
    contact: Option<&std::path::Path>,
) -> Result<(Value, bool), String> {
    validate_identity(identity).map_err(|reason| format!("identity `{identity}` is not a valid performedBy.customEntity: {reason}"))?;
    let rules = crate::live_rules::load(rules)?;
    let contact = contact.map(read_contact_file).transpose()?;
    let contact = contact.as_ref();
    let text = std::fs::read_to_string(event).map_err(|e| format!("cannot read event file {}: {e}", event.display()))?;
    let payload: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", event.display()))?;
    let inbound = classify(payload).map_err(|e| format!("{}: {e}", event.display()))?;
    Ok(match inbound {
        Inbound::ContactFlow(event) | Inbound::EventBridge(event) => {
            let (report, ok) = plan_event(&rules, &event, identity, contact);
            let trigger = if event.kind == EventKind::ContactFlow { "contact flow" } else { "EventBridge" };
            (json!({"trigger": trigger, "rulesVersion": rules.version, "event": report}), ok)
        }
        Inbound::SqsBatch(records) => {
            let records: Vec<Value> = records
                .iter()
                .map(|record| match &record.body {
                    Ok(event) => json!({"messageId": record.message_id, "event": plan_event(&rules, event, identity, contact).0}),
                    Err(e) => json!({"messageId": record.message_id, "wouldFail": true, "error": e.0}),
                })
                .collect();
            (json!({"trigger": "SQS", "rulesVersion": rules.version, "records": records}), true)
        }
    })
}

/// A `--contact` file: an object with `attributes` (an object of strings) and/or `description`.
fn read_contact_file(path: &std::path::Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read contact file {}: {e}", path.display()))?;
    let data: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let Value::Object(map) = &data else {
        return Err(format!("{}: expected an object with `attributes` and `description`", path.display()));
    };
    if let Some(key) = map.keys().find(|k| *k != "attributes" && *k != "description") {
        return Err(format!("{}: unknown key `{key}`; the file has `attributes` and `description`", path.display()));
    }
    if let Some(attributes) = map.get("attributes")
        && !attributes.as_object().is_some_and(|a| a.values().all(Value::is_string))
    {
        return Err(format!("{}: `attributes` must be an object of strings, as GetContactAttributes answers", path.display()));
    }
    if map.get("description").is_some_and(|d| !d.is_object()) {
        return Err(format!("{}: `description` must be an object, as DescribeContact's `Contact`", path.display()));
    }
    Ok(data)
}

/// The event as the rules would see it once the contact is read: with what `given` says (or
/// nothing) for each part the matched rules ask for; and the report of the lookups.
fn with_planned_contact(matched: &[&Rule], event: &Event, given: Option<&Value>) -> (Option<Event>, Option<Value>, bool) {
    let wanted = matched.iter().fold(crate::rules::ContactData::default(), |wanted, rule| wanted.union(rule.contact));
    if !wanted.any() {
        return (None, None, true);
    }
    let asking: Vec<&str> = matched.iter().filter(|rule| rule.contact.any()).map(|rule| rule.name.as_str()).collect();
    let contact = match crate::contacts::ContactRef::of(event) {
        Ok(contact) => contact,
        Err(reason) => return (None, Some(json!({"rules": asking, "wouldFail": true, "error": reason})), false),
    };
    let mut data = serde_json::Map::new();
    let part = |name: &str| given.and_then(|g| g.get(name)).cloned().unwrap_or_else(|| json!({}));
    if wanted.attributes {
        data.insert("attributes".into(), part("attributes"));
    }
    if wanted.description {
        data.insert("description".into(), part("description"));
    }
    let report = json!({
        "rules": asking,
        "when": "once per event, before the rules are planned; the answers are at $.contact",
        "requests": crate::contacts::planned_requests(&contact, wanted),
        "plannedWith": if given.is_some() { "the --contact file" } else { "no attributes and an empty description (give what Amazon Connect would answer with --contact FILE)" },
    });
    (Some(crate::contacts::with_contact(event, Value::Object(data))), Some(report), true)
}

/// The Customer Profiles lookup of each `customer` value, as the function would make it.
fn customer_lookups(rules: &RuleSet, rule: &Rule, event: &Event) -> Vec<Value> {
    let context = TemplateContext::new(&event.raw);
    rule.customer_sources()
        .into_iter()
        .map(|source| {
            let (at, customer) = (source.path, source.customer);
            let query = customer.query(&event.raw, rules.templates(), &context);
            let lookup = match (&query.known, query.terms.split_first()) {
                (Some(_), _) => json!({"uses": query.to_string(), "calls": "none: the event names the profile"}),
                (None, None) => json!({"uses": "nothing: the event has no usable customer identifier", "unusable": query.unusable}),
                (None, Some((first, rest))) => {
                    let mut body = json!({"KeyName": first.key_name, "Values": [first.value]});
                    if !rest.is_empty() {
                        body["AdditionalSearchKeys"] =
                            rest.iter().map(|t| json!({"KeyName": t.key_name, "Values": [t.value]})).collect::<Vec<_>>().into();
                        body["LogicalOperator"] = json!("OR");
                    }
                    json!({
                        "operation": "SearchProfiles",
                        "when": "before the first request that needs the customer (results cached for 60 s per instance)",
                        "body": body,
                        "ifNone": format!("{:?}", query.if_none).to_lowercase(),
                        "ifSeveral": format!("{:?}", query.if_several).to_lowercase(),
                        "unusable": query.unusable,
                    })
                }
            };
            json!({"at": at, "lookup": lookup})
        })
        .collect()
}

/// What a schedule's sweep would do: its selection request, and what each work item sends.
fn plan_sweep(rules: &RuleSet, event: &Event, identity: &str) -> (Value, bool) {
    let head = json!({"id": event.key, "kind": "sweep"});
    let sweep = match crate::sweep::request(event).expect("called for sweeps") {
        Ok(sweep) => sweep,
        Err(reason) => return (json!({"about": head, "wouldFail": true, "error": reason}), false),
    };
    let Some(rule) = rules.rules.iter().find(|r| r.name == sweep.rule && r.schedule.is_some()) else {
        return (json!({"about": head, "wouldFail": true, "error": format!("no scheduled rule is named `{}`", sweep.rule)}), false);
    };
    let schedule = rule.schedule.as_ref().expect("found with a schedule");
    let context_value = sweep.context();
    let context = TemplateContext::new(&context_value);
    let selection = match &schedule.select {
        Selection::Cases(filter) => {
            let input = FilterInput {
                rule: &rule.name,
                event: &context_value,
                rules,
                context: &context,
                resolve: &Offline,
                now: sweep.scheduled_time,
            };
            match plan_filter(filter, &input) {
                Ok(filter) => json!({"operation": "SearchCases", "body": crate::sweep::selection_request(filter)}),
                Err(e) => return (json!({"about": head, "wouldFail": true, "error": e.to_string()}), false),
            }
        }
        Selection::Slas { status, name } => {
            let name = name.as_ref().and_then(|n| {
                n.extract_string(&context_value, rules.templates(), &context, crate::rules::value::Limit::IDENTIFIER).ok().flatten()
            });
            json!({"operation": "SearchAllRelatedItems", "body": {"maxResults": 25, "filters": [{"sla": {"status": status.map(|s| s.as_str()), "name": name}}]}})
        }
    };
    let item = sweep.work_item("<each selected case>", &format!("{}/<case>", sweep.id()), "", "", json!({}));
    let item = crate::inbound::eventbridge(item).expect("work items are events");
    let (each, ok) = plan_event(rules, &item, identity, None);
    (
        json!({
            "about": head,
            "sweep": {"rule": rule.name, "sweepId": sweep.id(), "every": schedule.every, "selection": selection,
                      "then": "every selected case (page after page, by creation time) is sent to the work queue (WORK_QUEUE_URL) as a work item; the queue's consumer applies the rule to it, at the Cases quotas"},
            "eachWorkItem": each["rules"],
        }),
        ok,
    )
}

/// Runs a sweep's selection against a domain: how many cases match, and the first few.
async fn preview_sweep(report: &mut Value, domain: &str) -> Result<(), String> {
    use crate::cases::CasesApi;
    let Some(selection) = report.pointer("/event/sweep/selection").cloned() else {
        return Err("--domain previews a scheduled sweep's selection; this event is not a sweep".into());
    };
    let api = crate::cases::sdk::SdkCases::lazy(crate::aws::sdk_config().await, domain);
    let preview = match selection["operation"].as_str() {
        Some("SearchCases") => {
            let filter = report.pointer("/event/sweep/selection/body").cloned().unwrap_or_default();
            let input = crate::sweep::selection_from_json(&filter).ok_or("the selection could not be read back")?;
            let page =
                api.search_cases(&crate::cases::model::SearchCasesInput { max_results: 5, ..input }).await.map_err(|e| e.to_string())?;
            json!({"matching": page.total, "first": page.cases.iter().map(|c| c.case_id.clone()).collect::<Vec<_>>()})
        }
        _ => {
            let filter = &selection["body"]["filters"][0]["sla"];
            let input = crate::cases::model::SearchSlasInput {
                max_results: 25,
                status: filter["status"].as_str().and_then(|s| ["Active", "Overdue", "Met", "NotMet"].into_iter().find(|k| *k == s)),
                name: filter["name"].as_str().map(str::to_owned),
                next_token: None,
            };
            let page = api.search_slas(&input).await.map_err(|e| e.to_string())?;
            json!({"matchingOnFirstPage": page.slas.len(), "more": page.next_token.is_some(),
                   "first": page.slas.iter().take(5).map(|s| json!({"case": s.case_id, "sla": s.name, "status": s.status})).collect::<Vec<_>>()})
        }
    };
    report["event"]["sweep"]["preview"] = preview;
    Ok(())
}

fn plan_event(rules: &RuleSet, event: &Event, identity: &str, contact: Option<&Value>) -> (Value, bool) {
    if crate::sweep::request(event).is_some() {
        return plan_sweep(rules, event, identity);
    }
    let head = json!({"id": event.key, "kind": event.kind.to_string()});
    let matched = match select(rules, event, &rules.identities(identity)) {
        Ok(matched) => matched,
        Err(Skip::SelfCaused { identity }) => {
            return (json!({"about": head, "skipped": format!("caused by this automation (performedBy.customEntity = {identity})")}), true);
        }
        Err(Skip::NoRuleMatches) if event.kind == EventKind::ContactFlow => {
            return (json!({"about": head, "skipped": "no rule matches; a flow would take the Error branch"}), false);
        }
        Err(skip) => return (json!({"about": head, "skipped": skip.reason()}), true),
    };
    let (with_contact, contact_lookups, contact_ok) = with_planned_contact(&matched, event, contact);
    if !contact_ok {
        return (json!({"about": head, "contactLookups": contact_lookups}), false);
    }
    let event = with_contact.as_ref().unwrap_or(event);
    let plans = plan_rules(rules, &matched, event, identity, &Offline);
    let ok = plans.iter().all(Result::is_ok);
    let plans: Vec<Value> = matched
        .iter()
        .zip(plans)
        .map(|(rule, plan)| match plan {
            Ok(plan) => {
                let mut planned = json!({"rule": rule.name, "performedBy": plan.performed_by.custom_entity, "requests": plan.requests()});
                let customers = customer_lookups(rules, rule, event);
                if !customers.is_empty() {
                    planned["customerLookups"] = Value::Array(customers);
                }
                planned
            }
            Err(e) => json!({"rule": rule.name, "wouldFail": true, "error": e.to_string()}),
        })
        .collect();
    let mut report = json!({
        "about": head,
        "note": "fields and templates named by name are resolved to ids at run time (ListFields, ListTemplates), and every write is checked against the domain (field types, single-select options, template required fields) before the first is sent",
        "rules": plans,
    });
    if let Some(lookups) = contact_lookups {
        report["contactLookups"] = lookups;
    }
    (report, ok)
}
