//! One function per operation: parse the body/query/labels, validate, call the backend, shape
//! the response. Everything here is synchronous (the backend is in-memory).

use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};

use super::input::*;
use super::output;
use super::routes::Query;
use crate::backend::Backend;
use crate::error::{ApiError, ApiResult};
use crate::operation::Operation;
use crate::state::admin::{FieldInput, TemplateInput, TemplateUpdate};
use crate::state::cases::{CreateCaseInput, RelatedItemInput, RelatedItemUpdate, SearchCasesInput};
use crate::state::model::{FieldOption, FieldType, RelatedItemType, TemplateRule, TemplateStatus};
use crate::util::{decode_token, page};
use crate::wire::validate as v;

/// What a handler reads of a request: the path's segments, the query string and the body.
struct Request<'a> {
    segs: &'a [String],
    query: &'a Query,
    body: &'a [u8],
}

impl<'a> Request<'a> {
    /// Path segment `i`, checked as a label named `name`.
    fn label(&self, i: usize, name: &str) -> ApiResult<&'a str> {
        let s = self.segs.get(i).map(String::as_str).unwrap_or_default();
        v::label(s, name)?;
        Ok(s)
    }

    /// The JSON body; an empty body is `{}`.
    fn body<T: DeserializeOwned>(&self) -> ApiResult<T> {
        parse_body(self.body)
    }

    fn query_int(&self, name: &str) -> ApiResult<Option<i64>> {
        self.query
            .get(name)
            .map(|s| s.parse::<i64>().map_err(|_| ApiError::validation(format!("{name}: '{s}' is not an integer"))))
            .transpose()
    }
}

fn empty() -> ApiResult<Json> {
    Ok(json!({}))
}

/// Parses a JSON body; an empty body is `{}`.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    serde_json::from_slice(body).map_err(|e| ApiError::validation(format!("Invalid request body: {e}")))
}

fn token_len(t: &Option<String>) -> ApiResult<()> {
    if let Some(t) = t {
        v::length(t, "nextToken", 0, 9000)?;
    }
    Ok(())
}

fn parse_field_attributes(a: &Option<Json>, path: &str) -> ApiResult<Option<Json>> {
    let Some(a) = a else { return Ok(None) };
    let obj = a.as_object().ok_or_else(|| ApiError::validation(format!("{path}: must be an object")))?;
    let set: Vec<(&str, bool)> = vec![("text", obj.get("text").is_some_and(|x| !x.is_null()))];
    v::exactly_one(path, "FieldAttributes", &set)?;
    if obj.len() > 1 {
        return Err(ApiError::validation(format!("{path}: FieldAttributes is a union: exactly one member must be set")));
    }
    let ml = obj["text"].get("isMultiline");
    if !ml.is_some_and(Json::is_boolean) {
        return Err(ApiError::validation(format!("{path}.text.isMultiline: Member must not be null (boolean)")));
    }
    Ok(Some(json!({ "text": { "isMultiline": ml.cloned().unwrap_or(Json::Bool(false)) } })))
}

fn field_options(list: &[FieldOptionIn], path: &str) -> ApiResult<Vec<FieldOption>> {
    v::list_size(list.len(), path, 0, 50)?;
    list.iter()
        .enumerate()
        .map(|(i, o)| {
            let p = format!("{path}[{i}]");
            Ok(FieldOption {
                name: v::req_name(&o.name, &format!("{p}.name"))?,
                value: v::req_name(&o.value, &format!("{p}.value"))?,
                active: *v::required(&o.active, &format!("{p}.active"))?,
            })
        })
        .collect()
}

fn template_status(s: &Option<String>, path: &str) -> ApiResult<Option<TemplateStatus>> {
    match s.as_deref() {
        None => Ok(None),
        Some("Active") => Ok(Some(TemplateStatus::Active)),
        Some("Inactive") => Ok(Some(TemplateStatus::Inactive)),
        Some(_) => v::enum_value("", path, &["Active", "Inactive"]).map(|_| None),
    }
}

