//! Cases, related items, audit history, search.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::admin::READ_ONLY_FIELDS;
use super::index::SearchIndex;
use super::model::*;
use super::search::{self, CaseFilter, RelatedItemFilter, Sort};
use super::{Change, State, sla};
use crate::error::{ApiError, ApiResult};
use crate::state::validate::{check_value_for_field, is_profile_arn};
use crate::util::{add_minutes, format_ts, new_id, reference_number};

type W<T> = ApiResult<(T, Vec<Change>)>;

/// Related items per case (quota "Related items per case"; 402 beyond).
pub const MAX_RELATED_ITEMS_PER_CASE: usize = 200;
/// SLAs per case (402 beyond).
pub const MAX_SLAS_PER_CASE: usize = 10;
/// Channel reported for contacts (the real service reads it from Amazon Connect).
pub const DEFAULT_CONTACT_CHANNEL: &str = "VOICE";

/// Validated input of CreateCase.
#[derive(Debug, Clone, Default)]
pub struct CreateCaseInput {
    pub template_id: String,
    pub fields: Vec<FieldValue>,
    pub client_token: Option<String>,
    pub performed_by: Option<User>,
    pub tags: BTreeMap<String, String>,
    /// Fixed case id (seeds only).
    pub case_id: Option<String>,
}

/// Validated input of SearchCases.
#[derive(Debug, Clone, Default)]
pub struct SearchCasesInput {
    pub filter: Option<CaseFilter>,
    pub search_term: Option<String>,
    pub sorts: Vec<Sort>,
    pub fields: Vec<String>,
    pub offset: usize,
    pub max_results: usize,
}

/// One SearchCases hit.
#[derive(Debug, Clone)]
pub struct CaseHit {
    pub case_id: String,
    pub template_id: String,
    pub fields: Vec<FieldValue>,
    pub tags: BTreeMap<String, String>,
}

/// Validated `RelatedItemInputContent`.
#[derive(Debug, Clone)]
pub enum RelatedItemInput {
    Contact { contact_arn: String },
    Comment { body: String, content_type: String },
    File { file_arn: String },
    Sla { name: String, sla_type: String, field_id: Option<String>, target_field_values: Option<Vec<Value>>, target_sla_minutes: i64 },
    ConnectCase { case_id: String },
    Custom { fields: Vec<FieldValue> },
}

impl RelatedItemInput {
    pub fn item_type(&self) -> RelatedItemType {
        match self {
            Self::Contact { .. } => RelatedItemType::Contact,
            Self::Comment { .. } => RelatedItemType::Comment,
            Self::File { .. } => RelatedItemType::File,
            Self::Sla { .. } => RelatedItemType::Sla,
            Self::ConnectCase { .. } => RelatedItemType::ConnectCase,
            Self::Custom { .. } => RelatedItemType::Custom,
        }
    }
}

/// Validated `RelatedItemUpdateContent`.
#[derive(Debug, Clone)]
pub enum RelatedItemUpdate {
    Comment { body: String, content_type: String },
    Custom { fields: Vec<FieldValue> },
}

