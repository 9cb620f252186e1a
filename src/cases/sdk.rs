//! `CasesApi` over `aws-sdk-connectcases`: the one place that knows the SDK's types.

use aws_sdk_connectcases as cases;
use aws_sdk_connectcases::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_connectcases::types as t;

use super::model::*;
use super::{ApiError, ApiErrorKind, CasesApi, limits, redact};
use crate::aws::{LazyClient, retry_partition};
use crate::telemetry::sdk::CountCalls;

/// The SDK client bound to one Cases domain, built once per process. In Lambda it is built on
/// first use: constructing it (mostly the SDK's endpoint partition table) was a sixth of the cold
/// start, and events skipped before any call (self-caused changes, no matching rule) never need it.
#[derive(Debug)]
pub struct SdkCases {
    client: LazyClient<cases::Client>,
    domain_id: String,
}

impl SdkCases {
    /// Builds the client from `config` (with the function's retry partition) when the first call needs it.
    pub fn lazy(config: aws_config::SdkConfig, domain_id: impl Into<String>) -> SdkCases {
        SdkCases::lazy_in_partition(config, domain_id, retry_partition())
    }

    /// As `lazy`, with the retries' state kept in `partition` (a harness running several
    /// instances in one process gives each its own).
    pub fn lazy_in_partition(
        config: aws_config::SdkConfig,
        domain_id: impl Into<String>,
        partition: cases::config::retry::RetryPartition,
    ) -> SdkCases {
        let build = move |config: &aws_config::SdkConfig| {
            let config = cases::config::Builder::from(config).retry_partition(partition.clone()).interceptor(CountCalls);
            // Throttled attempts move the pacing's turns (see `paced`).
            cases::Client::from_conf(config.interceptor(super::throttled::ThrottleSignal).build())
        };
        SdkCases { client: LazyClient::lazy(config, build), domain_id: domain_id.into() }
    }

    fn client(&self) -> &cases::Client {
        self.client.get()
    }
}

/// Turns an SDK error into an `ApiError`, telling retryable failures from permanent ones.
pub(crate) fn api_error<E>(operation: &'static str, error: SdkError<E, aws_sdk_connectcases::config::http::HttpResponse>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use ApiErrorKind::*;
    let kind = match &error {
        SdkError::TimeoutError(_) => Timeout,
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Timeout,
        SdkError::DispatchFailure(failure) if failure.is_user() => Validation,
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Network,
        SdkError::ConstructionFailure(_) => Validation,
        SdkError::ServiceError(service) => ApiErrorKind::of_service_error(service.err().code(), service.raw().status().as_u16()),
        _ => Other,
    };
    let mut message = match error.message() {
        Some(message) => redact::quoted_values(message),
        None => DisplayErrorContext(&error).to_string(),
    };
    if let (UnknownServerError | UnknownClientError, SdkError::ServiceError(service)) = (kind, &error) {
        let code = service.err().code().unwrap_or("no error code");
        message = format!("{code} (HTTP {}): {message}", service.raw().status().as_u16());
    }
    ApiError { operation, kind, message }
}

/// A request the SDK refused to build (a required member missing): a bug in the plan, permanent.
pub(crate) fn build_error(operation: &'static str, error: impl std::fmt::Display) -> ApiError {
    ApiError { operation, kind: ApiErrorKind::Validation, message: format!("could not build the request: {error}") }
}

fn field_value_union(value: &FieldValue) -> t::FieldValueUnion {
    match value {
        FieldValue::String(s) => t::FieldValueUnion::StringValue(s.clone()),
        FieldValue::Double(n) => t::FieldValueUnion::DoubleValue(*n),
        FieldValue::Boolean(b) => t::FieldValueUnion::BooleanValue(*b),
        FieldValue::Empty(_) => t::FieldValueUnion::EmptyValue(t::EmptyFieldValue::builder().build()),
        FieldValue::UserArn(arn) => t::FieldValueUnion::UserArnValue(arn.clone()),
    }
}

fn field_values(operation: &'static str, entries: &[FieldEntry]) -> Result<Vec<t::FieldValue>, ApiError> {
    entries
        .iter()
        .map(|e| t::FieldValue::builder().id(&e.id).value(field_value_union(&e.value)).build().map_err(|err| build_error(operation, err)))
        .collect()
}