/// (description, default layout, required field ids, rules, tag propagation configurations).
type TemplateParts = (Option<String>, Option<String>, Option<Vec<String>>, Option<Vec<TemplateRule>>, Option<Vec<Json>>);

fn template_parts(t: &CreateTemplateIn) -> ApiResult<TemplateParts> {
    let description = v::opt_str(&t.description, "description", 0, 255)?;
    let layout = match &t.layout_configuration {
        Some(l) => v::opt_str(&l.default_layout, "layoutConfiguration.defaultLayout", 1, 500)?,
        None => None,
    };
    let required = t
        .required_fields
        .as_ref()
        .map(|r| {
            v::list_size(r.len(), "requiredFields", 0, 100)?;
            r.iter().enumerate().map(|(i, f)| v::req_id(&f.field_id, &format!("requiredFields[{i}].fieldId"))).collect()
        })
        .transpose()?;
    let rules = t
        .rules
        .as_ref()
        .map(|r| {
            v::list_size(r.len(), "rules", 0, 50)?;
            r.iter()
                .enumerate()
                .map(|(i, x)| {
                    Ok(TemplateRule {
                        case_rule_id: v::req_id(&x.case_rule_id, &format!("rules[{i}].caseRuleId"))?,
                        field_id: v::opt_str(&x.field_id, &format!("rules[{i}].fieldId"), 1, 500)?.unwrap_or_else(|| "NULL".into()),
                    })
                })
                .collect()
        })
        .transpose()?;
    let tpc = t
        .tag_propagation_configurations
        .as_ref()
        .map(|l| {
            v::list_size(l.len(), "tagPropagationConfigurations", 0, 1)?;
            for (i, c) in l.iter().enumerate() {
                let p = format!("tagPropagationConfigurations[{i}]");
                if c.get("resourceType").and_then(Json::as_str) != Some("Cases") {
                    return Err(ApiError::validation(format!("{p}.resourceType: Member must satisfy enum value set: [Cases]")));
                }
                let m = c
                    .get("tagMap")
                    .and_then(Json::as_object)
                    .ok_or_else(|| ApiError::validation(format!("{p}.tagMap: Member must not be null")))?;
                v::list_size(m.len(), &format!("{p}.tagMap"), 0, 10)?;
            }
            Ok(l.clone())
        })
        .transpose()?;
    Ok((description, layout, required, rules, tpc))
}

fn related_content(c: &RelatedItemInputContentIn) -> ApiResult<RelatedItemInput> {
    let set = v::exactly_one(
        "content",
        "RelatedItemInputContent",
        &[
            ("contact", c.contact.is_some()),
            ("comment", c.comment.is_some()),
            ("file", c.file.is_some()),
            ("sla", c.sla.is_some()),
            ("connectCase", c.connect_case.is_some()),
            ("custom", c.custom.is_some()),
        ],
    )?;
    Ok(match set {
        "contact" => RelatedItemInput::Contact {
            contact_arn: v::req_id(&c.contact.as_ref().expect("set").contact_arn, "content.contact.contactArn")?,
        },
        "comment" => {
            let (body, content_type) = comment(c.comment.as_ref().expect("set"), "content.comment")?;
            RelatedItemInput::Comment { body, content_type }
        }
        "file" => RelatedItemInput::File { file_arn: v::req_id(&c.file.as_ref().expect("set").file_arn, "content.file.fileArn")? },
        "sla" => {
            let s = c.sla.as_ref().expect("set");
            v::exactly_one("content.sla", "SlaInputContent", &[("slaInputConfiguration", s.sla_input_configuration.is_some())])?;
            let cfg = s.sla_input_configuration.as_ref().expect("set");
            let p = "content.sla.slaInputConfiguration";
            let name = v::req_str(&cfg.name, &format!("{p}.name"), 1, 500)?;
            v::name_pattern(&name, &format!("{p}.name"))?;
            let sla_type = v::required(&cfg.sla_type, &format!("{p}.type"))?.clone();
            v::enum_value(&sla_type, &format!("{p}.type"), &["CaseField"])?;
            let field_id = v::opt_str(&cfg.field_id, &format!("{p}.fieldId"), 1, 500)?;
            let target_field_values = cfg
                .target_field_values
                .as_ref()
                .map(|l| {
                    v::list_size(l.len(), &format!("{p}.targetFieldValues"), 1, 1)?;
                    l.iter().enumerate().map(|(i, x)| v::value(x, &format!("{p}.targetFieldValues[{i}]"))).collect()
                })
                .transpose()?;
            let minutes = *v::required(&cfg.target_sla_minutes, &format!("{p}.targetSlaMinutes"))?;
            if !(1..=129_600).contains(&minutes) {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value at '{p}.targetSlaMinutes' failed to satisfy constraint: Member must have value between 1 and 129600"
                )));
            }
            RelatedItemInput::Sla { name, sla_type, field_id, target_field_values, target_sla_minutes: minutes }
        }
        "connectCase" => RelatedItemInput::ConnectCase {
            case_id: v::req_id(&c.connect_case.as_ref().expect("set").case_id, "content.connectCase.caseId")?,
        },
        _ => {
            let fields = v::required(&c.custom.as_ref().expect("set").fields, "content.custom.fields")?;
            RelatedItemInput::Custom { fields: v::field_values(fields, "content.custom.fields", 1, 50)? }
        }
    })
}

