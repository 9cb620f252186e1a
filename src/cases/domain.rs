//! What the domain allows, as plain data, and the checks of an event's planned writes against it:
//! field types, the active options of single-select fields, the fields a template requires, and
//! the lengths and patterns of the Smithy model. Pure: the model is fetched and kept by
//! `domain_cache`; checking a plan needs no I/O.
//!
//! The service refuses what these checks refuse; checking every write of every matching rule
//! before the first one is sent is what keeps a refused write from leaving an event half done.

use std::collections::{BTreeSet, HashMap, HashSet};

use time::format_description::well_known::Rfc3339;

use super::catalog::{Catalog, SYSTEM_FIELDS};
use super::model::*;
use crate::plan::{DeferredCustomer, PlanError, PlannedAction, RulePlan};

/// The domain as far as this process knows it: every field and template by name, and the options
/// and required fields of those the plans so far needed.
#[derive(Debug, Clone, Default)]
pub struct DomainModel {
    pub catalog: Catalog,
    /// Options of single-select fields, by field id.
    pub options: HashMap<String, Vec<FieldOption>>,
    /// Templates (GetTemplate), by id.
    pub templates: HashMap<String, TemplateDetail>,
}

/// What the model lacked to decide, or may have had out of date: fetching it (again) may change
/// the answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Missing {
    /// A field or template name or id: the names are listed again.
    Names,
    /// The options of this single-select field.
    Options(String),
    /// This template.
    Template(String),
}

/// Why a plan does not fit the domain: the error to report, and what fetching again might settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub error: PlanError,
    pub missing: Option<Missing>,
}

/// What the plans need beyond the names: the options of the single-select fields they write,
/// and the templates they create from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    pub options: BTreeSet<String>,
    pub templates: BTreeSet<String>,
}

/// Every case needs these, whatever its template says.
const ALWAYS_REQUIRED: [&str; 2] = ["title", "customer_id"];

/// System fields the service maintains and refuses on write.
const SET_BY_THE_SERVICE: [&str; 6] =
    ["case_id", "created_datetime", "last_updated_datetime", "last_updated_user", "reference_number", "last_closed_datetime"];

use super::limits::{
    CUSTOM_ITEM_FIELDS as MAX_CUSTOM_FIELDS, FIELD_STRING_VALUE as MAX_STRING_VALUE, FIELDS_PER_WRITE as MAX_FIELDS,
    SUMMARY_VALUE as MAX_SUMMARY,
};

/// What `plans` need fetched before they can be checked.
pub fn needs(plans: &[RulePlan], catalog: &Catalog) -> Needs {
    let mut needs = Needs::default();
    let is_single_select = |id: &str| catalog.fields.iter().any(|f| f.id == id && f.field_type == FieldType::SingleSelect);
    for plan in plans {
        let mut written: Vec<(&str, &FieldValue)> = Vec::new();
        if let Some(create) = &plan.create {
            needs.templates.insert(create.template_id.clone());
            written.extend(create.fields.iter().map(|e| (e.id.as_str(), &e.value)));
        }
        for action in &plan.actions {
            match action {
                PlannedAction::Update(update) => written.extend(update.fields.iter().map(|e| (e.id.as_str(), &e.value))),
                PlannedAction::Relate(item) | PlannedAction::Keep { input: item, .. } => match &item.content {
                    RelatedItemContent::Sla { sla_input_configuration: sla } => {
                        if let Some(field) = &sla.field_id {
                            written.extend(sla.target_field_values.iter().map(|v| (field.as_str(), v)));
                        }
                    }
                    RelatedItemContent::Custom { fields } => written.extend(fields.iter().map(|e| (e.id.as_str(), &e.value))),
                    _ => {}
                },
                PlannedAction::LinkCase { .. } => {}
            }
        }
        for (id, value) in written {
            if matches!(value, FieldValue::String(_)) && is_single_select(id) {
                needs.options.insert(id.to_owned());
            }
        }
    }
    needs
}

