//! Seed files: the initial domains, fields, options, templates, case event configuration and
//! (optionally) cases of an emulator.
//!
//! Format (JSON; see `seed/demo.json` and the README):
//! ```json
//! {"domains":[{"id":"demo-domain","name":"demo",
//!   "fields":[{"id":"6f1e…","name":"Priority","type":"SingleSelect",
//!              "options":[{"name":"Low","value":"low","active":true}, "normal"]}],
//!   "templates":[{"id":"7a2b…","name":"Order issue","status":"Active",
//!                 "requiredFields":["title","customer_id","Order number"]}],
//!   "caseEventConfiguration":{"enabled":true,"includedData":{"caseData":{"fields":[{"id":"status"}]}}},
//!   "cases":[{"templateId":"Order issue","fields":[{"id":"title","value":{"stringValue":"…"}}]}]}]}
//! ```
//! Customer Profiles domains sit next to `domains` (top level), with profiles in the API's
//! `Profile` shape (PascalCase members, validated like CreateProfile; `ProfileId` optional):
//! ```json
//! {"profileDomains":[{"name":"demo-profiles","defaultExpirationDays":366,
//!   "profiles":[{"ProfileId":"f768…","FirstName":"Alex","LastName":"Morgan",
//!                "PhoneNumber":"+12065550123","Attributes":{"tier":"gold"}}]}]}
//! ```
//! Amazon Connect instances sit there too, with contacts in the API's `Contact` shape (PascalCase
//! members, timestamps as RFC 3339 text) and their user-defined attributes in `Attributes`:
//! ```json
//! {"connectInstances":[{"id":"a1b2c3d4-…","contacts":[{"Id":"33393138-…","Channel":"VOICE",
//!   "InitiationMethod":"INBOUND","QueueInfo":{"Id":"ace970fc-…"},"Attributes":{"orderNumber":"ORD-51877"}}]}]}
//! ```
//! Every domain gets the system fields automatically; a field entry with `"namespace":"System"`
//! (or the id of a system field) only updates its options/description. Ids are optional
//! (random UUIDs otherwise). Wherever a field or template is referenced (requiredFields,
//! caseEventConfiguration, case fields, case templateId) its name may be used instead of its id.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::state::State;
use crate::state::admin::{FieldInput, TemplateInput};
use crate::state::cases::CreateCaseInput;
use crate::state::clock::Clock;
use crate::state::model::{FieldOption, FieldType, FieldValue, Namespace, TemplateStatus, User};

/// The built-in demo seed (`seed/demo.json`).
pub const DEMO_SEED_JSON: &str = include_str!("../seed/demo.json");

/// Ids of the built-in demo seed.
pub mod demo {
    pub const DOMAIN_ID: &str = "demo-domain";
    pub const DOMAIN_NAME: &str = "demo";

    pub const FIELD_CUSTOMER_PHONE: &str = "6f1e2d3c-0000-4000-8000-000000000001";
    pub const FIELD_ORDER_NUMBER: &str = "6f1e2d3c-0000-4000-8000-000000000002";
    pub const FIELD_ORDER_TOTAL: &str = "6f1e2d3c-0000-4000-8000-000000000003";
    pub const FIELD_CALLBACK_REQUESTED: &str = "6f1e2d3c-0000-4000-8000-000000000004";
    pub const FIELD_PRIORITY: &str = "6f1e2d3c-0000-4000-8000-000000000005";
    pub const FIELD_PROMISED_BY: &str = "6f1e2d3c-0000-4000-8000-000000000006";
    pub const FIELD_OWNER: &str = "6f1e2d3c-0000-4000-8000-000000000007";
    pub const FIELD_CONTACT_CHANNEL: &str = "6f1e2d3c-0000-4000-8000-000000000008";
    pub const FIELD_DISCONNECT_REASON: &str = "6f1e2d3c-0000-4000-8000-000000000009";

