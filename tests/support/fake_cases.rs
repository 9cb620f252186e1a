//! An in-memory `CasesApi` for handler tests: it records every call, honours `clientToken` like
//! the service, and can fail or slow down chosen operations.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use cases_automation::cases::model::*;
use cases_automation::cases::{ApiError, ApiErrorKind, CasesApi};

#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: String,
    pub content: RelatedItemContent,
    pub performed_by: String,
    /// Creation order, standing for the association time.
    pub sequence: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    pub id: String,
    pub template_id: String,
    pub fields: HashMap<String, FieldValue>,
    pub items: Vec<StoredItem>,
}

#[derive(Default)]
struct State {
    cases: Vec<StoredCase>,
    tokens: HashMap<String, String>,
    calls: Vec<String>,
    writers: Vec<String>,
    items_created: u64,
    failures: HashMap<&'static str, (ApiErrorKind, usize)>,
    latency: Option<Duration>,
}

#[derive(Default)]
pub struct FakeCases {
    state: Mutex<State>,
}

pub const FIELDS: &[(&str, &str, FieldType)] = &[
    ("title", "Title", FieldType::Text),
    ("status", "Status", FieldType::SingleSelect),
    ("customer_id", "Customer", FieldType::Text),
    ("created_datetime", "Date/Time Opened", FieldType::DateTime),
    ("f-phone", "Customer phone", FieldType::Text),
    ("f-order", "Order number", FieldType::Text),
    ("f-total", "Order total", FieldType::Number),
    ("f-callback", "Callback requested", FieldType::Boolean),
    ("f-priority", "Priority", FieldType::SingleSelect),
    ("f-promised", "Promised by", FieldType::DateTime),
    ("f-channel", "Contact channel", FieldType::Text),
    ("f-reason", "Disconnect reason", FieldType::Text),
];

pub const TEMPLATES: &[(&str, &str)] = &[("t-general", "General inquiry"), ("t-callback", "Callback request"), ("t-order", "Order issue")];

impl FakeCases {
    pub fn new() -> FakeCases {
        FakeCases::default()
    }

    /// Adds a case directly (as if created earlier by someone else).
    pub fn seed_case(&self, id: &str, fields: &[(&str, FieldValue)]) {
        let mut state = self.state.lock().unwrap();
        state.cases.push(StoredCase {
            id: id.into(),
            template_id: "t-general".into(),
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            items: vec![],
        });
    }

    /// The next `times` calls of `operation` fail with `kind`.
    pub fn fail(&self, operation: &'static str, kind: ApiErrorKind, times: usize) {
        self.state.lock().unwrap().failures.insert(operation, (kind, times));
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = Some(latency);
    }

    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.state.lock().unwrap().calls.clear();
    }

    /// The `performedBy.customEntity` of every write, in order.
    pub fn writers(&self) -> Vec<String> {
        self.state.lock().unwrap().writers.clone()
    }

    pub fn cases(&self) -> Vec<StoredCase> {
        self.state.lock().unwrap().cases.clone()
    }

    async fn enter(&self, operation: &'static str) -> Result<(), ApiError> {
        let latency = {
            let mut state = self.state.lock().unwrap();
            state.calls.push(operation.to_owned());
            if let Some((kind, left)) = state.failures.get_mut(operation)
                && *left > 0
            {
                *left -= 1;
                return Err(ApiError { operation, kind: *kind, message: "injected".into() });
            }
            state.latency
        };
        if let Some(latency) = latency {
            tokio::time::sleep(latency).await;
        }
        Ok(())
    }

    fn not_found(operation: &'static str) -> ApiError {
        ApiError { operation, kind: ApiErrorKind::NotFound, message: "no such case".into() }
    }
}

fn matches(case: &StoredCase, filter: &CaseFilter) -> bool {
    match filter {
        CaseFilter::AndAll(all) => all.iter().all(|f| matches(case, f)),
        CaseFilter::Field(FieldFilter::EqualTo(entry)) => {
            let open = FieldValue::String("open".into());
            let value = case.fields.get(&entry.id).or((entry.id == "status").then_some(&open));
            value == Some(&entry.value)
        }
    }
}

impl CasesApi for FakeCases {
    async fn search_cases(&self, input: &SearchCasesInput) -> Result<Vec<String>, ApiError> {
        self.enter("SearchCases").await?;
        let state = self.state.lock().unwrap();
        // Newest first: cases are stored in creation order.
        Ok(state.cases.iter().rev().filter(|c| matches(c, &input.filter)).take(input.max_results as usize).map(|c| c.id.clone()).collect())
    }

    async fn list_cases_for_contact(&self, input: &ListCasesForContactInput) -> Result<Vec<String>, ApiError> {
        self.enter("ListCasesForContact").await?;
        let state = self.state.lock().unwrap();
        Ok(state
            .cases
            .iter()
            .filter(|c| {
                c.items
                    .iter()
                    .any(|i| matches!(&i.content, RelatedItemContent::Contact { contact_arn } if *contact_arn == input.contact_arn))
            })
            .map(|c| c.id.clone())
            .collect())
    }