/// Checks every write of `plan` against the domain: CreateCase (its template, required fields and
/// values), UpdateCase and SLA target values.
pub fn check_plan(plan: &RulePlan, model: &DomainModel) -> Result<(), Violation> {
    let stand_ins: Vec<String> = plan.customers.iter().map(DeferredCustomer::stand_in).collect();
    let check = Check { rule: &plan.rule, stand_ins: StandIns::These(&stand_ins), model };
    if let Some(create) = &plan.create {
        check.entries(&create.fields, "case.create.fields")?;
        check.required(create)?;
    }
    for (i, action) in plan.actions.iter().enumerate() {
        let path = format!("actions[{i}].{}", action.kind());
        match action {
            PlannedAction::Update(update) => {
                let fields = format!("{path}.fields");
                check.entries(&update.fields, &fields)?;
                // Every case has these; the service refuses to clear them.
                if let Some(entry) = update.fields.iter().find(|e| ALWAYS_REQUIRED.contains(&e.id.as_str()) && is_blank(&e.value)) {
                    let reason = format!("field `{}` of every case cannot be set to an empty value", check.name(&entry.id));
                    return Err(check.refused(&fields, reason));
                }
            }
            PlannedAction::Relate(item) | PlannedAction::Keep { input: item, .. } => match &item.content {
                RelatedItemContent::Sla { sla_input_configuration: sla } => check.sla(sla, &path)?,
                RelatedItemContent::Custom { fields } => check.custom(fields, &format!("{path}.fields"))?,
                _ => {}
            },
            PlannedAction::LinkCase { .. } => {}
        }
    }
    Ok(())
}

/// One value of rule `rule`, at `path`, against the field `field_id`: its type, its options, its
/// length (what every write of it gets checked for). A field the model does not have is refused
/// (with `Missing::Names`).
pub fn check_value(model: &DomainModel, rule: &str, field_id: &str, value: &FieldValue, path: &str) -> Result<(), Violation> {
    let check = Check { rule, stand_ins: StandIns::Any, model };
    let Some(field) = check.field(field_id) else {
        return Err(check.unsure(path, format!("the domain has no field with id `{field_id}`"), Missing::Names));
    };
    check.value(field, value, path)
}

/// A CreateCase of rule `rule` against its template: active, every required field set and not empty.
pub fn check_required(model: &DomainModel, rule: &str, create: &CreateCaseInput) -> Result<(), Violation> {
    Check { rule, stand_ins: StandIns::Any, model }.required(create)
}

struct Check<'a> {
    rule: &'a str,
    /// Which `customer_id` values stand for a customer not looked up yet.
    stand_ins: StandIns<'a>,
    model: &'a DomainModel,
}

/// What a `customer_id` value may be besides a profile ARN: the stand-in of a customer the
/// executor looks up later, whose ARN is well formed by construction.
enum StandIns<'a> {
    /// Any value (a single value checked alone, which may come from a `customer`).
    Any,
    /// The stand-ins of the plan's deferred customers.
    These(&'a [String]),
}

impl StandIns<'_> {
    fn includes(&self, value: &str) -> bool {
        match self {
            StandIns::Any => true,
            StandIns::These(stand_ins) => stand_ins.iter().any(|s| s == value),
        }
    }
}

