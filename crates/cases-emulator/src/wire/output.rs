//! Response shapes built from the backend model.

use serde_json::{Map, Value as Json, json};

use crate::state::model::{Domain, Field, RelatedItem, Template};

fn put_opt(m: &mut Map<String, Json>, k: &str, v: Option<Json>) {
    if let Some(v) = v {
        m.insert(k.into(), v);
    }
}

/// `DomainSummary`.
pub fn domain_summary(d: &Domain) -> Json {
    json!({ "domainId": d.id, "domainArn": d.arn, "name": d.name })
}

/// `GetDomainResponse`.
pub fn get_domain(d: &Domain) -> Json {
    json!({ "domainId": d.id, "domainArn": d.arn, "name": d.name, "createdTime": d.created_time,
            "domainStatus": d.status, "tags": d.tags })
}

/// `FieldSummary`.
pub fn field_summary(f: &Field) -> Json {
    let mut m = Map::new();
    m.insert("fieldId".into(), json!(f.id));
    m.insert("fieldArn".into(), json!(f.arn));
    m.insert("name".into(), json!(f.name));
    m.insert("type".into(), json!(f.field_type));
    m.insert("namespace".into(), json!(f.namespace));
    put_opt(&mut m, "attributes", f.attributes.clone());
    Json::Object(m)
}

/// `GetFieldResponse`.
pub fn get_field(f: &Field) -> Json {
    let mut m = Map::new();
    m.insert("fieldId".into(), json!(f.id));
    m.insert("name".into(), json!(f.name));
    m.insert("fieldArn".into(), json!(f.arn));
    put_opt(&mut m, "description", f.description.clone().map(Json::String));
    m.insert("type".into(), json!(f.field_type));
    m.insert("namespace".into(), json!(f.namespace));
    m.insert("tags".into(), json!(f.tags));
    m.insert("deleted".into(), json!(f.deleted));
    m.insert("createdTime".into(), json!(f.created_time));
    m.insert("lastModifiedTime".into(), json!(f.last_modified_time));
    put_opt(&mut m, "attributes", f.attributes.clone());
    Json::Object(m)
}

/// `TemplateSummary`.
pub fn template_summary(t: &Template) -> Json {
    let mut m = Map::new();
    m.insert("templateId".into(), json!(t.id));
    m.insert("templateArn".into(), json!(t.arn));
    m.insert("name".into(), json!(t.name));
    m.insert("status".into(), json!(t.status));
    if !t.tag_propagation_configurations.is_empty() {
        m.insert("tagPropagationConfigurations".into(), json!(t.tag_propagation_configurations));
    }
    Json::Object(m)
}

/// `GetTemplateResponse`.
pub fn get_template(t: &Template) -> Json {
    let mut m = Map::new();
    m.insert("templateId".into(), json!(t.id));
    m.insert("templateArn".into(), json!(t.arn));
    m.insert("name".into(), json!(t.name));
    put_opt(&mut m, "description", t.description.clone().map(Json::String));
    if let Some(l) = &t.default_layout {
        m.insert("layoutConfiguration".into(), json!({ "defaultLayout": l }));
    }
    m.insert("requiredFields".into(), Json::Array(t.required_fields.iter().map(|f| json!({ "fieldId": f })).collect()));
    m.insert("tags".into(), json!(t.tags));
    m.insert("status".into(), json!(t.status));
    m.insert("deleted".into(), json!(t.deleted));
    m.insert("createdTime".into(), json!(t.created_time));
    m.insert("lastModifiedTime".into(), json!(t.last_modified_time));
    m.insert("rules".into(), json!(t.rules));
    if !t.tag_propagation_configurations.is_empty() {
        m.insert("tagPropagationConfigurations".into(), json!(t.tag_propagation_configurations));
    }
    Json::Object(m)
}

/// `SearchRelatedItemsResponseItem` (with `caseId` for SearchAllRelatedItems).
pub fn related_item(i: &RelatedItem, with_case_id: bool) -> Json {
    let mut m = Map::new();
    m.insert("relatedItemId".into(), json!(i.id));
    if with_case_id {
        m.insert("caseId".into(), json!(i.case_id));
    }
    m.insert("type".into(), json!(i.item_type));
    m.insert("associationTime".into(), json!(i.association_time));
    m.insert("content".into(), json!(i.content));
    m.insert("tags".into(), json!(i.tags));
    put_opt(&mut m, "performedBy", i.performed_by.as_ref().map(|u| json!(u)));
    Json::Object(m)
}

/// Adds `nextToken` when there is a next page.
pub fn with_next(mut v: Json, next: Option<String>) -> Json {
    if let Some(n) = next {
        v["nextToken"] = json!(n);
    }
    v
}
