//! `CasesApi` over `aws-sdk-connectcases`: the one place that knows the SDK's types.

use aws_sdk_connectcases as cases;
use aws_sdk_connectcases::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_connectcases::types as t;

use super::model::*;
use super::{ApiError, ApiErrorKind, CasesApi};
use crate::aws::{LazyClient, retry_partition};

/// The SDK client bound to one Cases domain, built once per process. In Lambda it is built on
/// first use: constructing it (mostly the SDK's endpoint partition table) was a sixth of the cold
/// start, and events skipped before any call (self-caused changes, no matching rule) never need it.
#[derive(Debug)]
pub struct SdkCases {
    client: LazyClient<cases::Client>,
    domain_id: String,
}

impl SdkCases {
    pub fn new(client: cases::Client, domain_id: impl Into<String>) -> SdkCases {
        SdkCases { client: LazyClient::ready(client), domain_id: domain_id.into() }
    }

    /// Builds the client from `config` (with the function's retry partition) when the first call needs it.
    pub fn lazy(config: aws_config::SdkConfig, domain_id: impl Into<String>) -> SdkCases {
        let build = |config: &aws_config::SdkConfig| {
            let config = cases::config::Builder::from(config).retry_partition(retry_partition());
            // Throttled attempts move the pacing's grid (see `paced`).
            cases::Client::from_conf(config.interceptor(super::throttled::ThrottleSignal).build())
        };
        SdkCases { client: LazyClient::lazy(config, build), domain_id: domain_id.into() }
    }

    fn client(&self) -> &cases::Client {
        self.client.get()
    }
}

/// Turns an SDK error into an `ApiError`, telling retryable failures from permanent ones.
pub(crate) fn api_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    use ApiErrorKind::*;
    let kind = match &error {
        SdkError::TimeoutError(_) => Timeout,
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Timeout,
        SdkError::DispatchFailure(failure) if failure.is_user() => Validation,
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Network,
        SdkError::ConstructionFailure(_) => Validation,
        SdkError::ServiceError(service) => match service.err().code() {
            Some("ThrottlingException") => Throttling,
            Some("InternalServerException") => ServerError,
            Some("ValidationException" | "BadRequestException") => Validation,
            Some("ResourceNotFoundException") => NotFound,
            Some("ConflictException") => Conflict,
            Some("AccessDeniedException") => AccessDenied,
            Some("ServiceQuotaExceededException") => QuotaExceeded,
            _ => Other,
        },
        _ => Other,
    };
    let message = match error.message() {
        Some(message) => redact_quoted_values(message),
        None => DisplayErrorContext(&error).to_string(),
    };
    ApiError { operation, kind, message }
}

/// The service's message with every quoted value replaced by a description of it. Validation
/// messages quote what they were given (`Value '+1206…' at 'fields.1.member.value' failed …`),
/// which may be personal data; member paths (`fields[2].value`, `fields.1.member.value`) are kept.
fn redact_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['\'', '"']) {
        let quote = rest[start..].chars().next().expect("found a quote");
        let Some(length) = rest[start + 1..].find(quote) else { break };
        let quoted = &rest[start + 1..start + 1 + length];
        out.push_str(&rest[..start]);
        if is_member_path(quoted) {
            out.push(quote);
            out.push_str(quoted);
            out.push(quote);
        } else {
            out.push_str(&format!("<a value of {} characters>", quoted.chars().count()));
        }
        rest = &rest[start + 2 + length..];
    }
    out.push_str(rest);
    out
}

/// `fields[2].value` or `fields.1.member.value`: a member name, then members and list indexes.
fn is_member_path(text: &str) -> bool {
    let mut parts = text.split(['.', '[', ']']).filter(|p| !p.is_empty());
    let starts_with_a_name = parts.next().is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic()));
    let allowed = text.chars().all(|c| c.is_ascii_alphanumeric() || ".[]_".contains(c));
    starts_with_a_name && allowed && text.split(['.', '[', ']']).any(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
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
    Ok(match filter {
        CaseFilter::AndAll(all) => t::CaseFilter::AndAll(all.iter().map(|f| case_filter(operation, f)).collect::<Result<_, _>>()?),
        CaseFilter::Field(FieldFilter::EqualTo(entry)) => t::CaseFilter::Field(t::FieldFilter::EqualTo(
            t::FieldValue::builder().id(&entry.id).value(field_value_union(&entry.value)).build().map_err(|e| build_error(operation, e))?,
        )),
    })
}

fn related_item_filter(filter: &RelatedItemFilter) -> t::RelatedItemTypeFilter {
    match filter {
        RelatedItemFilter::Contact { contact_arn } => {
            t::RelatedItemTypeFilter::Contact(t::ContactFilter::builder().contact_arn(contact_arn).build())
        }
        RelatedItemFilter::Comment {} => t::RelatedItemTypeFilter::Comment(t::CommentFilter::builder().build()),
        RelatedItemFilter::File { file_arn } => t::RelatedItemTypeFilter::File(t::FileFilter::builder().file_arn(file_arn).build()),
        RelatedItemFilter::Sla { name } => t::RelatedItemTypeFilter::Sla(t::SlaFilter::builder().name(name).build()),
    }
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
    async fn search_cases(&self, input: &SearchCasesInput) -> Result<Vec<String>, ApiError> {
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
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        Ok(output.cases().iter().flatten().map(|c| c.case_id().to_owned()).collect())
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
            .set_filters(Some(input.filters.iter().map(related_item_filter).collect()))
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
                association_time: Some((item.association_time().secs(), item.association_time().subsec_nanos())),
            })
            .collect();
        Ok(RelatedItemsPage { items, next_token: output.next_token().map(str::to_owned) })
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
        Ok(output
            .fields()
            .iter()
            .filter_map(|field| {
                let value = match field.value()? {
                    t::FieldValueUnion::StringValue(s) => FieldValue::String(s.clone()),
                    t::FieldValueUnion::DoubleValue(n) => FieldValue::Double(*n),
                    t::FieldValueUnion::BooleanValue(b) => FieldValue::Boolean(*b),
                    t::FieldValueUnion::UserArnValue(arn) => FieldValue::UserArn(arn.clone()),
                    t::FieldValueUnion::EmptyValue(_) => FieldValue::empty(),
                    _ => return None,
                };
                Some((field.id().to_owned(), value))
            })
            .collect())
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

    async fn list_fields(&self) -> Result<Vec<FieldInfo>, ApiError> {
        let pages = self
            .client()
            .list_fields()
            .domain_id(&self.domain_id)
            .max_results(100)
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
            .max_results(100)
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
}

#[cfg(test)]
mod tests {
    use super::redact_quoted_values;

    #[test]
    fn quoted_values_are_described_and_member_paths_kept() {
        assert_eq!(
            redact_quoted_values("1 validation error detected: Value '+12065550199' at 'fields.1.member.value.stringValue' failed"),
            "1 validation error detected: Value <a value of 12 characters> at 'fields.1.member.value.stringValue' failed"
        );
        assert_eq!(
            redact_quoted_values(
                "Invalid value for field 'f-1' (Priority) at 'fields[1].value': 'pat@example.org' is not an active option"
            ),
            "Invalid value for field <a value of 3 characters> (Priority) at 'fields[1].value': <a value of 15 characters> is not an active option"
        );
        assert_eq!(redact_quoted_values("got \"Jordan Rivera\" and it's over"), "got <a value of 13 characters> and it's over");
        assert_eq!(redact_quoted_values("Rate exceeded"), "Rate exceeded");
        assert_eq!(redact_quoted_values("'2065550199'"), "<a value of 10 characters>");
    }
}
