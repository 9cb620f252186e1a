//! The compiled rules: what the executor and the planner read. Made by `compile` from the file's
//! shapes (`spec`); nothing here knows how the file is written, except the few small types that
//! are read straight from it (`ContactData`, `Sort`, `IfMissing`, `ItemMode`).

use std::fmt;
use std::sync::OnceLock;

use minijinja::Environment;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::customer;
use super::pattern::Pattern;
use super::schedule;
use super::value::{self, CompiledValue};

/// A field or template named by its id or by its name; resolved against the domain at run time.
pub type NameOrId = String;

/// A compiled, validated set of rules.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Which rules these are, for logs, metrics and answers: the first 12 hex digits of the
    /// SHA-256 of the file's text (or an AppConfig version, see `with_version`).
    pub version: String,
    /// Built at load when the templates are compiled there, else on first render.
    pub(super) templates: OnceLock<Environment<'static>>,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet").field("rules", &self.rules.len()).field("version", &self.version).finish()
    }
}

#[derive(Debug)]
pub struct Rule {
    pub name: String,
    /// What events the rule acts on; for a scheduled rule, its sweep's work items.
    pub pattern: Pattern,
    /// A scheduled rule's `every` and `select` (see `schedule`).
    pub schedule: Option<schedule::Schedule>,
    /// Overrides the automation identity for this rule's writes.
    pub performed_by: Option<String>,
    pub case: CaseSpec,
    pub actions: Vec<Action>,
    /// What the rule's values read about the event's contact from Amazon Connect (`contact`).
    pub contact: ContactData,
}

/// `contact: {attributes: true, description: true}`: what a rule reads about the event's contact
/// from Amazon Connect before its values are taken, and finds at `$.contact.attributes` and
/// `$.contact.description`. Contact events carry the contact's tags but not its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactData {
    /// The contact's attributes (GetContactAttributes), at `$.contact.attributes`, e.g.
    /// `$.contact.attributes.orderNumber`.
    #[serde(default)]
    pub attributes: bool,
    /// The contact's description (DescribeContact: channel, queue, agent, timestamps,
    /// disconnect reason, …), at `$.contact.description`, e.g. `$.contact.description.QueueInfo.Id`.
    #[serde(default)]
    pub description: bool,
}

impl ContactData {
    /// Whether anything is to be read.
    pub fn any(self) -> bool {
        self.attributes || self.description
    }

    /// What either asks for.
    pub fn union(self, other: ContactData) -> ContactData {
        ContactData { attributes: self.attributes || other.attributes, description: self.description || other.description }
    }
}

impl Rule {
    /// Every `customer` value of the rule with its place in the rule, in rule order.
    pub fn customer_sources(&self) -> Vec<CustomerSource<'_>> {
        fn fields<'r>(found: &mut Vec<CustomerSource<'r>>, step: Step, path: String, fields: &'r [(NameOrId, CompiledValue)]) {
            let customers = fields.iter().filter_map(|(field, value)| Some((field, value.customer()?)));
            found.extend(customers.map(|(field, customer)| CustomerSource { step, path: format!("{path}.{field}"), customer }));
        }
        let mut found = Vec::new();
        for (i, lookup) in self.case.find.iter().enumerate() {
            if let Lookup::Search { fields: f, .. } = lookup {
                fields(&mut found, Step::Lookup(i), format!("case.find[{i}].search.fields"), f);
            }
        }
        if let Some(create) = &self.case.create {
            fields(&mut found, Step::Create, "case.create.fields".into(), &create.fields);
        }
        for (i, action) in self.actions.iter().enumerate() {
            match action {
                Action::Update { fields: f } => fields(&mut found, Step::Actions, format!("actions[{i}].update.fields"), f),
                Action::Custom { fields: f, .. } => fields(&mut found, Step::Actions, format!("actions[{i}].custom.fields"), f),
                Action::LinkCase { target: LinkTarget::Find { lookups, .. } } => {
                    for (j, lookup) in lookups.iter().enumerate() {
                        if let Lookup::Search { fields: f, .. } = lookup {
                            fields(&mut found, Step::Actions, format!("actions[{i}].linkCase.find[{j}].search.fields"), f);
                        }
                    }
                }
                _ => {}
            }
        }
        found
    }
}

/// A step of a rule, in the order the executor runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Lookup(usize),
    Create,
    Actions,
}

/// A `customer` value of a rule: the step it belongs to and its place in the rule.
pub struct CustomerSource<'r> {
    pub step: Step,
    pub path: String,
    pub customer: &'r customer::CompiledCustomer,
}

/// How the rule finds the case it acts on.
#[derive(Debug)]
pub struct CaseSpec {
    /// Tried in order; the first that finds a case wins.
    pub find: Vec<Lookup>,
    /// Creates the case when the lookups find none (or always, when there are no lookups).
    pub create: Option<CreateCase>,
    pub if_missing: IfMissing,
}

