//! Planning: for one event and one matching rule, every value extracted and every Cases request
//! built, without calling the API. Execution runs a plan; the `plan` command prints it.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Serialize;

use crate::cases::catalog::Resolve;
use crate::cases::model::*;
use crate::cases::value::coerce;
use crate::identity::client_token;
use crate::inbound::{ArnScope, Event, EventKind, Performer};
pub use crate::rules::Step;
use crate::rules::customer::{CompiledCustomer, CustomerQuery, IfNoProfile};
use crate::rules::schedule::{FieldOp, Filter, Schedule, Selection, relative_time};
use crate::rules::value::{CompiledValue, Limit, TemplateContext};
use crate::rules::{Action, IfMissing, KeepOne, LinkTarget, Lookup, MAX_SLA_MINUTES, NameOrId, Rule, RuleSet, SortOrder, Tag};

/// Everything one rule will do for one event.
#[derive(Debug, Clone, PartialEq)]
pub struct RulePlan {
    pub rule: String,
    /// The event's identity (see `inbound::Event::key`): part of claim keys.
    pub event_key: String,
    /// When the event happened (epoch ms, EventBridge `time`); updates apply in this order.
    pub event_time_ms: Option<i64>,
    pub performed_by: PerformedBy,
    /// Tried in order until one finds a case.
    pub lookups: Vec<PlannedLookup>,
    /// Sent when no lookup finds a case (or always, without lookups).
    pub create: Option<CreateCaseInput>,
    pub if_missing: IfMissing,
    pub actions: Vec<PlannedAction>,
    /// A work item of a sweep: the selection's filter, checked against the case's current values
    /// before anything is written (it may have changed since the sweep selected it).
    pub recheck: Option<CaseFilter>,
    /// How long after the event's first delivery its redeliveries can come, when that is bounded:
    /// a contact flow's come within [`FLOW_REDELIVERY_WINDOW`]; None for EventBridge and SQS, whose
    /// retries and dead-letter replays can come days later.
    pub redeliveries_within: Option<Duration>,
    /// The rule's `customer` values, in rule order: each stands in the plan as its description
    /// until the executor looks the customers up, just before the first step that needs one (so
    /// that a case found by an earlier lookup, by id or by contact, costs no profile search).
    pub customers: Vec<DeferredCustomer>,
    /// Where the event comes from: where a profile id's ARN points when the function's own ARN
    /// does not say.
    pub scope: Option<ArnScope>,
}

/// A `customer` value of a plan, looked up when the executor reaches `step`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeferredCustomer {
    pub step: Step,
    /// Its place in the rule, e.g. `case.create.fields.Customer`.
    pub path: String,
    pub query: CustomerQuery,
}

impl DeferredCustomer {
    /// What the plan holds in the customer's place: the description of the lookup.
    pub fn stand_in(&self) -> String {
        self.query.to_string()
    }
}

impl RulePlan {
    /// Whether a customer must be looked up before `step` runs.
    pub fn needs_customer_before(&self, step: Step) -> bool {
        self.customers.iter().any(|customer| customer.step == step)
    }

    /// The plan with every deferred customer's stand-in replaced by its profile ARN from
    /// `profiles` (one per query; a query without one keeps its stand-in).
    pub fn with_customers(&self, profiles: &HashMap<CustomerQuery, String>) -> RulePlan {
        let mut plan = self.clone();
        let deferred = std::mem::take(&mut plan.customers);
        for customer in &deferred {
            let Some(arn) = profiles.get(&customer.query) else { continue };
            let stand_in = customer.stand_in();
            for value in plan.field_values_mut(customer.step) {
                if matches!(value, FieldValue::String(text) if *text == stand_in) {
                    *value = FieldValue::String(arn.clone());
                }
            }
        }
        plan
    }

