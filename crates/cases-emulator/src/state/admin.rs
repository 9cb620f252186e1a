//! Domains, fields (and options), templates, case event configuration, tags.

use std::collections::BTreeMap;

use super::model::*;
use super::{Change, State};
use crate::error::{ApiError, ApiResult};
use time::OffsetDateTime;

use crate::util::{format_ts, new_id};

/// The system fields every domain has: (id, name, type).
pub const SYSTEM_FIELDS: [(&str, &str, FieldType); 13] = [
    ("assigned_queue", "Assigned queue", FieldType::Text),
    ("assigned_user", "Assigned user", FieldType::Text),
    ("case_id", "Case ID", FieldType::Text),
    ("case_reason", "Case Reason", FieldType::SingleSelect),
    ("customer_id", "Customer", FieldType::Text),
    ("last_closed_datetime", "Date/Time Closed", FieldType::DateTime),
    ("created_datetime", "Date/Time Opened", FieldType::DateTime),
    ("last_updated_datetime", "Date/Time Updated", FieldType::DateTime),
    ("last_updated_user", "Last Updated User", FieldType::User),
    ("reference_number", "Reference number", FieldType::Text),
    ("status", "Status", FieldType::SingleSelect),
    ("summary", "Summary", FieldType::Text),
    ("title", "Title", FieldType::Text),
];

/// System fields that only the service sets (CreateCase/UpdateCase reject them).
pub const READ_ONLY_FIELDS: [&str; 6] =
    ["case_id", "created_datetime", "last_updated_datetime", "last_updated_user", "reference_number", "last_closed_datetime"];

/// Input of CreateTemplate / seed templates.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub name: String,
    pub description: Option<String>,
    pub status: Option<TemplateStatus>,
    pub required_fields: Vec<String>,
    pub default_layout: Option<String>,
    pub rules: Vec<TemplateRule>,
    pub tag_propagation_configurations: Vec<serde_json::Value>,
}

/// Input of CreateField / seed fields.
#[derive(Debug, Clone)]
pub struct FieldInput {
    pub name: String,
    pub field_type: FieldType,
    pub description: Option<String>,
    /// `FieldAttributes` as sent.
    pub attributes: Option<serde_json::Value>,
}

/// Input of UpdateTemplate (absent members are left unchanged).
#[derive(Debug, Clone, Default)]
pub struct TemplateUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<TemplateStatus>,
    pub required_fields: Option<Vec<String>>,
    pub default_layout: Option<String>,
    pub rules: Option<Vec<TemplateRule>>,
    pub tag_propagation_configurations: Option<Vec<serde_json::Value>>,
}

type W<T> = ApiResult<(T, Vec<Change>)>;

fn done<T>(t: T) -> W<T> {
    Ok((t, Vec::new()))
}

impl State {
    // ---- domains ------------------------------------------------------------------------

    /// CreateDomain with a given id (seeds) or a new UUID; installs the system fields.
    /// A second domain with the same name is a 409.
    pub fn create_domain(&mut self, id: Option<&str>, name: &str, now: OffsetDateTime) -> W<Domain> {
        if self.domains.iter().any(|d| d.name == name) {
            return Err(ApiError::conflict(format!("A domain named '{name}' already exists")));
        }
        let id = id.map(str::to_string).unwrap_or_else(new_id);
        if self.domains.iter().any(|d| d.id == id) {
            return Err(ApiError::conflict(format!("A domain with id '{id}' already exists")));
        }
        let now = format_ts(now);
        let mut d = Domain {
            arn: self.domain_arn(&id),
            id: id.clone(),
            name: name.to_string(),
            created_time: now.clone(),
            status: "Active".into(),
            tags: BTreeMap::new(),
            event_configuration: default_event_config(),
            fields: Vec::new(),
            templates: Vec::new(),
            cases: BTreeMap::new(),
            idempotency: BTreeMap::new(),
            next_seq: 0,
        };
        for (fid, fname, ftype) in SYSTEM_FIELDS {
            let options = match fid {
                "status" => vec![
                    FieldOption { name: "Open".into(), value: "open".into(), active: true },
                    FieldOption { name: "Closed".into(), value: "closed".into(), active: true },
                ],
                _ => vec![],
            };
            let attributes = (fid == "summary").then(|| serde_json::json!({"text": {"isMultiline": true}}));
            d.fields.push(Field {
                id: fid.into(),
                arn: format!("{}/field/{fid}", d.arn),
                name: fname.into(),
                description: None,
                field_type: ftype,
                namespace: Namespace::System,
                attributes,
                options,
                tags: BTreeMap::new(),
                created_time: now.clone(),
                last_modified_time: now.clone(),
                deleted: false,
            });
        }
        self.domains.push(d.clone());
        done(d)
    }