fn comment(c: &CommentIn, path: &str) -> ApiResult<(String, String)> {
    let body = v::req_str(&c.body, &format!("{path}.body"), 1, 15000)?;
    let ct = v::required(&c.content_type, &format!("{path}.contentType"))?.clone();
    v::enum_value(&ct, &format!("{path}.contentType"), &["Text/Plain"])?;
    Ok((body, ct))
}

fn event_bridge(cfg: &EventBridgeConfigurationIn) -> ApiResult<Json> {
    let enabled = *v::required(&cfg.enabled, "eventBridge.enabled")?;
    let mut out = json!({ "enabled": enabled });
    if let Some(inc) = &cfg.included_data {
        let mut included = json!({});
        if let Some(cd) = &inc.case_data {
            let fields = v::required(&cd.fields, "eventBridge.includedData.caseData.fields")?;
            let ids = v::field_ids(fields, "eventBridge.includedData.caseData.fields", 0, 400)?;
            included["caseData"] = json!({ "fields": ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>() });
        }
        if let Some(rd) = &inc.related_item_data {
            let ic = *v::required(&rd.include_content, "eventBridge.includedData.relatedItemData.includeContent")?;
            included["relatedItemData"] = json!({ "includeContent": ic });
        }
        out["includedData"] = included;
    }
    Ok(out)
}

/// Runs operation `op` (see `routes::route`): each has a handler of its own, as below.
pub fn dispatch(b: &Backend, op: Operation, segs: &[String], query: &Query, body: &[u8]) -> ApiResult<Json> {
    let handler: fn(&Backend, &Request) -> ApiResult<Json> = match op {
        Operation::CreateDomain => create_domain,
        Operation::GetDomain => get_domain,
        Operation::ListDomains => list_domains,
        Operation::DeleteDomain => delete_domain,
        Operation::CreateField => create_field,
        Operation::UpdateField => update_field,
        Operation::DeleteField => delete_field,
        Operation::ListFields => list_fields,
        Operation::BatchGetField => batch_get_field,
        Operation::BatchPutFieldOptions => batch_put_field_options,
        Operation::ListFieldOptions => list_field_options,
        Operation::CreateTemplate => create_template,
        Operation::GetTemplate => get_template,
        Operation::UpdateTemplate => update_template,
        Operation::DeleteTemplate => delete_template,
        Operation::ListTemplates => list_templates,
        Operation::ListLayouts => list_layouts,
        Operation::ListCaseRules => list_case_rules,
        Operation::CreateCase => create_case,
        Operation::GetCase => get_case,
        Operation::UpdateCase => update_case,
        Operation::DeleteCase => delete_case,
        Operation::SearchCases => search_cases,
        Operation::CreateRelatedItem => create_related_item,
        Operation::UpdateRelatedItem => update_related_item,
        Operation::DeleteRelatedItem => delete_related_item,
        Operation::SearchRelatedItems => search_related_items,
        Operation::SearchAllRelatedItems => search_all_related_items,
        Operation::ListCasesForContact => list_cases_for_contact,
        Operation::GetCaseAuditEvents => get_case_audit_events,
        Operation::PutCaseEventConfiguration => put_case_event_configuration,
        Operation::GetCaseEventConfiguration => get_case_event_configuration,
        Operation::ListTagsForResource => list_tags_for_resource,
        Operation::TagResource => tag_resource,
        Operation::UntagResource => untag_resource,
        other => return Err(ApiError::internal(format!("operation {other} is routed but not implemented"))),
    };
    handler(b, &Request { segs, query, body })
}

