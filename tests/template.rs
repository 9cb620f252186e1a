//! `template.yaml` (the SAM template users deploy) against the code, so the two cannot drift:
//! - the environment it sets is exactly what `src/config.rs` reads, with the same required-ness
//!   and the same ranges;
//! - its IAM policy grants the Cases actions the code calls and nothing more, on the one domain;
//!   and the Customer Profiles actions the code calls, on the one profiles domain, only when a
//!   profiles domain is given (CreateProfile only when profile creation is allowed);
//! - no event can be dropped silently: every rule has a retry policy and a dead-letter queue, the
//!   function has an on-failure destination, the SQS source reports partial batch failures with
//!   bounded concurrency and a long enough visibility timeout, and every dead-letter queue has an
//!   alarm.
//!
//! The template uses CloudFormation's short tags (`!Ref`, `!Sub`, `!GetAtt`, `!If`, ...);
//! `serde_norway` reads them as tagged values, which [`cfn_json`] turns into the long form
//! (`{"Ref": ..}`, `{"Fn::Sub": ..}`) that CloudFormation itself uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use cases_automation::config::{Config, ENVIRONMENT};
use cases_automation::identity::validate_identity;
use cases_automation::rules::RuleSet;
use cases_automation::rules::pattern::Pattern;
use serde_json::{Map, Value, json};

/// The Cases API actions the function calls (`src/cases/sdk.rs`). The template must grant exactly
/// these (no DeleteRelatedItem: nothing is created twice, so nothing is removed).
const CASES_ACTIONS: &[&str] = &[
    "cases:SearchCases",
    "cases:ListCasesForContact",
    "cases:GetCase",
    "cases:CreateCase",
    "cases:UpdateCase",
    "cases:SearchRelatedItems",
    "cases:SearchAllRelatedItems",
    "cases:CreateRelatedItem",
    "cases:UpdateRelatedItem",
    "cases:ListFields",
    "cases:ListTemplates",
    "cases:ListFieldOptions",
    "cases:GetTemplate",
    // Not called: CreateCase with tags authorizes it too (Service Authorization Reference, the
    // table of API operations of Amazon Connect Cases).
    "cases:TagResource",
];

/// The other actions the execution role may have: reading and linking a contact
/// (`CONNECT_ACTIONS`), writing its logs, sending to its failure queue and reading its buffer queue, and
/// using the queues' customer-managed key when one is given.
const OTHER_ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "appconfig:StartConfigurationSession",
    "appconfig:GetLatestConfiguration",
    "cloudwatch:DescribeAlarms",
];

/// The Amazon Connect actions, on the instance's contacts: DescribeContact (CreateRelatedItem with
/// a contact needs it on the contact's ARN, per the CreateRelatedItem API reference; a rule with
/// `contact: {description: true}` calls it) and GetContactAttributes (`contact: {attributes:
/// true}`), both of the `contact` resource type (`src/contacts/sdk.rs`).
const CONNECT_ACTIONS: &[&str] = &["connect:DescribeContact", "connect:GetContactAttributes"];

/// The DynamoDB actions of the coordination store (`src/claims/dynamodb.rs`; TransactWriteItems
/// has no action of its own: it is authorized as the PutItem and UpdateItem it holds, per the
/// DynamoDB guide, "Using IAM with DynamoDB transactions").
const CLAIMS_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"];

/// The Customer Profiles actions the function calls (`src/customers/sdk.rs`), on the profiles
/// domain of `ProfilesDomainName`. The template must grant exactly these, and only when that
/// parameter is not empty; CreateProfile only when `AllowProfileCreation` is true.
const PROFILE_ACTIONS: &[&str] = &["profile:SearchProfiles", "profile:CreateProfile"];

/// The one resource of the Customer Profiles actions: both authorize against the `domains`
/// resource type, `arn:${Partition}:profile:${Region}:${Account}:domains/${DomainName}`
/// (Service Authorization Reference, Amazon Connect Customer Profiles).
const PROFILES_DOMAIN_ARN: &str = "arn:${AWS::Partition}:profile:${AWS::Region}:${AWS::AccountId}:domains/${ProfilesDomainName}";

/// Actions that may be granted on `Resource: "*"` because the Service Authorization Reference
/// lists no resource type for them. None: every action above supports resource-level
/// permissions (Amazon Connect Cases: Domain, Case, Field, Template, RelatedItem resource types;
/// Customer Profiles: the `domains` resource type; connect:DescribeContact: the `contact`
/// resource type; logs and sqs: log-group and queue).
const NO_RESOURCE_LEVEL_ACTIONS: &[&str] = &["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

/// Every Amazon Connect Cases operation, as the Rust SDK names its fluent calls. The source scan
/// below maps each call found in `src/` to the action it needs.
const CASES_OPERATIONS: &[&str] = &[
    "batch_get_case_rule",
    "batch_get_field",
    "batch_put_field_options",
    "create_case",
    "create_case_rule",
    "create_domain",
    "create_field",
    "create_layout",
    "create_related_item",
    "create_template",
    "delete_case",
    "delete_case_rule",
    "delete_domain",
    "delete_field",
    "delete_layout",
    "delete_related_item",
    "delete_template",
    "get_case",
    "get_case_audit_events",
    "get_case_event_configuration",
    "get_domain",
    "get_layout",
    "get_template",
    "list_case_rules",
    "list_cases_for_contact",
    "list_domains",
    "list_field_options",
    "list_fields",
    "list_layouts",
    "list_tags_for_resource",
    "list_templates",
    "put_case_event_configuration",
    "search_all_related_items",
    "search_cases",
    "search_related_items",
    "tag_resource",
    "untag_resource",
    "update_case",
    "update_case_rule",
    "update_field",
    "update_layout",
    "update_related_item",
    "update_template",
];

/// Every Amazon Connect Customer Profiles operation, as the Rust SDK names its fluent calls
/// (aws-sdk-customerprofiles 1.136, `src/operation/`). The source scan maps each call found in a
/// file of `src/` that uses that SDK to the action it needs.
const PROFILES_OPERATIONS: &str = "\
    add_profile_key associate_stream_for_segments batch_get_calculated_attribute_for_profile batch_get_profile \
    batch_put_profile_object create_calculated_attribute_definition create_domain create_domain_layout create_event_stream \
    create_event_trigger create_integration_workflow create_profile create_recommender create_recommender_filter \
    create_recommender_schema create_segment_definition create_segment_estimate create_segment_snapshot create_upload_job \
    delete_calculated_attribute_definition delete_domain delete_domain_layout delete_domain_object_type delete_event_stream \
    delete_event_trigger delete_integration delete_profile delete_profile_key delete_profile_object delete_profile_object_type \
    delete_recommender delete_recommender_filter delete_recommender_schema delete_segment_definition \
    delete_segment_subscription delete_workflow detect_profile_object_type disassociate_stream_for_segments \
    get_auto_merging_preview get_calculated_attribute_definition get_calculated_attribute_for_profile get_domain \
    get_domain_layout get_domain_object_type get_event_stream get_event_trigger get_identity_resolution_job get_integration \
    get_matches get_object_type_attribute_statistics get_profile_history_record get_profile_object_type \
    get_profile_object_type_template get_profile_recommendations get_recommender get_recommender_filter \
    get_recommender_schema get_segment_definition get_segment_estimate get_segment_membership get_segment_snapshot \
    get_segment_subscription get_similar_profiles get_stream_for_segments get_upload_job get_upload_job_path get_workflow \
    get_workflow_steps list_account_integrations list_calculated_attribute_definitions list_calculated_attributes_for_profile \
    list_domain_layouts list_domain_object_types list_domains list_event_streams list_event_triggers \
    list_identity_resolution_jobs list_integrations list_object_type_attribute_values list_object_type_attributes \
    list_profile_attribute_values list_profile_history_records list_profile_object_type_templates list_profile_object_types \
    list_profile_objects list_recommender_filters list_recommender_recipes list_recommender_schemas list_recommenders \
    list_rule_based_matches list_segment_definitions list_segment_subscription_events list_tags_for_resource \
    list_upload_jobs list_workflows merge_profiles put_domain_object_type put_integration put_profile_object \
    put_profile_object_type put_segment_subscription search_profiles search_recommendations start_recommender \
    start_upload_job stop_recommender stop_upload_job tag_resource untag_resource update_calculated_attribute_definition \
    update_domain update_domain_layout update_event_trigger update_profile update_recommender";

const FUNCTION: &str = "CasesAutomationFunction";

// ---------------------------------------------------------------------------------------------
// Reading the template
// ---------------------------------------------------------------------------------------------

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml is readable");
        let yaml: serde_norway::Value = serde_norway::from_str(&text).expect("template.yaml is valid YAML");
        cfn_json(yaml)
    })
}

/// YAML (with CloudFormation short tags) to the JSON form of the template.
fn cfn_json(value: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64())
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(cfn_json).collect()),
        Y::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    other => panic!("unexpected mapping key {other:?}"),
                };
                object.insert(key, cfn_json(value));
            }
            Value::Object(object)
        }
        Y::Tagged(tagged) => {
            let name = tagged.tag.to_string().trim_start_matches('!').to_owned();
            let inner = cfn_json(tagged.value);
            match name.as_str() {
                "Ref" | "Condition" => json!({ name: inner }),
                "GetAtt" => match inner {
                    Value::String(s) => {
                        let (resource, attribute) = s.split_once('.').expect("!GetAtt Resource.Attribute");
                        json!({ "Fn::GetAtt": [resource, attribute] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                _ => json!({ format!("Fn::{name}"): inner }),
            }
        }
    }
}

fn resources() -> &'static Map<String, Value> {
    template()["Resources"].as_object().expect("Resources")
}

fn resource(name: &str) -> &'static Value {
    resources().get(name).unwrap_or_else(|| panic!("no resource {name}"))
}

fn resources_of(kind: &str) -> Vec<(&'static str, &'static Value)> {
    resources().iter().filter(|(_, r)| r["Type"] == kind).map(|(n, r)| (n.as_str(), r)).collect()
}

fn parameter(name: &str) -> &'static Value {
    template()["Parameters"].get(name).unwrap_or_else(|| panic!("no parameter {name}"))
}