    pub fn delete_domain(&mut self, id: &str) -> W<()> {
        self.domain(id)?;
        self.domains.retain(|d| d.id != id);
        done(())
    }

    // ---- fields -------------------------------------------------------------------------

    /// CreateField (custom namespace). Duplicate names are a 409.
    pub fn create_field(&mut self, domain_id: &str, id: Option<&str>, input: FieldInput, now: OffsetDateTime) -> W<Field> {
        let FieldInput { name, field_type, description, attributes } = input;
        let name = name.as_str();
        let d = self.domain_mut(domain_id)?;
        if d.fields.iter().any(|f| !f.deleted && f.name == name) {
            return Err(ApiError::conflict(format!("A field named '{name}' already exists in domain {domain_id}")));
        }
        let id = id.map(str::to_string).unwrap_or_else(new_id);
        if d.field(&id).is_some() {
            return Err(ApiError::conflict(format!("A field with id '{id}' already exists in domain {domain_id}")));
        }
        if d.fields.iter().filter(|f| f.namespace == Namespace::Custom && !f.deleted).count() >= 700 {
            return Err(ApiError::quota("Maximum number of fields per domain reached"));
        }
        let now = format_ts(now);
        let f = Field {
            arn: format!("{}/field/{id}", d.arn),
            id,
            name: name.into(),
            description,
            field_type,
            namespace: Namespace::Custom,
            attributes,
            options: Vec::new(),
            tags: BTreeMap::new(),
            created_time: now.clone(),
            last_modified_time: now,
            deleted: false,
        };
        d.fields.push(f.clone());
        done(f)
    }

    /// UpdateField (name, description, attributes).
    pub fn update_field(
        &mut self,
        domain_id: &str,
        field_id: &str,
        name: Option<String>,
        description: Option<String>,
        attributes: Option<serde_json::Value>,
        now: OffsetDateTime,
    ) -> W<()> {
        let d = self.domain_mut(domain_id)?;
        if let Some(n) = &name
            && d.fields.iter().any(|f| !f.deleted && &f.name == n && f.id != field_id)
        {
            return Err(ApiError::conflict(format!("A field named '{n}' already exists")));
        }
        let f = d.fields.iter_mut().find(|f| f.id == field_id && !f.deleted).ok_or_else(|| ApiError::not_found("Field", field_id))?;
        if f.namespace == Namespace::System && name.is_some() {
            return Err(ApiError::validation("System fields cannot be renamed"));
        }
        if let Some(n) = name {
            f.name = n;
        }
        if description.is_some() {
            f.description = description;
        }
        if attributes.is_some() {
            f.attributes = attributes;
        }
        f.last_modified_time = format_ts(now);
        done(())
    }

