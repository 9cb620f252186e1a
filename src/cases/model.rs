//! The Cases requests this function sends, as plain data shaped like the wire bodies of
//! `docs/reference/cases-api.md` §2. `plan` prints them as they are; the SDK adapter turns them into
//! `aws-sdk-connectcases` calls. Path members (`caseId`) are kept beside the body.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::value::{FieldType, FieldValue};

/// `{"id": …, "value": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldEntry {
    pub id: String,
    pub value: FieldValue,
}

/// `performedBy`: this function only ever writes as a custom entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PerformedBy {
    pub custom_entity: String,
}

/// Also stored, as JSON, in a pending case claim (see `claims`), so that others can replay it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCaseInput {
    pub template_id: String,
    pub fields: Vec<FieldEntry>,
    pub client_token: String,
    pub performed_by: PerformedBy,
    /// Tags on the new case (tag-based access control); part of the request the token stands for.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCaseInput {
    pub fields: Vec<FieldEntry>,
    pub performed_by: PerformedBy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchCasesInput {
    pub max_results: i32,
    pub filter: CaseFilter,
    pub sorts: Vec<SortInput>,
    /// Field values returned with each case (a sweep's cursor needs the sort field).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The `CaseFilter` union: field comparisons, tags, and their combinations.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CaseFilter {
    Field(FieldFilter),
    Not(Box<CaseFilter>),
    Tag(TagFilter),
    AndAll(Vec<CaseFilter>),
    OrAll(Vec<CaseFilter>),
}

/// The `FieldFilter` union.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldFilter {
    EqualTo(FieldEntry),
    Contains(FieldEntry),
    GreaterThan(FieldEntry),
    GreaterThanOrEqualTo(FieldEntry),
    LessThan(FieldEntry),
    LessThanOrEqualTo(FieldEntry),
}

/// `{"equalTo": {"key": …, "value": …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TagFilter {
    EqualTo {
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
}

impl FieldFilter {
    pub fn entry(&self) -> &FieldEntry {
        match self {
            FieldFilter::EqualTo(e)
            | FieldFilter::Contains(e)
            | FieldFilter::GreaterThan(e)
            | FieldFilter::GreaterThanOrEqualTo(e)
            | FieldFilter::LessThan(e)
            | FieldFilter::LessThanOrEqualTo(e) => e,
        }
    }
}

impl CaseFilter {
    /// Every field value the filter requires to be equal, when it only combines equalities with
    /// `andAll` (the look-before-create searches); empty otherwise.
    pub fn equalities(&self) -> Vec<&FieldEntry> {
        match self {
            CaseFilter::AndAll(all) => all.iter().flat_map(CaseFilter::equalities).collect(),
            CaseFilter::Field(FieldFilter::EqualTo(entry)) => vec![entry],
            _ => vec![],
        }
    }

    /// The ids of every field the filter compares.
    pub fn field_ids(&self) -> Vec<&str> {
        let mut ids = Vec::new();
        self.walk(&mut |filter| {
            if let CaseFilter::Field(f) = filter {
                ids.push(f.entry().id.as_str());
            }
        });
        ids.sort();
        ids.dedup();
        ids
    }

    fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a CaseFilter)) {
        visit(self);
        match self {
            CaseFilter::Not(inner) => inner.walk(visit),
            CaseFilter::AndAll(all) | CaseFilter::OrAll(all) => all.iter().for_each(|f| f.walk(visit)),
            CaseFilter::Field(_) | CaseFilter::Tag(_) => {}
        }
    }

    /// Whether a case with these field values (absent: no value) passes the filter. Tag
    /// conditions cannot be told from field values and count as passed.
    pub fn matches(&self, fields: &std::collections::HashMap<String, FieldValue>) -> bool {
        match self {
            CaseFilter::AndAll(all) => all.iter().all(|f| f.matches(fields)),
            CaseFilter::OrAll(any) => any.iter().any(|f| f.matches(fields)),
            CaseFilter::Not(inner) => !inner.matches(fields),
            CaseFilter::Tag(_) => true,
            CaseFilter::Field(filter) => {
                let entry = filter.entry();
                let current = fields.get(&entry.id);
                match filter {
                    FieldFilter::EqualTo(_) => match (current, &entry.value) {
                        (None | Some(FieldValue::Empty(_)), FieldValue::Empty(_)) => true,
                        (Some(current), wanted) => compare(current, wanted) == Some(std::cmp::Ordering::Equal),
                        (None, _) => false,
                    },
                    FieldFilter::Contains(_) => match (current, &entry.value) {
                        (Some(FieldValue::String(a) | FieldValue::UserArn(a)), FieldValue::String(w) | FieldValue::UserArn(w)) => {
                            a.to_lowercase().contains(&w.to_lowercase())
                        }
                        _ => false,
                    },
                    ordered => {
                        let Some(ordering) = current.and_then(|c| compare(c, &entry.value)) else { return false };
                        match ordered {
                            FieldFilter::GreaterThan(_) => ordering.is_gt(),
                            FieldFilter::GreaterThanOrEqualTo(_) => ordering.is_ge(),
                            FieldFilter::LessThan(_) => ordering.is_lt(),
                            _ => ordering.is_le(),
                        }
                    }
                }
            }
        }
    }
}