/// Every value a property can take: both sides of each `Fn::If`, without `AWS::NoValue`; lists
/// are flattened.
fn branches(value: &Value) -> Vec<&Value> {
    if is_no_value(value) {
        return vec![];
    }
    if let Some(args) = value.get("Fn::If").and_then(Value::as_array) {
        return args[1..].iter().flat_map(branches).collect();
    }
    if let Value::Array(items) = value {
        return items.iter().flat_map(branches).collect();
    }
    vec![value]
}

fn is_no_value(value: &Value) -> bool {
    value.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue")
}

/// Whether a value may resolve to `AWS::NoValue` (the property is then absent).
fn may_be_absent(value: &Value) -> bool {
    is_no_value(value) || value.get("Fn::If").and_then(Value::as_array).is_some_and(|args| args[1..].iter().any(may_be_absent))
}

/// A value as text: `Fn::Sub` strings as written, `Ref`/`GetAtt` as `${Name}`/`${Name.Attr}`.
fn render(value: &Value) -> String {
    if let Some(s) = value.as_str() {
        return s.to_owned();
    }
    if let Some(sub) = value.get("Fn::Sub") {
        return match sub {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts[0].as_str().expect("Fn::Sub template").to_owned(),
            other => panic!("odd Fn::Sub {other}"),
        };
    }
    if let Some(name) = value.get("Ref").and_then(Value::as_str) {
        return format!("${{{name}}}");
    }
    if let Some([resource, attribute]) = value.get("Fn::GetAtt").and_then(Value::as_array).map(Vec::as_slice) {
        return format!("${{{}.{}}}", resource.as_str().unwrap(), attribute.as_str().unwrap());
    }
    panic!("cannot render {value}")
}

/// The resource a `!GetAtt X.Arn` / `!Ref X` points at, if it is a resource of the template.
fn target_resource(value: &Value) -> Option<&'static str> {
    let name = value.get("Fn::GetAtt").and_then(|a| a[0].as_str()).or_else(|| value.get("Ref").and_then(Value::as_str))?;
    resources().get_key_value(name).map(|(k, _)| k.as_str())
}

/// The parameters a value references (`Ref`, or `${Name}` in `Fn::Sub`), through `Fn::If`.
fn parameter_refs(value: &Value) -> BTreeSet<String> {
    let parameters = template()["Parameters"].as_object().unwrap();
    let mut found = BTreeSet::new();
    for branch in branches(value) {
        if let Some(name) = branch.get("Ref").and_then(Value::as_str) {
            found.insert(name.to_owned());
        }
        if branch.get("Fn::Sub").is_some() {
            let text = render(branch);
            for name in parameters.keys() {
                if text.contains(&format!("${{{name}}}")) {
                    found.insert(name.clone());
                }
            }
        }
    }
    found.retain(|name| parameters.contains_key(name));
    found
}

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn number(value: &Value) -> i64 {
    value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok())).unwrap_or_else(|| panic!("not a number: {value}"))
}

fn function() -> &'static Value {
    let function = resource(FUNCTION);
    assert_eq!(function["Type"], "AWS::Serverless::Function");
    function
}

fn function_timeout() -> i64 {
    number(&function()["Properties"]["Timeout"])
}

// ---------------------------------------------------------------------------------------------
// 1. Environment
// ---------------------------------------------------------------------------------------------

fn template_environment() -> &'static Map<String, Value> {
    function()["Properties"]["Environment"]["Variables"].as_object().expect("the function sets Environment.Variables")
}

#[test]
fn the_template_sets_only_variables_the_code_reads_and_every_required_one() {
    let set = template_environment();
    let known: BTreeMap<&str, bool> = ENVIRONMENT.iter().map(|v| (v.name, v.required)).collect();
    for name in set.keys() {
        assert!(known.contains_key(name.as_str()), "template.yaml sets {name}, which src/config.rs (ENVIRONMENT) does not read");
    }
    for var in ENVIRONMENT.iter().filter(|v| v.required) {
        let value = set.get(var.name).unwrap_or_else(|| panic!("{} is required by the code but template.yaml does not set it", var.name));
        assert!(!may_be_absent(value), "{} is required by the code but template.yaml may leave it unset", var.name);
    }
}

#[test]
fn required_variables_come_from_parameters_without_a_default_and_optional_ones_have_one() {
    for (name, value) in template_environment() {
        let required = ENVIRONMENT.iter().find(|v| v.name == name).map(|v| v.required).unwrap_or(false);
        let refs = parameter_refs(value);
        let names_a_resource = |b: &&Value| {
            b.get("Ref").and_then(Value::as_str).is_some_and(|r| resources().contains_key(r))
                || (b.get("Fn::Sub").is_some() && resources().keys().any(|r| render(b).contains(&format!("${{{r}}}"))))
        };
        let from_the_stack = branches(value).iter().any(names_a_resource);
        assert!(
            !refs.is_empty() || (from_the_stack && !required),
            "{name} should be set from a parameter, so a deployer can choose it (or, when optional, name a resource of the stack)"
        );
        for parameter_name in refs {
            let has_default = parameter(&parameter_name).get("Default").is_some();
            if required {
                assert!(!has_default, "{name} is required: parameter {parameter_name} must have no default, so `sam deploy --guided` asks");
            } else {
                assert!(has_default, "{name} is optional in the code: parameter {parameter_name} should have a default");
            }
        }
    }
}