    pub const TEMPLATE_GENERAL_INQUIRY: &str = "7a2b3c4d-0000-4000-8000-000000000001";
    pub const TEMPLATE_CALLBACK_REQUEST: &str = "7a2b3c4d-0000-4000-8000-000000000002";
    pub const TEMPLATE_ORDER_ISSUE: &str = "7a2b3c4d-0000-4000-8000-000000000003";
    /// Inactive.
    pub const TEMPLATE_LEGACY_INTAKE: &str = "7a2b3c4d-0000-4000-8000-000000000004";

    /// A customer_id that passes validation.
    pub const CUSTOMER_ID: &str = "arn:aws:profile:us-east-1:123456789012:domains/demo-profiles/profiles/0123456789abcdef";

    /// The Customer Profiles domain of the demo seed.
    pub const PROFILES_DOMAIN: &str = "demo-profiles";
    /// Alex Morgan: PhoneNumber +12065550123, EmailAddress alex.morgan@example.com, AccountNumber ACC-1001.
    pub const PROFILE_ALEX_MORGAN: &str = "f768064f958507ad239eed24c2c063fe";
    /// Sam Lee: PhoneNumber +12065550147, AccountNumber ACC-1002.
    pub const PROFILE_SAM_LEE: &str = "b9c48cb01720800e4ca82984fcb042d9";
    /// Jordan Rivera: EmailAddress jordan.rivera@example.com, AccountNumber ACC-1003.
    pub const PROFILE_JORDAN_RIVERA: &str = "5966eb44e0c6774455113dc30e9a8df5";
    /// Casey Kim: PhoneNumber +12065550162, MobilePhoneNumber +12065550163.
    pub const PROFILE_CASEY_KIM: &str = "a83c546dbc4d13dcd6c93f01a9f18630";
    /// Taylor Brooks: PhoneNumber [`SHARED_PHONE`], Attributes `{"createdAt": "2025-03-01T09:00:00Z"}`.
    pub const PROFILE_TAYLOR_BROOKS: &str = "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f";
    /// Morgan Brooks: HomePhoneNumber [`SHARED_PHONE`], Attributes `{"createdAt": "2026-06-15T09:00:00Z"}`.
    pub const PROFILE_MORGAN_BROOKS: &str = "1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60";
    /// The number two demo profiles share (Taylor Brooks and Morgan Brooks): `_phone` finds both.
    pub const SHARED_PHONE: &str = "+12065550188";

    /// The Amazon Connect instance of the sample events.
    pub const CONNECT_INSTANCE_ID: &str = "a1b2c3d4-1111-4222-8333-444455556666";
    /// A voice call that reached an agent (Alex Morgan's); attribute `orderNumber` = [`ORDER_OF_AGENT_CONTACT`].
    pub const CONTACT_REACHED_AGENT: &str = "33393138-3701-403f-b745-3614dba55617";
    pub const ORDER_OF_AGENT_CONTACT: &str = "ORD-51877";
    /// A voice call abandoned in queue (Sam Lee's); attribute `orderNumber` = `ORD-48213`.
    pub const CONTACT_ABANDONED: &str = "90bc4c10-4659-4fc8-8f9e-9d91d95996e3";
    /// A task whose chain started with a call ([`CONTACT_TASK_INITIAL`]); the attributes are the call's.
    pub const CONTACT_TASK: &str = "c67e2041-df70-4032-b3dd-cd46e156ceb2";
    pub const CONTACT_TASK_INITIAL: &str = "b40a5b86-968a-4fa3-8d19-1c7ccf4d7c58";
}

/// Seed loading errors.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("invalid seed JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid seed: {0}")]
    Invalid(String),
}

/// A seed (see the module docs for the format).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seed {
    #[serde(default)]
    pub domains: Vec<SeedDomain>,
    /// Customer Profiles domains.
    #[serde(default)]
    pub profile_domains: Vec<SeedProfileDomain>,
    /// Amazon Connect instances and their contacts.
    #[serde(default)]
    pub connect_instances: Vec<SeedConnectInstance>,
}