    /// The field values of the requests of `step`: search filters, CreateCase, UpdateCase and
    /// custom items (where `customer` values can stand).
    fn field_values_mut(&mut self, step: Step) -> Vec<&mut FieldValue> {
        fn in_filter<'p>(filter: &'p mut CaseFilter, out: &mut Vec<&'p mut FieldValue>) {
            match filter {
                CaseFilter::Field(
                    FieldFilter::EqualTo(entry)
                    | FieldFilter::Contains(entry)
                    | FieldFilter::GreaterThan(entry)
                    | FieldFilter::GreaterThanOrEqualTo(entry)
                    | FieldFilter::LessThan(entry)
                    | FieldFilter::LessThanOrEqualTo(entry),
                ) => out.push(&mut entry.value),
                CaseFilter::Not(inner) => in_filter(inner, out),
                CaseFilter::AndAll(all) | CaseFilter::OrAll(all) => all.iter_mut().for_each(|f| in_filter(f, out)),
                CaseFilter::Tag(_) => {}
            }
        }
        fn in_lookup<'p>(lookup: &'p mut PlannedLookup, out: &mut Vec<&'p mut FieldValue>) {
            if let PlannedLookup::Search(input) = lookup {
                in_filter(&mut input.filter, out);
            }
        }
        let mut out = Vec::new();
        match step {
            Step::Lookup(i) => {
                if let Some(lookup) = self.lookups.get_mut(i) {
                    in_lookup(lookup, &mut out);
                }
            }
            Step::Create => {
                if let Some(create) = &mut self.create {
                    out.extend(create.fields.iter_mut().map(|entry| &mut entry.value));
                }
            }
            Step::Actions => {
                for action in &mut self.actions {
                    match action {
                        PlannedAction::Update(update) => out.extend(update.fields.iter_mut().map(|entry| &mut entry.value)),
                        PlannedAction::Relate(input) | PlannedAction::Keep { input, .. } => {
                            if let RelatedItemContent::Custom { fields } = &mut input.content {
                                out.extend(fields.iter_mut().map(|entry| &mut entry.value));
                            }
                        }
                        PlannedAction::LinkCase { lookups, .. } => lookups.iter_mut().for_each(|lookup| in_lookup(lookup, &mut out)),
                    }
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlannedLookup {
    Id(String),
    Contact(ListCasesForContactInput),
    Search(SearchCasesInput),
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlannedAction {
    Update(UpdateCaseInput),
    /// Created only if the case does not already have it (see `existing_item_filter`).
    Relate(CreateRelatedItemInput),
    /// A ConnectCase item to the first case `lookups` find other than the rule's own case; it
    /// becomes a `Relate` when the executor knows that case.
    LinkCase {
        lookups: Vec<PlannedLookup>,
        if_missing: IfMissing,
        performed_by: PerformedBy,
    },
    /// `mode: keep-one`: the case's one comment or custom item of this key, created by the first
    /// event and edited (UpdateRelatedItem) by the later ones, in event order.
    Keep {
        key: String,
        input: CreateRelatedItemInput,
    },
}

impl PlannedAction {
    pub fn kind(&self) -> &'static str {
        match self {
            PlannedAction::Update(_) => "update",
            PlannedAction::LinkCase { .. } => "linkCase",
            PlannedAction::Relate(input) | PlannedAction::Keep { input, .. } => match input.content {
                RelatedItemContent::Contact { .. } => "linkContact",
                RelatedItemContent::Comment { .. } => "comment",
                RelatedItemContent::File { .. } => "attachFile",
                RelatedItemContent::Sla { .. } => "sla",
                RelatedItemContent::Custom { .. } => "custom",
                RelatedItemContent::ConnectCase { .. } => "linkCase",
            },
        }
    }
}

/// How long after a contact flow's first call for one step another call for it can come: Connect
/// retries a failed call only within the block's timeout (at most 8 s), the earlier call itself
/// runs at most that long, and the function's and the service's clocks may differ a little.
pub const FLOW_REDELIVERY_WINDOW: Duration = Duration::from_secs(20);

/// A value or reference in the rule could not be used for this event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub rule: String,
    /// Where in the rule, e.g. `case.create.fields.title`.
    pub path: String,
    pub reason: String,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule `{}`, at `{}`: {}", self.rule, self.path, self.reason)
    }
}

impl std::error::Error for PlanError {}

/// Why an event gets no plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// A Cases change this automation made itself (`performedBy.user.customEntity`).
    SelfCaused {
        identity: String,
    },
    NoRuleMatches,
    /// A contact flow or contact event of another Amazon Connect instance than the one the
    /// function serves (`CONNECT_INSTANCE_ARN`); `instance` is None when the event names none.
    OtherInstance {
        instance: Option<String>,
    },
}

/// How an event ended without an error: its rules applied, or the event skipped, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Skipped(SkipKind),
}

/// Why an event was skipped, without the details [`Skip`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    SelfCaused,
    NoRuleMatches,
    OtherInstance,
}

impl Outcome {
    /// As the function's answer and its logs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Skipped(_) => "skipped",
        }
    }
}

impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Skip {
    pub fn kind(&self) -> SkipKind {
        match self {
            Skip::SelfCaused { .. } => SkipKind::SelfCaused,
            Skip::NoRuleMatches => SkipKind::NoRuleMatches,
            Skip::OtherInstance { .. } => SkipKind::OtherInstance,
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Skip::SelfCaused { .. } => "caused by this automation",
            Skip::NoRuleMatches => "no rule matches",
            Skip::OtherInstance { .. } => "another Amazon Connect instance",
        }
    }
}

/// Whether `event` comes from an Amazon Connect instance other than `own` (when the function
/// serves one): contact flows and contact events only, and one that names no instance is not
/// shown to be of this one either. Checked before any rule runs, so nothing is read or written.
pub fn other_instance(event: &Event, own: Option<&str>) -> Option<Skip> {
    let own = own?;
    if !matches!(event.kind, EventKind::ContactFlow | EventKind::ContactEvent) {
        return None;
    }
    match event.instance_arn() {
        Some(instance) if instance == own => None,
        instance => Some(Skip::OtherInstance { instance: instance.map(str::to_owned) }),
    }
}