fn request_hash(input: &CreateCaseInput) -> String {
    let mut fields: Vec<&FieldValue> = input.fields.iter().collect();
    fields.sort_by(|a, b| a.id.cmp(&b.id));
    let canonical = serde_json::json!({
        "templateId": input.template_id,
        "fields": fields,
        "performedBy": input.performed_by,
        "tags": input.tags,
    });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn case_not_found(case_id: &str) -> ApiError {
    ApiError::not_found("Case", case_id)
}

/// Field ids that must have a non-empty value: title, customer_id and the template's.
fn required_ids(template: &Template) -> Vec<String> {
    let mut ids = vec!["title".to_string(), "customer_id".to_string()];
    for r in &template.required_fields {
        if !ids.contains(r) {
            ids.push(r.clone());
        }
    }
    ids
}

fn value_is_blank(v: &Value) -> bool {
    match v {
        Value::Empty(_) => true,
        Value::String(s) | Value::UserArn(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Checks case field values against the domain (CreateCase / UpdateCase).
/// `existing` is the case being updated (deleted fields may be updated if it has a value).
fn check_case_fields(d: &Domain, fields: &[FieldValue], required: &[String], existing: Option<&Case>) -> ApiResult<()> {
    for (i, fv) in fields.iter().enumerate() {
        let path = format!("fields[{i}]");
        let field = match d.field(&fv.id) {
            None => {
                return Err(ApiError::validation(format!("{path}.id: field '{}' does not exist in domain {}", fv.id, d.id)));
            }
            Some(f) if f.deleted && !existing.is_some_and(|c| c.fields.contains_key(&f.id)) => {
                return Err(ApiError::validation(format!("{path}.id: field '{}' has been deleted", fv.id)));
            }
            Some(f) => f,
        };
        if READ_ONLY_FIELDS.contains(&field.id.as_str()) {
            return Err(ApiError::validation(format!(
                "{path}.id: system field '{}' is set by the service and cannot be written",
                field.id
            )));
        }
        check_value_for_field(field, &fv.value, &format!("{path}.value"))?;
        if required.contains(&fv.id) && value_is_blank(&fv.value) {
            return Err(ApiError::validation(format!(
                "{path}.value: field '{}' ({}) is required by the template and cannot be empty",
                fv.id, field.name
            )));
        }
        if fv.id == "customer_id"
            && let Value::String(s) = &fv.value
            && !is_profile_arn(s)
        {
            return Err(ApiError::validation(format!(
                "{path}.value: customer_id must be a Customer Profiles profile ARN \
                 (arn:aws:profile:{{region}}:{{account}}:domains/{{domainName}}/profiles/{{profileId}}), got '{s}'"
            )));
        }
    }
    Ok(())
}

fn audit(
    st: &State,
    event_type: &str,
    related_item_type: Option<RelatedItemType>,
    performed_time: &str,
    fields: Vec<AuditEventField>,
    performed_by: &Option<User>,
) -> AuditEvent {
    AuditEvent {
        event_id: new_id(),
        event_type: event_type.into(),
        related_item_type,
        performed_time: performed_time.into(),
        fields,
        performed_by: AuditEventPerformedBy { user: performed_by.clone(), iam_principal_arn: st.iam_principal_arn() },
    }
}

fn case_snapshot(c: &Case) -> Box<Case> {
    Box::new(Case { related_items: Vec::new(), audit_events: Vec::new(), ..c.clone() })
}

fn related_audit_fields(content: &RelatedContent) -> (Vec<AuditEventField>, Vec<String>) {
    let s = |id: &str, v: &str| AuditEventField { event_field_id: id.into(), old_value: None, new_value: Value::String(v.into()) };
    let fields = match content {
        RelatedContent::Contact(c) => vec![s("contact.contactArn", &c.contact_arn)],
        RelatedContent::Comment(c) => vec![s("comment.body", &c.body)],
        RelatedContent::File(f) => vec![s("file.fileArn", &f.file_arn)],
        RelatedContent::Sla(x) => vec![s("sla.name", &x.sla_configuration.name), s("sla.targetTime", &x.sla_configuration.target_time)],
        RelatedContent::ConnectCase(c) => vec![s("connectCase.caseId", &c.case_id)],
        RelatedContent::Custom(c) => c
            .fields
            .iter()
            .map(|fv| AuditEventField { event_field_id: fv.id.clone(), old_value: None, new_value: fv.value.clone() })
            .collect(),
    };
    let attrs = fields.iter().map(|f| f.event_field_id.clone()).collect();
    (fields, attrs)
}

impl State {
    /// CreateCase. Idempotent on `(domainId, clientToken)`: the same request replays the first
    /// response (no new case, audit event or case event), a different one is a 409.
    pub fn create_case(&mut self, domain_id: &str, input: CreateCaseInput, at: OffsetDateTime) -> W<(String, String)> {
        let hash = request_hash(&input);
        let d = self.domain(domain_id)?;
        let token = input.client_token.clone().filter(|t| !t.is_empty());
        if let Some(tok) = &token
            && let Some(e) = d.idempotency.get(tok)
        {
            if e.request_hash == hash {
                return Ok(((e.case_id.clone(), e.case_arn.clone()), Vec::new()));
            }
            return Err(ApiError::conflict(format!(
                "clientToken '{tok}' was already used with different request parameters (case {})",
                e.case_id
            )));
        }
        let template =
            d.template(&input.template_id).filter(|t| !t.deleted).ok_or_else(|| ApiError::not_found("Template", &input.template_id))?;
        if template.status != TemplateStatus::Active {
            return Err(ApiError::validation(format!(
                "templateId: template '{}' ({}) is {:?} and cannot be used to create cases",
                template.id, template.name, template.status
            )));
        }
        let required = required_ids(template);
        check_case_fields(d, &input.fields, &required, None)?;
        for r in &required {
            let present = input.fields.iter().any(|f| &f.id == r && !value_is_blank(&f.value));
            if !present {
                let name = d.field(r).map(|f| f.name.clone()).unwrap_or_default();
                return Err(ApiError::validation(format!(
                    "fields: required field '{r}' ({name}) is missing; template '{}' requires: {}",
                    template.name,
                    required.join(", ")
                )));
            }
        }
        let mut tags = BTreeMap::new();
        for tp in &template.tag_propagation_configurations {
            if tp.get("resourceType").and_then(|v| v.as_str()) == Some("Cases")
                && let Some(m) = tp.get("tagMap").and_then(|v| v.as_object())
            {
                for (k, v) in m {
                    tags.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
            }
        }
        tags.extend(input.tags.clone());

        let now = format_ts(at);
        let case_id = input.case_id.clone().unwrap_or_else(new_id);
        if d.cases.contains_key(&case_id) {
            return Err(ApiError::conflict(format!("Case {case_id} already exists")));
        }
        let case_arn = format!("{}/case/{case_id}", d.arn);
        let used_refs: Vec<&str> = d.cases.values().filter_map(|c| c.fields.get("reference_number").and_then(Value::as_text)).collect();
        let mut reference = reference_number();
        while used_refs.contains(&reference.as_str()) {
            reference = reference_number();
        }
        let mut fields: BTreeMap<String, Value> = BTreeMap::new();
        for fv in &input.fields {
            if !fv.value.is_empty() {
                fields.insert(fv.id.clone(), fv.value.clone());
            }
        }
        fields.entry("status".into()).or_insert_with(|| Value::String("open".into()));
        if fields.get("status") == Some(&Value::String("closed".into())) {
            fields.insert("last_closed_datetime".into(), Value::String(now.clone()));
        }
        fields.insert("case_id".into(), Value::String(case_id.clone()));
        fields.insert("created_datetime".into(), Value::String(now.clone()));
        fields.insert("last_updated_datetime".into(), Value::String(now.clone()));
        fields.insert("reference_number".into(), Value::String(reference));
        if let Some(User::UserArn(u)) = &input.performed_by {
            fields.insert("last_updated_user".into(), Value::UserArn(u.clone()));
        }
        let audit_fields =
            fields.iter().map(|(k, v)| AuditEventField { event_field_id: k.clone(), old_value: None, new_value: v.clone() }).collect();
        let ev = audit(self, "Case.Created", None, &now, audit_fields, &input.performed_by);
        let d = self.domain_mut(domain_id)?;
        let seq = d.take_seq();
        let case = Case {
            id: case_id.clone(),
            arn: case_arn.clone(),
            template_id: input.template_id.clone(),
            fields,
            tags,
            related_items: Vec::new(),
            audit_events: vec![ev],
            seq,
        };
        let change = Change::Case {
            event_type: "CASE.CREATED",
            domain_id: domain_id.into(),
            case: case_snapshot(&case),
            changed_field_ids: case.fields.keys().cloned().collect(),
            performed_by: input.performed_by.clone(),
        };
        d.cases.insert(case_id.clone(), case);
        if let Some(tok) = token {
            d.idempotency.insert(tok, IdempotencyEntry { request_hash: hash, case_id: case_id.clone(), case_arn: case_arn.clone() });
        }
        Ok(((case_id, case_arn), vec![change]))
    }

    /// A case or 404.
    pub fn case(&self, domain_id: &str, case_id: &str) -> ApiResult<&Case> {
        self.domain(domain_id)?.cases.get(case_id).ok_or_else(|| case_not_found(case_id))
    }

    /// GetCase: (templateId, requested fields that have values, tags).
    pub fn get_case(
        &self,
        domain_id: &str,
        case_id: &str,
        field_ids: &[String],
    ) -> ApiResult<(String, Vec<FieldValue>, BTreeMap<String, String>)> {
        let c = self.case(domain_id, case_id)?;
        let mut seen = Vec::new();
        let fields = field_ids
            .iter()
            .filter(|id| {
                let dup = seen.contains(id);
                seen.push(*id);
                !dup
            })
            .filter_map(|id| c.fields.get(id).map(|v| FieldValue { id: id.clone(), value: v.clone() }))
            .collect();
        Ok((c.template_id.clone(), fields, c.tags.clone()))
    }

    /// UpdateCase.
    pub fn update_case(
        &mut self,
        domain_id: &str,
        case_id: &str,
        fields: Vec<FieldValue>,
        performed_by: Option<User>,
        at: OffsetDateTime,
    ) -> W<()> {
        let d = self.domain(domain_id)?;
        let c = d.cases.get(case_id).ok_or_else(|| case_not_found(case_id))?;
        let required = d.template(&c.template_id).map(required_ids).unwrap_or_else(|| vec!["title".into(), "customer_id".into()]);
        check_case_fields(d, &fields, &required, Some(c))?;
        let now = format_ts(at);
        let mut audit_fields = Vec::new();
        let mut changed = Vec::new();
        let mut new_fields = c.fields.clone();
        for fv in &fields {
            let old = new_fields.get(&fv.id).cloned();
            if fv.value.is_empty() {
                new_fields.remove(&fv.id);
            } else {
                new_fields.insert(fv.id.clone(), fv.value.clone());
            }
            let now_val = new_fields.get(&fv.id).cloned();
            if old != now_val {
                changed.push(fv.id.clone());
            }
            audit_fields.push(AuditEventField { event_field_id: fv.id.clone(), old_value: old, new_value: fv.value.clone() });
        }
        let was_closed = c.fields.get("status") == Some(&Value::String("closed".into()));
        if !was_closed && new_fields.get("status") == Some(&Value::String("closed".into())) {
            new_fields.insert("last_closed_datetime".into(), Value::String(now.clone()));
            changed.push("last_closed_datetime".into());
        }
        new_fields.insert("last_updated_datetime".into(), Value::String(now.clone()));
        changed.push("last_updated_datetime".into());
        if let Some(User::UserArn(u)) = &performed_by {
            let v = Value::UserArn(u.clone());
            if new_fields.get("last_updated_user") != Some(&v) {
                changed.push("last_updated_user".into());
            }
            new_fields.insert("last_updated_user".into(), v);
        }
        let ev = audit(self, "Case.Updated", None, &now, audit_fields, &performed_by);
        let d = self.domain_mut(domain_id)?;
        let c = d.cases.get_mut(case_id).ok_or_else(|| case_not_found(case_id))?;
        c.fields = new_fields;
        c.audit_events.push(ev);
        for item in &mut c.related_items {
            if let RelatedContent::Sla(s) = &mut item.content {
                sla::complete(&mut s.sla_configuration, &c.fields, at);
            }
        }
        let change = Change::Case {
            event_type: "CASE.UPDATED",
            domain_id: domain_id.into(),
            case: case_snapshot(c),
            changed_field_ids: changed,
            performed_by,
        };
        Ok(((), vec![change]))
    }

    /// DeleteCase (the case, its related items and audit history are removed).
    pub fn delete_case(&mut self, domain_id: &str, case_id: &str) -> W<()> {
        let d = self.domain_mut(domain_id)?;
        let c = d.cases.remove(case_id).ok_or_else(|| case_not_found(case_id))?;
        let change = Change::Case {
            event_type: "CASE.DELETED",
            domain_id: domain_id.into(),
            case: case_snapshot(&c),
            changed_field_ids: Vec::new(),
            performed_by: None,
        };
        Ok(((), vec![change]))
    }

    /// SearchCases over the cases as the search index shows them at `now`: (hits of this page,
    /// next token, totalCount).
    pub fn search_cases(
        &self,
        domain_id: &str,
        input: &SearchCasesInput,
        index: &SearchIndex,
        now: OffsetDateTime,
    ) -> ApiResult<(Vec<CaseHit>, Option<String>, u64)> {
        let d = self.domain(domain_id)?;
        let mut referenced = Vec::new();
        if let Some(f) = &input.filter {
            collect_filter_ids(f, &mut referenced);
        }
        referenced.extend(input.sorts.iter().map(|s| s.field_id.clone()));
        referenced.extend(input.fields.iter().cloned());
        for id in &referenced {
            if d.field(id).is_none() {
                return Err(ApiError::validation(format!("Field '{id}' does not exist in domain {domain_id}")));
            }
        }
        let mut hits: Vec<&Case> = index
            .cases_at(domain_id, now)
            .into_iter()
            .filter(|c| input.filter.as_ref().is_none_or(|f| search::case_matches(f, c)))
            .filter(|c| input.search_term.as_deref().is_none_or(|t| search::search_term_matches(t, c)))
            .collect();
        search::sort_cases(&mut hits, &input.sorts);
        let total = hits.len() as u64;
        let (page, next) = crate::util::page(&hits, input.offset, input.max_results);
        let out = page
            .into_iter()
            .map(|c| CaseHit {
                case_id: c.id.clone(),
                template_id: c.template_id.clone(),
                fields: input
                    .fields
                    .iter()
                    .filter_map(|id| c.fields.get(id).map(|v| FieldValue { id: id.clone(), value: v.clone() }))
                    .collect(),
                tags: c.tags.clone(),
            })
            .collect();
        Ok((out, next, total))
    }

    /// CreateRelatedItem.
    pub fn create_related_item(
        &mut self,
        domain_id: &str,
        case_id: &str,
        input: RelatedItemInput,
        performed_by: Option<User>,
        at: OffsetDateTime,
    ) -> W<(String, String)> {
        let d = self.domain(domain_id)?;
        let c = d.cases.get(case_id).ok_or_else(|| case_not_found(case_id))?;
        if c.related_items.len() >= MAX_RELATED_ITEMS_PER_CASE {
            return Err(ApiError::quota(format!("Case {case_id} already has {MAX_RELATED_ITEMS_PER_CASE} related items")));
        }
        let now = format_ts(at);
        let content = match input {
            RelatedItemInput::Contact { contact_arn } => RelatedContent::Contact(ContactContent {
                contact_arn,
                channel: DEFAULT_CONTACT_CHANNEL.into(),
                connected_to_system_time: now.clone(),
            }),
            RelatedItemInput::Comment { body, content_type } => RelatedContent::Comment(CommentContent { body, content_type }),
            RelatedItemInput::File { file_arn } => RelatedContent::File(FileContent { file_arn }),
            RelatedItemInput::Sla { name, sla_type, field_id, target_field_values, target_sla_minutes } => {
                if c.related_items.iter().filter(|i| i.item_type == RelatedItemType::Sla).count() >= MAX_SLAS_PER_CASE {
                    return Err(ApiError::quota(format!("Case {case_id} already has {MAX_SLAS_PER_CASE} SLAs")));
                }
                if let Some(fid) = &field_id {
                    let f = d.live_field(fid).ok_or_else(|| {
                        ApiError::validation(format!("content.sla.slaInputConfiguration.fieldId: field '{fid}' does not exist"))
                    })?;
                    let Some(vals) = &target_field_values else {
                        return Err(ApiError::validation(
                            "content.sla.slaInputConfiguration.targetFieldValues: required when fieldId is set",
                        ));
                    };
                    for (i, v) in vals.iter().enumerate() {
                        check_value_for_field(f, v, &format!("content.sla.slaInputConfiguration.targetFieldValues[{i}]"))?;
                    }
                } else if target_field_values.is_some() {
                    return Err(ApiError::validation("content.sla.slaInputConfiguration.fieldId: required when targetFieldValues is set"));
                }
                let mut cfg = SlaConfiguration {
                    name,
                    sla_type,
                    status: sla::ACTIVE.into(),
                    field_id,
                    target_field_values,
                    target_time: add_minutes(&now, target_sla_minutes),
                    completion_time: None,
                };
                // a case whose field already has a target value meets the SLA at once (inferred)
                sla::complete(&mut cfg, &c.fields, at);
                RelatedContent::Sla(SlaContent { sla_configuration: cfg })
            }
            RelatedItemInput::ConnectCase { case_id: other } => {
                if !d.cases.contains_key(&other) {
                    return Err(ApiError::not_found("Case", &other));
                }
                RelatedContent::ConnectCase(ConnectCaseContent { case_id: other })
            }
            RelatedItemInput::Custom { fields } => {
                check_custom_fields(d, &fields)?;
                RelatedContent::Custom(CustomContent { fields })
            }
        };
        let item_type = content.item_type();
        let id = new_id();
        let arn = format!("{}/related-item/{id}", c.arn);
        let (audit_fields, attrs) = related_audit_fields(&content);
        let ev = audit(self, "RelatedItem.Created", Some(item_type), &now, audit_fields, &performed_by);
        let d = self.domain_mut(domain_id)?;
        let seq = d.take_seq();
        let item = RelatedItem {
            id: id.clone(),
            arn: arn.clone(),
            case_id: case_id.into(),
            item_type,
            association_time: now,
            content,
            performed_by: performed_by.clone(),
            last_updated_user: None,
            tags: BTreeMap::new(),
            seq,
        };
        let c = d.cases.get_mut(case_id).ok_or_else(|| case_not_found(case_id))?;
        c.related_items.push(item.clone());
        c.audit_events.push(ev);
        let change = Change::RelatedItem {
            event_type: "RELATED_ITEM.CREATED",
            domain_id: domain_id.into(),
            item: Box::new(item),
            changed_attributes: attrs,
            performed_by,
        };
        Ok(((id, arn), vec![change]))
    }

    /// UpdateRelatedItem (comments and custom items; a custom update replaces all fields).
    pub fn update_related_item(
        &mut self,
        domain_id: &str,
        case_id: &str,
        item_id: &str,
        update: RelatedItemUpdate,
        performed_by: Option<User>,
        at: OffsetDateTime,
    ) -> W<RelatedItem> {
        let d = self.domain(domain_id)?;
        let c = d.cases.get(case_id).ok_or_else(|| case_not_found(case_id))?;
        let item = c.related_items.iter().find(|i| i.id == item_id).ok_or_else(|| ApiError::not_found("RelatedItem", item_id))?;
        let (content, old_fields): (RelatedContent, Vec<AuditEventField>) = match (&item.content, update) {
            (RelatedContent::Comment(old), RelatedItemUpdate::Comment { body, content_type }) => (
                RelatedContent::Comment(CommentContent { body: body.clone(), content_type }),
                vec![AuditEventField {
                    event_field_id: "comment.body".into(),
                    old_value: Some(Value::String(old.body.clone())),
                    new_value: Value::String(body),
                }],
            ),
            (RelatedContent::Custom(old), RelatedItemUpdate::Custom { fields }) => {
                check_custom_fields(d, &fields)?;
                let af = fields
                    .iter()
                    .map(|fv| AuditEventField {
                        event_field_id: fv.id.clone(),
                        old_value: old.fields.iter().find(|o| o.id == fv.id).map(|o| o.value.clone()),
                        new_value: fv.value.clone(),
                    })
                    .collect();
                (RelatedContent::Custom(CustomContent { fields }), af)
            }
            (old, upd) => {
                let want = match upd {
                    RelatedItemUpdate::Comment { .. } => "comment",
                    RelatedItemUpdate::Custom { .. } => "custom",
                };
                return Err(ApiError::validation(format!(
                    "content.{want}: related item {item_id} is of type {}, not {want}",
                    old.item_type().as_str()
                )));
            }
        };
        let now = format_ts(at);
        let attrs = old_fields.iter().map(|f| f.event_field_id.clone()).collect();
        let ev = audit(self, "RelatedItem.Updated", Some(item.item_type), &now, old_fields, &performed_by);
        let d = self.domain_mut(domain_id)?;
        let c = d.cases.get_mut(case_id).ok_or_else(|| case_not_found(case_id))?;
        let item = c.related_items.iter_mut().find(|i| i.id == item_id).ok_or_else(|| ApiError::not_found("RelatedItem", item_id))?;
        item.content = content;
        item.last_updated_user = performed_by.clone();
        let out = item.clone();
        c.audit_events.push(ev);
        let change = Change::RelatedItem {
            event_type: "RELATED_ITEM.UPDATED",
            domain_id: domain_id.into(),
            item: Box::new(out.clone()),
            changed_attributes: attrs,
            performed_by,
        };
        Ok((out, vec![change]))
    }

    /// DeleteRelatedItem (not for files).
    pub fn delete_related_item(&mut self, domain_id: &str, case_id: &str, item_id: &str, at: OffsetDateTime) -> W<()> {
        let d = self.domain(domain_id)?;
        let c = d.cases.get(case_id).ok_or_else(|| case_not_found(case_id))?;
        let item = c.related_items.iter().find(|i| i.id == item_id).ok_or_else(|| ApiError::not_found("RelatedItem", item_id))?;
        if item.item_type == RelatedItemType::File {
            return Err(ApiError::validation("DeleteRelatedItem cannot be used on a File related item"));
        }
        let now = format_ts(at);
        let (fields, _) = related_audit_fields(&item.content);
        let ev = audit(self, "RelatedItem.Deleted", Some(item.item_type), &now, fields, &None);
        let d = self.domain_mut(domain_id)?;
        let c = d.cases.get_mut(case_id).ok_or_else(|| case_not_found(case_id))?;
        let pos = c.related_items.iter().position(|i| i.id == item_id).ok_or_else(|| ApiError::not_found("RelatedItem", item_id))?;
        let item = c.related_items.remove(pos);
        c.audit_events.push(ev);
        let change = Change::RelatedItem {
            event_type: "RELATED_ITEM.DELETED",
            domain_id: domain_id.into(),
            item: Box::new(item),
            changed_attributes: Vec::new(),
            performed_by: None,
        };
        Ok(((), vec![change]))
    }

    /// SearchRelatedItems: items of one case (that exists) as the search index shows them at
    /// `now`, matching any filter, newest first.
    pub fn search_related_items(
        &self,
        domain_id: &str,
        case_id: &str,
        filters: &[RelatedItemFilter],
        index: &SearchIndex,
        now: OffsetDateTime,
    ) -> ApiResult<Vec<RelatedItem>> {
        self.case(domain_id, case_id)?;
        let mut items: Vec<RelatedItem> = index
            .items_at(domain_id, Some(case_id), now)
            .into_iter()
            .map(|i| sla::as_of(i, now))
            .filter(|i| search::related_item_matches_any(filters, i))
            .collect();
        items.sort_by_key(|i| std::cmp::Reverse(i.seq));
        Ok(items)
    }

    /// SearchAllRelatedItems: items of every case of the domain as the search index shows them
    /// at `now`; `sorts` are (property `AssociationTime`|`CaseId`, descending); default newest
    /// first.
    pub fn search_all_related_items(
        &self,
        domain_id: &str,
        filters: &[RelatedItemFilter],
        sorts: &[(String, bool)],
        index: &SearchIndex,
        now: OffsetDateTime,
    ) -> ApiResult<Vec<RelatedItem>> {
        self.domain(domain_id)?;
        let mut items: Vec<RelatedItem> = index
            .items_at(domain_id, None, now)
            .into_iter()
            .map(|i| sla::as_of(i, now))
            .filter(|i| search::related_item_matches_any(filters, i))
            .collect();
        items.sort_by(|a, b| {
            for (prop, desc) in sorts {
                let o = if prop == "CaseId" { a.case_id.cmp(&b.case_id) } else { a.seq.cmp(&b.seq) };
                let o = if *desc { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            b.seq.cmp(&a.seq)
        });
        Ok(items)
    }

    /// ListCasesForContact: (caseId, templateId) of the cases that have a contact related item
    /// with this ARN, newest first.
    pub fn list_cases_for_contact(&self, domain_id: &str, contact_arn: &str) -> ApiResult<Vec<(String, String)>> {
        let d = self.domain(domain_id)?;
        let mut cases: Vec<&Case> = d
            .cases
            .values()
            .filter(|c| c.related_items.iter().any(|i| matches!(&i.content, RelatedContent::Contact(x) if x.contact_arn == contact_arn)))
            .collect();
        cases.sort_by_key(|c| std::cmp::Reverse(c.seq));
        Ok(cases.into_iter().map(|c| (c.id.clone(), c.template_id.clone())).collect())
    }

    /// GetCaseAuditEvents: all audit events of a case, oldest first.
    pub fn case_audit_events(&self, domain_id: &str, case_id: &str) -> ApiResult<Vec<AuditEvent>> {
        Ok(self.case(domain_id, case_id)?.audit_events.clone())
    }
}

fn check_custom_fields(d: &Domain, fields: &[FieldValue]) -> ApiResult<()> {
    for (i, fv) in fields.iter().enumerate() {
        let path = format!("content.custom.fields[{i}]");
        let f = d
            .live_field(&fv.id)
            .ok_or_else(|| ApiError::validation(format!("{path}.id: field '{}' does not exist in domain {}", fv.id, d.id)))?;
        if f.namespace == Namespace::System {
            return Err(ApiError::validation(format!("{path}.id: system case fields cannot be used in a custom related item")));
        }
        check_value_for_field(f, &fv.value, &format!("{path}.value"))?;
    }
    Ok(())
}

fn collect_filter_ids(f: &CaseFilter, out: &mut Vec<String>) {
    match f {
        CaseFilter::Field(ff) => out.push(ff.field.id.clone()),
        CaseFilter::Not(x) => collect_filter_ids(x, out),
        CaseFilter::Tag { .. } => {}
        CaseFilter::AndAll(l) | CaseFilter::OrAll(l) => l.iter().for_each(|x| collect_filter_ids(x, out)),
    }
}
