//! Request body shapes, as the SDKs send them (camelCase JSON).
//!
//! Every member is optional here, so that a missing `@required` member becomes a
//! ValidationException that names it (see `validate`), instead of a serde error.
//! Unions are structs of optional members; `validate` checks that exactly one is set.
//! Unknown keys are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// A `Double` member: a JSON number, or the strings `"NaN"`, `"Infinity"`, `"-Infinity"`
/// (how smithy serializes non-finite doubles).
fn de_opt_double<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        N(f64),
        S(String),
    }
    match Option::<Num>::deserialize(d)? {
        None => Ok(None),
        Some(Num::N(n)) => Ok(Some(n)),
        Some(Num::S(s)) => match s.as_str() {
            "NaN" => Ok(Some(f64::NAN)),
            "Infinity" => Ok(Some(f64::INFINITY)),
            "-Infinity" => Ok(Some(f64::NEG_INFINITY)),
            other => Err(serde::de::Error::custom(format!("invalid double value {other:?}"))),
        },
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldValueUnionIn {
    pub string_value: Option<String>,
    #[serde(default, deserialize_with = "de_opt_double")]
    pub double_value: Option<f64>,
    pub boolean_value: Option<bool>,
    pub empty_value: Option<serde_json::Value>,
    pub user_arn_value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldValueIn {
    pub id: Option<String>,
    pub value: Option<FieldValueUnionIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUnionIn {
    pub user_arn: Option<String>,
    pub custom_entity: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldIdentifierIn {
    pub id: Option<String>,
}

/// Tag maps are sparse in the model (values may be null).
pub type TagsIn = BTreeMap<String, Option<String>>;

// ---- domains, fields, templates ---------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDomainIn {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFieldIn {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub field_type: Option<String>,
    pub description: Option<String>,
    pub attributes: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFieldIn {
    pub name: Option<String>,
    pub description: Option<String>,
    pub attributes: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchGetFieldIn {
    pub fields: Option<Vec<FieldIdentifierIn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldOptionIn {
    pub name: Option<String>,
    pub value: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchPutFieldOptionsIn {
    pub options: Option<Vec<FieldOptionIn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequiredFieldIn {
    pub field_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayoutConfigurationIn {
    pub default_layout: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRuleIn {
    pub case_rule_id: Option<String>,
    pub field_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTemplateIn {
    pub name: Option<String>,
    pub description: Option<String>,
    pub layout_configuration: Option<LayoutConfigurationIn>,
    pub required_fields: Option<Vec<RequiredFieldIn>>,
    pub status: Option<String>,
    pub rules: Option<Vec<TemplateRuleIn>>,
    pub tag_propagation_configurations: Option<Vec<serde_json::Value>>,
}

// ---- cases ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCaseIn {
    pub template_id: Option<String>,
    pub fields: Option<Vec<FieldValueIn>>,
    pub client_token: Option<String>,
    pub performed_by: Option<UserUnionIn>,
    pub tags: Option<TagsIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCaseIn {
    pub fields: Option<Vec<FieldIdentifierIn>>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCaseIn {
    pub fields: Option<Vec<FieldValueIn>>,
    pub performed_by: Option<UserUnionIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagValueIn {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagFilterIn {
    pub equal_to: Option<TagValueIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldFilterIn {
    pub equal_to: Option<FieldValueIn>,
    pub contains: Option<FieldValueIn>,
    pub greater_than: Option<FieldValueIn>,
    pub greater_than_or_equal_to: Option<FieldValueIn>,
    pub less_than: Option<FieldValueIn>,
    pub less_than_or_equal_to: Option<FieldValueIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseFilterIn {
    pub field: Option<FieldFilterIn>,
    pub not: Option<Box<CaseFilterIn>>,
    pub tag: Option<TagFilterIn>,
    pub and_all: Option<Vec<CaseFilterIn>>,
    pub or_all: Option<Vec<CaseFilterIn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SortIn {
    pub field_id: Option<String>,
    pub sort_order: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchCasesIn {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub search_term: Option<String>,
    pub filter: Option<CaseFilterIn>,
    pub sorts: Option<Vec<SortIn>>,
    pub fields: Option<Vec<FieldIdentifierIn>>,
}

// ---- related items ----------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactIn {
    pub contact_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentIn {
    pub body: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileIn {
    pub file_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaInputConfigurationIn {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub sla_type: Option<String>,
    pub field_id: Option<String>,
    pub target_field_values: Option<Vec<FieldValueUnionIn>>,
    pub target_sla_minutes: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaInputContentIn {
    pub sla_input_configuration: Option<SlaInputConfigurationIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectCaseIn {
    pub case_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomIn {
    pub fields: Option<Vec<FieldValueIn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedItemInputContentIn {
    pub contact: Option<ContactIn>,
    pub comment: Option<CommentIn>,
    pub file: Option<FileIn>,
    pub sla: Option<SlaInputContentIn>,
    pub connect_case: Option<ConnectCaseIn>,
    pub custom: Option<CustomIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRelatedItemIn {
    #[serde(rename = "type")]
    pub item_type: Option<String>,
    pub content: Option<RelatedItemInputContentIn>,
    pub performed_by: Option<UserUnionIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedItemUpdateContentIn {
    pub comment: Option<CommentIn>,
    pub custom: Option<CustomIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRelatedItemIn {
    pub content: Option<RelatedItemUpdateContentIn>,
    pub performed_by: Option<UserUnionIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactFilterIn {
    pub channel: Option<Vec<String>>,
    pub contact_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaFilterIn {
    pub name: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldsFilterIn {
    pub field: Option<FieldFilterIn>,
    pub not: Option<Box<CustomFieldsFilterIn>>,
    pub and_all: Option<Vec<CustomFieldsFilterIn>>,
    pub or_all: Option<Vec<CustomFieldsFilterIn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFilterIn {
    pub fields: Option<CustomFieldsFilterIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedItemTypeFilterIn {
    pub contact: Option<ContactFilterIn>,
    pub comment: Option<serde_json::Value>,
    pub file: Option<FileIn>,
    pub sla: Option<SlaFilterIn>,
    pub connect_case: Option<ConnectCaseIn>,
    pub custom: Option<CustomFilterIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRelatedItemsIn {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub filters: Option<Vec<RelatedItemTypeFilterIn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchAllRelatedItemsSortIn {
    pub sort_property: Option<String>,
    pub sort_order: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchAllRelatedItemsIn {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub filters: Option<Vec<RelatedItemTypeFilterIn>>,
    pub sorts: Option<Vec<SearchAllRelatedItemsSortIn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListCasesForContactIn {
    pub contact_arn: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCaseAuditEventsIn {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

// ---- event configuration, tags ----------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseEventIncludedDataIn {
    pub fields: Option<Vec<FieldIdentifierIn>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedItemEventIncludedDataIn {
    pub include_content: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventIncludedDataIn {
    pub case_data: Option<CaseEventIncludedDataIn>,
    pub related_item_data: Option<RelatedItemEventIncludedDataIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventBridgeConfigurationIn {
    pub enabled: Option<bool>,
    pub included_data: Option<EventIncludedDataIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutCaseEventConfigurationIn {
    pub event_bridge: Option<EventBridgeConfigurationIn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceIn {
    pub tags: Option<TagsIn>,
}