// ---- domains -------------------------------------------------------------------------------------

fn create_domain(b: &Backend, r: &Request) -> ApiResult<Json> {
    let i: CreateDomainIn = r.body()?;
    let name = v::req_name(&i.name, "name")?;
    let d = b.write(|s, now| s.create_domain(None, &name, now))?;
    Ok(json!({ "domainId": d.id, "domainArn": d.arn, "domainStatus": d.status }))
}

fn get_domain(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    b.read(|s| s.domain(d).map(output::get_domain))
}

fn list_domains(b: &Backend, r: &Request) -> ApiResult<Json> {
    let max = v::max_results(r.query_int("maxResults")?, "maxResults", 1, 10, 10)?;
    let offset = decode_token(r.query.get("nextToken"))?;
    let all: Vec<Json> = b.read(|s| Ok(s.domains.iter().map(output::domain_summary).collect()))?;
    let (items, next) = page(&all, offset, max);
    Ok(output::with_next(json!({ "domains": items }), next))
}

fn delete_domain(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    b.write(|s, _| s.delete_domain(d))?;
    empty()
}

// ---- fields --------------------------------------------------------------------------------------

fn create_field(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let i: CreateFieldIn = r.body()?;
    let name = v::req_name(&i.name, "name")?;
    let t = v::required(&i.field_type, "type")?;
    let ft = FieldType::parse(t).ok_or_else(|| {
        ApiError::validation("1 validation error detected: Value at 'type' failed to satisfy constraint: Member must satisfy enum value set: [Text, Number, Boolean, DateTime, SingleSelect, Url, User]")
    })?;
    let description = v::opt_str(&i.description, "description", 0, 255)?;
    let attributes = parse_field_attributes(&i.attributes, "attributes")?;
    let input = FieldInput { name, field_type: ft, description, attributes };
    let f = b.write(|s, now| s.create_field(d, None, input, now))?;
    Ok(json!({ "fieldId": f.id, "fieldArn": f.arn }))
}

fn update_field(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, f) = (r.label(1, "domainId")?, r.label(3, "fieldId")?);
    let i: UpdateFieldIn = r.body()?;
    let name = i.name.as_ref().map(|_| v::req_name(&i.name, "name")).transpose()?;
    let description = v::opt_str(&i.description, "description", 0, 255)?;
    let attributes = parse_field_attributes(&i.attributes, "attributes")?;
    b.write(|s, now| s.update_field(d, f, name, description, attributes, now))?;
    empty()
}

fn delete_field(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, f) = (r.label(1, "domainId")?, r.label(3, "fieldId")?);
    b.write(|s, now| s.delete_field(d, f, now))?;
    empty()
}

fn list_fields(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let max = v::max_results(r.query_int("maxResults")?, "maxResults", 1, 100, 100)?;
    let offset = decode_token(r.query.get("nextToken"))?;
    let all: Vec<Json> = b.read(|s| Ok(s.list_fields(d)?.iter().map(output::field_summary).collect()))?;
    let (items, next) = page(&all, offset, max);
    Ok(output::with_next(json!({ "fields": items }), next))
}