/// The rules that apply to `event`, in file order, or why none do. Changes made under any of
/// `own_identities` are skipped before any rule is matched: this is what prevents loops.
pub fn select<'a>(rules: &'a RuleSet, event: &Event, own_identities: &[String]) -> Result<Vec<&'a Rule>, Skip> {
    if let (EventKind::CasesChange, Some(Performer::CustomEntity(who))) = (event.kind, &event.performer)
        && own_identities.iter().any(|own| own == who)
    {
        return Err(Skip::SelfCaused { identity: who.clone() });
    }
    let matched: Vec<&Rule> = rules.matching(&event.raw).collect();
    if matched.is_empty() { Err(Skip::NoRuleMatches) } else { Ok(matched) }
}

/// Plans every matched rule for the event, sharing one template context.
pub fn plan_rules<R: Resolve>(
    rules: &RuleSet,
    matched: &[&Rule],
    event: &Event,
    identity: &str,
    resolve: &R,
) -> Vec<Result<RulePlan, PlanError>> {
    let context = TemplateContext::new(&event.raw);
    let input = PlanInput { rules, event, context: &context, identity, resolve };
    matched.iter().map(|rule| plan_rule(rule, &input)).collect()
}

/// What planning needs besides the rule: the event and how names resolve.
pub struct PlanInput<'a, R: Resolve> {
    pub rules: &'a RuleSet,
    pub event: &'a Event,
    pub context: &'a TemplateContext,
    /// The global automation identity.
    pub identity: &'a str,
    pub resolve: &'a R,
}

/// The most cases a lookup reads; only the first is used.
const LOOKUP_PAGE: i32 = 1;
/// The most cases a `linkCase` lookup reads: the first that is not the rule's own case is used.
const LINK_LOOKUP_PAGE: i32 = 2;

/// The API's limit for ids, ARNs and SLA names (1–500 characters).
const MAX_IDENTIFIER: usize = Limit::IDENTIFIER.chars;

/// Plans `rule` for the event.
pub fn plan_rule<R: Resolve>(rule: &Rule, input: &PlanInput<'_, R>) -> Result<RulePlan, PlanError> {
    let customers: Vec<(&CompiledCustomer, DeferredCustomer)> = rule
        .customer_sources()
        .into_iter()
        .map(|source| {
            let query = source.customer.query(&input.event.raw, input.rules.templates(), input.context);
            (source.customer, DeferredCustomer { step: source.step, path: source.path, query })
        })
        .collect();
    let b = Builder { rule, input, customers: &customers };
    let identity = rule.performed_by.as_deref().unwrap_or(input.identity);
    let performed_by = PerformedBy { custom_entity: identity.to_owned() };

    let lookups = b.lookups(&rule.case.find, "case.find", LOOKUP_PAGE)?;

    let create = match &rule.case.create {
        None => None,
        Some(create) => Some(CreateCaseInput {
            template_id: input.resolve.template(&create.template).map_err(|reason| b.error("case.create.template", reason))?,
            fields: b.fields(&create.fields, "case.create.fields")?,
            client_token: client_token(identity, &rule.name, &input.event.key),
            performed_by: performed_by.clone(),
            tags: b.tags(&create.tags, "case.create.tags")?,
        }),
    };

    let mut actions = Vec::with_capacity(rule.actions.len());
    for (i, action) in rule.actions.iter().enumerate() {
        let path = format!("actions[{i}].{}", action.kind());
        let relate = |content| PlannedAction::Relate(CreateRelatedItemInput::new(content, performed_by.clone()));
        actions.push(match action {
            Action::Update { fields } => PlannedAction::Update(UpdateCaseInput {
                fields: b.fields(fields, &format!("{path}.fields"))?,
                performed_by: performed_by.clone(),
            }),
            Action::Comment { body, keep } => {
                let body = b.required_string(body, &path, Limit::COMMENT)?;
                let length = body.chars().count();
                if length > Limit::COMMENT.chars {
                    return Err(b.error(&path, format!("a comment has 1 to {} characters, this one has {length}", Limit::COMMENT.chars)));
                }
                let content = RelatedItemContent::Comment { body, content_type: "Text/Plain" };
                match keep {
                    None => relate(content),
                    Some(keep) => b.keep(keep, &path, CreateRelatedItemInput::new(content, performed_by.clone()))?,
                }
            }
            Action::LinkContact { contact_arn } => {
                relate(RelatedItemContent::Contact { contact_arn: b.contact_arn(contact_arn.as_ref(), &path)? })
            }
            Action::AttachFile { file_arn } => {
                relate(RelatedItemContent::File { file_arn: b.identifier(file_arn, &format!("{path}.fileArn"))? })
            }
            Action::Sla { name, field, target_values, minutes } => {
                let minutes_path = format!("{path}.minutes");
                let minutes = b.required_string(minutes, &minutes_path, Limit::IDENTIFIER)?;
                let minutes = minutes
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|m| m.fract() == 0.0 && (1.0..=MAX_SLA_MINUTES as f64).contains(m))
                    .ok_or_else(|| b.error(&minutes_path, format!("must be a whole number of minutes from 1 to {MAX_SLA_MINUTES}")))?;
                let (field_id, field_type) = match field {
                    Some(field) => {
                        let (id, ty) = b.resolve_field(field, &format!("{path}.field"))?;
                        (Some(id), ty)
                    }
                    None => (None, None),
                };
                let mut targets = Vec::new();
                for (j, value) in target_values.iter().enumerate() {
                    let target_path = format!("{path}.targetValues[{j}]");
                    if let Some(v) = b.value(value, &target_path, Limit::FIELD_VALUE)? {
                        targets.push(coerce(v, field_type).map_err(|reason| b.error(&target_path, reason))?);
                    }
                }
                relate(RelatedItemContent::Sla {
                    sla_input_configuration: SlaInput {
                        name: b.identifier(name, &format!("{path}.name"))?,
                        kind: "CaseField",
                        field_id,
                        target_field_values: targets,
                        target_sla_minutes: minutes as i64,
                    },
                })
            }
            Action::Custom { fields, keep } => {
                let content = RelatedItemContent::Custom { fields: b.fields(fields, &format!("{path}.fields"))? };
                match keep {
                    None => relate(content),
                    Some(keep) => b.keep(keep, &path, CreateRelatedItemInput::new(content, performed_by.clone()))?,
                }
            }
            Action::LinkCase { target: LinkTarget::Id(id) } => {
                relate(RelatedItemContent::ConnectCase { case_id: b.identifier(id, &format!("{path}.caseId"))? })
            }
            Action::LinkCase { target: LinkTarget::Find { lookups, if_missing } } => PlannedAction::LinkCase {
                // Two: the rule's own case may be the first a search finds.
                lookups: b.lookups(lookups, &format!("{path}.find"), LINK_LOOKUP_PAGE)?,
                if_missing: *if_missing,
                performed_by: performed_by.clone(),
            },
        });
    }

    let recheck = match &rule.schedule {
        Some(Schedule { select: Selection::Cases(filter), .. }) => {
            let now = sweep_time(&input.event.raw).ok_or_else(|| b.error("select", "the work item carries no `sweep.scheduledTime`"))?;
            Some(plan_filter(
                filter,
                &FilterInput {
                    rule: &rule.name,
                    event: &input.event.raw,
                    rules: input.rules,
                    context: input.context,
                    resolve: input.resolve,
                    now,
                },
            )?)
        }
        _ => None,
    };
    Ok(RulePlan {
        rule: rule.name.clone(),
        recheck,
        event_key: input.event.key.clone(),
        event_time_ms: input.event.time_ms,
        performed_by,
        lookups,
        create,
        if_missing: rule.case.if_missing,
        actions,
        redeliveries_within: (input.event.kind == EventKind::ContactFlow).then_some(FLOW_REDELIVERY_WINDOW),
        customers: customers.into_iter().map(|(_, deferred)| deferred).collect(),
        scope: input.event.scope.clone(),
    })
}