    async fn create_case(&self, input: &CreateCaseInput) -> Result<CreatedCase, ApiError> {
        self.enter("CreateCase").await?;
        let mut state = self.state.lock().unwrap();
        state.writers.push(input.performed_by.custom_entity.clone());
        let id = match state.tokens.get(&input.client_token) {
            Some(id) => id.clone(),
            None => {
                if !TEMPLATES.iter().any(|(id, _)| *id == input.template_id) {
                    return Err(ApiError { operation: "CreateCase", kind: ApiErrorKind::Validation, message: "unknown template".into() });
                }
                let id = format!("case-{}", state.cases.len() + 1);
                state.cases.push(StoredCase {
                    id: id.clone(),
                    template_id: input.template_id.clone(),
                    fields: input.fields.iter().map(|f| (f.id.clone(), f.value.clone())).collect(),
                    items: vec![],
                });
                state.tokens.insert(input.client_token.clone(), id.clone());
                id
            }
        };
        Ok(CreatedCase { case_arn: format!("arn:aws:cases:us-east-1:123456789012:domain/demo/case/{id}"), case_id: id })
    }

    async fn update_case(&self, case_id: &str, input: &UpdateCaseInput) -> Result<(), ApiError> {
        self.enter("UpdateCase").await?;
        let mut state = self.state.lock().unwrap();
        state.writers.push(input.performed_by.custom_entity.clone());
        let case = state.cases.iter_mut().find(|c| c.id == case_id).ok_or_else(|| Self::not_found("UpdateCase"))?;
        for field in &input.fields {
            case.fields.insert(field.id.clone(), field.value.clone());
        }
        Ok(())
    }

    async fn search_related_items(&self, case_id: &str, input: &SearchRelatedItemsInput) -> Result<RelatedItemsPage, ApiError> {
        self.enter("SearchRelatedItems").await?;
        let state = self.state.lock().unwrap();
        let case = state.cases.iter().find(|c| c.id == case_id).ok_or_else(|| Self::not_found("SearchRelatedItems"))?;
        let items = case
            .items
            .iter()
            .filter(|item| {
                input.filters.iter().any(|f| match (f, &item.content) {
                    (RelatedItemFilter::Contact { contact_arn }, RelatedItemContent::Contact { contact_arn: a }) => a == contact_arn,
                    (RelatedItemFilter::Comment {}, RelatedItemContent::Comment { .. }) => true,
                    (RelatedItemFilter::File { file_arn }, RelatedItemContent::File { file_arn: a }) => a == file_arn,
                    (RelatedItemFilter::Sla { name }, RelatedItemContent::Sla { sla_input_configuration }) => {
                        sla_input_configuration.name == *name
                    }
                    _ => false,
                })
            })
            .map(|item| RelatedItem {
                related_item_id: item.id.clone(),
                performed_by: Some(item.performed_by.clone()),
                comment_body: match &item.content {
                    RelatedItemContent::Comment { body, .. } => Some(body.clone()),
                    _ => None,
                },
                association_time: Some((item.sequence as i64, 0)),
            })
            .collect();
        Ok(RelatedItemsPage { items, next_token: None })
    }

    async fn create_related_item(&self, case_id: &str, input: &CreateRelatedItemInput) -> Result<String, ApiError> {
        self.enter("CreateRelatedItem").await?;
        let mut state = self.state.lock().unwrap();
        state.writers.push(input.performed_by.custom_entity.clone());
        state.items_created += 1;
        let sequence = state.items_created;
        let case = state.cases.iter_mut().find(|c| c.id == case_id).ok_or_else(|| Self::not_found("CreateRelatedItem"))?;
        let id = format!("{case_id}/item-{sequence}");
        case.items.push(StoredItem {
            id: id.clone(),
            content: input.content.clone(),
            performed_by: input.performed_by.custom_entity.clone(),
            sequence,
        });
        Ok(id)
    }

    async fn get_case_fields(&self, case_id: &str, field_ids: &[String]) -> Result<HashMap<String, FieldValue>, ApiError> {
        self.enter("GetCase").await?;
        let state = self.state.lock().unwrap();
        let case = state.cases.iter().find(|c| c.id == case_id).ok_or_else(|| Self::not_found("GetCase"))?;
        let open = FieldValue::String("open".into());
        let value = |id: &String| case.fields.get(id).or((id == "status").then_some(&open)).cloned();
        Ok(field_ids.iter().filter_map(|id| Some((id.clone(), value(id)?))).collect())
    }

    async fn list_fields(&self) -> Result<Vec<FieldInfo>, ApiError> {
        self.enter("ListFields").await?;
        Ok(FIELDS.iter().map(|(id, name, ty)| FieldInfo { id: id.to_string(), name: name.to_string(), field_type: *ty }).collect())
    }

    async fn list_templates(&self) -> Result<Vec<TemplateInfo>, ApiError> {
        self.enter("ListTemplates").await?;
        Ok(TEMPLATES.iter().map(|(id, name)| TemplateInfo { id: id.to_string(), name: name.to_string(), active: true }).collect())
    }
}