/// The configuration the function would read with each parameter at `values` (default
/// otherwise); `CASES_DOMAIN_ID` gets a sample id.
fn config_with(overrides: &[(&str, String)]) -> Result<Config, Vec<String>> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in template_environment() {
        let Some(parameter_name) = parameter_refs(value).into_iter().next() else { continue };
        let chosen = overrides.iter().find(|(p, _)| *p == parameter_name).map(|(_, v)| v.clone());
        let text = chosen.or_else(|| {
            parameter(&parameter_name).get("Default").map(|d| match d {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        });
        let text = text.unwrap_or_else(|| "4a1b2c3d-1111-2222-3333-444455556666".into());
        if !text.is_empty() {
            env.insert(name.clone(), text);
        }
    }
    Config::from_env(|name| env.get(name).cloned())
}

#[test]
fn parameter_defaults_and_ranges_are_exactly_what_the_code_accepts() {
    config_with(&[]).expect("the parameter defaults are a valid configuration");
    for (name, value) in template_environment() {
        for parameter_name in parameter_refs(value) {
            let p = parameter(&parameter_name);
            if p["Type"] != "Number" {
                continue;
            }
            let (min, max) = (number(&p["MinValue"]), number(&p["MaxValue"]));
            for ok in [min, max] {
                assert!(
                    config_with(&[(&parameter_name, ok.to_string())]).is_ok(),
                    "{name}={ok} is allowed by the template, rejected by the code"
                );
            }
            for bad in [min - 1, max + 1] {
                assert!(
                    config_with(&[(&parameter_name, bad.to_string())]).is_err(),
                    "{name}={bad}: the code accepts it, so the template's range {min}..={max} is narrower than the code's"
                );
            }
        }
    }
}

#[test]
fn the_identity_parameter_follows_the_api_pattern() {
    let p = parameter("AutomationIdentity");
    validate_identity(p["Default"].as_str().unwrap()).expect("the default identity is valid");
    assert_eq!(p["AllowedPattern"], r"^[a-zA-Z0-9_\-\.@:/ ]*[a-zA-Z0-9_\-\.@:/]$");
    assert_eq!((number(&p["MinLength"]), number(&p["MaxLength"])), (1, 500));
}

#[test]
fn the_profiles_domain_comes_from_its_parameter_and_empty_means_none() {
    let value = template_environment().get("PROFILES_DOMAIN_NAME").expect("template.yaml sets PROFILES_DOMAIN_NAME");
    assert_eq!(parameter_refs(value), BTreeSet::from(["ProfilesDomainName".to_owned()]));
    // Empty: the variable is not set at all (the code also treats a blank value as unset).
    let args = value.get("Fn::If").and_then(Value::as_array).expect("!If [condition, !Ref ProfilesDomainName, !Ref AWS::NoValue]");
    assert_eq!((&args[1], is_no_value(&args[2])), (&json!({ "Ref": "ProfilesDomainName" }), true));
    let condition = args[0].as_str().expect("a condition name");
    assert!(requires_profiles_domain(condition), "PROFILES_DOMAIN_NAME: condition {condition} must mean ProfilesDomainName is not empty");

    let p = parameter("ProfilesDomainName");
    assert_eq!(p["Default"], "", "Customer Profiles is optional");
    // What the code accepts (src/config.rs): 1 to 64 of A-Z a-z 0-9 _ -.
    assert_eq!(p["AllowedPattern"], "^$|^[a-zA-Z0-9_-]{1,64}$");
    assert_eq!(config_with(&[]).unwrap().profiles_domain, None);
    let named = config_with(&[("ProfilesDomainName", "amazon-connect-acme_2".into())]).unwrap();
    assert_eq!(named.profiles_domain.as_deref(), Some("amazon-connect-acme_2"));
    assert!(config_with(&[("ProfilesDomainName", "a".repeat(64))]).is_ok(), "64 characters: allowed by the template and the code");
    assert!(config_with(&[("ProfilesDomainName", "a".repeat(65))]).is_err(), "65 characters: rejected by the template and the code");

    let p = parameter("AllowProfileCreation");
    assert_eq!(p["AllowedValues"], json!(["true", "false"]));
    if cases_automation::rules::DEFAULT_RULES.contains("ifNone: create") {
        assert_eq!(p["Default"], "true", "the default rules create profiles (ifNone: create): allow it by default");
    }
    // The function is told, so that a rule that would create says so instead of meeting AccessDenied.
    let allow = template_environment().get("PROFILES_ALLOW_CREATE").expect("template.yaml sets PROFILES_ALLOW_CREATE");
    assert_eq!(allow, &json!({ "Ref": "AllowProfileCreation" }));
    assert!(!config_with(&[("AllowProfileCreation", "false".into())]).unwrap().profiles_allow_create);
    assert!(config_with(&[]).unwrap().profiles_allow_create);
}

#[test]
fn every_shipped_rules_file_is_valid() {
    // deploy/build/Makefile copies rules/*.yaml into the package (/var/task/rules/), where the
    // RulesFile parameter can select them.
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("rules")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let text = std::fs::read_to_string(&path).unwrap();
            RuleSet::from_yaml(&text, &path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
            count += 1;
        }
    }
    assert!(count > 0);
    let pattern = parameter("RulesFile")["AllowedPattern"].as_str().unwrap();
    assert!(
        pattern.contains("var/task") && pattern.contains("opt"),
        "RulesFile takes package (/var/task) and layer (/opt) paths: {pattern}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. IAM
// ---------------------------------------------------------------------------------------------

/// Every Allow statement of every role's inline policies, through `Fn::If`.
fn role_statements() -> Vec<(&'static str, &'static Value)> {
    let mut statements = Vec::new();
    for (name, role) in resources_of("AWS::IAM::Role") {
        assert!(role["Properties"].get("ManagedPolicyArns").is_none(), "{name}: managed policies grant more than the function needs");
        for policy in branches(&role["Properties"]["Policies"]) {
            for statement in branches(&policy["PolicyDocument"]["Statement"]) {
                assert_eq!(statement["Effect"], "Allow", "{name}: only Allow statements are expected");
                statements.push((name, statement));
            }
        }
    }
    statements
}

/// Every statement of every role's inline policies with the `Fn::If` it sits in: `(condition,
/// true)` for the statement of the true branch, `(condition, false)` for the false branch, None
/// for an unconditional statement.
fn guarded_statements() -> Vec<(Option<(&'static str, bool)>, &'static Value)> {
    let mut statements = Vec::new();
    for (_, role) in resources_of("AWS::IAM::Role") {
        for policy in branches(&role["Properties"]["Policies"]) {
            for item in as_list(&policy["PolicyDocument"]["Statement"]) {
                match item.get("Fn::If").and_then(Value::as_array) {
                    Some(args) => {
                        let condition = args[0].as_str().expect("a condition name");
                        for (branch, holds) in [(&args[1], true), (&args[2], false)] {
                            statements.extend(branches(branch).into_iter().map(|s| (Some((condition, holds)), s)));
                        }
                    }
                    None => statements.extend(branches(item).into_iter().map(|s| (None, s))),
                }
            }
        }
    }
    statements
}

/// What a condition requires: the condition itself, expanded through `Fn::And` and `!Condition`.
fn condition_requirements(name: &str) -> Vec<&'static Value> {
    fn expand(value: &'static Value, out: &mut Vec<&'static Value>) {
        if let Some(name) = value.get("Condition").and_then(Value::as_str) {
            expand(&template()["Conditions"][name], out);
        } else if let Some(parts) = value.get("Fn::And").and_then(Value::as_array) {
            parts.iter().for_each(|part| expand(part, out));
        } else {
            out.push(value);
        }
    }
    let condition = template()["Conditions"].get(name).unwrap_or_else(|| panic!("no condition {name}"));
    let mut out = Vec::new();
    expand(condition, &mut out);
    out
}

/// Whether `value` is `!Equals [!Ref parameter, literal]` (either way round).
fn equals_parameter(value: &Value, parameter: &str, literal: &str) -> bool {
    let Some([a, b]) = value.get("Fn::Equals").and_then(Value::as_array).map(Vec::as_slice) else { return false };
    let reference = json!({ "Ref": parameter });
    (a == &reference && b == literal) || (b == &reference && a == literal)
}

/// Whether a condition can only hold when ProfilesDomainName is not empty.
fn requires_profiles_domain(condition: &str) -> bool {
    condition_requirements(condition)
        .into_iter()
        .any(|c| c["Fn::Not"].get(0).is_some_and(|e| equals_parameter(e, "ProfilesDomainName", "")))
}

/// Whether a condition can only hold when AllowProfileCreation is true.
fn requires_profile_creation(condition: &str) -> bool {
    condition_requirements(condition).into_iter().any(|c| equals_parameter(c, "AllowProfileCreation", "true"))
}

#[test]
fn the_function_runs_under_the_role_of_the_template_and_nothing_else() {
    let properties = &function()["Properties"];
    assert_eq!(target_resource(&properties["Role"]), Some("CasesAutomationRole"));
    assert!(properties.get("Policies").is_none(), "with an explicit role, SAM Policies would be ignored or widen the grant");
}

#[test]
fn the_role_grants_exactly_the_cases_actions_the_function_uses_on_the_domain_only() {
    let mut granted_cases = BTreeSet::new();
    let mut granted_profiles = BTreeSet::new();
    for (role, statement) in role_statements() {
        if role == SWEEP_SCHEDULE_ROLE {
            // Scheduler's role, not the function's: its own test below.
            continue;
        }
        let actions: Vec<&str> = as_list(&statement["Action"]).into_iter().map(|a| a.as_str().expect("action names are strings")).collect();
        let arns: Vec<String> = branches(&statement["Resource"]).into_iter().map(render).collect();
        assert!(statement.get("NotAction").is_none() && statement.get("NotResource").is_none(), "{role}: NotAction/NotResource");
        for action in &actions {
            assert!(!action.contains('*'), "{role}: wildcard action {action}");
            assert!(
                CASES_ACTIONS.contains(action)
                    || PROFILE_ACTIONS.contains(action)
                    || CONNECT_ACTIONS.contains(action)
                    || OTHER_ACTIONS.contains(action)
                    || CLAIMS_ACTIONS.contains(action),
                "{role}: {action} is not an action the function needs"
            );
        }
        assert!(!arns.is_empty(), "{role}: statement without resources: {statement}");
        for resource in &arns {
            if resource == "*" {
                assert!(
                    actions.iter().all(|a| NO_RESOURCE_LEVEL_ACTIONS.contains(a)),
                    "{role}: Resource \"*\" for {actions:?}, which support resource-level permissions"
                );
            }
        }
        if actions.iter().any(|a| a.starts_with("cases:")) {
            assert!(actions.iter().all(|a| a.starts_with("cases:")), "{role}: keep Cases actions in their own statement");
            granted_cases.extend(actions.iter().map(|a| a.to_string()));
            for resource in &arns {
                assert!(
                    resource.starts_with("arn:${AWS::Partition}:cases:${AWS::Region}:${AWS::AccountId}:domain/${CasesDomainId}"),
                    "{role}: Cases resource {resource} is not the domain or under it"
                );
                let rest = resource.split_once("domain/${CasesDomainId}").unwrap().1;
                assert!(rest.is_empty() || rest == "/*", "{role}: Cases resource {resource}: the domain, or domain/${{CasesDomainId}}/*");
            }
        }
        if actions.iter().any(|a| a.starts_with("profile:")) {
            assert!(actions.iter().all(|a| a.starts_with("profile:")), "{role}: keep Customer Profiles actions in their own statements");
            granted_profiles.extend(actions.iter().map(|a| a.to_string()));
            assert_eq!(
                arns,
                [PROFILES_DOMAIN_ARN],
                "{role}: Customer Profiles actions on the profiles domain only, not its profiles or others"
            );
        }
        if actions.iter().any(|a| a.starts_with("connect:")) {
            assert_eq!(actions, CONNECT_ACTIONS, "{role}: the contact actions in one statement");
            assert_eq!(arns, ["${ConnectInstanceArn}/contact/*"], "{role}: on the instance's contacts only");
        }
        if actions.iter().any(|a| a.starts_with("kms:")) {
            assert_eq!(actions, ["kms:Decrypt", "kms:GenerateDataKey"], "{role}: the queue key's data-key actions only");
            assert_eq!(arns, ["${QueueKmsKeyArn}"], "{role}: on the queues' key only");
        }
        if actions.iter().any(|a| a.starts_with("dynamodb:")) {
            assert_eq!(actions, CLAIMS_ACTIONS, "{role}: exactly the store's item actions");
            let targets: Vec<_> = branches(&statement["Resource"]).into_iter().map(target_resource).collect();
            assert_eq!(targets, [Some("ClaimsTable")], "{role}: DynamoDB on the claims table only, not its indexes or other tables");
        }
        for action in actions.iter().filter(|a| a.starts_with("sqs:") || a.starts_with("logs:")) {
            for resource in branches(&statement["Resource"]) {
                let target = target_resource(resource)
                    .unwrap_or_else(|| panic!("{role}: {action} on {resource}, not a queue or log group of the stack"));
                let kind = &resources()[target]["Type"];
                assert!(kind == "AWS::SQS::Queue" || kind == "AWS::Logs::LogGroup", "{role}: {action} on {target} ({kind})");
            }
        }
    }
    let used: BTreeSet<String> = CASES_ACTIONS.iter().map(|a| a.to_string()).collect();
    assert_eq!(granted_cases, used, "the role must grant exactly the Cases actions the function uses");
    let used: BTreeSet<String> = PROFILE_ACTIONS.iter().map(|a| a.to_string()).collect();
    assert_eq!(granted_profiles, used, "the role must grant exactly the Customer Profiles actions the function uses");
}

#[test]
fn profile_statements_exist_only_with_a_profiles_domain_and_creation_only_when_allowed() {
    let mut granted = BTreeSet::new();
    for (guard, statement) in guarded_statements() {
        let actions: Vec<&str> = as_list(&statement["Action"]).into_iter().filter_map(Value::as_str).collect();
        if !actions.iter().any(|a| a.starts_with("profile:")) {
            continue;
        }
        let sid = statement["Sid"].as_str().unwrap_or("a statement");
        let Some((condition, true)) = guard else {
            panic!("{sid} grants {actions:?} whatever ProfilesDomainName is: put it in !If [condition, statement, !Ref AWS::NoValue]")
        };
        assert!(requires_profiles_domain(condition), "{sid}: its condition {condition} must require a non-empty ProfilesDomainName");
        let creation_only = requires_profile_creation(condition);
        for action in actions {
            match action {
                "profile:CreateProfile" => {
                    assert!(creation_only, "{sid}: CreateProfile must depend on AllowProfileCreation (condition {condition})")
                }
                "profile:SearchProfiles" => {
                    assert!(!creation_only, "{sid}: SearchProfiles must not depend on AllowProfileCreation (condition {condition})")
                }
                _ => {}
            }
            granted.insert(action);
        }
    }
    let expected: BTreeSet<&str> = PROFILE_ACTIONS.iter().copied().collect();
    assert_eq!(granted, expected, "with a profiles domain (and creation allowed) the role grants both actions");
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn pascal(snake: &str) -> String {
    snake.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

#[test]
fn every_cases_call_in_the_source_is_an_action_the_template_grants() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut called = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for operation in CASES_OPERATIONS {
            if text.contains(&format!(".{operation}()")) {
                called.insert(format!("cases:{}", pascal(operation)));
            }
        }
    }
    assert!(called.contains("cases:CreateCase"), "the scan should find the SDK calls in src/cases/sdk.rs: {called:?}");
    for action in &called {
        assert!(CASES_ACTIONS.contains(&action.as_str()), "src/ calls {action}, which template.yaml does not grant");
    }
}

/// Every Amazon Connect call in `src/` is an action the template grants, and every one it grants
/// is called (or, for DescribeContact, needed to link a contact).
#[test]
fn the_amazon_connect_calls_in_the_source_are_exactly_the_actions_the_template_grants() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut called = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.contains("aws_sdk_connect::") && !text.contains("aws_sdk_connect as") {
            continue;
        }
        for operation in [".describe_contact()", ".get_contact_attributes()"] {
            if text.contains(operation) {
                called.insert(format!("connect:{}", pascal(operation.trim_start_matches('.').trim_end_matches("()"))));
            }
        }
        let calls = text.matches("self.client.get().").count();
        assert_eq!(calls, called.len(), "{}: a call the scan does not know", file.display());
    }
    let granted: BTreeSet<String> = CONNECT_ACTIONS.iter().map(|a| a.to_string()).collect();
    assert_eq!(called, granted, "src/ calls these Amazon Connect operations; template.yaml must grant exactly them");
}