#[derive(Debug)]
pub enum Lookup {
    /// A case id taken from the event.
    Id(CompiledValue),
    /// `ListCasesForContact`; without a value, the event's own contact.
    Contact(Option<CompiledValue>),
    /// `SearchCases` with every field equal to its value.
    Search { fields: Vec<(NameOrId, CompiledValue)>, sort: Sort },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sort {
    pub field: NameOrId,
    #[serde(default)]
    pub order: SortOrder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
pub enum SortOrder {
    #[serde(alias = "asc")]
    Asc,
    #[default]
    #[serde(alias = "desc")]
    Desc,
}

impl Default for Sort {
    /// Newest first.
    fn default() -> Sort {
        Sort { field: "created_datetime".into(), order: SortOrder::Desc }
    }
}

#[derive(Debug)]
pub struct CreateCase {
    pub template: NameOrId,
    pub fields: Vec<(NameOrId, CompiledValue)>,
    pub tags: Vec<Tag>,
}

/// A tag of a new case: its key and value, each a value taken from the event (or a literal).
#[derive(Debug)]
pub struct Tag {
    /// The key as the rules file writes it (its place in errors).
    pub written: String,
    pub key: CompiledValue,
    pub value: CompiledValue,
}

/// What to do when no case is found and the rule does not create one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IfMissing {
    /// A permanent error: the event goes to the dead-letter queue, where it is visible.
    #[default]
    Fail,
    /// Nothing to do; the event is reported as skipped.
    Skip,
}

#[derive(Debug)]
pub enum Action {
    Update {
        fields: Vec<(NameOrId, CompiledValue)>,
    },
    Comment {
        body: CompiledValue,
        /// `mode: keep-one`: one item of this kind and key on the case, edited by later events.
        keep: Option<KeepOne>,
    },
    /// Without a value, the event's own contact.
    LinkContact {
        contact_arn: Option<CompiledValue>,
    },
    AttachFile {
        file_arn: CompiledValue,
    },
    Sla {
        name: CompiledValue,
        field: Option<NameOrId>,
        target_values: Vec<CompiledValue>,
        minutes: CompiledValue,
    },
    /// A Custom related item: values of fields of the domain, typed like case fields.
    Custom {
        fields: Vec<(NameOrId, CompiledValue)>,
        keep: Option<KeepOne>,
    },
    /// A ConnectCase related item: another case linked to this one.
    LinkCase {
        target: LinkTarget,
    },
}

/// `mode: keep-one`: the automation keeps a single item of the action's kind and key on the case
/// and edits it (UpdateRelatedItem) instead of adding another.
#[derive(Debug)]
pub struct KeepOne {
    /// Which item: a value (e.g. an order number, for one running note per order); default: the
    /// rule's name.
    pub key: Option<CompiledValue>,
}

/// How a comment or custom action writes its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ItemMode {
    /// Every event adds its item (once per event).
    #[default]
    Add,
    /// The case keeps one item of this kind and key, which later events edit.
    KeepOne,
}

/// The case a `linkCase` action links to.
#[derive(Debug)]
pub enum LinkTarget {
    /// A case id from the event.
    Id(CompiledValue),
    /// The first case the lookups find other than the rule's own case; `if_missing` says what
    /// happens when there is none (default: nothing to link, the action is skipped).
    Find { lookups: Vec<Lookup>, if_missing: IfMissing },
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Update { .. } => "update",
            Action::Comment { .. } => "comment",
            Action::LinkContact { .. } => "linkContact",
            Action::AttachFile { .. } => "attachFile",
            Action::Sla { .. } => "sla",
            Action::Custom { .. } => "custom",
            Action::LinkCase { .. } => "linkCase",
        }
    }
}

/// Longest SLA the API accepts (90 days), in minutes.
pub const MAX_SLA_MINUTES: i64 = 129_600;

impl RuleSet {
    /// The environment the rules' templates render in.
    pub fn templates(&self) -> &Environment<'static> {
        self.templates.get_or_init(value::template_environment)
    }

    /// The same rules under another version name (e.g. AppConfig's version number).
    pub fn with_version(mut self, version: impl Into<String>) -> RuleSet {
        self.version = version.into();
        self
    }

    /// The rules whose pattern matches the event, in file order.
    pub fn matching<'r, 'e>(&'r self, event: &'e Value) -> impl Iterator<Item = &'r Rule> + use<'r, 'e> {
        self.rules.iter().filter(move |rule| rule.pattern.matches(event))
    }

    /// The first action that keeps one item (`mode: keep-one`), which needs the coordination
    /// store: (rule, place).
    pub fn keeping_one(&self) -> Option<(&str, String)> {
        self.rules.iter().find_map(|rule| {
            rule.actions.iter().enumerate().find_map(|(i, action)| match action {
                Action::Comment { keep: Some(_), .. } | Action::Custom { keep: Some(_), .. } => {
                    Some((rule.name.as_str(), format!("actions[{i}].{}", action.kind())))
                }
                _ => None,
            })
        })
    }

    /// Whether a rule looks customers up by phone number, which needs libphonenumber's metadata.
    pub fn looks_up_phone_numbers(&self) -> bool {
        self.rules.iter().any(|rule| rule.customer_sources().iter().any(|source| source.customer.searches_by_phone()))
    }

    /// Every identity the automation writes under: the global one and the rules' own.
    pub fn identities(&self, global: &str) -> Vec<String> {
        std::iter::once(global).chain(self.rules.iter().filter_map(|r| r.performed_by.as_deref())).map(str::to_owned).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::RuleSet;

    #[test]
    fn phone_lookups_are_found_wherever_a_rule_makes_them() {
        assert!(RuleSet::default_rules().looks_up_phone_numbers(), "the shipped callback rules look callers up by phone");
        let rules = |customer: &str| {
            let yaml = format!(
                "rules:\n  - name: r\n    match: {{ source: [x] }}\n    \
                 case: {{ create: {{ template: t, fields: {{ title: t, customer_id: {{ customer: {customer} }} }} }} }}\n"
            );
            RuleSet::from_yaml(&yaml, "test").unwrap()
        };
        assert!(rules("{ phone: $.p, country: US }").looks_up_phone_numbers());
        assert!(!rules("{ email: $.e }").looks_up_phone_numbers());
        assert!(!rules("{ profile: $.arn }").looks_up_phone_numbers());
    }
}
