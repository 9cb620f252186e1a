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

use cases_automation::config::{Config, ENVIRONMENT};
use cases_automation::identity::validate_identity;
use cases_automation::rules::RuleSet;
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
    "cases:CreateRelatedItem",
    "cases:ListFields",
    "cases:ListTemplates",
];

/// The other actions the execution role may have: linking a contact (CreateRelatedItem with a
/// contact needs `connect:DescribeContact` on the contact's ARN, per the CreateRelatedItem API
/// reference), writing its logs, sending to its failure queue and reading its buffer queue.
const OTHER_ACTIONS: &[&str] = &[
    "connect:DescribeContact",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
];

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
const NO_RESOURCE_LEVEL_ACTIONS: &[&str] = &[];

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
        let from_the_stack =
            branches(value).iter().any(|b| b.get("Ref").and_then(Value::as_str).is_some_and(|r| resources().contains_key(r)));
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
        let actions: Vec<&str> = as_list(&statement["Action"]).into_iter().map(|a| a.as_str().expect("action names are strings")).collect();
        let arns: Vec<String> = branches(&statement["Resource"]).into_iter().map(render).collect();
        assert!(statement.get("NotAction").is_none() && statement.get("NotResource").is_none(), "{role}: NotAction/NotResource");
        for action in &actions {
            assert!(!action.contains('*'), "{role}: wildcard action {action}");
            assert!(
                CASES_ACTIONS.contains(action)
                    || PROFILE_ACTIONS.contains(action)
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
        if actions.contains(&"connect:DescribeContact") {
            assert_eq!(actions, ["connect:DescribeContact"]);
            for resource in &arns {
                let in_instance = resource.starts_with("${ConnectInstanceArn}/") || resource.contains(":instance/");
                assert!(resource.ends_with("/contact/*") && in_instance, "{role}: DescribeContact on {resource}");
            }
            // Scoped to the instance when one is given.
            assert!(
                arns.iter().any(|r| r == "${ConnectInstanceArn}/contact/*"),
                "{role}: DescribeContact is not scoped to ConnectInstanceArn"
            );
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