/// An Amazon Connect instance of a seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedConnectInstance {
    /// The instance id (1–100 characters).
    pub id: String,
    /// Contacts in the API's `Contact` shape (`Id` required), with `Attributes`.
    #[serde(default)]
    pub contacts: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// A Customer Profiles domain of a seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedProfileDomain {
    /// `DomainName` (1–64 characters of `^[a-zA-Z0-9_-]+$`).
    pub name: String,
    /// Default 366.
    #[serde(default)]
    pub default_expiration_days: Option<i32>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Profiles in the API's `Profile` shape (`ProfileId` optional: 32 lowercase hex characters).
    #[serde(default)]
    pub profiles: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedDomain {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub fields: Vec<SeedField>,
    #[serde(default)]
    pub templates: Vec<SeedTemplate>,
    #[serde(default)]
    pub case_event_configuration: Option<serde_json::Value>,
    #[serde(default)]
    pub cases: Vec<SeedCase>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedField {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub namespace: Option<Namespace>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub attributes: Option<serde_json::Value>,
    #[serde(default)]
    pub options: Vec<SeedOption>,
}

/// An option: `{"name","value","active"}` or just the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SeedOption {
    Value(String),
    Full(FieldOption),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedTemplate {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<TemplateStatus>,
    /// Field ids or names.
    #[serde(default)]
    pub required_fields: Vec<String>,
    #[serde(default)]
    pub tag_propagation_configurations: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedCase {
    #[serde(default)]
    pub id: Option<String>,
    /// Template id or name.
    pub template_id: String,
    /// `{"id": <field id or name>, "value": {…}}`.
    #[serde(default)]
    pub fields: Vec<FieldValue>,
    #[serde(default)]
    pub performed_by: Option<User>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Seed {
    /// The built-in demo seed.
    pub fn demo() -> Seed {
        Seed::from_json(DEMO_SEED_JSON).expect("built-in demo seed is valid")
    }

    /// The same domains, fields and templates with no cases: a clean domain for tests. Profile
    /// domains and their profiles are kept.
    pub fn without_cases(mut self) -> Seed {
        for domain in &mut self.domains {
            domain.cases.clear();
        }
        self
    }

    /// No domains at all.
    pub fn empty() -> Seed {
        Seed::default()
    }

    pub fn from_json(s: &str) -> Result<Seed, SeedError> {
        Ok(serde_json::from_str(s)?)
    }

    pub fn from_file(path: impl AsRef<Path>) -> Result<Seed, SeedError> {
        let p = path.as_ref();
        let s = std::fs::read_to_string(p).map_err(|source| SeedError::Io { path: p.display().to_string(), source })?;
        Seed::from_json(&s)
    }

    /// Builds the state this seed describes, timestamped by a clock showing real time.
    pub fn build(&self, region: &str, account: &str) -> Result<State, SeedError> {
        self.build_with_clock(region, account, &Clock::new())
    }

    /// Builds the state this seed describes; every item gets its own timestamp from `clock`.
    pub fn build_with_clock(&self, region: &str, account: &str, clock: &Clock) -> Result<State, SeedError> {
        let mut st = State::new(region, account);
        for sd in &self.domains {
            build_domain(&mut st, sd, clock).map_err(|e| SeedError::Invalid(format!("domain '{}': {e}", sd.name)))?;
        }
        for pd in &self.profile_domains {
            build_profile_domain(&mut st, pd, clock).map_err(|e| SeedError::Invalid(format!("profile domain '{}': {e}", pd.name)))?;
        }
        for instance in &self.connect_instances {
            build_connect_instance(&mut st, instance)
                .map_err(|e| SeedError::Invalid(format!("connect instance '{}': {e}", instance.id)))?;
        }
        Ok(st)
    }
}

fn build_connect_instance(st: &mut State, instance: &SeedConnectInstance) -> Result<(), String> {
    crate::wire::validate::length(&instance.id, "id", 1, 100).map_err(|e| e.message)?;
    st.create_connect_instance(&instance.id);
    for (i, contact) in instance.contacts.iter().enumerate() {
        let contact = crate::state::connect::validate_contact(contact).map_err(|e| format!("contacts[{i}]: {e}"))?;
        st.put_contact(&instance.id, contact).map_err(|e| format!("contacts[{i}]: {}", e.message))?;
    }
    Ok(())
}

fn build_profile_domain(st: &mut State, pd: &SeedProfileDomain, clock: &Clock) -> Result<(), String> {
    crate::wire::profiles::validate::profiles_name(&pd.name, "name").map_err(|e| e.message)?;
    if let Some(days) = pd.default_expiration_days
        && !(1..=1098).contains(&days)
    {
        return Err(format!("defaultExpirationDays {days} is not within 1..=1098"));
    }
    st.create_profile_domain(&pd.name, pd.default_expiration_days, pd.tags.clone(), clock.tick()).map_err(|e| e.message)?;
    for (i, p) in pd.profiles.iter().enumerate() {
        let id = match p.get("ProfileId") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.as_str()),
            Some(other) => return Err(format!("profiles[{i}].ProfileId must be a string, not {other}")),
        };
        let profile = crate::wire::profiles::validate::create_profile(p).map_err(|e| format!("profiles[{i}]: {}", e.message))?;
        st.create_profile(&pd.name, id, profile).map_err(|e| format!("profiles[{i}]: {}", e.message))?;
    }
    Ok(())
}

fn build_domain(st: &mut State, sd: &SeedDomain, clock: &Clock) -> Result<(), String> {
    let (d, _) = st.create_domain(sd.id.as_deref(), &sd.name, clock.tick()).map_err(|e| e.message)?;
    let did = d.id.clone();
    st.domain_mut(&did).map_err(|e| e.message)?.tags = sd.tags.clone();
    for f in &sd.fields {
        let options: Vec<FieldOption> = f
            .options
            .iter()
            .map(|o| match o {
                SeedOption::Value(v) => FieldOption { name: v.clone(), value: v.clone(), active: true },
                SeedOption::Full(o) => o.clone(),
            })
            .collect();
        let existing_system = f.id.as_deref().and_then(|id| st.domain(&did).ok()?.field(id).map(|x| x.id.clone()));
        let fid = match (existing_system, f.namespace) {
            (Some(id), _) => {
                let d = st.domain_mut(&did).map_err(|e| e.message)?;
                let field = d.fields.iter_mut().find(|x| x.id == id).expect("exists");
                if field.field_type != f.field_type {
                    return Err(format!("field '{id}' is a {:?} system field, not {:?}", field.field_type, f.field_type));
                }
                if f.description.is_some() {
                    field.description = f.description.clone();
                }
                id
            }
            (None, Some(Namespace::System)) => {
                return Err(format!("'{}' is not a system field id", f.id.as_deref().unwrap_or(&f.name)));
            }
            (None, _) => {
                let (field, _) = st
                    .create_field(
                        &did,
                        f.id.as_deref(),
                        FieldInput {
                            name: f.name.clone(),
                            field_type: f.field_type,
                            description: f.description.clone(),
                            attributes: f.attributes.clone(),
                        },
                        clock.tick(),
                    )
                    .map_err(|e| e.message)?;
                field.id
            }
        };
        if !options.is_empty() {
            st.batch_put_field_options(&did, &fid, options, clock.tick()).map_err(|e| e.message)?;
        }
    }
    let resolve_field = |st: &State, r: &str| -> Result<String, String> {
        let d = st.domain(&did).map_err(|e| e.message)?;
        d.fields
            .iter()
            .find(|f| f.id == r)
            .or_else(|| d.fields.iter().find(|f| f.name == r))
            .map(|f| f.id.clone())
            .ok_or_else(|| format!("unknown field '{r}'"))
    };
    for t in &sd.templates {
        let required_fields = t.required_fields.iter().map(|r| resolve_field(st, r)).collect::<Result<Vec<_>, _>>()?;
        let input = TemplateInput {
            name: t.name.clone(),
            description: t.description.clone(),
            status: t.status,
            required_fields,
            default_layout: None,
            rules: Vec::new(),
            tag_propagation_configurations: t.tag_propagation_configurations.clone(),
        };
        st.create_template(&did, t.id.as_deref(), input, clock.tick()).map_err(|e| e.message)?;
    }
    if let Some(cfg) = &sd.case_event_configuration {
        let mut cfg = cfg.clone();
        if let Some(fields) = cfg.pointer_mut("/includedData/caseData/fields").and_then(|v| v.as_array_mut()) {
            for f in fields.iter_mut() {
                if let Some(id) = f.get("id").and_then(|v| v.as_str()) {
                    let resolved = resolve_field(st, id)?;
                    f["id"] = serde_json::Value::String(resolved);
                }
            }
        }
        if cfg.get("enabled").and_then(|v| v.as_bool()).is_none() {
            return Err("caseEventConfiguration.enabled must be a boolean".into());
        }
        st.put_case_event_configuration(&did, cfg).map_err(|e| e.message)?;
    }
    for (i, c) in sd.cases.iter().enumerate() {
        let d = st.domain(&did).map_err(|e| e.message)?;
        let template_id = d
            .templates
            .iter()
            .find(|t| t.id == c.template_id)
            .or_else(|| d.templates.iter().find(|t| t.name == c.template_id))
            .map(|t| t.id.clone())
            .ok_or_else(|| format!("cases[{i}]: unknown template '{}'", c.template_id))?;
        let fields = c
            .fields
            .iter()
            .map(|fv| Ok(FieldValue { id: resolve_field(st, &fv.id)?, value: fv.value.clone() }))
            .collect::<Result<Vec<_>, String>>()?;
        let input = CreateCaseInput {
            template_id,
            fields,
            client_token: None,
            performed_by: c.performed_by.clone(),
            tags: c.tags.clone(),
            case_id: c.id.clone(),
        };
        st.create_case(&did, input, clock.tick()).map_err(|e| format!("cases[{i}]: {}", e.message))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::model::{FieldType, Namespace};

    #[test]
    fn demo_seed_has_the_documented_content() {
        let st = Seed::demo().build("us-east-1", "123456789012").unwrap();
        let d = st.domain(demo::DOMAIN_ID).unwrap();
        assert_eq!(d.name, "demo");
        let sys: Vec<&str> = d.fields.iter().filter(|f| f.namespace == Namespace::System).map(|f| f.id.as_str()).collect();
        assert_eq!(sys.len(), 13);
        let status = d.field("status").unwrap();
        let vals: Vec<&str> = status.options.iter().map(|o| o.value.as_str()).collect();
        assert_eq!(vals, ["open", "closed", "pending"]);
        assert_eq!(d.field("last_updated_user").unwrap().field_type, FieldType::User);
        let prio = d.field(demo::FIELD_PRIORITY).unwrap();
        assert_eq!(prio.name, "Priority");
        assert_eq!(prio.options.len(), 4);
        let cb = d.template(demo::TEMPLATE_CALLBACK_REQUEST).unwrap();
        assert_eq!(cb.required_fields, ["title", "customer_id", demo::FIELD_CUSTOMER_PHONE]);
        assert_eq!(d.template(demo::TEMPLATE_LEGACY_INTAKE).unwrap().status, TemplateStatus::Inactive);
        let cfg = &d.event_configuration;
        assert_eq!(cfg["enabled"], true);
        assert_eq!(cfg["includedData"]["caseData"]["fields"][3]["id"], demo::FIELD_PRIORITY);
    }

    #[test]
    fn demo_seed_has_the_contacts_of_the_sample_events() {
        let st = Seed::demo().without_cases().build("us-east-1", "123456789012").unwrap();
        let instance = st.connect_instance(demo::CONNECT_INSTANCE_ID).unwrap();
        assert_eq!(instance.contacts.len(), 5);
        let attributes = st.contact_attributes(demo::CONNECT_INSTANCE_ID, demo::CONTACT_REACHED_AGENT).unwrap();
        assert_eq!(attributes["orderNumber"], demo::ORDER_OF_AGENT_CONTACT);
        let task = st.describe_contact(demo::CONNECT_INSTANCE_ID, demo::CONTACT_TASK).unwrap();
        assert_eq!(task["InitialContactId"], demo::CONTACT_TASK_INITIAL);
        let bad = |v: serde_json::Value| Seed::from_json(&v.to_string()).unwrap().build("r", "1").unwrap_err().to_string();
        assert!(bad(serde_json::json!({"connectInstances":[{"id":"i","contacts":[{"Channel":"VOICE"}]}]})).contains("contacts[0]"));
        assert!(bad(serde_json::json!({"connectInstances":[{"id":""}]})).contains("connect instance"));
    }

    #[test]
    fn demo_seed_has_the_demo_profiles() {
        let st = Seed::demo().without_cases().build("us-east-1", "123456789012").unwrap();
        let d = st.profile_domain(demo::PROFILES_DOMAIN).unwrap();
        let ids: Vec<&str> = d.profiles.iter().map(|p| p.id()).collect();
        assert_eq!(
            ids,
            [
                demo::PROFILE_ALEX_MORGAN,
                demo::PROFILE_SAM_LEE,
                demo::PROFILE_JORDAN_RIVERA,
                demo::PROFILE_CASEY_KIM,
                demo::PROFILE_TAYLOR_BROOKS,
                demo::PROFILE_MORGAN_BROOKS
            ]
        );
        let alex = d.profile(demo::PROFILE_ALEX_MORGAN).unwrap();
        assert_eq!(alex.full_name().as_deref(), Some("Alex Morgan"));
        assert_eq!(alex.text("EmailAddress"), Some("alex.morgan@example.com"));
        assert_eq!(alex.text("AccountNumber"), Some("ACC-1001"));
        assert_eq!(d.profile(demo::PROFILE_CASEY_KIM).unwrap().text("MobilePhoneNumber"), Some("+12065550163"));
        assert_eq!(d.profile(demo::PROFILE_TAYLOR_BROOKS).unwrap().text("PhoneNumber"), Some(demo::SHARED_PHONE));
        let morgan = d.profile(demo::PROFILE_MORGAN_BROOKS).unwrap();
        assert_eq!(morgan.text("HomePhoneNumber"), Some(demo::SHARED_PHONE));
        assert_eq!(morgan.attribute("createdAt"), Some("2026-06-15T09:00:00Z"));
        // the demo case customer refers to Alex Morgan's profile
        assert!(DEMO_SEED_JSON.contains(&format!("domains/{}/profiles/{}", demo::PROFILES_DOMAIN, demo::PROFILE_ALEX_MORGAN)));
    }

    #[test]
    fn seed_profile_domains_are_validated() {
        let bad = |v: serde_json::Value| Seed::from_json(&v.to_string()).unwrap().build("r", "123456789012").unwrap_err().to_string();
        assert!(bad(serde_json::json!({"profileDomains":[{"name":"bad name"}]})).contains("pattern"));
        assert!(bad(serde_json::json!({"profileDomains":[{"name":"p","profiles":[{"FirstName":""}]}]})).contains("profiles[0]"));
        assert!(bad(serde_json::json!({"profileDomains":[{"name":"p","profiles":[{"ProfileId":"XYZ"}]}]})).contains("ProfileId"));
        let ok = serde_json::json!({"profileDomains":[{"name":"p","profiles":[{"FirstName":"A"}, {"ProfileId":"0123456789abcdef0123456789abcdef"}]}]});
        let st = Seed::from_json(&ok.to_string()).unwrap().build("r", "123456789012").unwrap();
        assert_eq!(st.profile_domains[0].profiles.len(), 2);
        assert_eq!(st.profile_domains[0].default_expiration_days, 366);
    }

    #[test]
    fn seed_cases_and_names() {
        let json = serde_json::json!({"domains":[{"name":"x","fields":[{"name":"Color","type":"SingleSelect","options":["red","blue"]}],
            "templates":[{"name":"T","requiredFields":["title","customer_id","Color"]}],
            "cases":[{"templateId":"T","fields":[
                {"id":"title","value":{"stringValue":"hello"}},
                {"id":"customer_id","value":{"stringValue":demo::CUSTOMER_ID}},
                {"id":"Color","value":{"stringValue":"red"}}]}]}]});
        let st = Seed::from_json(&json.to_string()).unwrap().build("eu-west-1", "111122223333").unwrap();
        assert_eq!(st.domains[0].cases.len(), 1);
        let bad = serde_json::json!({"domains":[{"name":"x","templates":[{"name":"T","requiredFields":["nope"]}]}]});
        assert!(Seed::from_json(&bad.to_string()).unwrap().build("r", "a").is_err());
    }
}