fn performed_by(who: &PerformedBy) -> t::UserUnion {
    t::UserUnion::CustomEntity(who.custom_entity.clone())
}

fn case_filter(operation: &'static str, filter: &CaseFilter) -> Result<t::CaseFilter, ApiError> {
    let all = |filters: &[CaseFilter]| filters.iter().map(|f| case_filter(operation, f)).collect::<Result<Vec<_>, _>>();
    Ok(match filter {
        CaseFilter::AndAll(filters) => t::CaseFilter::AndAll(all(filters)?),
        CaseFilter::OrAll(filters) => t::CaseFilter::OrAll(all(filters)?),
        CaseFilter::Not(inner) => t::CaseFilter::Not(Box::new(case_filter(operation, inner)?)),
        CaseFilter::Tag(TagFilter::EqualTo { key, value }) => {
            t::CaseFilter::Tag(t::TagFilter::EqualTo(t::TagValue::builder().set_key(key.clone()).set_value(value.clone()).build()))
        }
        CaseFilter::Field(field) => {
            let entry = field.entry();
            let value = t::FieldValue::builder()
                .id(&entry.id)
                .value(field_value_union(&entry.value))
                .build()
                .map_err(|e| build_error(operation, e))?;
            t::CaseFilter::Field(match field {
                FieldFilter::EqualTo(_) => t::FieldFilter::EqualTo(value),
                FieldFilter::Contains(_) => t::FieldFilter::Contains(value),
                FieldFilter::GreaterThan(_) => t::FieldFilter::GreaterThan(value),
                FieldFilter::GreaterThanOrEqualTo(_) => t::FieldFilter::GreaterThanOrEqualTo(value),
                FieldFilter::LessThan(_) => t::FieldFilter::LessThan(value),
                FieldFilter::LessThanOrEqualTo(_) => t::FieldFilter::LessThanOrEqualTo(value),
            })
        }
    })
}

/// A field value as this function models it; None for kinds it never reads.
fn from_field_value_union(value: &t::FieldValueUnion) -> Option<FieldValue> {
    Some(match value {
        t::FieldValueUnion::StringValue(s) => FieldValue::String(s.clone()),
        t::FieldValueUnion::DoubleValue(n) => FieldValue::Double(*n),
        t::FieldValueUnion::BooleanValue(b) => FieldValue::Boolean(*b),
        t::FieldValueUnion::UserArnValue(arn) => FieldValue::UserArn(arn.clone()),
        t::FieldValueUnion::EmptyValue(_) => FieldValue::empty(),
        _ => return None,
    })
}