/// The scheduled time of the sweep an event (a sweep's payload or work item) belongs to.
pub fn sweep_time(event: &serde_json::Value) -> Option<time::OffsetDateTime> {
    let text = event.pointer("/sweep/scheduledTime")?.as_str()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// What planning a selection's filter needs.
pub struct FilterInput<'a, R: Resolve> {
    pub rule: &'a str,
    /// What values are rendered against (a sweep's payload or work item: `sweep.…`).
    pub event: &'a serde_json::Value,
    pub rules: &'a RuleSet,
    pub context: &'a TemplateContext,
    pub resolve: &'a R,
    /// What `now` means: the sweep's scheduled time.
    pub now: time::OffsetDateTime,
}

/// A selection's filter with field names resolved, values rendered (relative times computed from
/// the sweep's scheduled time) and typed by their fields.
pub fn plan_filter<R: Resolve>(filter: &Filter, input: &FilterInput<'_, R>) -> Result<CaseFilter, PlanError> {
    plan_filter_at(filter, input, "select.cases")
}

fn plan_filter_at<R: Resolve>(filter: &Filter, input: &FilterInput<'_, R>, path: &str) -> Result<CaseFilter, PlanError> {
    let error = |path: &str, reason: String| PlanError { rule: input.rule.to_owned(), path: path.to_owned(), reason };
    let members = |all: &[Filter], name: &str| {
        all.iter().enumerate().map(|(i, f)| plan_filter_at(f, input, &format!("{path}.{name}[{i}]"))).collect::<Result<Vec<_>, _>>()
    };
    Ok(match filter {
        Filter::AndAll(all) => CaseFilter::AndAll(members(all, "andAll")?),
        Filter::OrAll(all) => CaseFilter::OrAll(members(all, "orAll")?),
        Filter::Not(inner) => CaseFilter::Not(Box::new(plan_filter_at(inner, input, &format!("{path}.not"))?)),
        Filter::Tag { key, value } => CaseFilter::Tag(TagFilter::EqualTo { key: key.clone(), value: value.clone() }),
        Filter::Field { op, field, value } => {
            let at = format!("{path}.{field}");
            let (id, ty) = input.resolve.field(field).map_err(|reason| error(&at, reason))?;
            let value = value
                .extract(input.event, input.rules.templates(), input.context, Limit::FIELD_VALUE)
                .map_err(|e| error(&at, e.to_string()))?
                .ok_or_else(|| error(&at, "gave no value; a filter compares with a value".into()))?;
            let value = match value {
                FieldValue::String(text) => match relative_time(&text, input.now) {
                    Some(time) => FieldValue::String(time.map_err(|reason| error(&at, reason))?),
                    None => FieldValue::String(text),
                },
                other => other,
            };
            let entry = FieldEntry { id, value: coerce(value, ty).map_err(|reason| error(&at, reason))? };
            CaseFilter::Field(match op {
                FieldOp::EqualTo => FieldFilter::EqualTo(entry),
                FieldOp::Contains => FieldFilter::Contains(entry),
                FieldOp::GreaterThan => FieldFilter::GreaterThan(entry),
                FieldOp::GreaterThanOrEqualTo => FieldFilter::GreaterThanOrEqualTo(entry),
                FieldOp::LessThan => FieldFilter::LessThan(entry),
                FieldOp::LessThanOrEqualTo => FieldFilter::LessThanOrEqualTo(entry),
            })
        }
    })
}