/// Orders two values of one kind: numbers by value, date-times (RFC 3339 on both sides) as
/// instants, other text as text; None for values of different kinds.
fn compare(a: &FieldValue, b: &FieldValue) -> Option<std::cmp::Ordering> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    match (a, b) {
        (FieldValue::Double(x), FieldValue::Double(y)) => x.partial_cmp(y),
        (FieldValue::Boolean(x), FieldValue::Boolean(y)) => Some(x.cmp(y)),
        (FieldValue::String(x) | FieldValue::UserArn(x), FieldValue::String(y) | FieldValue::UserArn(y)) => {
            match (OffsetDateTime::parse(x, &Rfc3339), OffsetDateTime::parse(y, &Rfc3339)) {
                (Ok(x), Ok(y)) => Some(x.cmp(&y)),
                _ => Some(x.cmp(y)),
            }
        }
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SortInput {
    pub field_id: String,
    pub sort_order: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListCasesForContactInput {
    pub contact_arn: String,
    pub max_results: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRelatedItemsInput {
    pub max_results: i32,
    pub filters: Vec<RelatedItemFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The subset of `RelatedItemTypeFilter` used to look for an item before creating it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RelatedItemFilter {
    Contact {
        #[serde(rename = "contactArn")]
        contact_arn: String,
    },
    Comment {},
    File {
        #[serde(rename = "fileArn")]
        file_arn: String,
    },
    Sla {
        name: String,
    },
    /// `{"custom": {"fields": {"andAll": [{"field": {"equalTo": …}}]}}}`: items with these values.
    Custom {
        fields: CustomFieldsFilter,
    },
    ConnectCase {
        #[serde(rename = "caseId")]
        case_id: String,
    },
}

/// The subset of `CustomFieldsFilter` this function builds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CustomFieldsFilter {
    AndAll(Vec<CaseFilter>),
}

/// Conditions of a custom-fields filter (the API's `andAll` takes at most 10).
const MAX_CUSTOM_CONDITIONS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRelatedItemInput {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub content: RelatedItemContent,
    pub performed_by: PerformedBy,
}

/// `RelatedItemInputContent`, the four kinds this function creates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RelatedItemContent {
    Contact {
        #[serde(rename = "contactArn")]
        contact_arn: String,
    },
    Comment {
        body: String,
        #[serde(rename = "contentType")]
        content_type: &'static str,
    },
    File {
        #[serde(rename = "fileArn")]
        file_arn: String,
    },
    Sla {
        #[serde(rename = "slaInputConfiguration")]
        sla_input_configuration: SlaInput,
    },
    /// A structured record (an order, a shipment) in fields of the domain.
    Custom { fields: Vec<FieldEntry> },
    /// Another case, linked to this one.
    ConnectCase {
        #[serde(rename = "caseId")]
        case_id: String,
    },
}

impl RelatedItemContent {
    /// The `RelatedItemType` of the content.
    pub fn kind(&self) -> &'static str {
        match self {
            RelatedItemContent::Contact { .. } => "Contact",
            RelatedItemContent::Comment { .. } => "Comment",
            RelatedItemContent::File { .. } => "File",
            RelatedItemContent::Sla { .. } => "Sla",
            RelatedItemContent::Custom { .. } => "Custom",
            RelatedItemContent::ConnectCase { .. } => "ConnectCase",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaInput {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_field_values: Vec<FieldValue>,
    pub target_sla_minutes: i64,
}

impl CreateRelatedItemInput {
    pub fn new(content: RelatedItemContent, performed_by: PerformedBy) -> CreateRelatedItemInput {
        CreateRelatedItemInput { kind: content.kind(), content, performed_by }
    }

    /// The search that finds this item if it was already created (by an earlier delivery of the
    /// same event): contacts and files by ARN, SLAs by name, linked cases by case id, custom items
    /// by (up to ten of) their values, comments by type (their bodies are then compared, since
    /// the API cannot filter on them).
    pub fn existing_item_filter(&self) -> RelatedItemFilter {
        match &self.content {
            RelatedItemContent::Contact { contact_arn } => RelatedItemFilter::Contact { contact_arn: contact_arn.clone() },
            RelatedItemContent::Comment { .. } => RelatedItemFilter::Comment {},
            RelatedItemContent::File { file_arn } => RelatedItemFilter::File { file_arn: file_arn.clone() },
            RelatedItemContent::Sla { sla_input_configuration } => RelatedItemFilter::Sla { name: sla_input_configuration.name.clone() },
            RelatedItemContent::Custom { fields } => RelatedItemFilter::Custom {
                fields: CustomFieldsFilter::AndAll(
                    fields
                        .iter()
                        .filter(|f| !matches!(f.value, FieldValue::Empty(_)))
                        .take(MAX_CUSTOM_CONDITIONS)
                        .map(|f| CaseFilter::Field(FieldFilter::EqualTo(f.clone())))
                        .collect(),
                ),
            },
            RelatedItemContent::ConnectCase { case_id } => RelatedItemFilter::ConnectCase { case_id: case_id.clone() },
        }
    }

    /// The first page of that search.
    pub fn existing_item_search(&self) -> SearchRelatedItemsInput {
        SearchRelatedItemsInput {
            max_results: super::limits::RELATED_ITEMS_PAGE,
            filters: vec![self.existing_item_filter()],
            next_token: None,
        }
    }

    /// Whether `item` (returned by the filter above) is this very item.
    pub fn is_same_as(&self, item: &RelatedItem) -> bool {
        let ours = item.performed_by.as_deref() == Some(self.performed_by.custom_entity.as_str());
        match &self.content {
            RelatedItemContent::Comment { body, .. } => item.comment_body.as_deref() == Some(body.as_str()) && ours,
            RelatedItemContent::Custom { fields } => item.custom_fields.as_ref().is_some_and(|found| same_fields(found, fields)) && ours,
            _ => true,
        }
    }
}

/// SearchAllRelatedItems over the domain's SLAs, by status and name (a sweep's selection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchSlasInput {
    pub max_results: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// An SLA found across the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSla {
    pub related_item_id: String,
    pub case_id: String,
    pub name: String,
    pub status: String,
    /// RFC 3339.
    pub target_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlasPage {
    pub slas: Vec<FoundSla>,
    pub next_token: Option<String>,
}

/// A page of SearchCases.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CasesPage {
    pub cases: Vec<FoundCase>,
    pub next_token: Option<String>,
    /// How many cases match in all.
    pub total: Option<i64>,
}

/// A case SearchCases found, with the field values the search asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundCase {
    pub case_id: String,
    pub fields: std::collections::HashMap<String, FieldValue>,
}

impl RelatedItem {
    /// Whether the item was added at `since_ms` (epoch milliseconds) or later; an item without a
    /// time counts as recent, so that a redelivery never adds it a second time.
    pub fn added_since(&self, since_ms: i64) -> bool {
        match self.association_time {
            Some((secs, nanos)) => secs.saturating_mul(1000).saturating_add(i64::from(nanos / 1_000_000)) >= since_ms,
            None => true,
        }
    }
}

/// The same values for the same fields, in any order (empty values count as absent).
pub fn same_fields(a: &[FieldEntry], b: &[FieldEntry]) -> bool {
    let set = |fields: &[FieldEntry]| {
        let mut set: Vec<String> = fields
            .iter()
            .filter(|f| !matches!(f.value, FieldValue::Empty(_)))
            .map(|f| format!("{}={}", f.id, serde_json::to_string(&f.value).expect("field values serialize")))
            .collect();
        set.sort();
        set
    };
    set(a) == set(b)
}

/// UpdateRelatedItem: new content for a comment or custom item the automation created.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRelatedItemInput {
    pub content: RelatedItemUpdateContent,
    pub performed_by: PerformedBy,
}

/// `RelatedItemUpdateContent`: the two kinds of item the API edits.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RelatedItemUpdateContent {
    Comment {
        body: String,
        #[serde(rename = "contentType")]
        content_type: &'static str,
    },
    /// Replaces every field of the item.
    Custom { fields: Vec<FieldEntry> },
}