fn batch_get_field(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let i: BatchGetFieldIn = r.body()?;
    let ids = v::field_ids(v::required(&i.fields, "fields")?, "fields", 1, 50)?;
    let (found, missing) = b.read(|s| s.batch_get_field(d, &ids))?;
    Ok(json!({
        "fields": found.iter().map(output::get_field).collect::<Vec<_>>(),
        "errors": missing.iter().map(|id| json!({ "id": id, "errorCode": "NotFound", "message": format!("Field {id} not found") })).collect::<Vec<_>>(),
    }))
}

fn batch_put_field_options(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, f) = (r.label(1, "domainId")?, r.label(3, "fieldId")?);
    let i: BatchPutFieldOptionsIn = r.body()?;
    let opts = field_options(v::required(&i.options, "options")?, "options")?;
    let errors = b.write(|s, now| s.batch_put_field_options(d, f, opts, now))?;
    Ok(
        json!({ "errors": errors.iter().map(|(val, msg)| json!({ "message": msg, "errorCode": "InvalidOption", "value": val })).collect::<Vec<_>>() }),
    )
}

fn list_field_options(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, f) = (r.label(1, "domainId")?, r.label(3, "fieldId")?);
    let max = v::max_results(r.query_int("maxResults")?, "maxResults", 1, 100, 100)?;
    let offset = decode_token(r.query.get("nextToken"))?;
    let values = r.query.get_all("values");
    v::list_size(values.len(), "values", 0, 1)?;
    let all = b.read(|s| s.list_field_options(d, f, &values))?;
    let (items, next) = page(&all, offset, max);
    Ok(output::with_next(json!({ "options": items }), next))
}

// ---- templates -----------------------------------------------------------------------------------

fn create_template(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let i: CreateTemplateIn = r.body()?;
    let name = v::req_name(&i.name, "name")?;
    let status = template_status(&i.status, "status")?;
    let (description, default_layout, required, rules, tpc) = template_parts(&i)?;
    let input = TemplateInput {
        name,
        description,
        status,
        required_fields: required.unwrap_or_default(),
        default_layout,
        rules: rules.unwrap_or_default(),
        tag_propagation_configurations: tpc.unwrap_or_default(),
    };
    let t = b.write(|s, now| s.create_template(d, None, input, now))?;
    Ok(json!({ "templateId": t.id, "templateArn": t.arn }))
}

fn get_template(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, t) = (r.label(1, "domainId")?, r.label(3, "templateId")?);
    b.read(|s| s.get_template(d, t).map(|t| output::get_template(&t)))
}

fn update_template(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, t) = (r.label(1, "domainId")?, r.label(3, "templateId")?);
    let i: CreateTemplateIn = r.body()?;
    let name = i.name.as_ref().map(|_| v::req_name(&i.name, "name")).transpose()?;
    let status = template_status(&i.status, "status")?;
    let (description, default_layout, required_fields, rules, tpc) = template_parts(&i)?;
    let u = TemplateUpdate { name, description, status, required_fields, default_layout, rules, tag_propagation_configurations: tpc };
    b.write(|s, now| s.update_template(d, t, u, now))?;
    empty()
}

fn delete_template(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, t) = (r.label(1, "domainId")?, r.label(3, "templateId")?);
    b.write(|s, now| s.delete_template(d, t, now))?;
    empty()
}

fn list_templates(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let max = v::max_results(r.query_int("maxResults")?, "maxResults", 1, 100, 100)?;
    let offset = decode_token(r.query.get("nextToken"))?;
    let raw = r.query.get_all("status");
    v::list_size(raw.len(), "status", 0, 2)?;
    let mut statuses = Vec::new();
    for st in &raw {
        let parsed = template_status(&Some(st.clone()), "status")?.expect("some");
        if statuses.contains(&parsed) {
            return Err(ApiError::validation("status: Member must have unique items"));
        }
        statuses.push(parsed);
    }
    let all: Vec<Json> = b.read(|s| Ok(s.list_templates(d, &statuses)?.iter().map(output::template_summary).collect()))?;
    let (items, next) = page(&all, offset, max);
    Ok(output::with_next(json!({ "templates": items }), next))
}