struct Builder<'a, R: Resolve> {
    rule: &'a Rule,
    input: &'a PlanInput<'a, R>,
    /// The rule's `customer` values and what each looks up for this event.
    customers: &'a [(&'a CompiledCustomer, DeferredCustomer)],
}

impl<R: Resolve> Builder<'_, R> {
    fn error(&self, path: &str, reason: impl Into<String>) -> PlanError {
        PlanError { rule: self.rule.name.clone(), path: path.into(), reason: reason.into() }
    }

    fn value(&self, value: &CompiledValue, path: &str, limit: Limit) -> Result<Option<FieldValue>, PlanError> {
        let i = self.input;
        if let Some(customer) = value.customer() {
            let deferred = self.customers.iter().find(|(source, _)| std::ptr::eq(*source, customer)).map(|(_, deferred)| deferred);
            let Some(deferred) = deferred else { return Err(self.error(path, "a `customer` value outside the rule's fields")) };
            let query = &deferred.query;
            // Without any identifier the lookup cannot succeed: refused here, before any write.
            if query.known.is_none() && query.terms.is_empty() && query.if_none != IfNoProfile::Skip {
                let why = if query.unusable.is_empty() { "the rule names none".to_string() } else { query.unusable.join("; ") };
                return Err(self.error(path, format!("no usable customer identifier: {why}")));
            }
            return Ok(Some(FieldValue::String(deferred.stand_in())));
        }
        value.extract(&i.event.raw, i.rules.templates(), i.context, limit).map_err(|e| self.error(path, e.to_string()))
    }

    fn required_string(&self, value: &CompiledValue, path: &str, limit: Limit) -> Result<String, PlanError> {
        let i = self.input;
        match value.extract_string(&i.event.raw, i.rules.templates(), i.context, limit) {
            Ok(Some(s)) if !s.is_empty() => Ok(s),
            Ok(_) => Err(self.error(path, format!("`{}` gave an empty value", value.describe()))),
            Err(e) => Err(self.error(path, e.to_string())),
        }
    }

    /// A case id, ARN or SLA name: a non-empty string within the API's length limit, so that an
    /// oversized one is refused before anything is written rather than by the API half-way.
    fn identifier(&self, value: &CompiledValue, path: &str) -> Result<String, PlanError> {
        let text = self.required_string(value, path, Limit::IDENTIFIER)?;
        self.within_identifier_limit(text, path)
    }

    fn within_identifier_limit(&self, text: String, path: &str) -> Result<String, PlanError> {
        let length = text.chars().count();
        if length > MAX_IDENTIFIER {
            return Err(self.error(path, format!("an id, ARN or name has at most {MAX_IDENTIFIER} characters, this one has {length}")));
        }
        Ok(text)
    }

    fn contact_arn(&self, value: Option<&CompiledValue>, path: &str) -> Result<String, PlanError> {
        match value {
            Some(value) => self.identifier(value, path),
            None => {
                let arn = self.input.event.contact_arn.clone().ok_or_else(|| {
                    self.error(path, format!("this {} names no contact; give `contactArn` explicitly", self.input.event.kind))
                })?;
                self.within_identifier_limit(arn, path)
            }
        }
    }

    /// A `keep-one` item: its key (the rule's name unless the rule gives one) and content.
    fn keep(&self, keep: &KeepOne, path: &str, input: CreateRelatedItemInput) -> Result<PlannedAction, PlanError> {
        let key = match &keep.key {
            Some(key) => self.identifier(key, &format!("{path}.key"))?,
            None => self.rule.name.clone(),
        };
        Ok(PlannedAction::Keep { key, input })
    }

    /// The lookups of `case.find` (or of a `linkCase`), each reading at most `page` cases.
    fn lookups(&self, lookups: &[Lookup], at: &str, page: i32) -> Result<Vec<PlannedLookup>, PlanError> {
        let mut planned = Vec::with_capacity(lookups.len());
        for (i, lookup) in lookups.iter().enumerate() {
            let path = format!("{at}[{i}]");
            planned.push(match lookup {
                Lookup::Id(value) => PlannedLookup::Id(self.identifier(value, &format!("{path}.id"))?),
                Lookup::Contact(value) => PlannedLookup::Contact(ListCasesForContactInput {
                    contact_arn: self.contact_arn(value.as_ref(), &format!("{path}.contact"))?,
                    max_results: 10,
                }),
                Lookup::Search { fields, sort } => {
                    let entries = self.fields(fields, &format!("{path}.search.fields"))?;
                    let (sort_field, _) = self.resolve_field(&sort.field, &format!("{path}.search.sort.field"))?;
                    let filters = entries.into_iter().map(|e| CaseFilter::Field(FieldFilter::EqualTo(e))).collect();
                    PlannedLookup::Search(SearchCasesInput {
                        max_results: page,
                        fields: vec![],
                        next_token: None,
                        filter: CaseFilter::AndAll(filters),
                        sorts: vec![SortInput {
                            field_id: sort_field,
                            sort_order: match sort.order {
                                SortOrder::Asc => "Asc",
                                SortOrder::Desc => "Desc",
                            },
                        }],
                    })
                }
            });
        }
        Ok(planned)
    }

    fn resolve_field(&self, field: &str, path: &str) -> Result<(String, Option<FieldType>), PlanError> {
        self.input.resolve.field(field).map_err(|reason| self.error(path, reason))
    }

    /// Tags of a new case; a tag whose value is "leave out" is left out. Keys and values are
    /// checked against the API's patterns here, so that a bad one is refused before any write.
    fn tags(&self, tags: &[Tag], path: &str) -> Result<BTreeMap<String, String>, PlanError> {
        let i = self.input;
        let mut out = BTreeMap::new();
        for Tag { written, key, value } in tags {
            let at = format!("{path}.{written}");
            let key = self.required_string(key, &at, Limit::TAG_KEY)?;
            crate::cases::tags::check_key(&key).map_err(|reason| self.error(&at, reason))?;
            let Some(value) = value
                .extract_string(&i.event.raw, i.rules.templates(), i.context, Limit::TAG_VALUE)
                .map_err(|e| self.error(&at, e.to_string()))?
            else {
                continue;
            };
            crate::cases::tags::check_value(&value).map_err(|reason| self.error(&at, reason))?;
            if out.insert(key, value).is_some() {
                return Err(self.error(&at, "two tags of the rule have the same key for this event"));
            }
        }
        Ok(out)
    }

    /// Field values in rule order; fields whose value is "leave out" are skipped.
    fn fields(&self, fields: &[(NameOrId, CompiledValue)], path: &str) -> Result<Vec<FieldEntry>, PlanError> {
        let mut entries = Vec::with_capacity(fields.len());
        for (field, value) in fields {
            let field_path = format!("{path}.{field}");
            let (id, ty) = self.resolve_field(field, &field_path)?;
            if let Some(value) = self.value(value, &field_path, Limit::FIELD_VALUE)? {
                let value = coerce(value, ty).map_err(|reason| self.error(&field_path, reason))?;
                if let FieldValue::String(s) = &value
                    && s.chars().count() > Limit::FIELD_VALUE.chars
                {
                    return Err(self.error(
                        &field_path,
                        format!("a field value has at most {} characters, this one has {}", Limit::FIELD_VALUE.chars, s.chars().count()),
                    ));
                }
                entries.push(FieldEntry { id, value });
            }
        }
        Ok(entries)
    }
}