impl CreateRelatedItemInput {
    /// The update that gives an existing item this item's content (comments and custom items).
    pub fn as_update(&self) -> Option<UpdateRelatedItemInput> {
        let content = match &self.content {
            RelatedItemContent::Comment { body, content_type } => RelatedItemUpdateContent::Comment { body: body.clone(), content_type },
            RelatedItemContent::Custom { fields } => RelatedItemUpdateContent::Custom { fields: fields.clone() },
            _ => return None,
        };
        Some(UpdateRelatedItemInput { content, performed_by: self.performed_by.clone() })
    }
}

/// Results the function needs from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCase {
    pub case_id: String,
    pub case_arn: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RelatedItem {
    pub related_item_id: String,
    /// `performedBy.customEntity`, when the item was created by a custom entity.
    pub performed_by: Option<String>,
    pub comment_body: Option<String>,
    /// The values of a custom item.
    pub custom_fields: Option<Vec<FieldEntry>>,
    /// When the item was added (seconds, nanoseconds since the epoch): the earliest of two
    /// duplicates is the one kept.
    pub association_time: Option<(i64, u32)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RelatedItemsPage {
    pub items: Vec<RelatedItem>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    pub id: String,
    pub name: String,
    pub field_type: FieldType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateInfo {
    pub id: String,
    pub name: String,
    pub active: bool,
}

/// One option of a single-select field: the value stored on cases (not the display name), and
/// whether cases may take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOption {
    pub value: String,
    pub active: bool,
}

/// What GetTemplate says about creating cases from a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDetail {
    pub id: String,
    pub active: bool,
    /// Field ids every case created from it must set to a non-empty value (besides `title` and
    /// `customer_id`, which every case needs).
    pub required_fields: Vec<String>,
}