fn list_layouts(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    b.read(|s| s.domain(d).map(|_| json!({ "layouts": [] })))
}

fn list_case_rules(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    b.read(|s| s.domain(d).map(|_| json!({ "caseRules": [] })))
}

// ---- cases ---------------------------------------------------------------------------------------

fn create_case(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let i: CreateCaseIn = r.body()?;
    let template_id = v::req_id(&i.template_id, "templateId")?;
    let fields = v::field_values(v::required(&i.fields, "fields")?, "fields", 0, 220)?;
    let client_token = v::opt_str(&i.client_token, "clientToken", 0, 64)?;
    let performed_by = v::opt_user(&i.performed_by, "performedBy")?;
    let tags = i.tags.as_ref().map(|t| v::mutable_tags(t, "tags")).transpose()?.unwrap_or_default();
    let input = CreateCaseInput { template_id, fields, client_token, performed_by, tags, case_id: None };
    let (id, arn) = b.write(|s, now| s.create_case(d, input, now))?;
    Ok(json!({ "caseId": id, "caseArn": arn }))
}

fn get_case(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, c) = (r.label(1, "domainId")?, r.label(3, "caseId")?);
    let i: GetCaseIn = r.body()?;
    let ids = v::field_ids(v::required(&i.fields, "fields")?, "fields", 1, 220)?;
    token_len(&i.next_token)?;
    let (template_id, fields, tags) = b.read(|s| s.get_case(d, c, &ids))?;
    Ok(json!({ "fields": fields, "templateId": template_id, "tags": tags }))
}

fn update_case(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, c) = (r.label(1, "domainId")?, r.label(3, "caseId")?);
    let i: UpdateCaseIn = r.body()?;
    let fields = v::field_values(v::required(&i.fields, "fields")?, "fields", 0, 220)?;
    let performed_by = v::opt_user(&i.performed_by, "performedBy")?;
    b.write(|s, now| s.update_case(d, c, fields, performed_by, now))?;
    empty()
}

fn delete_case(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, c) = (r.label(1, "domainId")?, r.label(3, "caseId")?);
    b.write(|s, _| s.delete_case(d, c))?;
    empty()
}

fn search_cases(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let i: SearchCasesIn = r.body()?;
    let max_results = v::max_results(i.max_results, "maxResults", 1, 100, 25)?;
    token_len(&i.next_token)?;
    let offset = decode_token(i.next_token.as_deref())?;
    let search_term = v::opt_str(&i.search_term, "searchTerm", 0, 255)?;
    let filter = i.filter.as_ref().map(|f| v::case_filter(f, "filter")).transpose()?;
    let sorts = v::sorts(i.sorts.as_deref().unwrap_or_default(), "sorts")?;
    let fields = v::field_ids(i.fields.as_deref().unwrap_or_default(), "fields", 0, 25)?;
    let input = SearchCasesInput { filter, search_term, sorts, fields, offset, max_results };
    let (hits, next, total) = b.search(|s, index, now| s.search_cases(d, &input, index, now))?;
    let cases: Vec<Json> =
        hits.iter().map(|h| json!({ "caseId": h.case_id, "templateId": h.template_id, "fields": h.fields, "tags": h.tags })).collect();
    Ok(output::with_next(json!({ "cases": cases, "totalCount": total }), next))
}

// ---- related items -------------------------------------------------------------------------------