/// The table the template creates is the one `cases-automation claims init` creates (key, TTL),
/// on demand and encrypted; the function gets its name only when the store is enabled, and the
/// role may use it only then.
#[test]
fn the_claims_table_is_the_one_claims_init_creates_and_only_the_function_uses_it() {
    use cases_automation::claims::dynamodb::TABLE_DEFINITION;
    let table = resource("ClaimsTable");
    assert_eq!(table["Type"], "AWS::DynamoDB::Table");
    assert_eq!(table["Condition"], "Coordinated");
    let p = &table["Properties"];
    assert_eq!(p["KeySchema"], json!([{"AttributeName": TABLE_DEFINITION.partition_key, "KeyType": "HASH"}]));
    assert_eq!(p["AttributeDefinitions"], json!([{"AttributeName": TABLE_DEFINITION.partition_key, "AttributeType": "S"}]));
    assert_eq!(p["TimeToLiveSpecification"], json!({"AttributeName": TABLE_DEFINITION.ttl_attribute, "Enabled": true}));
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
    let claims_table = &template_environment()["CLAIMS_TABLE"];
    assert!(may_be_absent(claims_table), "CLAIMS_TABLE is left unset when the store is disabled");
    assert!(claims_table.to_string().contains("Coordinated"), "CLAIMS_TABLE is set under the store's condition: {claims_table}");
    let guarded: Vec<_> = guarded_statements()
        .into_iter()
        .filter(|(_, s)| as_list(&s["Action"]).iter().any(|a| a.as_str().is_some_and(|a| a.starts_with("dynamodb:"))))
        .collect();
    assert_eq!(guarded.len(), 1, "one statement grants the store's actions");
    assert_eq!(guarded[0].0, Some(("Coordinated", true)), "only when the store is enabled");

    // Every DynamoDB call in src/ is granted.
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut called = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.contains("aws_sdk_dynamodb") {
            continue;
        }
        for (operation, action) in
            [("get_item", "GetItem"), ("put_item", "PutItem"), ("update_item", "UpdateItem"), ("delete_item", "DeleteItem")]
        {
            if text.contains(&format!(".{operation}()")) {
                called.insert(format!("dynamodb:{action}"));
            }
        }
        for unexpected in ["scan", "query", "batch_write_item", "batch_get_item"] {
            assert!(!text.contains(&format!(".{unexpected}()")), "{}: {unexpected} is not granted", file.display());
        }
    }
    let granted: BTreeSet<String> = CLAIMS_ACTIONS.iter().map(|a| a.to_string()).collect();
    assert_eq!(called, granted, "src/ calls these DynamoDB operations; the template must grant exactly them");
}

#[test]
fn the_customer_profiles_calls_in_the_source_are_exactly_the_actions_the_template_grants() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut called = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.contains("aws_sdk_customerprofiles") {
            continue;
        }
        for operation in PROFILES_OPERATIONS.split_whitespace() {
            if text.contains(&format!(".{operation}()")) {
                called.insert(format!("profile:{}", pascal(operation)));
            }
        }
    }
    assert!(called.contains("profile:SearchProfiles"), "the scan should find the SDK calls in src/customers/sdk.rs: {called:?}");
    let granted: BTreeSet<String> = PROFILE_ACTIONS.iter().map(|a| a.to_string()).collect();
    assert_eq!(called, granted, "src/ calls these Customer Profiles operations; template.yaml must grant exactly them");
}

// ---------------------------------------------------------------------------------------------
// 3. Nothing dropped silently
// ---------------------------------------------------------------------------------------------

fn queue(name: &str) -> &'static Value {
    let queue = resource(name);
    assert_eq!(queue["Type"], "AWS::SQS::Queue", "{name} is not a queue");
    queue
}

/// Queues with an alarm on visible messages.
fn alarmed_queues() -> BTreeSet<&'static str> {
    let mut alarmed = BTreeSet::new();
    for (_, alarm) in resources_of("AWS::CloudWatch::Alarm") {
        let p = &alarm["Properties"];
        if p["Namespace"] == "AWS/SQS" && p["MetricName"] == "ApproximateNumberOfMessagesVisible" {
            assert_eq!(
                (p["ComparisonOperator"].as_str(), number(&p["Threshold"])),
                (Some("GreaterThanThreshold"), 0),
                "alarm on any message"
            );
            for dimension in as_list(&p["Dimensions"]) {
                if let Some(queue) = target_resource(&dimension["Value"]) {
                    alarmed.insert(queue);
                }
            }
        }
    }
    alarmed
}

/// Queues a queue policy lets EventBridge send to, with the rules allowed to (aws:SourceArn).
fn eventbridge_senders(queue_name: &str) -> BTreeSet<&'static str> {
    let mut rules = BTreeSet::new();
    for (_, policy) in resources_of("AWS::SQS::QueuePolicy") {
        let queues: Vec<_> = branches(&policy["Properties"]["Queues"]).into_iter().filter_map(target_resource).collect();
        if !queues.contains(&queue_name) {
            continue;
        }
        for statement in branches(&policy["Properties"]["PolicyDocument"]["Statement"]) {
            if statement["Principal"]["Service"] == "events.amazonaws.com" && statement["Action"] == "sqs:SendMessage" {
                let sources = &statement["Condition"]["ArnEquals"]["aws:SourceArn"];
                rules.extend(branches(sources).into_iter().filter_map(target_resource));
            }
        }
    }
    rules
}

#[test]
fn every_eventbridge_rule_retries_and_has_a_dead_letter_queue() {
    let rules = resources_of("AWS::Events::Rule");
    assert!(rules.len() >= 2, "a rule for contact events and one for Cases change events");
    let alarmed = alarmed_queues();
    for (name, rule) in rules {
        let targets = branches(&rule["Properties"]["Targets"]);
        assert!(!targets.is_empty(), "{name} has no target");
        for target in targets {
            let retry = &target["RetryPolicy"];
            assert!(retry.get("MaximumRetryAttempts").is_some() && retry.get("MaximumEventAgeInSeconds").is_some(), "{name}: RetryPolicy");
            let dlq = target_resource(&target["DeadLetterConfig"]["Arn"]).unwrap_or_else(|| panic!("{name}: DeadLetterConfig.Arn"));
            queue(dlq);
            assert!(eventbridge_senders(dlq).contains(name), "{name}: the queue policy of {dlq} must let this rule send dead letters");
            assert!(alarmed.contains(dlq), "{dlq} (dead letters of {name}) has no alarm");
            for arn in branches(&target["Arn"]) {
                let to = target_resource(arn).unwrap_or_else(|| panic!("{name}: target {arn}"));
                if resources()[to]["Type"] == "AWS::SQS::Queue" {
                    assert!(eventbridge_senders(to).contains(name), "{name}: the queue policy of {to} must let this rule send");
                } else {
                    assert_eq!(to, FUNCTION, "{name}: targets the function or its queue");
                    let permitted = resources_of("AWS::Lambda::Permission").into_iter().any(|(_, p)| {
                        p["Properties"]["Principal"] == "events.amazonaws.com"
                            && target_resource(&p["Properties"]["SourceArn"]) == Some(name)
                    });
                    assert!(permitted, "{name}: no lambda:InvokeFunction permission for this rule");
                }
            }
        }
    }
}

/// A value of the template with parameters and conditions substituted (`Ref`, `Fn::Sub`, `Fn::If`),
/// as CloudFormation would deploy it; `AWS::NoValue` entries are dropped.
fn resolved(value: &Value, parameters: &BTreeMap<&str, Value>, conditions: &BTreeMap<&str, bool>) -> Value {
    if let Some(name) = value.get("Ref").and_then(Value::as_str) {
        return parameters.get(name).cloned().unwrap_or_else(|| panic!("no value for parameter {name}"));
    }
    if let Some(text) = value.get("Fn::Sub").and_then(Value::as_str) {
        let mut text = text.to_owned();
        for (name, value) in parameters {
            if let Some(value) = value.as_str() {
                text = text.replace(&format!("${{{name}}}"), value);
            }
        }
        assert!(!text.contains("${"), "unresolved {text}");
        return json!(text);
    }
    if let Some([condition, yes, no]) = value.get("Fn::If").and_then(Value::as_array).map(Vec::as_slice) {
        let condition = condition.as_str().unwrap();
        let holds = *conditions.get(condition).unwrap_or_else(|| panic!("no value for condition {condition}"));
        return resolved(if holds { yes } else { no }, parameters, conditions);
    }
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().filter(|i| !is_no_value(i)).map(|i| resolved(i, parameters, conditions)).collect())
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), resolved(v, parameters, conditions))).collect()),
        other => other.clone(),
    }
}

/// The event pattern of `rule` as deployed with these parameters and conditions, compiled by the
/// function's own EventBridge pattern matcher.
fn deployed_pattern(rule: &str, parameters: &BTreeMap<&str, Value>, conditions: &BTreeMap<&str, bool>) -> Pattern {
    let pattern = resolved(&resource(rule)["Properties"]["EventPattern"], parameters, conditions);
    Pattern::compile(&pattern).unwrap_or_else(|e| panic!("{rule}: {e:?}"))
}

