//! A `CasesApi` that passes every call on to another (the SDK adapter, to the local Cases service)
//! and records when each starts and ends, with who each write is performed by. The service
//! answers; the record only shows the order of calls, which the service's counts do not.

use std::future::Future;
use std::sync::Mutex;

use cases_automation::cases::model::*;
use cases_automation::cases::{ApiError, CasesApi};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Start,
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub operation: &'static str,
    pub phase: Phase,
    /// `performedBy.customEntity` of a write.
    pub performed_by: Option<String>,
    /// The kind of item a CreateRelatedItem creates (`Contact`, `Sla`, …).
    pub item: Option<&'static str>,
}

pub struct Recorded<C> {
    inner: C,
    calls: Mutex<Vec<Call>>,
}

impl<C> Recorded<C> {
    pub fn new(inner: C) -> Recorded<C> {
        Recorded { inner, calls: Mutex::new(Vec::new()) }
    }

    /// Every start and end, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The operations in the order they started.
    pub fn started(&self) -> Vec<&'static str> {
        self.calls().iter().filter(|c| c.phase == Phase::Start).map(|c| c.operation).collect()
    }

    pub fn clear(&self) {
        self.calls.lock().unwrap().clear();
    }

    async fn around<T>(
        &self,
        operation: &'static str,
        performed_by: Option<&PerformedBy>,
        item: Option<&'static str>,
        call: impl Future<Output = T>,
    ) -> T {
        let mark = |phase| Call { operation, phase, performed_by: performed_by.map(|p| p.custom_entity.clone()), item };
        self.calls.lock().unwrap().push(mark(Phase::Start));
        let result = call.await;
        self.calls.lock().unwrap().push(mark(Phase::End));
        result
    }
}

impl<C: CasesApi> CasesApi for Recorded<C> {
    async fn search_cases(&self, input: &SearchCasesInput) -> Result<CasesPage, ApiError> {
        self.around("SearchCases", None, None, self.inner.search_cases(input)).await
    }

    async fn list_cases_for_contact(&self, input: &ListCasesForContactInput) -> Result<Vec<String>, ApiError> {
        self.around("ListCasesForContact", None, None, self.inner.list_cases_for_contact(input)).await
    }

    async fn create_case(&self, input: &CreateCaseInput) -> Result<CreatedCase, ApiError> {
        self.around("CreateCase", Some(&input.performed_by), None, self.inner.create_case(input)).await
    }

    async fn update_case(&self, case_id: &str, input: &UpdateCaseInput) -> Result<(), ApiError> {
        self.around("UpdateCase", Some(&input.performed_by), None, self.inner.update_case(case_id, input)).await
    }

    async fn search_related_items(&self, case_id: &str, input: &SearchRelatedItemsInput) -> Result<RelatedItemsPage, ApiError> {
        self.around("SearchRelatedItems", None, None, self.inner.search_related_items(case_id, input)).await
    }

    async fn search_slas(&self, input: &SearchSlasInput) -> Result<SlasPage, ApiError> {
        self.around("SearchAllRelatedItems", None, None, self.inner.search_slas(input)).await
    }

    async fn get_case_fields(
        &self,
        case_id: &str,
        field_ids: &[String],
    ) -> Result<std::collections::HashMap<String, FieldValue>, ApiError> {
        self.around("GetCase", None, None, self.inner.get_case_fields(case_id, field_ids)).await
    }

    async fn create_related_item(&self, case_id: &str, input: &CreateRelatedItemInput) -> Result<String, ApiError> {
        let call = self.inner.create_related_item(case_id, input);
        self.around("CreateRelatedItem", Some(&input.performed_by), Some(input.kind), call).await
    }

    async fn update_related_item(&self, case_id: &str, item_id: &str, input: &UpdateRelatedItemInput) -> Result<(), ApiError> {
        let call = self.inner.update_related_item(case_id, item_id, input);
        self.around("UpdateRelatedItem", Some(&input.performed_by), None, call).await
    }

    async fn list_fields(&self) -> Result<Vec<FieldInfo>, ApiError> {
        self.around("ListFields", None, None, self.inner.list_fields()).await
    }

    async fn list_templates(&self) -> Result<Vec<TemplateInfo>, ApiError> {
        self.around("ListTemplates", None, None, self.inner.list_templates()).await
    }

    async fn list_field_options(&self, field_id: &str) -> Result<Vec<FieldOption>, ApiError> {
        self.around("ListFieldOptions", None, None, self.inner.list_field_options(field_id)).await
    }

    async fn get_template(&self, template_id: &str) -> Result<TemplateDetail, ApiError> {
        self.around("GetTemplate", None, None, self.inner.get_template(template_id)).await
    }
}