/// One request of a plan as `plan` prints it, with the condition under which it is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedRequest {
    pub when: &'static str,
    #[serde(flatten)]
    pub request: CasesRequest,
}

/// Stands for the case id that is only known at run time.
pub const RESOLVED_CASE: &str = "<the case found or created above>";
/// Stands for the case a `linkCase` lookup finds at run time.
pub const LINKED_CASE: &str = "<the case the linkCase lookups find>";

impl RulePlan {
    /// Every request the plan may send, in order.
    pub fn requests(&self) -> Vec<PlannedRequest> {
        let mut out = Vec::new();
        let mut case_id = RESOLVED_CASE.to_owned();
        for (i, lookup) in self.lookups.iter().enumerate() {
            let when = if i == 0 { "always" } else { "if no case was found yet" };
            match lookup {
                PlannedLookup::Id(id) => {
                    if i == 0 {
                        case_id = id.clone();
                    }
                }
                PlannedLookup::Contact(body) => {
                    out.push(PlannedRequest { when, request: CasesRequest::ListCasesForContact { body: body.clone() } })
                }
                PlannedLookup::Search(body) => out.push(PlannedRequest { when, request: CasesRequest::SearchCases { body: body.clone() } }),
            }
        }
        if let Some(body) = &self.create {
            let when = if self.lookups.is_empty() { "always (a redelivery returns the same case)" } else { "if no case was found" };
            out.push(PlannedRequest { when, request: CasesRequest::CreateCase { body: body.clone() } });
        }
        for action in &self.actions {
            match action {
                PlannedAction::LinkCase { lookups, performed_by, .. } => {
                    for (i, lookup) in lookups.iter().enumerate() {
                        let when = if i == 0 {
                            "always (finds the case to link; the rule's own case is passed over)"
                        } else {
                            "if no case to link was found yet"
                        };
                        match lookup {
                            PlannedLookup::Id(_) => {}
                            PlannedLookup::Contact(body) => {
                                out.push(PlannedRequest { when, request: CasesRequest::ListCasesForContact { body: body.clone() } })
                            }
                            PlannedLookup::Search(body) => {
                                out.push(PlannedRequest { when, request: CasesRequest::SearchCases { body: body.clone() } })
                            }
                        }
                    }
                    let linked =
                        CreateRelatedItemInput::new(RelatedItemContent::ConnectCase { case_id: LINKED_CASE.into() }, performed_by.clone());
                    out.push(PlannedRequest {
                        when: "if a case to link was found (looks for the link first)",
                        request: CasesRequest::SearchRelatedItems { case_id: case_id.clone(), body: linked.existing_item_search() },
                    });
                    out.push(PlannedRequest {
                        when: "if a case to link was found and is not linked yet",
                        request: CasesRequest::CreateRelatedItem { case_id: case_id.clone(), body: linked },
                    });
                }
                PlannedAction::Keep { key, input } => {
                    out.push(PlannedRequest {
                        when: "the first time (the case's one item of this kind and key; claimed in the coordination store)",
                        request: CasesRequest::CreateRelatedItem { case_id: case_id.clone(), body: input.clone() },
                    });
                    if let Some(update) = input.as_update() {
                        out.push(PlannedRequest {
                            when: "later events, newer than the last applied and with other content",
                            request: CasesRequest::UpdateRelatedItem {
                                case_id: case_id.clone(),
                                related_item_id: format!("<the item kept for key `{key}`>"),
                                body: update,
                            },
                        });
                    }
                }
                // Every value left out (`default: null`, nothing found): nothing is sent.
                PlannedAction::Update(body) if body.fields.is_empty() => {}
                PlannedAction::Update(body) => out.push(PlannedRequest {
                    when: "always",
                    request: CasesRequest::UpdateCase { case_id: case_id.clone(), body: body.clone() },
                }),
                PlannedAction::Relate(body) => {
                    out.push(PlannedRequest {
                        when: "always (looks for the item before creating it)",
                        request: CasesRequest::SearchRelatedItems { case_id: case_id.clone(), body: body.existing_item_search() },
                    });
                    out.push(PlannedRequest {
                        when: "if the case does not have it yet",
                        request: CasesRequest::CreateRelatedItem { case_id: case_id.clone(), body: body.clone() },
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::catalog::Offline;
    use crate::inbound::{EventKind, eventbridge};
    use serde_json::json;

    fn plan(yaml: &str, event: serde_json::Value) -> Result<RulePlan, PlanError> {
        let rules = RuleSet::from_yaml(yaml, "test").unwrap();
        let event = eventbridge(event).unwrap();
        let context = TemplateContext::new(&event.raw);
        let input = PlanInput { rules: &rules, event: &event, context: &context, identity: "bot", resolve: &Offline };
        plan_rule(&rules.rules[0], &input)
    }

    const RULE: &str = r#"
rules:
  - name: r
    match: { source: [shop] }
    case:
      find:
        - search: { fields: { customer_id: "$.detail.customer", status: open } }
      create:
        template: Order issue
        fields:
          title: "Order {{ detail.order }}"
          customer_id: "$.detail.customer"
          Order total: "$.detail.total"
          Note: { path: "$.detail.missing", default: null }
    actions:
      - comment: "Delayed: {{ detail.reason }}"
      - sla: { name: Answer, minutes: 60 }
"#;

    fn event(id: &str) -> serde_json::Value {
        json!({"id": id, "source": "shop", "detail-type": "x",
               "detail": {"customer": "arn:aws:profile:r:1:domains/d/profiles/p", "order": "O-1", "total": 12.5, "reason": "storm"}})
    }

    #[test]
    fn a_rule_becomes_requests_with_identity_and_token() {
        let plan = plan(RULE, event("e-1")).unwrap();
        assert_eq!(plan.performed_by.custom_entity, "bot");
        let create = plan.create.as_ref().unwrap();
        assert_eq!(create.template_id, "Order issue");
        assert_eq!(create.client_token, client_token("bot", "r", "e-1"));
        let ids: Vec<_> = create.fields.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["Order total", "customer_id", "title"], "the defaulted-to-null field is left out");
        let operations: Vec<_> =
            plan.requests().iter().map(|r| serde_json::to_value(r).unwrap()["operation"].as_str().unwrap().to_owned()).collect();
        assert_eq!(
            operations,
            ["SearchCases", "CreateCase", "SearchRelatedItems", "CreateRelatedItem", "SearchRelatedItems", "CreateRelatedItem"],
            "each item is looked for, then created if missing; nothing is removed (no DeleteRelatedItem)"
        );
        let PlannedAction::Relate(comment) = &plan.actions[0] else { panic!() };
        assert_eq!(comment.content, RelatedItemContent::Comment { body: "Delayed: storm".into(), content_type: "Text/Plain" });
    }

    #[test]
    fn redelivery_plans_the_same_token_and_another_event_another() {
        let first = plan(RULE, event("e-1")).unwrap();
        assert_eq!(first, plan(RULE, event("e-1")).unwrap());
        assert_ne!(first.create.unwrap().client_token, plan(RULE, event("e-2")).unwrap().create.unwrap().client_token);
    }

    #[test]
    fn missing_values_name_rule_and_path() {
        let mut bad = event("e-1");
        bad["detail"].as_object_mut().unwrap().remove("customer");
        let error = plan(RULE, bad).unwrap_err();
        assert_eq!(error.rule, "r");
        assert_eq!(error.path, "case.find[0].search.fields.customer_id");
        assert!(error.reason.contains("$.detail.customer"), "{error}");
    }

    #[test]
    fn link_contact_needs_a_contact() {
        let yaml = "rules:\n  - name: l\n    match: { source: [shop] }\n    case: { find: [ { id: \"$.detail.order\" } ] }\n    actions: [ { linkContact: {} } ]\n";
        let error = plan(yaml, event("e-1")).unwrap_err();
        assert!(error.reason.contains("names no contact"), "{error}");
        assert_eq!(eventbridge(event("e")).unwrap().kind, EventKind::Custom);
    }

    #[test]
    fn ids_and_arns_longer_than_the_api_allows_are_refused_before_any_call() {
        let yaml = "rules:\n  - name: l\n    match: { source: [shop] }\n    case: { find: [ { id: \"$.detail.order\" } ] }\n";
        let mut long = event("e-1");
        long["detail"]["order"] = json!("o".repeat(501));
        let error = plan(yaml, long).unwrap_err();
        assert_eq!(error.path, "case.find[0].id");
        assert!(error.reason.contains("501"), "{error}");
        assert!(plan(yaml, event("e-1")).is_ok());
    }

    #[test]
    fn only_contacts_of_the_served_instance_pass() {
        let own = "arn:aws:connect:us-east-1:123456789012:instance/own";
        let contact = |instance: Option<&str>| {
            let mut detail = json!({"contactId": "c-1", "eventType": "DISCONNECTED"});
            if let Some(instance) = instance {
                detail["instanceArn"] = json!(instance);
            }
            eventbridge(json!({"id": "e", "source": "aws.connect", "detail-type": "Amazon Connect Contact Event", "detail": detail}))
                .unwrap()
        };
        assert_eq!(other_instance(&contact(Some(own)), Some(own)), None);
        let other = "arn:aws:connect:us-east-1:123456789012:instance/test";
        assert_eq!(other_instance(&contact(Some(other)), Some(own)), Some(Skip::OtherInstance { instance: Some(other.into()) }));
        assert_eq!(other_instance(&contact(None), Some(own)), Some(Skip::OtherInstance { instance: None }), "names no instance");
        assert_eq!(other_instance(&contact(Some(other)), None), None, "without CONNECT_INSTANCE_ARN every instance is served");
        assert_eq!(other_instance(&eventbridge(event("e-1")).unwrap(), Some(own)), None, "custom events have no instance");
    }

    #[test]
    fn tags_are_taken_from_the_event_and_checked_before_any_call() {
        let yaml = r#"
rules:
  - name: t
    match: { source: [shop] }
    case:
      create:
        template: Order issue
        fields: { title: t, customer_id: "$.detail.customer" }
        tags:
          Department: Orders
          "{{ detail.team }}": $.detail.order
          Reason: { path: $.detail.missing, default: null }
"#;
        let mut with_team = event("e-1");
        with_team["detail"]["team"] = json!("returns");
        let planned = plan(yaml, with_team.clone()).unwrap();
        let tags = &planned.create.as_ref().unwrap().tags;
        assert_eq!(tags, &BTreeMap::from([("Department".to_owned(), "Orders".to_owned()), ("returns".to_owned(), "O-1".to_owned())]));
        let body =
            serde_json::to_value(planned.requests().into_iter().find(|r| matches!(r.request, CasesRequest::CreateCase { .. })).unwrap())
                .unwrap();
        assert_eq!(body["body"]["tags"], json!({"Department": "Orders", "returns": "O-1"}), "plan shows the tags");

        with_team["detail"]["order"] = json!("O-1; drop table");
        let error = plan(yaml, with_team.clone()).unwrap_err();
        assert_eq!(error.path, "case.create.tags.{{ detail.team }}");
        assert!(error.reason.contains("tag value") && !error.reason.contains("drop"), "{error}");
        with_team["detail"]["team"] = json!("aws:team");
        assert!(plan(yaml, with_team).unwrap_err().reason.contains("aws:"));
        let error = plan(yaml, event("e-1")).unwrap_err();
        assert!(error.reason.contains("detail.team"), "an undefined key is an error: {error}");
    }

    #[test]
    fn oversized_comments_are_refused_before_any_call() {
        let mut big = event("e-1");
        big["detail"]["reason"] = json!("x".repeat(15_001));
        let error = plan(RULE, big).unwrap_err();
        assert!(error.reason.contains("15000"), "{error}");
    }
}