    /// DeleteField (custom fields only; soft delete).
    pub fn delete_field(&mut self, domain_id: &str, field_id: &str, now: OffsetDateTime) -> W<()> {
        let d = self.domain_mut(domain_id)?;
        let in_template = d.templates.iter().any(|t| !t.deleted && t.required_fields.iter().any(|r| r == field_id));
        let f = d.fields.iter_mut().find(|f| f.id == field_id && !f.deleted).ok_or_else(|| ApiError::not_found("Field", field_id))?;
        if f.namespace == Namespace::System {
            return Err(ApiError::validation("System fields cannot be deleted"));
        }
        if in_template {
            return Err(ApiError::conflict(format!("Field {field_id} is a required field of a template")));
        }
        f.deleted = true;
        f.last_modified_time = format_ts(now);
        done(())
    }

    /// ListFields: live fields, in creation order (system fields first).
    pub fn list_fields(&self, domain_id: &str) -> ApiResult<Vec<Field>> {
        Ok(self.domain(domain_id)?.fields.iter().filter(|f| !f.deleted).cloned().collect())
    }

    /// BatchGetField: found fields (deleted ones included) and the ids not found.
    pub fn batch_get_field(&self, domain_id: &str, ids: &[String]) -> ApiResult<(Vec<Field>, Vec<String>)> {
        let d = self.domain(domain_id)?;
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for id in ids {
            match d.field(id) {
                Some(f) => found.push(f.clone()),
                None => missing.push(id.clone()),
            }
        }
        Ok((found, missing))
    }

    /// BatchPutFieldOptions: upserts options by value (SingleSelect fields only).
    /// The built-in `open`/`closed` options of `status` cannot be deactivated; such entries are
    /// reported in the returned errors (value, message).
    pub fn batch_put_field_options(
        &mut self,
        domain_id: &str,
        field_id: &str,
        options: Vec<FieldOption>,
        now: OffsetDateTime,
    ) -> W<Vec<(String, String)>> {
        let d = self.domain_mut(domain_id)?;
        let f = d.fields.iter_mut().find(|f| f.id == field_id && !f.deleted).ok_or_else(|| ApiError::not_found("Field", field_id))?;
        if f.field_type != FieldType::SingleSelect {
            return Err(ApiError::validation(format!(
                "Field {field_id} is of type {:?}; options exist only on SingleSelect fields",
                f.field_type
            )));
        }
        let mut errors = Vec::new();
        for o in options {
            if f.id == "status" && (o.value == "open" || o.value == "closed") && !o.active {
                errors.push((o.value.clone(), "The built-in status options open and closed cannot be deactivated".to_string()));
                continue;
            }
            match f.options.iter_mut().find(|x| x.value == o.value) {
                Some(x) => *x = o,
                None => {
                    if f.options.len() >= 1000 {
                        return Err(ApiError::quota("Maximum number of options per field reached"));
                    }
                    f.options.push(o)
                }
            }
        }
        f.last_modified_time = format_ts(now);
        done(errors)
    }

    /// ListFieldOptions, optionally restricted to the given values.
    pub fn list_field_options(&self, domain_id: &str, field_id: &str, values: &[String]) -> ApiResult<Vec<FieldOption>> {
        let d = self.domain(domain_id)?;
        let f = d.live_field(field_id).ok_or_else(|| ApiError::not_found("Field", field_id))?;
        Ok(f.options.iter().filter(|o| values.is_empty() || values.contains(&o.value)).cloned().collect())
    }

    // ---- templates ----------------------------------------------------------------------

    fn check_template_fields(d: &Domain, required: &[String]) -> ApiResult<()> {
        for (i, r) in required.iter().enumerate() {
            if d.live_field(r).is_none() {
                return Err(ApiError::validation(format!("requiredFields[{i}].fieldId: field '{r}' does not exist in domain {}", d.id)));
            }
        }
        Ok(())
    }