fn related_item_filter(filter: &RelatedItemFilter) -> Result<t::RelatedItemTypeFilter, ApiError> {
    const OP: &str = "SearchRelatedItems";
    Ok(match filter {
        RelatedItemFilter::Contact { contact_arn } => {
            t::RelatedItemTypeFilter::Contact(t::ContactFilter::builder().contact_arn(contact_arn).build())
        }
        RelatedItemFilter::Comment {} => t::RelatedItemTypeFilter::Comment(t::CommentFilter::builder().build()),
        RelatedItemFilter::File { file_arn } => t::RelatedItemTypeFilter::File(t::FileFilter::builder().file_arn(file_arn).build()),
        RelatedItemFilter::Sla { name } => t::RelatedItemTypeFilter::Sla(t::SlaFilter::builder().name(name).build()),
        RelatedItemFilter::ConnectCase { case_id } => {
            t::RelatedItemTypeFilter::ConnectCase(t::ConnectCaseFilter::builder().case_id(case_id).build())
        }
        RelatedItemFilter::Custom { fields: CustomFieldsFilter::AndAll(all) } => {
            let conditions = all
                .iter()
                .map(|condition| match case_filter(OP, condition)? {
                    t::CaseFilter::Field(field) => Ok(t::CustomFieldsFilter::Field(field)),
                    _ => Err(build_error(OP, "a custom-fields filter holds field conditions only")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            t::RelatedItemTypeFilter::Custom(t::CustomFilter::builder().fields(t::CustomFieldsFilter::AndAll(conditions)).build())
        }
    })
}

fn related_item_content(
    operation: &'static str,
    content: &RelatedItemContent,
) -> Result<(t::RelatedItemType, t::RelatedItemInputContent), ApiError> {
    let fail = |e| build_error(operation, e);
    Ok(match content {
        RelatedItemContent::Contact { contact_arn } => (
            t::RelatedItemType::Contact,
            t::RelatedItemInputContent::Contact(t::Contact::builder().contact_arn(contact_arn).build().map_err(fail)?),
        ),
        RelatedItemContent::Comment { body, .. } => (
            t::RelatedItemType::Comment,
            t::RelatedItemInputContent::Comment(
                t::CommentContent::builder().body(body).content_type(t::CommentBodyTextType::Plaintext).build().map_err(fail)?,
            ),
        ),
        RelatedItemContent::File { file_arn } => (
            t::RelatedItemType::File,
            t::RelatedItemInputContent::File(t::FileContent::builder().file_arn(file_arn).build().map_err(fail)?),
        ),
        RelatedItemContent::Sla { sla_input_configuration: sla } => {
            let config = t::SlaInputConfiguration::builder()
                .name(&sla.name)
                .r#type(t::SlaType::CaseField)
                .set_field_id(sla.field_id.clone())
                .set_target_field_values(
                    (!sla.target_field_values.is_empty()).then(|| sla.target_field_values.iter().map(field_value_union).collect()),
                )
                .target_sla_minutes(sla.target_sla_minutes)
                .build()
                .map_err(fail)?;
            (t::RelatedItemType::Sla, t::RelatedItemInputContent::Sla(t::SlaInputContent::SlaInputConfiguration(config)))
        }
        RelatedItemContent::Custom { fields } => (
            t::RelatedItemType::Custom,
            t::RelatedItemInputContent::Custom(
                t::CustomInputContent::builder().set_fields(Some(field_values(operation, fields)?)).build().map_err(fail)?,
            ),
        ),
        RelatedItemContent::ConnectCase { case_id } => (
            t::RelatedItemType::ConnectCase,
            t::RelatedItemInputContent::ConnectCase(t::ConnectCaseInputContent::builder().case_id(case_id).build().map_err(fail)?),
        ),
    })
}

fn field_type(field_type: &t::FieldType) -> FieldType {
    match field_type {
        t::FieldType::Text => FieldType::Text,
        t::FieldType::Number => FieldType::Number,
        t::FieldType::Boolean => FieldType::Boolean,
        t::FieldType::DateTime => FieldType::DateTime,
        t::FieldType::SingleSelect => FieldType::SingleSelect,
        t::FieldType::Url => FieldType::Url,
        t::FieldType::User => FieldType::User,
        _ => FieldType::Other,
    }
}

impl CasesApi for SdkCases {
    async fn search_cases(&self, input: &SearchCasesInput) -> Result<CasesPage, ApiError> {
        const OP: &str = "SearchCases";
        let sorts = input
            .sorts
            .iter()
            .map(|s| {
                t::Sort::builder()
                    .field_id(&s.field_id)
                    .sort_order(if s.sort_order == "Asc" { t::Order::Ascending } else { t::Order::Descending })
                    .build()
                    .map_err(|e| build_error(OP, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client()
            .search_cases()
            .domain_id(&self.domain_id)
            .max_results(input.max_results)
            .filter(case_filter(OP, &input.filter)?)
            .set_sorts(Some(sorts))
            .set_fields(
                (!input.fields.is_empty())
                    .then(|| input.fields.iter().filter_map(|id| t::FieldIdentifier::builder().id(id).build().ok()).collect()),
            )
            .set_next_token(input.next_token.clone())
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        let cases = output
            .cases()
            .iter()
            .flatten()
            .map(|case| FoundCase {
                case_id: case.case_id().to_owned(),
                fields: case.fields().iter().filter_map(|f| Some((f.id().to_owned(), from_field_value_union(f.value()?)?))).collect(),
            })
            .collect();
        Ok(CasesPage {
            cases,
            next_token: output.next_token().filter(|t| !t.is_empty()).map(str::to_owned),
            total: Some(output.total_count()),
        })
    }

    async fn list_cases_for_contact(&self, input: &ListCasesForContactInput) -> Result<Vec<String>, ApiError> {
        let output = self
            .client()
            .list_cases_for_contact()
            .domain_id(&self.domain_id)
            .contact_arn(&input.contact_arn)
            .max_results(input.max_results)
            .send()
            .await
            .map_err(|e| api_error("ListCasesForContact", e))?;
        Ok(output.cases().iter().map(|c| c.case_id().to_owned()).collect())
    }

    async fn create_case(&self, input: &CreateCaseInput) -> Result<CreatedCase, ApiError> {
        const OP: &str = "CreateCase";
        let output = self
            .client()
            .create_case()
            .domain_id(&self.domain_id)
            .template_id(&input.template_id)
            .set_fields(Some(field_values(OP, &input.fields)?))
            .client_token(&input.client_token)
            .performed_by(performed_by(&input.performed_by))
            .set_tags((!input.tags.is_empty()).then(|| input.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        Ok(CreatedCase { case_id: output.case_id().to_owned(), case_arn: output.case_arn().to_owned() })
    }

    async fn update_case(&self, case_id: &str, input: &UpdateCaseInput) -> Result<(), ApiError> {
        const OP: &str = "UpdateCase";
        self.client()
            .update_case()
            .domain_id(&self.domain_id)
            .case_id(case_id)
            .set_fields(Some(field_values(OP, &input.fields)?))
            .performed_by(performed_by(&input.performed_by))
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        Ok(())
    }

    async fn search_related_items(&self, case_id: &str, input: &SearchRelatedItemsInput) -> Result<RelatedItemsPage, ApiError> {
        let output = self
            .client()
            .search_related_items()
            .domain_id(&self.domain_id)
            .case_id(case_id)
            .max_results(input.max_results)
            .set_filters(Some(input.filters.iter().map(related_item_filter).collect::<Result<_, _>>()?))
            .set_next_token(input.next_token.clone())
            .send()
            .await
            .map_err(|e| api_error("SearchRelatedItems", e))?;
        let items = output
            .related_items()
            .iter()
            .flatten()
            .map(|item| RelatedItem {
                related_item_id: item.related_item_id().to_owned(),
                performed_by: item.performed_by().and_then(|p| p.as_custom_entity().ok()).cloned(),
                comment_body: match item.content() {
                    Some(t::RelatedItemContent::Comment(c)) => Some(c.body().to_owned()),
                    _ => None,
                },
                custom_fields: match item.content() {
                    Some(t::RelatedItemContent::Custom(c)) => Some(
                        c.fields()
                            .iter()
                            .filter_map(|f| Some(FieldEntry { id: f.id().to_owned(), value: from_field_value_union(f.value()?)? }))
                            .collect(),
                    ),
                    _ => None,
                },
                association_time: Some((item.association_time().secs(), item.association_time().subsec_nanos())),
            })
            .collect();
        Ok(RelatedItemsPage { items, next_token: output.next_token().map(str::to_owned) })
    }

    async fn search_slas(&self, input: &SearchSlasInput) -> Result<SlasPage, ApiError> {
        const OP: &str = "SearchAllRelatedItems";
        let filter = t::SlaFilter::builder().set_name(input.name.clone()).set_status(input.status.map(t::SlaStatus::from)).build();
        let output = self
            .client()
            .search_all_related_items()
            .domain_id(&self.domain_id)
            .max_results(input.max_results)
            .filters(t::RelatedItemTypeFilter::Sla(filter))
            .set_next_token(input.next_token.clone())
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        let time = |t: &aws_sdk_connectcases::primitives::DateTime| {
            t.fmt(aws_sdk_connectcases::primitives::DateTimeFormat::DateTime).unwrap_or_default()
        };
        let slas = output
            .related_items()
            .iter()
            .flatten()
            .filter_map(|item| {
                let t::RelatedItemContent::Sla(sla) = item.content()? else { return None };
                let config = sla.sla_configuration()?;
                Some(FoundSla {
                    related_item_id: item.related_item_id().to_owned(),
                    case_id: item.case_id().to_owned(),
                    name: config.name().to_owned(),
                    status: config.status().as_str().to_owned(),
                    target_time: time(config.target_time()),
                })
            })
            .collect();
        Ok(SlasPage { slas, next_token: output.next_token().filter(|t| !t.is_empty()).map(str::to_owned) })
    }

    async fn get_case_fields(
        &self,
        case_id: &str,
        field_ids: &[String],
    ) -> Result<std::collections::HashMap<String, FieldValue>, ApiError> {
        const OP: &str = "GetCase";
        let ids = field_ids
            .iter()
            .map(|id| t::FieldIdentifier::builder().id(id).build().map_err(|e| build_error(OP, e)))
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client()
            .get_case()
            .domain_id(&self.domain_id)
            .case_id(case_id)
            .set_fields(Some(ids))
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        Ok(output.fields().iter().filter_map(|field| Some((field.id().to_owned(), from_field_value_union(field.value()?)?))).collect())
    }

    async fn create_related_item(&self, case_id: &str, input: &CreateRelatedItemInput) -> Result<String, ApiError> {
        const OP: &str = "CreateRelatedItem";
        let (kind, content) = related_item_content(OP, &input.content)?;
        let output = self
            .client()
            .create_related_item()
            .domain_id(&self.domain_id)
            .case_id(case_id)
            .r#type(kind)
            .content(content)
            .performed_by(performed_by(&input.performed_by))
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        Ok(output.related_item_id().to_owned())
    }

    async fn update_related_item(&self, case_id: &str, related_item_id: &str, input: &UpdateRelatedItemInput) -> Result<(), ApiError> {
        const OP: &str = "UpdateRelatedItem";
        let content = match &input.content {
            RelatedItemUpdateContent::Comment { body, .. } => t::RelatedItemUpdateContent::Comment(
                t::CommentUpdateContent::builder()
                    .body(body)
                    .content_type(t::CommentBodyTextType::Plaintext)
                    .build()
                    .map_err(|e| build_error(OP, e))?,
            ),
            RelatedItemUpdateContent::Custom { fields } => t::RelatedItemUpdateContent::Custom(
                t::CustomUpdateContent::builder().set_fields(Some(field_values(OP, fields)?)).build().map_err(|e| build_error(OP, e))?,
            ),
        };
        self.client()
            .update_related_item()
            .domain_id(&self.domain_id)
            .case_id(case_id)
            .related_item_id(related_item_id)
            .content(content)
            .performed_by(performed_by(&input.performed_by))
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        Ok(())
    }

    async fn list_fields(&self) -> Result<Vec<FieldInfo>, ApiError> {
        let pages = self
            .client()
            .list_fields()
            .domain_id(&self.domain_id)
            .max_results(limits::LIST_PAGE)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("ListFields", e))?;
        Ok(pages
            .iter()
            .flat_map(|page| page.fields())
            .map(|f| FieldInfo { id: f.field_id().to_owned(), name: f.name().to_owned(), field_type: field_type(f.r#type()) })
            .collect())
    }

    async fn list_templates(&self) -> Result<Vec<TemplateInfo>, ApiError> {
        let pages = self
            .client()
            .list_templates()
            .domain_id(&self.domain_id)
            .max_results(limits::LIST_PAGE)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("ListTemplates", e))?;
        Ok(pages
            .iter()
            .flat_map(|page| page.templates())
            .map(|t| TemplateInfo {
                id: t.template_id().to_owned(),
                name: t.name().to_owned(),
                active: *t.status() == t::TemplateStatus::Active,
            })
            .collect())
    }

    async fn list_field_options(&self, field_id: &str) -> Result<Vec<FieldOption>, ApiError> {
        let pages = self
            .client()
            .list_field_options()
            .domain_id(&self.domain_id)
            .field_id(field_id)
            .max_results(limits::LIST_PAGE)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("ListFieldOptions", e))?;
        Ok(pages.iter().flat_map(|page| page.options()).map(|o| FieldOption { value: o.value().to_owned(), active: o.active() }).collect())
    }

    async fn get_template(&self, template_id: &str) -> Result<TemplateDetail, ApiError> {
        let output = self
            .client()
            .get_template()
            .domain_id(&self.domain_id)
            .template_id(template_id)
            .send()
            .await
            .map_err(|e| api_error("GetTemplate", e))?;
        Ok(TemplateDetail {
            id: output.template_id().to_owned(),
            active: *output.status() == t::TemplateStatus::Active && !output.deleted(),
            required_fields: output.required_fields().iter().map(|r| r.field_id().to_owned()).collect(),
        })
    }
}