impl Check<'_> {
    fn error(&self, path: &str, reason: String) -> PlanError {
        PlanError { rule: self.rule.to_owned(), path: path.to_owned(), reason }
    }

    fn refused(&self, path: &str, reason: String) -> Violation {
        Violation { error: self.error(path, reason), missing: None }
    }

    fn unsure(&self, path: &str, reason: String, missing: Missing) -> Violation {
        Violation { error: self.error(path, reason), missing: Some(missing) }
    }

    fn field(&self, id: &str) -> Option<&FieldInfo> {
        self.model.catalog.fields.iter().find(|f| f.id == id)
    }

    /// The field's name, for messages (its id when the name is not known).
    fn name<'b>(&'b self, id: &'b str) -> &'b str {
        self.field(id).map_or(id, |f| f.name.as_str())
    }

    /// The field values of one CreateCase or UpdateCase.
    fn entries(&self, entries: &[FieldEntry], path: &str) -> Result<(), Violation> {
        if entries.len() > MAX_FIELDS {
            return Err(self.refused(path, format!("a request sets at most {MAX_FIELDS} fields, this one sets {}", entries.len())));
        }
        let mut seen = HashSet::new();
        for entry in entries {
            let Some(field) = self.field(&entry.id) else {
                return Err(self.unsure(path, format!("the domain has no field with id `{}`", entry.id), Missing::Names));
            };
            let at = format!("{path}.{}", field.name);
            if !seen.insert(entry.id.as_str()) {
                return Err(self.refused(&at, "the field is set twice in one request (by name and by id?)".into()));
            }
            if SET_BY_THE_SERVICE.contains(&field.id.as_str()) {
                return Err(self.refused(&at, format!("system field `{}` is set by the service and cannot be written", field.id)));
            }
            self.value(field, &entry.value, &at)?;
            if field.id == "customer_id"
                && let FieldValue::String(s) = &entry.value
                && !self.stand_ins.includes(s)
                && !is_profile_arn(s)
            {
                let reason = "field `customer_id` takes a Customer Profiles profile ARN \
                              (arn:aws:profile:{region}:{account}:domains/{domain}/profiles/{id}), the value is not one";
                return Err(self.refused(&at, reason.into()));
            }
        }
        Ok(())
    }

    /// One value against its field's type, options and length.
    fn value(&self, field: &FieldInfo, value: &FieldValue, at: &str) -> Result<(), Violation> {
        use FieldType::*;
        match (field.field_type, value) {
            (_, FieldValue::Empty(_)) | (Other, _) | (Boolean, FieldValue::Boolean(_)) | (User, FieldValue::UserArn(_)) => Ok(()),
            (Number, FieldValue::Double(n)) if n.is_finite() => Ok(()),
            (Number, FieldValue::Double(_)) => Err(self.refused(at, "a Number field takes a finite number".into())),
            (Text | Url | SingleSelect | DateTime, FieldValue::String(s)) => {
                let length = s.chars().count();
                let max = if field.id == "summary" { MAX_SUMMARY } else { MAX_STRING_VALUE };
                if length > max {
                    return Err(self.refused(at, format!("field `{}` takes at most {max} characters, the value has {length}", field.name)));
                }
                match field.field_type {
                    DateTime if time::OffsetDateTime::parse(s, &Rfc3339).is_err() => Err(self.refused(
                        at,
                        format!(
                            "DateTime field `{}` takes an RFC 3339 date and time, the value is a string of {length} characters",
                            field.name
                        ),
                    )),
                    SingleSelect => self.option(field, s, at),
                    _ => Ok(()),
                }
            }
            (ty, value) => {
                Err(self.refused(at, format!("{ty:?} field `{}` takes {}, the value is {}", field.name, expected_value(ty), value.kind())))
            }
        }
    }

    /// A single-select value must be one of the field's active options (their values, not names).
    fn option(&self, field: &FieldInfo, value: &str, at: &str) -> Result<(), Violation> {
        let missing = Missing::Options(field.id.clone());
        let Some(options) = self.model.options.get(&field.id) else {
            return Err(self.unsure(at, format!("the options of field `{}` are not known", field.name), missing));
        };
        let active: Vec<&str> = options.iter().filter(|o| o.active).map(|o| o.value.as_str()).collect();
        if active.contains(&value) {
            return Ok(());
        }
        let which = if options.iter().any(|o| o.value == value) { "an inactive option" } else { "not one of the options" };
        Err(self.unsure(at, format!("the value is {which} of field `{}` (active options: {})", field.name, active.join(", ")), missing))
    }

    /// A CreateCase sets every field its template requires, and none of them to an empty value.
    fn required(&self, create: &CreateCaseInput) -> Result<(), Violation> {
        let path = "case.create.fields";
        let Some(template) = self.model.templates.get(&create.template_id) else {
            let reason = format!("template `{}` is not known", create.template_id);
            return Err(self.unsure("case.create.template", reason, Missing::Template(create.template_id.clone())));
        };
        if !template.active {
            let reason = format!("template `{}` is inactive; cases cannot be created from it", template.id);
            return Err(self.unsure("case.create.template", reason, Missing::Template(template.id.clone())));
        }
        let template_name = self.model.catalog.templates.iter().find(|t| t.id == template.id).map_or(template.id.as_str(), |t| &t.name);
        let required = ALWAYS_REQUIRED.iter().copied().chain(template.required_fields.iter().map(String::as_str));
        for id in required {
            match create.fields.iter().find(|e| e.id == id) {
                None => {
                    return Err(self.refused(
                        path,
                        format!(
                            "template `{template_name}` requires field `{}`, which the rule does not set for this event",
                            self.name(id)
                        ),
                    ));
                }
                Some(entry) if is_blank(&entry.value) => {
                    return Err(self.refused(
                        &format!("{path}.{}", self.name(id)),
                        format!("template `{template_name}` requires field `{}`, which cannot be empty", self.name(id)),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The values of a custom item: 1 to 50 fields of the domain, none of them a system field,
    /// each value fitting its field like a case field's.
    fn custom(&self, fields: &[FieldEntry], path: &str) -> Result<(), Violation> {
        if !(1..=MAX_CUSTOM_FIELDS).contains(&fields.len()) {
            let reason = format!("a custom item has 1 to {MAX_CUSTOM_FIELDS} fields, this one has {} for this event", fields.len());
            return Err(self.refused(path, reason));
        }
        if let Some(entry) = fields.iter().find(|e| SYSTEM_FIELDS.iter().any(|(id, _, _)| *id == e.id)) {
            let reason = format!("system field `{}` cannot be a field of a custom item", entry.id);
            return Err(self.refused(&format!("{path}.{}", self.name(&entry.id)), reason));
        }
        self.entries(fields, path)
    }

    /// An SLA: its name's pattern, and target values that fit its field (exactly one).
    fn sla(&self, sla: &SlaInput, path: &str) -> Result<(), Violation> {
        if sla.name.trim_end() != sla.name {
            return Err(self.refused(&format!("{path}.name"), "an SLA name must not end with white space".into()));
        }
        let targets = format!("{path}.targetValues");
        match (&sla.field_id, sla.target_field_values.len()) {
            (None, 0) => Ok(()),
            (None, _) => Err(self.refused(&targets, "target values need the SLA's `field`".into())),
            (Some(_), n) if n != 1 => {
                Err(self.refused(&targets, format!("an SLA on a field takes exactly one target value, this one has {n}")))
            }
            (Some(id), _) => {
                let Some(field) = self.field(id) else {
                    return Err(self.unsure(&format!("{path}.field"), format!("the domain has no field with id `{id}`"), Missing::Names));
                };
                sla.target_field_values.iter().try_for_each(|value| self.value(field, value, &targets))
            }
        }
    }
}

/// `arn:{partition}:profile:{region}:{account}:domains/{domain}/profiles/{id}`, what the service
/// requires of `customer_id` (cases-api.md §4.1).
fn is_profile_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let ["arn", partition, "profile", region, account, resource] = parts.as_slice() else { return false };
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let resource_ok = matches!(resource.split('/').collect::<Vec<_>>().as_slice(), ["domains", domain, "profiles", id] if !domain.is_empty() && !id.is_empty());
    !partition.is_empty() && !region.is_empty() && account_ok && resource_ok
}

/// No value, or only white space: what a required field may not be.
fn is_blank(value: &FieldValue) -> bool {
    match value {
        FieldValue::Empty(_) => true,
        FieldValue::String(s) | FieldValue::UserArn(s) => s.trim().is_empty(),
        FieldValue::Double(_) | FieldValue::Boolean(_) => false,
    }
}

fn expected_value(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Number => "a number",
        FieldType::Boolean => "true or false",
        FieldType::User => "a user ARN",
        _ => "a string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::IfMissing;

    const PRIORITY: &str = "f-priority";

    fn model() -> DomainModel {
        let field = |id: &str, name: &str, field_type| FieldInfo { id: id.into(), name: name.into(), field_type };
        let catalog = Catalog {
            fields: vec![
                field("title", "Title", FieldType::Text),
                field("customer_id", "Customer", FieldType::Text),
                field("summary", "Summary", FieldType::Text),
                field("reference_number", "Reference number", FieldType::Text),
                field("f-phone", "Customer phone", FieldType::Text),
                field(PRIORITY, "Priority", FieldType::SingleSelect),
                field("f-total", "Order total", FieldType::Number),
                field("f-callback", "Callback requested", FieldType::Boolean),
                field("f-promised", "Promised by", FieldType::DateTime),
                field("f-owner", "Owner", FieldType::User),
            ],
            templates: vec![TemplateInfo { id: "t-callback".into(), name: "Callback request".into(), active: true }],
        };
        let option = |value: &str, active| FieldOption { value: value.into(), active };
        DomainModel {
            catalog,
            options: HashMap::from([(PRIORITY.into(), vec![option("low", true), option("high", true), option("legacy", false)])]),
            templates: HashMap::from([(
                "t-callback".into(),
                TemplateDetail { id: "t-callback".into(), active: true, required_fields: vec!["title".into(), "f-phone".into()] },
            )]),
        }
    }

    fn entry(id: &str, value: FieldValue) -> FieldEntry {
        FieldEntry { id: id.into(), value }
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::String(s.into())
    }

    fn who() -> PerformedBy {
        PerformedBy { custom_entity: "bot".into() }
    }

    fn create(fields: Vec<FieldEntry>) -> CreateCaseInput {
        CreateCaseInput {
            template_id: "t-callback".into(),
            fields,
            client_token: "t".into(),
            performed_by: who(),
            tags: Default::default(),
        }
    }

    const CUSTOMER: &str = "arn:aws:profile:us-east-1:123456789012:domains/d/profiles/p";

    fn complete_create() -> Vec<FieldEntry> {
        vec![entry("title", text("Call back")), entry("customer_id", text(CUSTOMER)), entry("f-phone", text("+1"))]
    }

    fn plan(create: Option<CreateCaseInput>, actions: Vec<PlannedAction>) -> RulePlan {
        RulePlan {
            rule: "r".into(),
            recheck: None,
            event_key: "e".into(),
            event_time_ms: None,
            performed_by: who(),
            lookups: vec![],
            create,
            if_missing: IfMissing::Fail,
            actions,
            redeliveries_within: None,
            customers: vec![],
            scope: None,
        }
    }

    fn update(fields: Vec<FieldEntry>) -> PlannedAction {
        PlannedAction::Update(UpdateCaseInput { fields, performed_by: who() })
    }

    fn sla(field_id: Option<&str>, targets: Vec<FieldValue>, name: &str) -> PlannedAction {
        let content = RelatedItemContent::Sla {
            sla_input_configuration: SlaInput {
                name: name.into(),
                kind: "CaseField",
                field_id: field_id.map(str::to_owned),
                target_field_values: targets,
                target_sla_minutes: 60,
            },
        };
        PlannedAction::Relate(CreateRelatedItemInput::new(content, who()))
    }

    fn refusal(plan: &RulePlan, model: &DomainModel) -> Violation {
        check_plan(plan, model).expect_err("refused")
    }

    #[test]
    fn a_create_that_fits_the_template_and_fields_passes() {
        let mut fields = complete_create();
        fields.push(entry(PRIORITY, text("high")));
        fields.push(entry("f-total", FieldValue::Double(12.5)));
        fields.push(entry("f-callback", FieldValue::Boolean(true)));
        fields.push(entry("f-promised", text("2026-12-05T12:00:00Z")));
        fields.push(entry("f-owner", FieldValue::UserArn("arn:aws:connect:r:1:instance/i/agent/a".into())));
        fields.push(entry("summary", FieldValue::empty()));
        assert_eq!(check_plan(&plan(Some(create(fields)), vec![]), &model()), Ok(()));
    }

    #[test]
    fn single_select_values_must_be_active_options_and_may_be_fetched_again() {
        let model = model();
        let with = |value: &str| plan(None, vec![update(vec![entry(PRIORITY, text(value))])]);
        assert_eq!(check_plan(&with("low"), &model), Ok(()));
        let unknown = refusal(&with("Low"), &model);
        assert_eq!(unknown.missing, Some(Missing::Options(PRIORITY.into())), "an option added since may exist");
        assert_eq!(unknown.error.path, "actions[0].update.fields.Priority");
        assert!(
            unknown.error.reason.contains("not one of the options of field `Priority`") && unknown.error.reason.contains("low, high"),
            "{}",
            unknown.error
        );
        let inactive = refusal(&with("legacy"), &model);
        assert!(inactive.error.reason.contains("an inactive option"), "{}", inactive.error);
        assert!(!inactive.error.reason.contains("legacy"), "active options are listed, the value is not echoed: {}", inactive.error);

        let mut not_fetched = model.clone();
        not_fetched.options.clear();
        assert_eq!(refusal(&with("low"), &not_fetched).missing, Some(Missing::Options(PRIORITY.into())));
    }

    #[test]
    fn a_template_needs_every_required_field_set_and_not_empty() {
        let model = model();
        let mut without_phone = complete_create();
        without_phone.retain(|e| e.id != "f-phone");
        let missing = refusal(&plan(Some(create(without_phone)), vec![]), &model);
        assert_eq!(missing.missing, None);
        assert_eq!(missing.error.path, "case.create.fields");
        assert!(missing.error.reason.contains("`Callback request` requires field `Customer phone`"), "{}", missing.error);

        for blank in [FieldValue::empty(), text(""), text("  ")] {
            let mut fields = complete_create();
            fields[2].value = blank;
            let empty = refusal(&plan(Some(create(fields)), vec![]), &model);
            assert_eq!(empty.error.path, "case.create.fields.Customer phone");
            assert!(empty.error.reason.contains("cannot be empty"), "{}", empty.error);
        }

        let mut no_customer = complete_create();
        no_customer.retain(|e| e.id != "customer_id");
        assert!(refusal(&plan(Some(create(no_customer)), vec![]), &model).error.reason.contains("`Customer`"), "every case needs one");

        let mut unknown_template = create(complete_create());
        unknown_template.template_id = "t-new".into();
        assert_eq!(refusal(&plan(Some(unknown_template), vec![]), &model).missing, Some(Missing::Template("t-new".into())));

        let mut retired = model.clone();
        retired.templates.get_mut("t-callback").unwrap().active = false;
        let inactive = refusal(&plan(Some(create(complete_create())), vec![]), &retired);
        assert_eq!(inactive.error.path, "case.create.template");
        assert!(inactive.error.reason.contains("inactive"), "{}", inactive.error);
    }

    #[test]
    fn the_customer_is_a_profile_arn_once_it_is_known() {
        let model = model();
        let with_customer = |customer: &str| {
            let mut fields = complete_create();
            fields[1].value = text(customer);
            plan(Some(create(fields)), vec![])
        };
        assert_eq!(check_plan(&with_customer(CUSTOMER), &model), Ok(()));
        for not_an_arn in [
            "+12065550123",
            "arn:aws:profile:us-east-1:12:domains/d/profiles/p",
            "arn:aws:profile:us-east-1:123456789012:domains//profiles/p",
        ] {
            let error = refusal(&with_customer(not_an_arn), &model).error;
            assert_eq!(error.path, "case.create.fields.Customer");
            assert!(error.reason.contains("profile ARN") && !error.reason.contains(not_an_arn), "{error}");
        }
        // A customer not looked up yet stands as its lookup's description; only that description
        // passes, not any other value that is no ARN.
        let query = crate::rules::customer::CustomerQuery {
            known: Some(crate::rules::customer::KnownProfile::Id("0123456789abcdef0123456789abcdef".into())),
            terms: vec![],
            unusable: vec![],
            if_none: Default::default(),
            if_several: Default::default(),
            newest_by: String::new(),
        };
        let deferred = crate::plan::DeferredCustomer { step: crate::plan::Step::Create, path: "case.create.fields.Customer".into(), query };
        let mut deferring = with_customer(&deferred.stand_in());
        deferring.customers = vec![deferred];
        assert_eq!(check_plan(&deferring, &model), Ok(()), "a stand-in is its ARN once the customer is looked up");
        deferring.create.as_mut().unwrap().fields[1].value = text("+12065550123");
        assert!(check_plan(&deferring, &model).is_err(), "a value that is neither an ARN nor a stand-in is refused");
    }

    #[test]
    fn values_must_have_the_type_of_their_field() {
        let model = model();
        let cases = [
            ("f-total", text("12"), "Number field `Order total` takes a number, the value is a string"),
            ("f-callback", text("yes"), "Boolean field `Callback requested` takes true or false, the value is a string"),
            ("f-phone", FieldValue::Double(1.0), "Text field `Customer phone` takes a string, the value is a number"),
            ("f-owner", text("someone"), "User field `Owner` takes a user ARN, the value is a string"),
            (PRIORITY, FieldValue::Boolean(true), "SingleSelect field `Priority` takes a string, the value is a boolean"),
            ("f-promised", text("next week"), "takes an RFC 3339 date and time"),
            ("f-total", FieldValue::Double(f64::INFINITY), "finite"),
        ];
        for (id, value, expected) in cases {
            let error = refusal(&plan(None, vec![update(vec![entry(id, value)])]), &model).error;
            assert!(error.reason.contains(expected), "{id}: {error}");
            assert!(!error.reason.contains("someone") && !error.reason.contains("next week"), "{error}");
        }
    }

    #[test]
    fn lengths_system_fields_and_repeats_follow_the_model() {
        let model = model();
        let refused = |fields: Vec<FieldEntry>| refusal(&plan(None, vec![update(fields)]), &model).error.reason;
        assert_eq!(check_plan(&plan(None, vec![update(vec![entry("f-phone", text(&"x".repeat(4100)))])]), &model), Ok(()));
        assert!(refused(vec![entry("f-phone", text(&"x".repeat(4101)))]).contains("at most 4100 characters, the value has 4101"));
        assert!(refused(vec![entry("summary", text(&"x".repeat(3001)))]).contains("at most 3000"));
        assert!(refused(vec![entry("reference_number", text("1"))]).contains("set by the service"));
        assert!(refused(vec![entry("f-phone", text("1")), entry("f-phone", text("2"))]).contains("set twice"));
        assert!(refused(vec![entry("title", FieldValue::empty())]).contains("`Title` of every case cannot be set to an empty value"));
        assert!(refused((0..221).map(|i| entry(&format!("f-{i}"), text("x"))).collect()).contains("at most 220 fields"));
        let unknown = refusal(&plan(None, vec![update(vec![entry("f-new", text("x"))])]), &model);
        assert_eq!(unknown.missing, Some(Missing::Names), "a field added since the names were listed");
    }

    #[test]
    fn sla_targets_fit_their_field_and_names_their_pattern() {
        let model = model();
        let check = |action| check_plan(&plan(None, vec![action]), &model);
        assert_eq!(check(sla(None, vec![], "Call back")), Ok(()));
        assert_eq!(check(sla(Some(PRIORITY), vec![text("high")], "Answer")), Ok(()));
        let inactive = check(sla(Some(PRIORITY), vec![text("legacy")], "Answer")).unwrap_err();
        assert_eq!(inactive.error.path, "actions[0].sla.targetValues");
        assert_eq!(inactive.missing, Some(Missing::Options(PRIORITY.into())));
        assert!(check(sla(Some(PRIORITY), vec![], "Answer")).unwrap_err().error.reason.contains("exactly one"));
        assert!(check(sla(None, vec![text("high")], "Answer")).unwrap_err().error.reason.contains("`field`"));
        assert!(check(sla(Some("f-total"), vec![text("3")], "Answer")).unwrap_err().error.reason.contains("takes a number"));
        assert_eq!(check(sla(None, vec![], "Answer ")).unwrap_err().error.path, "actions[0].sla.name");
    }

    #[test]
    fn custom_item_values_fit_their_fields_and_no_system_field_is_used() {
        let model = model();
        let custom =
            |fields: Vec<FieldEntry>| PlannedAction::Relate(CreateRelatedItemInput::new(RelatedItemContent::Custom { fields }, who()));
        let check = |fields| check_plan(&plan(None, vec![custom(fields)]), &model);
        assert_eq!(check(vec![entry("f-total", FieldValue::Double(3.0)), entry(PRIORITY, text("high"))]), Ok(()));
        let error = check(vec![entry("f-total", text("3"))]).unwrap_err().error;
        assert_eq!(error.path, "actions[0].custom.fields.Order total");
        assert!(error.reason.contains("takes a number"), "{error}");
        let error = check(vec![entry("title", text("x"))]).unwrap_err().error;
        assert!(error.reason.contains("system field `title`"), "{error}");
        assert!(check(vec![]).unwrap_err().error.reason.contains("1 to 50"));
        let inactive = check(vec![entry(PRIORITY, text("legacy"))]).unwrap_err();
        assert_eq!(inactive.missing, Some(Missing::Options(PRIORITY.into())));
        let plans = [plan(None, vec![custom(vec![entry(PRIORITY, text("high"))])])];
        assert_eq!(needs(&plans, &model.catalog).options, BTreeSet::from([PRIORITY.to_owned()]), "its single-select options are read");
    }

    #[test]
    fn needs_are_the_written_single_select_fields_and_the_created_templates() {
        let model = model();
        let mut fields = complete_create();
        fields.push(entry(PRIORITY, text("high")));
        let plans = [
            plan(Some(create(fields)), vec![]),
            plan(None, vec![update(vec![entry("f-total", FieldValue::Double(1.0)), entry(PRIORITY, FieldValue::empty())])]),
        ];
        let needs = needs(&plans, &model.catalog);
        assert_eq!(needs.options, BTreeSet::from([PRIORITY.to_owned()]));
        assert_eq!(needs.templates, BTreeSet::from(["t-callback".to_owned()]));
        assert_eq!(super::needs(&plans[1..], &model.catalog), Needs::default(), "clearing a field needs no options");
    }
}