/// One request, as `plan` shows it: the API's operation name, path members, and body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "operation")]
pub enum CasesRequest {
    SearchCases {
        body: SearchCasesInput,
    },
    ListCasesForContact {
        body: ListCasesForContactInput,
    },
    CreateCase {
        body: CreateCaseInput,
    },
    UpdateCase {
        #[serde(rename = "caseId")]
        case_id: String,
        body: UpdateCaseInput,
    },
    SearchRelatedItems {
        #[serde(rename = "caseId")]
        case_id: String,
        body: SearchRelatedItemsInput,
    },
    CreateRelatedItem {
        #[serde(rename = "caseId")]
        case_id: String,
        body: CreateRelatedItemInput,
    },
    UpdateRelatedItem {
        #[serde(rename = "caseId")]
        case_id: String,
        #[serde(rename = "relatedItemId")]
        related_item_id: String,
        body: UpdateRelatedItemInput,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_serialize_as_the_api_spells_them() {
        let who = PerformedBy { custom_entity: "bot".into() };
        let sla = CreateRelatedItemInput::new(
            RelatedItemContent::Sla {
                sla_input_configuration: SlaInput {
                    name: "Call back".into(),
                    kind: "CaseField",
                    field_id: None,
                    target_field_values: vec![],
                    target_sla_minutes: 240,
                },
            },
            who.clone(),
        );
        assert_eq!(
            serde_json::to_value(&sla).unwrap(),
            json!({"type": "Sla", "content": {"sla": {"slaInputConfiguration": {"name": "Call back", "type": "CaseField", "targetSlaMinutes": 240}}},
                   "performedBy": {"customEntity": "bot"}})
        );
        let search = SearchCasesInput {
            max_results: 1,
            fields: vec![],
            next_token: None,
            filter: CaseFilter::AndAll(vec![CaseFilter::Field(FieldFilter::EqualTo(FieldEntry {
                id: "status".into(),
                value: FieldValue::String("open".into()),
            }))]),
            sorts: vec![SortInput { field_id: "created_datetime".into(), sort_order: "Desc" }],
        };
        assert_eq!(
            serde_json::to_value(CasesRequest::SearchCases { body: search }).unwrap(),
            json!({"operation": "SearchCases", "body": {"maxResults": 1,
                "filter": {"andAll": [{"field": {"equalTo": {"id": "status", "value": {"stringValue": "open"}}}}]},
                "sorts": [{"fieldId": "created_datetime", "sortOrder": "Desc"}]}})
        );
        let comment = CreateRelatedItemInput::new(RelatedItemContent::Comment { body: "hi".into(), content_type: "Text/Plain" }, who);
        assert_eq!(serde_json::to_value(comment.existing_item_filter()).unwrap(), json!({"comment": {}}));
    }

    #[test]
    fn filters_match_field_values_as_the_service_compares_them() {
        use std::collections::HashMap;
        let entry = |id: &str, value: FieldValue| FieldEntry { id: id.into(), value };
        let text = |s: &str| FieldValue::String(s.into());
        let fields: HashMap<String, FieldValue> = [
            ("status".to_owned(), text("open")),
            ("last_updated_datetime".to_owned(), text("2026-11-01T10:00:00.000Z")),
            ("total".to_owned(), FieldValue::Double(12.5)),
            ("title".to_owned(), text("Order ORD-1 is delayed")),
        ]
        .into();
        let idle = CaseFilter::AndAll(vec![
            CaseFilter::Field(FieldFilter::EqualTo(entry("status", text("open")))),
            CaseFilter::Field(FieldFilter::LessThan(entry("last_updated_datetime", text("2026-11-17T10:00:00Z")))),
        ]);
        assert!(idle.matches(&fields), "date-times compare as instants, whatever their precision");
        let recent = CaseFilter::Field(FieldFilter::GreaterThanOrEqualTo(entry("last_updated_datetime", text("2026-11-02T00:00:00Z"))));
        assert!(!recent.matches(&fields));
        assert!(CaseFilter::Field(FieldFilter::GreaterThan(entry("total", FieldValue::Double(10.0)))).matches(&fields));
        assert!(CaseFilter::Field(FieldFilter::Contains(entry("title", text("delayed")))).matches(&fields));
        assert!(CaseFilter::Not(Box::new(CaseFilter::Field(FieldFilter::Contains(entry("title", text("test")))))).matches(&fields));
        let either = CaseFilter::OrAll(vec![recent.clone(), CaseFilter::Field(FieldFilter::EqualTo(entry("status", text("open"))))]);
        assert!(either.matches(&fields));
        assert!(!CaseFilter::Field(FieldFilter::LessThan(entry("missing", text("x")))).matches(&fields), "no value never compares");
        assert!(CaseFilter::Field(FieldFilter::EqualTo(entry("missing", FieldValue::empty()))).matches(&fields), "empty is no value");
        assert_eq!(idle.field_ids(), ["last_updated_datetime", "status"]);
        assert_eq!(idle.equalities().len(), 1);
        assert!(either.equalities().is_empty(), "not a conjunction of equalities");
    }

    #[test]
    fn items_are_recent_by_their_association_time_or_when_it_is_unknown() {
        let at = |secs, nanos| RelatedItem { association_time: Some((secs, nanos)), ..RelatedItem::default() };
        assert!(at(100, 500_000_000).added_since(100_500));
        assert!(!at(100, 499_000_000).added_since(100_500));
        assert!(at(101, 0).added_since(100_500));
        assert!(RelatedItem::default().added_since(i64::MAX), "no time: counted as recent");
    }
}