const INSTANCE: &str = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-1111-4222-8333-444455556666";

/// Whether a `Rules` condition or assertion holds with these parameters (`Fn::Not`, `Fn::Equals`,
/// `Fn::Contains`, `Fn::And`, `Fn::Or`, `Ref`).
fn rule_holds(value: &Value, parameters: &BTreeMap<&str, Value>) -> bool {
    let value_of = |v: &Value| -> Value {
        match v.get("Ref").and_then(Value::as_str) {
            // A parameter not given takes its default, as in a stack.
            Some(name) => parameters
                .get(name)
                .cloned()
                .or_else(|| parameter(name).get("Default").cloned())
                .unwrap_or_else(|| panic!("no value for parameter {name}")),
            None => v.clone(),
        }
    };
    // CloudFormation passes every parameter as a string: a Number's `0` equals "0".
    // A CommaDelimitedList given as text (its default) is its items.
    let value_of = |v: &Value| match value_of(v) {
        Value::Number(n) => json!(n.to_string()),
        Value::String(text) if v.get("Ref").and_then(Value::as_str).is_some_and(|name| parameter(name)["Type"] == "CommaDelimitedList") => {
            json!(text.split(',').collect::<Vec<_>>())
        }
        other => other,
    };
    if let Some(inner) = value.get("Fn::Not") {
        return !rule_holds(&inner[0], parameters);
    }
    if let Some(parts) = value.get("Fn::And").and_then(Value::as_array) {
        return parts.iter().all(|p| rule_holds(p, parameters));
    }
    if let Some(parts) = value.get("Fn::Or").and_then(Value::as_array) {
        return parts.iter().any(|p| rule_holds(p, parameters));
    }
    if let Some([a, b]) = value.get("Fn::Equals").and_then(Value::as_array).map(Vec::as_slice) {
        return value_of(a) == value_of(b);
    }
    if let Some([list, item]) = value.get("Fn::Contains").and_then(Value::as_array).map(Vec::as_slice) {
        return value_of(list).as_array().expect("a list").contains(&value_of(item));
    }
    panic!("unsupported rule function {value}")
}

/// Whether CloudFormation accepts a stack with these parameters: every rule of the `Rules` section
/// whose condition holds has its assertions hold.
fn stack_accepted(parameters: &BTreeMap<&str, Value>) -> bool {
    let rules = template()["Rules"].as_object().expect("a Rules section");
    rules.values().all(|rule| {
        let applies = rule.get("RuleCondition").is_none_or(|c| rule_holds(c, parameters));
        !applies || as_list(&rule["Assertions"]).iter().all(|a| rule_holds(&a["Assert"], parameters))
    })
}

/// Contact events need the instance: a stack that sends them without ConnectInstanceArn is refused
/// (the Rules section), the rule exists only with an instance, and it lets through the instance's
/// events however the documented samples name the instance (detail.instanceArn, InstanceArn,
/// instanceARN, InstanceARN, or only `resources`), and no other instance's.
#[test]
fn with_an_instance_the_contact_events_rule_lets_only_its_contacts_through() {
    for (types, instance, accepted) in [
        (json!(["DISCONNECTED"]), "", false),
        (json!(["DISCONNECTED"]), INSTANCE, true),
        (json!([""]), "", true),
        (json!([""]), INSTANCE, true),
    ] {
        let parameters = BTreeMap::from([("ContactEventTypes", types.clone()), ("ConnectInstanceArn", json!(instance))]);
        assert_eq!(stack_accepted(&parameters), accepted, "ContactEventTypes {types}, ConnectInstanceArn {instance:?}");
    }
    let rule = resource("ContactEventsRule");
    let condition = rule["Condition"].as_str().expect("the contact events rule is conditional");
    let requires_instance = condition_requirements(condition)
        .into_iter()
        .any(|c| c["Fn::Not"].get(0).is_some_and(|e| equals_parameter(e, "ConnectInstanceArn", "")));
    assert!(requires_instance, "{condition}: the contact events rule exists only with ConnectInstanceArn");

    let environment = template_environment().get("CONNECT_INSTANCE_ARN").expect("template.yaml sets CONNECT_INSTANCE_ARN");
    assert_eq!(parameter_refs(environment), BTreeSet::from(["ConnectInstanceArn".to_owned()]));
    assert!(may_be_absent(environment), "without an instance, CONNECT_INSTANCE_ARN is unset (any instance)");
    let configured = config_with(&[("ConnectInstanceArn", INSTANCE.into())]).unwrap();
    assert_eq!(configured.connect_instance.as_deref(), Some(INSTANCE));
    assert_eq!(config_with(&[]).unwrap().connect_instance, None);

    let test_instance = "arn:aws:connect:us-east-1:123456789012:instance/0f0e0d0c-5555-4666-8777-888899990000";
    let event = |instance: &str, spelling: Option<&str>| {
        let contact = format!("{instance}/contact/33393138-3701-403f-b745-3614dba55617");
        let mut event = json!({"source": "aws.connect", "detail-type": "Amazon Connect Contact Event",
            "detail": {"eventType": "DISCONNECTED", "contactId": "33393138-3701-403f-b745-3614dba55617"}});
        match spelling {
            Some(key) => event["detail"][key] = json!(instance),
            None => event["resources"] = json!([contact, instance]),
        }
        event
    };
    let parameters = BTreeMap::from([("ConnectInstanceArn", json!(INSTANCE)), ("ContactEventTypes", json!(["DISCONNECTED"]))]);
    let filtered = deployed_pattern("ContactEventsRule", &parameters, &BTreeMap::new());
    let spellings = cases_automation::inbound::INSTANCE_ARN_KEYS.map(Some);
    for spelling in spellings.into_iter().chain([None]) {
        assert!(filtered.matches(&event(INSTANCE, spelling)), "the instance's event, named as {spelling:?}");
        assert!(!filtered.matches(&event(test_instance, spelling)), "another instance's event, named as {spelling:?}");
    }
    let mut contact_only = event(INSTANCE, None);
    contact_only["resources"] = json!([format!("{INSTANCE}/contact/c-1")]);
    assert!(filtered.matches(&contact_only), "the contact ARN alone in resources");
    let mut queued = event(INSTANCE, Some("instanceArn"));
    queued["detail"]["eventType"] = json!("QUEUED");
    assert!(!filtered.matches(&queued), "only the ContactEventTypes");
    for (_, sample) in ["contact-disconnected-agent.json", "contact-disconnected-abandoned.json"].map(|n| (n, sample(n))) {
        assert!(filtered.matches(&sample), "the samples come from {INSTANCE}");
    }
}

/// The Cases events rule, as deployed, drops the changes the automation made (its
/// `performedBy.user.customEntity` is `AutomationIdentity`) and passes every other: changes by
/// users (`userArn`, where `anything-but` alone would match nothing), by another automation, and
/// events that name no performer.
#[test]
fn the_automations_own_case_changes_never_reach_the_function() {
    let identity = "cases-automation";
    let parameters = BTreeMap::from([
        ("AutomationIdentity", json!(identity)),
        ("CasesDomainId", json!("demo-domain")),
        ("AWS::Partition", json!("aws")),
        ("AWS::Region", json!("us-east-1")),
        ("AWS::AccountId", json!("123456789012")),
    ]);
    let pattern = deployed_pattern("CasesEventsRule", &parameters, &BTreeMap::new());
    let own = sample("cases-case-updated-by-automation.json");
    assert_eq!(own["detail"]["performedBy"]["user"]["customEntity"], identity);
    assert!(!pattern.matches(&own), "the automation's own change is filtered at the rule");
    let by_user = sample("cases-case-updated-by-user.json");
    assert!(by_user["detail"]["performedBy"]["user"].get("customEntity").is_none());
    assert!(pattern.matches(&by_user), "a change by a user (userArn) arrives");
    let mut by_other = own.clone();
    by_other["detail"]["performedBy"]["user"]["customEntity"] = json!("erp-orders relay");
    assert!(pattern.matches(&by_other), "a change by another automation arrives");
    let mut by_no_one = own.clone();
    by_no_one["detail"].as_object_mut().unwrap().remove("performedBy");
    assert!(pattern.matches(&by_no_one), "a change that names no performer arrives");
    let mut other_domain = by_user.clone();
    other_domain["resources"] = json!(["arn:aws:cases:us-east-1:123456789012:domain/other"]);
    assert!(!pattern.matches(&other_domain), "only the domain's events");
}

fn sample(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("events").join(name)).unwrap()).unwrap()
}

#[test]
fn the_rules_send_what_the_default_rules_match() {
    let contact_rule = &resource("ContactEventsRule")["Properties"]["EventPattern"];
    assert_eq!(contact_rule["source"], json!(["aws.connect"]));
    assert_eq!(contact_rule["detail-type"], json!(["Amazon Connect Contact Event"]));
    assert_eq!(contact_rule["detail"]["eventType"], json!({ "Ref": "ContactEventTypes" }));
    let sent: BTreeSet<&str> = parameter("ContactEventTypes")["Default"].as_str().unwrap().split(',').collect();

    let cases_rule = &resource("CasesEventsRule")["Properties"]["EventPattern"];
    assert_eq!(cases_rule["source"], json!(["aws.cases"]));
    assert_eq!(cases_rule["detail-type"], json!(["Amazon Connect Cases Change"]));

    let rules: Value = serde_norway::from_str(cases_automation::rules::DEFAULT_RULES).unwrap();
    for rule in rules["rules"].as_array().unwrap() {
        let pattern = &rule["match"];
        if pattern["source"].as_array().is_some_and(|s| s.contains(&json!("aws.connect"))) {
            let types = pattern["detail"]["eventType"].as_array().unwrap_or_else(|| panic!("{}: match a contact eventType", rule["name"]));
            for t in types {
                assert!(
                    sent.contains(t.as_str().unwrap()),
                    "default rule {} needs contact event {t}, not in ContactEventTypes",
                    rule["name"]
                );
            }
        }
    }
    let custom = &resource("CustomEventsRule");
    assert_eq!(custom["Condition"], "HasCustomEventSources");
    assert_eq!(custom["Properties"]["EventPattern"]["source"], json!({ "Ref": "CustomEventSources" }));
}