fn create_related_item(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, c) = (r.label(1, "domainId")?, r.label(3, "caseId")?);
    let i: CreateRelatedItemIn = r.body()?;
    let t = v::required(&i.item_type, "type")?;
    let item_type = RelatedItemType::parse(t).ok_or_else(|| {
        ApiError::validation("1 validation error detected: Value at 'type' failed to satisfy constraint: Member must satisfy enum value set: [Contact, Comment, File, Sla, ConnectCase, Custom]")
    })?;
    let content = related_content(v::required(&i.content, "content")?)?;
    if content.item_type() != item_type {
        return Err(ApiError::validation(format!(
            "type '{}' does not match the content member '{}' (expected type '{}')",
            item_type.as_str(),
            content.item_type().member(),
            content.item_type().as_str()
        )));
    }
    let performed_by = v::opt_user(&i.performed_by, "performedBy")?;
    let (id, arn) = b.write(|s, now| s.create_related_item(d, c, content, performed_by, now))?;
    Ok(json!({ "relatedItemId": id, "relatedItemArn": arn }))
}

fn update_related_item(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, c, item) = (r.label(1, "domainId")?, r.label(3, "caseId")?, r.label(5, "relatedItemId")?);
    let i: UpdateRelatedItemIn = r.body()?;
    let content = v::required(&i.content, "content")?;
    let set = v::exactly_one(
        "content",
        "RelatedItemUpdateContent",
        &[("comment", content.comment.is_some()), ("custom", content.custom.is_some())],
    )?;
    let update = if set == "comment" {
        let (body, content_type) = comment(content.comment.as_ref().expect("set"), "content.comment")?;
        RelatedItemUpdate::Comment { body, content_type }
    } else {
        let fields = v::required(&content.custom.as_ref().expect("set").fields, "content.custom.fields")?;
        RelatedItemUpdate::Custom { fields: v::field_values(fields, "content.custom.fields", 1, 50)? }
    };
    let performed_by = v::opt_user(&i.performed_by, "performedBy")?;
    let item = b.write(|s, now| s.update_related_item(d, c, item, update, performed_by, now))?;
    let mut out = json!({
        "relatedItemId": item.id, "relatedItemArn": item.arn, "type": item.item_type,
        "content": item.content, "associationTime": item.association_time, "tags": item.tags,
    });
    if let Some(u) = &item.last_updated_user {
        out["lastUpdatedUser"] = json!(u);
    }
    if let Some(u) = &item.performed_by {
        out["createdBy"] = json!(u);
    }
    Ok(out)
}

fn delete_related_item(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, c, item) = (r.label(1, "domainId")?, r.label(3, "caseId")?, r.label(5, "relatedItemId")?);
    b.write(|s, now| s.delete_related_item(d, c, item, now))?;
    empty()
}

fn search_related_items(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, c) = (r.label(1, "domainId")?, r.label(3, "caseId")?);
    let i: SearchRelatedItemsIn = r.body()?;
    let max = v::max_results(i.max_results, "maxResults", 1, 25, 25)?;
    token_len(&i.next_token)?;
    let offset = decode_token(i.next_token.as_deref())?;
    let filters = v::related_item_filters(i.filters.as_deref().unwrap_or_default(), "filters")?;
    let all = b.search(|s, index, now| s.search_related_items(d, c, &filters, index, now))?;
    let (items, next) = page(&all, offset, max);
    let items: Vec<Json> = items.iter().map(|x| output::related_item(x, false)).collect();
    Ok(output::with_next(json!({ "relatedItems": items }), next))
}

fn search_all_related_items(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let i: SearchAllRelatedItemsIn = r.body()?;
    let max = v::max_results(i.max_results, "maxResults", 1, 25, 25)?;
    token_len(&i.next_token)?;
    let offset = decode_token(i.next_token.as_deref())?;
    let filters = v::related_item_filters(i.filters.as_deref().unwrap_or_default(), "filters")?;
    let raw_sorts = i.sorts.as_deref().unwrap_or_default();
    v::list_size(raw_sorts.len(), "sorts", 0, 2)?;
    let mut sorts = Vec::new();
    for (k, s) in raw_sorts.iter().enumerate() {
        let p = v::required(&s.sort_property, &format!("sorts[{k}].sortProperty"))?;
        v::enum_value(p, &format!("sorts[{k}].sortProperty"), &["AssociationTime", "CaseId"])?;
        let o = v::required(&s.sort_order, &format!("sorts[{k}].sortOrder"))?;
        v::enum_value(o, &format!("sorts[{k}].sortOrder"), &["Asc", "Desc"])?;
        sorts.push((p.clone(), o == "Desc"));
    }
    let all = b.search(|s, index, now| s.search_all_related_items(d, &filters, &sorts, index, now))?;
    let (items, next) = page(&all, offset, max);
    let items: Vec<Json> = items.iter().map(|x| output::related_item(x, true)).collect();
    Ok(output::with_next(json!({ "relatedItems": items }), next))
}