    /// CreateTemplate. Names are unique per domain (409).
    pub fn create_template(&mut self, domain_id: &str, id: Option<&str>, input: TemplateInput, now: OffsetDateTime) -> W<Template> {
        let d = self.domain_mut(domain_id)?;
        if d.templates.iter().any(|t| !t.deleted && t.name == input.name) {
            return Err(ApiError::conflict(format!("A template named '{}' already exists in domain {domain_id}", input.name)));
        }
        Self::check_template_fields(d, &input.required_fields)?;
        if d.templates.iter().filter(|t| !t.deleted).count() >= 100 {
            return Err(ApiError::quota("Maximum number of templates per domain reached"));
        }
        let id = id.map(str::to_string).unwrap_or_else(new_id);
        if d.template(&id).is_some() {
            return Err(ApiError::conflict(format!("A template with id '{id}' already exists")));
        }
        let now = format_ts(now);
        let t = Template {
            arn: format!("{}/template/{id}", d.arn),
            id,
            name: input.name,
            description: input.description,
            status: input.status.unwrap_or(TemplateStatus::Active),
            required_fields: input.required_fields,
            default_layout: input.default_layout,
            rules: input.rules,
            tag_propagation_configurations: input.tag_propagation_configurations,
            tags: BTreeMap::new(),
            created_time: now.clone(),
            last_modified_time: now,
            deleted: false,
        };
        d.templates.push(t.clone());
        done(t)
    }

    /// GetTemplate (deleted templates are still returned).
    pub fn get_template(&self, domain_id: &str, template_id: &str) -> ApiResult<Template> {
        self.domain(domain_id)?.template(template_id).cloned().ok_or_else(|| ApiError::not_found("Template", template_id))
    }

    /// UpdateTemplate.
    pub fn update_template(&mut self, domain_id: &str, template_id: &str, u: TemplateUpdate, now: OffsetDateTime) -> W<()> {
        let d = self.domain_mut(domain_id)?;
        if let Some(n) = &u.name
            && d.templates.iter().any(|t| !t.deleted && &t.name == n && t.id != template_id)
        {
            return Err(ApiError::conflict(format!("A template named '{n}' already exists")));
        }
        if let Some(r) = &u.required_fields {
            Self::check_template_fields(d, r)?;
        }
        let t = d
            .templates
            .iter_mut()
            .find(|t| t.id == template_id && !t.deleted)
            .ok_or_else(|| ApiError::not_found("Template", template_id))?;
        if let Some(v) = u.name {
            t.name = v;
        }
        if u.description.is_some() {
            t.description = u.description;
        }
        if let Some(v) = u.status {
            t.status = v;
        }
        if let Some(v) = u.required_fields {
            t.required_fields = v;
        }
        if u.default_layout.is_some() {
            t.default_layout = u.default_layout;
        }
        if let Some(v) = u.rules {
            t.rules = v;
        }
        if let Some(v) = u.tag_propagation_configurations {
            t.tag_propagation_configurations = v;
        }
        t.last_modified_time = format_ts(now);
        done(())
    }

    /// DeleteTemplate (soft delete).
    pub fn delete_template(&mut self, domain_id: &str, template_id: &str, now: OffsetDateTime) -> W<()> {
        let d = self.domain_mut(domain_id)?;
        let t = d
            .templates
            .iter_mut()
            .find(|t| t.id == template_id && !t.deleted)
            .ok_or_else(|| ApiError::not_found("Template", template_id))?;
        t.deleted = true;
        t.last_modified_time = format_ts(now);
        done(())
    }

    /// ListTemplates: live templates with one of `statuses` (all when empty).
    pub fn list_templates(&self, domain_id: &str, statuses: &[TemplateStatus]) -> ApiResult<Vec<Template>> {
        Ok(self
            .domain(domain_id)?
            .templates
            .iter()
            .filter(|t| !t.deleted && (statuses.is_empty() || statuses.contains(&t.status)))
            .cloned()
            .collect())
    }

    // ---- case event configuration -------------------------------------------------------

    /// PutCaseEventConfiguration; `config` is the validated `EventBridgeConfiguration`.
    pub fn put_case_event_configuration(&mut self, domain_id: &str, config: serde_json::Value) -> W<()> {
        let d = self.domain_mut(domain_id)?;
        d.event_configuration = config;
        done(())
    }