#[test]
fn failed_asynchronous_invocations_go_to_an_alarmed_queue() {
    let properties = &function()["Properties"];
    let config = &properties["EventInvokeConfig"];
    let destination = target_resource(&config["DestinationConfig"]["OnFailure"]["Destination"])
        .or_else(|| target_resource(&properties["DeadLetterQueue"]["TargetArn"]))
        .expect("the function has an on-failure destination or a dead-letter queue");
    queue(destination);
    assert!(alarmed_queues().contains(destination), "{destination} has no alarm");
    let can_send = role_statements().into_iter().any(|(_, s)| {
        as_list(&s["Action"]).contains(&&json!("sqs:SendMessage"))
            && branches(&s["Resource"]).into_iter().any(|r| target_resource(r) == Some(destination))
    });
    assert!(can_send, "the role must be allowed to send to {destination}");
}

#[test]
fn the_sqs_source_reports_partial_failures_with_bounded_concurrency() {
    let mut mappings: Vec<(&str, &Value)> =
        resources_of("AWS::Lambda::EventSourceMapping").into_iter().map(|(n, r)| (n, &r["Properties"])).collect();
    // SAM-style SQS events on the function count too.
    if let Some(events) = function()["Properties"].get("Events").and_then(Value::as_object) {
        mappings.extend(events.iter().filter(|(_, e)| e["Type"] == "SQS").map(|(n, e)| (n.as_str(), &e["Properties"])));
    }
    assert!(!mappings.is_empty(), "the template offers SQS buffering (BufferThroughSqs)");
    let alarmed = alarmed_queues();
    for (name, mapping) in mappings {
        let types = as_list(mapping.get("FunctionResponseTypes").unwrap_or(&Value::Null));
        assert!(types.contains(&&json!("ReportBatchItemFailures")), "{name}: FunctionResponseTypes: [ReportBatchItemFailures]");
        assert!(mapping["ScalingConfig"].get("MaximumConcurrency").is_some(), "{name}: ScalingConfig.MaximumConcurrency");
        let source = mapping.get("EventSourceArn").or_else(|| mapping.get("Queue")).expect("the queue");
        let source = target_resource(source).unwrap_or_else(|| panic!("{name}: the queue is not in the template"));
        let q = &queue(source)["Properties"];
        let visibility = number(&q["VisibilityTimeout"]);
        assert!(
            visibility >= 6 * function_timeout(),
            "{source}: VisibilityTimeout {visibility} < 6 x the function's Timeout {}",
            function_timeout()
        );
        let dlq = target_resource(&q["RedrivePolicy"]["deadLetterTargetArn"])
            .unwrap_or_else(|| panic!("{source} has no redrive dead-letter queue"));
        queue(dlq);
        assert!(alarmed.contains(dlq), "{dlq} (redrive of {source}) has no alarm");
    }
}