fn list_cases_for_contact(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let i: ListCasesForContactIn = r.body()?;
    let arn = v::req_id(&i.contact_arn, "contactArn")?;
    let max = v::max_results(i.max_results, "maxResults", 1, 10, 10)?;
    token_len(&i.next_token)?;
    let offset = decode_token(i.next_token.as_deref())?;
    let all = b.read(|s| s.list_cases_for_contact(d, &arn))?;
    let (items, next) = page(&all, offset, max);
    let cases: Vec<Json> = items.iter().map(|(c, t)| json!({ "caseId": c, "templateId": t })).collect();
    Ok(output::with_next(json!({ "cases": cases }), next))
}

fn get_case_audit_events(b: &Backend, r: &Request) -> ApiResult<Json> {
    let (d, c) = (r.label(1, "domainId")?, r.label(3, "caseId")?);
    let i: GetCaseAuditEventsIn = r.body()?;
    let max = v::max_results(i.max_results, "maxResults", 1, 25, 25)?;
    token_len(&i.next_token)?;
    let offset = decode_token(i.next_token.as_deref())?;
    let all = b.read(|s| s.case_audit_events(d, c))?;
    let (items, next) = page(&all, offset, max);
    Ok(output::with_next(json!({ "auditEvents": items }), next))
}

// ---- event configuration, tags -------------------------------------------------------------------

fn put_case_event_configuration(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let i: PutCaseEventConfigurationIn = r.body()?;
    let cfg = event_bridge(v::required(&i.event_bridge, "eventBridge")?)?;
    b.write(|s, _| {
        let dom = s.domain(d)?;
        if let Some(fields) = cfg.pointer("/includedData/caseData/fields").and_then(Json::as_array) {
            for f in fields {
                let id = f["id"].as_str().unwrap_or_default();
                if dom.field(id).is_none() {
                    return Err(ApiError::validation(format!("eventBridge.includedData.caseData.fields: field '{id}' does not exist")));
                }
            }
        }
        s.put_case_event_configuration(d, cfg)
    })?;
    empty()
}

fn get_case_event_configuration(b: &Backend, r: &Request) -> ApiResult<Json> {
    let d = r.label(1, "domainId")?;
    let cfg = b.read(|s| s.get_case_event_configuration(d))?;
    Ok(json!({ "eventBridge": cfg }))
}
// ---- tags ----------------------------------------------------------------------------------------

fn resource_arn(r: &Request) -> ApiResult<String> {
    let arn = r.segs[1..].join("/");
    v::label(&arn, "arn")?;
    Ok(arn)
}

fn list_tags_for_resource(b: &Backend, r: &Request) -> ApiResult<Json> {
    let arn = resource_arn(r)?;
    let tags = b.read(|s| s.list_tags(&arn))?;
    Ok(json!({ "tags": tags }))
}

fn tag_resource(b: &Backend, r: &Request) -> ApiResult<Json> {
    let arn = resource_arn(r)?;
    let i: TagResourceIn = r.body()?;
    let tags = v::mutable_tags(v::required(&i.tags, "tags")?, "tags")?;
    b.write(|s, _| s.tag_resource(&arn, tags))?;
    empty()
}

fn untag_resource(b: &Backend, r: &Request) -> ApiResult<Json> {
    let arn = resource_arn(r)?;
    let keys = r.query.get_all("tagKeys");
    v::list_size(keys.len(), "tagKeys", 0, 50)?;
    b.write(|s, _| s.untag_resource(&arn, &keys))?;
    empty()
}