    pub fn get_case_event_configuration(&self, domain_id: &str) -> ApiResult<serde_json::Value> {
        Ok(self.domain(domain_id)?.event_configuration.clone())
    }

    // ---- tags ---------------------------------------------------------------------------

    fn tags_mut(&mut self, arn: &str) -> ApiResult<&mut BTreeMap<String, String>> {
        let not_found = || ApiError::not_found("Resource", arn);
        let rest = arn.split_once(":domain/").map(|(_, r)| r).ok_or_else(not_found)?;
        if !arn.starts_with("arn:") {
            return Err(not_found());
        }
        let segs: Vec<&str> = rest.split('/').collect();
        let d = self.domains.iter_mut().find(|d| d.id == segs[0]).ok_or_else(not_found)?;
        match segs.as_slice() {
            [_] => Ok(&mut d.tags),
            [_, "template", t] => d.templates.iter_mut().find(|x| x.id == *t && !x.deleted).map(|x| &mut x.tags).ok_or_else(not_found),
            [_, "field", f] => d.fields.iter_mut().find(|x| x.id == *f && !x.deleted).map(|x| &mut x.tags).ok_or_else(not_found),
            [_, "case", c] => d.cases.get_mut(*c).map(|x| &mut x.tags).ok_or_else(not_found),
            [_, "case", c, "related-item", r] => {
                d.cases.get_mut(*c).and_then(|x| x.related_items.iter_mut().find(|i| i.id == *r)).map(|x| &mut x.tags).ok_or_else(not_found)
            }
            _ => Err(not_found()),
        }
    }

    /// ListTagsForResource.
    pub fn list_tags(&self, arn: &str) -> ApiResult<BTreeMap<String, String>> {
        let not_found = || ApiError::not_found("Resource", arn);
        let rest = arn.split_once(":domain/").map(|(_, r)| r).ok_or_else(not_found)?;
        let segs: Vec<&str> = rest.split('/').collect();
        let d = self.domains.iter().find(|d| d.id == segs[0]).ok_or_else(not_found)?;
        let tags = match segs.as_slice() {
            [_] => Some(&d.tags),
            [_, "template", t] => d.templates.iter().find(|x| x.id == *t && !x.deleted).map(|x| &x.tags),
            [_, "field", f] => d.fields.iter().find(|x| x.id == *f && !x.deleted).map(|x| &x.tags),
            [_, "case", c] => d.cases.get(*c).map(|x| &x.tags),
            [_, "case", c, "related-item", r] => d.cases.get(*c).and_then(|x| x.related_items.iter().find(|i| i.id == *r)).map(|x| &x.tags),
            _ => None,
        };
        tags.cloned().ok_or_else(not_found)
    }

    /// TagResource (merges).
    pub fn tag_resource(&mut self, arn: &str, tags: BTreeMap<String, String>) -> W<()> {
        let t = self.tags_mut(arn)?;
        if t.len() + tags.keys().filter(|k| !t.contains_key(*k)).count() > 50 {
            return Err(ApiError::validation("A resource can have at most 50 tags"));
        }
        t.extend(tags);
        Ok(((), retagged(arn)))
    }

    /// UntagResource.
    pub fn untag_resource(&mut self, arn: &str, keys: &[String]) -> W<()> {
        let t = self.tags_mut(arn)?;
        for k in keys {
            t.remove(k);
        }
        Ok(((), retagged(arn)))
    }
}

/// The search index holds the tags of cases and related items: (un)tagging one is a change to
/// index, without a case event.
fn retagged(arn: &str) -> Vec<Change> {
    let Some((_, rest)) = arn.split_once(":domain/") else { return Vec::new() };
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        [domain_id, "case", case_id, ..] => vec![Change::Searchable { domain_id: domain_id.to_string(), case_id: case_id.to_string() }],
        _ => Vec::new(),
    }
}