#[test]
fn function_settings_fit_contact_flows_and_the_cases_quotas() {
    let properties = &function()["Properties"];
    assert_eq!(properties["Runtime"], "provided.al2023");
    assert_eq!(properties["Architectures"], json!(["arm64"]));
    assert_eq!(properties["Handler"], "bootstrap");
    let flow_max = number(&parameter("FlowTimeoutMs")["MaxValue"]);
    assert!(function_timeout() * 1000 > flow_max, "the flow's deadline must come before the function's");
    assert!(parameter_refs(&properties["ReservedConcurrentExecutions"]).contains("MaximumConcurrency"));

    let logging = &properties["LoggingConfig"];
    assert_eq!(logging["LogFormat"], "JSON");
    let group = target_resource(&logging["LogGroup"]).expect("an explicit log group");
    assert_eq!(resource(group)["Type"], "AWS::Logs::LogGroup");
    assert!(resource(group)["Properties"].get("RetentionInDays").is_some(), "log retention");

    let kinds: BTreeSet<String> = resources_of("AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, a)| target_resource(&a["Properties"]["Dimensions"][0]["Value"]) == Some(FUNCTION))
        .map(|(_, a)| a["Properties"]["MetricName"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains("Errors") && kinds.contains("Throttles"), "alarms on function errors and throttles: {kinds:?}");
}

#[test]
fn contact_flows_may_invoke_the_function_only_from_the_given_instance() {
    let permission = resource("ConnectInvokePermission");
    assert_eq!(permission["Condition"], "HasConnectInstance");
    let p = &permission["Properties"];
    assert_eq!((p["Principal"].as_str(), p["Action"].as_str()), (Some("connect.amazonaws.com"), Some("lambda:InvokeFunction")));
    assert_eq!(p["SourceArn"], json!({ "Ref": "ConnectInstanceArn" }));
    assert_eq!(p["SourceAccount"], json!({ "Ref": "AWS::AccountId" }));

    let association = resource("ConnectIntegration");
    assert_eq!(association["Type"], "AWS::Connect::IntegrationAssociation");
    assert_eq!(association["Condition"], "HasConnectInstance");
    assert_eq!(association["Properties"]["IntegrationType"], "LAMBDA_FUNCTION");
    assert_eq!(target_resource(&association["Properties"]["IntegrationArn"]), Some(FUNCTION));

    let outputs = template()["Outputs"].as_object().unwrap();
    for output in
        ["FunctionArn", "EventDeliveryDeadLetterQueueUrl", "AsyncFailureQueueUrl", "EventQueueDeadLetterQueueUrl", "ContactFlowBlock"]
    {
        assert!(outputs.contains_key(output), "output {output}");
    }
}

#[test]
fn sam_builds_the_function_with_cargo_lambda_through_the_makefile() {
    let function = function();
    assert_eq!(function["Metadata"]["BuildMethod"], "makefile", "docs/deployment.md explains the build method");
    let code_uri = function["Properties"]["CodeUri"].as_str().expect("a local CodeUri");
    let makefile = std::fs::read_to_string(root().join(code_uri).join("Makefile")).expect("SAM's makefile build needs CodeUri/Makefile");
    assert!(makefile.contains(&format!("build-{FUNCTION}:")), "the Makefile needs the target build-{FUNCTION}");
    assert!(makefile.contains("lambda build --release --arm64"), "the Makefile builds with cargo lambda for arm64");
    assert!(makefile.contains("$(ARTIFACTS_DIR)/bootstrap"), "the binary goes to the package as bootstrap");
}

/// The statements that exist only under a condition: DescribeContact only with an instance (none
/// at all without one, rather than every instance's contacts), the key's actions only with a key.
#[test]
fn contact_lookups_need_the_instance_and_key_use_needs_a_key() {
    let mut seen = BTreeSet::new();
    for (guard, statement) in guarded_statements() {
        let actions: Vec<&str> = as_list(&statement["Action"]).into_iter().filter_map(Value::as_str).collect();
        let required = if actions.iter().any(|a| a.starts_with("connect:")) {
            "ConnectInstanceArn"
        } else if actions.iter().any(|a| a.starts_with("kms:")) {
            "QueueKmsKeyArn"
        } else {
            continue;
        };
        let Some((condition, true)) = guard else { panic!("{actions:?} granted whatever {required} is") };
        let requires =
            condition_requirements(condition).into_iter().any(|c| c["Fn::Not"].get(0).is_some_and(|e| equals_parameter(e, required, "")));
        assert!(requires, "{actions:?}: condition {condition} must require a non-empty {required}");
        seen.insert(required);
    }
    assert_eq!(seen, BTreeSet::from(["ConnectInstanceArn", "QueueKmsKeyArn"]));
}

/// Every queue of the stack: a queue policy denies any access without TLS; encryption is the
/// customer-managed key of QueueKmsKeyArn when given, else SQS-managed; every dead-letter queue
/// keeps messages DeadLetterRetentionDays days, never less than the buffer queue keeps them (a
/// message keeps its first enqueue time when it moves to a dead-letter queue), and the claims of
/// the coordination store outlive a replay of the oldest dead letter.
#[test]
fn every_queue_is_tls_only_encrypted_and_dead_letters_expire_as_chosen() {
    let mut tls_only = BTreeSet::new();
    for (_, policy) in resources_of("AWS::SQS::QueuePolicy") {
        let queues: Vec<_> = branches(&policy["Properties"]["Queues"]).into_iter().filter_map(target_resource).collect();
        for statement in branches(&policy["Properties"]["PolicyDocument"]["Statement"]) {
            let denies_plain_http = statement["Effect"] == "Deny"
                && statement["Principal"] == "*"
                && statement["Action"] == "sqs:*"
                && statement["Condition"]["Bool"]["aws:SecureTransport"] == "false";
            if denies_plain_http {
                let resource = target_resource(&statement["Resource"]).expect("the queue's ARN");
                assert!(queues.contains(&resource), "the TLS statement is about a queue of its policy");
                tls_only.insert(resource);
            }
        }
    }
    let queues: BTreeSet<&str> = resources_of("AWS::SQS::Queue").into_iter().map(|(n, _)| n).collect();
    assert_eq!(tls_only, queues, "every queue refuses access without TLS");
    for (name, queue) in resources_of("AWS::SQS::Queue") {
        let p = &queue["Properties"];
        assert_eq!(p["KmsMasterKeyId"], json!({"Fn::If": ["HasQueueKey", {"Ref": "QueueKmsKeyArn"}, {"Ref": "AWS::NoValue"}]}), "{name}");
        assert_eq!(p["SqsManagedSseEnabled"], json!({"Fn::If": ["HasQueueKey", {"Ref": "AWS::NoValue"}, true]}), "{name}");
    }
    assert!(requires_non_empty("HasQueueKey", "QueueKmsKeyArn"));
    assert_eq!(parameter("QueueKmsKeyArn")["Default"], "", "SQS-managed encryption unless a key is given");

    // Dead letters: the three dead-letter queues, by what points at them.
    let mut dead_letter_queues = BTreeSet::new();
    for (_, rule) in resources_of("AWS::Events::Rule") {
        for target in branches(&rule["Properties"]["Targets"]) {
            dead_letter_queues.extend(target_resource(&target["DeadLetterConfig"]["Arn"]));
        }
    }
    dead_letter_queues
        .extend(target_resource(&function()["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"]));
    dead_letter_queues.extend(target_resource(&queue("EventQueue")["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]));
    assert_eq!(dead_letter_queues.len(), 3, "{dead_letter_queues:?}");
    let retention = json!({"Fn::FindInMap": ["DeadLetterRetention", {"Ref": "DeadLetterRetentionDays"}, "Seconds"]});
    for name in &dead_letter_queues {
        assert_eq!(queue(name)["Properties"]["MessageRetentionPeriod"], retention, "{name} keeps messages DeadLetterRetentionDays days");
    }
    let days = parameter("DeadLetterRetentionDays");
    assert_eq!(number(&days["Default"]), 7, "the default argued in the parameter's description and docs/deployment.md");
    let buffer_retention = number(&queue("EventQueue")["Properties"]["MessageRetentionPeriod"]);
    let mapping = &template()["Mappings"]["DeadLetterRetention"];
    for allowed in as_list(&days["AllowedValues"]) {
        let d = number(allowed);
        let seconds = number(&mapping[d.to_string()]["Seconds"]);
        assert_eq!(seconds, d * 86_400, "{d} days");
        assert!((60..=1_209_600).contains(&seconds), "SQS keeps messages 60 s to 14 days");
        assert!(seconds >= buffer_retention, "{d} days: a dead letter would expire before the buffer queue's messages");
    }
    assert_eq!(mapping.as_object().unwrap().len(), as_list(&days["AllowedValues"]).len(), "one entry per allowed value");
    assert!(Duration::from_secs(1_209_600) < cases_automation::claims::RETENTION, "claims outlive the oldest dead letter's replay");
}

/// Whether a condition can only hold when `parameter` is not empty.
fn requires_non_empty(condition: &str, parameter: &str) -> bool {
    condition_requirements(condition).into_iter().any(|c| c["Fn::Not"].get(0).is_some_and(|e| equals_parameter(e, parameter, "")))
}

// ---------------------------------------------------------------------------------------------
// 4. Operations: dashboard, alarms, traces, rules from AppConfig
// ---------------------------------------------------------------------------------------------

/// The metric names (and the dimensions, for searches) a text names in namespace CasesAutomation:
/// `["CasesAutomation", "Name", ...]` metric arrays, `SEARCH('{CasesAutomation,dims} MetricName="Name" …')`
/// and `SELECT …(Name) FROM SCHEMA(CasesAutomation, dims)`.
fn named_metrics(text: &str) -> Vec<(String, Option<BTreeSet<String>>)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("\"CasesAutomation\", \"") {
        let tail = &rest[at + "\"CasesAutomation\", \"".len()..];
        found.push((tail[..tail.find('"').unwrap()].to_owned(), None));
        rest = tail;
    }
    let mut rest = text;
    while let Some(at) = rest.find("{CasesAutomation,") {
        let tail = &rest[at + 1..];
        let dims: BTreeSet<String> = tail[..tail.find('}').unwrap()].split(',').skip(1).map(str::to_owned).collect();
        let name_at = tail.find("MetricName=\\\"").expect("a SEARCH names its metric") + "MetricName=\\\"".len();
        let name = &tail[name_at..];
        found.push((name[..name.find('\\').unwrap()].to_owned(), Some(dims)));
        rest = tail;
    }
    let mut rest = text;
    while let Some(at) = rest.find("SELECT ") {
        let tail = &rest[at..];
        let open = tail.find('(').unwrap();
        let name = &tail[open + 1..open + tail[open..].find(')').unwrap()];
        let schema = &tail[tail.find("SCHEMA(").unwrap() + "SCHEMA(".len()..];
        let parts: Vec<String> = schema[..schema.find(')').unwrap()].split(',').map(|p| p.trim().to_owned()).collect();
        assert_eq!(parts[0], "CasesAutomation", "{tail}");
        found.push((name.to_owned(), Some(parts[1..].iter().cloned().collect())));
        rest = &tail[1..];
    }
    found
}

fn dashboard_body() -> String {
    let body = &resource("OperationsDashboard")["Properties"]["DashboardBody"];
    render(body)
}

#[test]
fn the_dashboard_and_alarms_name_only_metrics_the_code_emits_and_show_them_all() {
    use cases_automation::telemetry::{FUNCTION_DIMENSION, METRICS, NAMESPACE};
    assert_eq!(NAMESPACE, "CasesAutomation");
    let mut texts = vec![("OperationsDashboard".to_owned(), dashboard_body())];
    for (name, alarm) in resources_of("AWS::CloudWatch::Alarm") {
        let p = &alarm["Properties"];
        if p["Namespace"] == NAMESPACE {
            texts.push((name.to_owned(), format!("\"CasesAutomation\", \"{}\"", p["MetricName"].as_str().unwrap())));
        }
        for metric in as_list(&p["Metrics"]).into_iter().filter(|m| m.get("Expression").is_some()) {
            texts.push((name.to_owned(), render(&metric["Expression"])));
        }
    }
    let mut shown = BTreeSet::new();
    for (place, text) in &texts {
        for (name, dimensions) in named_metrics(text) {
            let metric =
                METRICS.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("{place} names {name}, which the code does not emit"));
            if let Some(dimensions) = dimensions {
                let emitted: BTreeSet<String> =
                    metric.dimensions.iter().map(|d| d.to_string()).chain([FUNCTION_DIMENSION.to_owned()]).collect();
                assert_eq!(dimensions, emitted, "{place}: {name} is emitted with dimensions {emitted:?}");
            }
            if place == "OperationsDashboard" {
                shown.insert(name);
            }
        }
    }
    let missing: Vec<&str> = METRICS.iter().map(|m| m.name).filter(|n| !shown.contains(*n)).collect();
    assert!(missing.is_empty(), "the dashboard does not show {missing:?}");
    // Valid JSON once CloudFormation has substituted the names.
    let body = dashboard_body();
    let mut substituted = String::new();
    for (i, part) in body.split("${").enumerate() {
        if i == 0 {
            substituted.push_str(part);
            continue;
        }
        let end = part.find('}').unwrap();
        substituted.push_str(match &part[..end] {
            "RuleFailureRatePercent" | "FlowTimeoutMs" => "1",
            "BufferDeadLetters" => "",
            _ => "name",
        });
        substituted.push_str(&part[end + 1..]);
    }
    let parsed: Value = serde_json::from_str(&substituted).unwrap_or_else(|e| panic!("the dashboard body is not JSON: {e}"));
    assert!(parsed["widgets"].as_array().is_some_and(|w| w.len() >= 10));
}

#[test]
fn every_alarm_notifies_the_alarm_topic_when_one_is_given() {
    for (name, alarm) in resources_of("AWS::CloudWatch::Alarm") {
        for action in ["AlarmActions", "OKActions"] {
            let value = &alarm["Properties"][action];
            let args = value.get("Fn::If").and_then(Value::as_array).unwrap_or_else(|| panic!("{name}: {action} is not conditional"));
            assert_eq!(args[0], "HasAlarmTopic", "{name}");
            assert_eq!(args[1], json!([{"Ref": "AlarmTopicArn"}]), "{name}");
            assert!(is_no_value(&args[2]), "{name}");
        }
    }
    for required in
        ["RuleFailureRateAlarm", "ApiThrottlingAlarm", "EventDeliveryDeadLetterAlarm", "AsyncFailureAlarm", "EventQueueDeadLetterAlarm"]
    {
        assert_eq!(resource(required)["Type"], "AWS::CloudWatch::Alarm");
    }
}

#[test]
fn tracing_is_a_parameter_and_active_tracing_may_write_segments() {
    assert_eq!(parameter("Tracing")["AllowedValues"], json!(["Active", "PassThrough"]));
    assert_eq!(function()["Properties"]["Tracing"], json!({"Ref": "Tracing"}));
    let xray: Vec<_> = guarded_statements()
        .into_iter()
        .filter(|(_, s)| as_list(&s["Action"]).iter().any(|a| a.as_str().unwrap().starts_with("xray:")))
        .collect();
    assert_eq!(xray.len(), 1);
    assert_eq!(xray[0].0, Some(("ActiveTracing", true)), "X-Ray writes only with Tracing=Active");
}

#[test]
fn appconfig_rules_are_validated_by_the_function_and_rolled_back_on_the_failure_alarm() {
    let profile = &resource("RulesProfile")["Properties"];
    assert_eq!(profile["LocationUri"], "hosted");
    assert_eq!(target_resource(&as_list(&profile["Validators"])[0]["Content"]), Some(FUNCTION));
    let permission = &resource("RulesValidatorPermission")["Properties"];
    assert_eq!(permission["Principal"], "appconfig.amazonaws.com");
    let monitors = as_list(&resource("RulesEnvironment")["Properties"]["Monitors"]);
    assert_eq!(target_resource(&monitors[0]["AlarmArn"]), Some("RuleFailureRateAlarm"));
    let path = render(&branches(&template_environment()["RULES_APPCONFIG"])[0].clone());
    assert_eq!(path, "${RulesApplication}/live/rules");
    assert_eq!(resource("RulesEnvironment")["Properties"]["Name"], "live");
    assert_eq!(resource("RulesProfile")["Properties"]["Name"], "rules");
    let config = config_with(&[]).unwrap();
    assert_eq!(config.rules_appconfig, None, "off by default");
    for (name, r) in resources().iter().filter(|(_, r)| r["Type"].as_str().is_some_and(|t| t.starts_with("AWS::AppConfig::"))) {
        assert_eq!(r["Condition"], "AppConfigRules", "{name} exists only with RulesFromAppConfig=Enabled");
    }
}

// ---------------------------------------------------------------------------------------------
// Scheduled sweeps
// ---------------------------------------------------------------------------------------------

const SWEEP_SCHEDULE_ROLE: &str = "SweepScheduleRole";

/// The default scheduled rules and the schedule the template creates for each, with the parameter
/// that switches it on and a value that does.
const DEFAULT_SWEEPS: &[(&str, &str, &str, &str)] = &[
    ("auto-close-idle-cases", "AutoCloseSchedule", "AutoCloseAfterDays", "14"),
    ("overdue-sla-escalation", "SlaEscalationSchedule", "EscalateOverdueSlas", "Enabled"),
];

/// What Scheduler sends for a schedule's `Input`: the stack's values substituted by CloudFormation,
/// then the context attributes by Scheduler at each invocation.
fn scheduled_payload(schedule: &str, parameters: &[(&str, &str)]) -> Value {
    scheduled_attempt(schedule, parameters, "d32c5kddcf5bb8c3", "1")
}

fn scheduled_attempt(schedule: &str, parameters: &[(&str, &str)], execution_id: &str, attempt: &str) -> Value {
    let mut text = render(&resource(schedule)["Properties"]["Target"]["Input"]);
    for (name, value) in [("AWS::AccountId", "123456789012"), ("AWS::Region", "us-east-1")].iter().chain(parameters) {
        text = text.replace(&format!("${{{name}}}"), value);
    }
    assert!(!text.contains("${"), "{schedule}: unresolved {text}");
    for (attribute, value) in [
        ("schedule-arn", "arn:aws:scheduler:us-east-1:123456789012:schedule/sweeps/s"),
        ("scheduled-time", "2026-12-15T02:00:00Z"),
        ("execution-id", execution_id),
        ("attempt-number", attempt),
    ] {
        text = text.replace(&format!("<aws.scheduler.{attribute}>"), value);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{schedule}: the input is not JSON ({e}): {text}"))
}

/// Each default scheduled rule has a schedule at its `every`, off until its parameter turns it on,
/// sending the payload the function reads as that rule's sweep: the shape of the sample event,
/// classified as a sweep, its time the scheduled time (a retried invocation is the same sweep).
#[test]
fn each_default_scheduled_rule_has_a_schedule_at_its_every_sending_its_sweep() {
    let rules = RuleSet::default_rules();
    let sample = sample("schedule-auto-close.json");
    for (rule_name, schedule, parameter_name, on) in DEFAULT_SWEEPS {
        let rule = rules.rules.iter().find(|r| r.name == *rule_name).unwrap_or_else(|| panic!("no default rule {rule_name}"));
        let every = &rule.schedule.as_ref().expect("a scheduled rule").every;
        let properties = &resource(schedule)["Properties"];
        assert_eq!(resource(schedule)["Type"], "AWS::Scheduler::Schedule");
        assert_eq!(properties["ScheduleExpression"].as_str(), Some(every.as_str()), "{schedule} runs at {rule_name}'s `every`");
        assert_eq!(properties["FlexibleTimeWindow"]["Mode"], "FLEXIBLE", "{schedule}: the sweep selects by its scheduled time");

        // Off by default, on with its parameter.
        let condition = resource(schedule)["Condition"].as_str().unwrap_or_else(|| panic!("{schedule} has no condition"));
        let default = parameter(parameter_name)["Default"].clone();
        let holds = |value: &str| {
            let mut parameters = BTreeMap::new();
            parameters.insert(*parameter_name, json!(value));
            rule_holds(&template()["Conditions"][condition], &parameters)
        };
        let default = match default {
            Value::Number(n) => n.to_string(),
            other => other.as_str().unwrap().to_owned(),
        };
        assert!(!holds(&default), "{schedule} is off by default");
        assert!(holds(on), "{schedule} is on with {parameter_name}={on}");

        // The payload: the sample's shape, classified as the rule's sweep at the scheduled time.
        let payload = scheduled_payload(schedule, &[(parameter_name, on)]);
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
        assert_eq!(keys(&payload), keys(&sample), "{schedule}: the documented sample has the payload's shape");
        let Ok(cases_automation::inbound::Inbound::EventBridge(event)) = cases_automation::inbound::classify(payload.clone()) else {
            panic!("{schedule}: not an EventBridge-shaped event: {payload}")
        };
        let sweep = cases_automation::sweep::request(&event)
            .unwrap_or_else(|| panic!("{schedule}: not a sweep request: {payload}"))
            .unwrap_or_else(|e| panic!("{schedule}: {e}"));
        assert_eq!(sweep.rule, *rule_name);
        assert_eq!(sweep.context()["sweep"]["scheduledTime"], "2026-12-15T02:00:00Z");
        if *parameter_name == "AutoCloseAfterDays" {
            assert_eq!(sweep.parameters["idleDays"], json!(14), "the rule's idleDays is the parameter, as a number");
        }
        // A retried invocation (another execution id and attempt) is the same event and the same sweep.
        let retried = scheduled_attempt(schedule, &[(parameter_name, on)], "e41d6leedg6cc9d4", "2");
        assert_eq!(retried["id"], payload["id"], "{schedule}: one event id for every attempt");
        let Ok(cases_automation::inbound::Inbound::EventBridge(retried)) = cases_automation::inbound::classify(retried) else { panic!() };
        assert_eq!(cases_automation::sweep::request(&retried).unwrap().unwrap().id(), sweep.id(), "{schedule}: one sweep");
    }
}

/// A schedule's invocation is retried and never lost: a retry policy, a dead-letter queue with an
/// alarm, the function as its target, and the same switches for the custom rule's schedule.
#[test]
fn every_schedule_retries_and_has_an_alarmed_dead_letter_queue() {
    let schedules = resources_of("AWS::Scheduler::Schedule");
    assert_eq!(schedules.len(), 3, "the two default sweeps and SweepRule's");
    let alarmed = alarmed_queues();
    for (name, schedule) in schedules {
        let target = &schedule["Properties"]["Target"];
        assert_eq!(target_resource(&target["Arn"]), Some(FUNCTION), "{name} invokes the function");
        assert_eq!(target_resource(&target["RoleArn"]), Some(SWEEP_SCHEDULE_ROLE));
        let retry = &target["RetryPolicy"];
        assert!(number(&retry["MaximumRetryAttempts"]) > 0 && number(&retry["MaximumEventAgeInSeconds"]) >= 60, "{name}: RetryPolicy");
        let dlq = target_resource(&target["DeadLetterConfig"]["Arn"]).unwrap_or_else(|| panic!("{name}: DeadLetterConfig.Arn"));
        let queue = queue(dlq);
        assert!(alarmed.contains(dlq), "{dlq} (dead letters of {name}) has no alarm");
        assert!(queue["Properties"].get("SqsManagedSseEnabled").is_some(), "{dlq} is encrypted");
        assert_eq!(target_resource(&schedule["Properties"]["GroupName"]), Some("SweepScheduleGroup"), "{name}: the stack's group");
    }
    let custom = scheduled_payload("SweepRuleSchedule", &[("SweepRule", "nightly-reminders")]);
    assert_eq!(custom["sweep"]["rule"], "nightly-reminders");
    assert_eq!(resource("SweepRuleSchedule")["Properties"]["ScheduleExpression"], json!({"Ref": "SweepSchedule"}));
}

/// Scheduler's role may invoke the function and send its dead letters, nothing else, and only
/// this stack's schedules may assume it.
#[test]
fn the_schedule_role_may_only_invoke_the_function_and_send_its_dead_letters() {
    let role = &resource(SWEEP_SCHEDULE_ROLE)["Properties"];
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "scheduler.amazonaws.com");
    assert_eq!(trust["Condition"]["StringEquals"]["aws:SourceAccount"], json!({"Ref": "AWS::AccountId"}));
    assert_eq!(target_resource(&trust["Condition"]["ArnEquals"]["aws:SourceArn"]), Some("SweepScheduleGroup"));
    let mut granted = BTreeMap::new();
    for (name, statement) in role_statements().into_iter().filter(|(name, _)| *name == SWEEP_SCHEDULE_ROLE) {
        let actions: Vec<&str> = as_list(&statement["Action"]).into_iter().filter_map(Value::as_str).collect();
        for resource in branches(&statement["Resource"]) {
            let on = target_resource(resource).map(str::to_owned).unwrap_or_else(|| render(resource));
            for action in &actions {
                granted.entry(action.to_string()).or_insert_with(BTreeSet::new).insert(on.clone());
            }
        }
        assert!(!actions.is_empty(), "{name}: {statement}");
    }
    let expected: BTreeMap<String, BTreeSet<String>> = [
        ("lambda:InvokeFunction", FUNCTION),
        ("sqs:SendMessage", "SweepDeadLetterQueue"),
        ("kms:Decrypt", "${QueueKmsKeyArn}"),
        ("kms:GenerateDataKey", "${QueueKmsKeyArn}"),
    ]
    .into_iter()
    .map(|(action, on)| (action.to_owned(), BTreeSet::from([on.to_owned()])))
    .collect();
    assert_eq!(granted, expected);
}

/// A sweep needs the queue (its work items) and the coordination store (its place, and each case
/// once): a stack that turns a sweep on without them is refused.
#[test]
fn a_stack_with_sweeps_needs_the_queue_and_the_coordination_store() {
    let stack = |given: &[(&str, &str)]| {
        let mut parameters: BTreeMap<&str, Value> = given.iter().map(|(k, v)| (*k, json!(v))).collect();
        parameters.insert("ConnectInstanceArn", json!(INSTANCE));
        stack_accepted(&parameters)
    };
    assert!(stack(&[]), "no sweep: any delivery path");
    assert!(stack(&[("BufferThroughSqs", "false")]), "no sweep: any delivery path");
    for on in [("AutoCloseAfterDays", "14"), ("EscalateOverdueSlas", "Enabled"), ("SweepRule", "nightly")] {
        assert!(stack(&[on]), "{on:?} with the template's defaults");
        assert!(!stack(&[on, ("BufferThroughSqs", "false")]), "{on:?} without the queue is refused");
        assert!(!stack(&[on, ("CoordinationStore", "Disabled")]), "{on:?} without the store is refused");
    }
    for sweeps in ["Sweeps", "AutoClosesCases", "EscalatesSlas", "HasSweepRule"] {
        assert!(template()["Conditions"].get(sweeps).is_some(), "condition {sweeps}");
    }
}

/// The function sends work items to its own queue: WORK_QUEUE_URL is the queue's URL, and the
/// role may send to that queue only.
#[test]
fn sweeps_send_their_work_items_to_the_functions_own_queue() {
    let url = &template_environment()["WORK_QUEUE_URL"];
    assert_eq!(url["Fn::If"][0], "Buffered");
    assert_eq!(target_resource(&url["Fn::If"][1]), Some("EventQueue"));
    assert!(is_no_value(&url["Fn::If"][2]));
    let sends_to_queue = guarded_statements().into_iter().any(|(guard, statement)| {
        guard == Some(("Buffered", true))
            && statement["Action"] == "sqs:SendMessage"
            && branches(&statement["Resource"]).into_iter().map(target_resource).collect::<Vec<_>>() == [Some("EventQueue")]
    });
    assert!(sends_to_queue, "the role may send to the event queue, only when there is one");
}
