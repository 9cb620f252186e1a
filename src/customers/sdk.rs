//! `ProfilesApi` over `aws-sdk-customerprofiles`: the one place that knows that SDK's types.

use std::collections::HashMap;

use aws_sdk_customerprofiles as profiles;
use aws_sdk_customerprofiles::types::{AdditionalSearchKey, LogicalOperator};

use super::{NewProfile, ProfileMatch, ProfilesApi};
use crate::aws::{LazyClient, retry_partition};
use crate::cases::ApiError;
use crate::cases::sdk::{api_error, build_error};
use crate::rules::customer::SearchTerm;
use crate::telemetry::sdk::CountCalls;

/// The SDK client bound to one profiles domain. The client is built on first use: most events
/// name their profile, and a deployment without Customer Profiles never needs it.
pub struct SdkProfiles {
    client: LazyClient<profiles::Client>,
    domain: Option<String>,
}

impl SdkProfiles {
    /// Builds the client from `config` (with the function's retry partition) when the first call needs it.
    pub fn lazy(config: aws_config::SdkConfig, domain: Option<String>) -> SdkProfiles {
        let build = |config: &aws_config::SdkConfig| {
            profiles::Client::from_conf(
                profiles::config::Builder::from(config).retry_partition(retry_partition()).interceptor(CountCalls).build(),
            )
        };
        SdkProfiles { client: LazyClient::lazy(config, build), domain }
    }

    fn client(&self) -> &profiles::Client {
        self.client.get()
    }

    fn domain_name(&self, operation: &'static str) -> Result<&str, ApiError> {
        self.domain.as_deref().ok_or_else(|| ApiError {
            operation,
            kind: crate::cases::ApiErrorKind::Validation,
            message: "no profiles domain is configured (PROFILES_DOMAIN_NAME)".into(),
        })
    }
}

impl ProfilesApi for SdkProfiles {
    fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    async fn search_profiles(&self, terms: &[SearchTerm], max_results: i32) -> Result<Vec<ProfileMatch>, ApiError> {
        const OP: &str = "SearchProfiles";
        let domain = self.domain_name(OP)?;
        let Some((first, rest)) = terms.split_first() else { return Ok(Vec::new()) };
        let mut request =
            self.client().search_profiles().domain_name(domain).key_name(&first.key_name).values(&first.value).max_results(max_results);
        for term in rest {
            let key = AdditionalSearchKey::builder().key_name(&term.key_name).values(&term.value).build();
            request = request.additional_search_keys(key.map_err(|e| build_error(OP, e))?);
        }
        if !rest.is_empty() {
            request = request.logical_operator(LogicalOperator::Or);
        }
        let output = request.send().await.map_err(|e| api_error(OP, e))?;
        Ok(output
            .items()
            .iter()
            .filter_map(|profile| {
                Some(ProfileMatch {
                    profile_id: profile.profile_id()?.to_owned(),
                    attributes: profile.attributes().map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
                })
            })
            .collect())
    }

    async fn create_profile(&self, profile: &NewProfile) -> Result<String, ApiError> {
        const OP: &str = "CreateProfile";
        let domain = self.domain_name(OP)?;
        let attributes: HashMap<String, String> = profile.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let output = self
            .client()
            .create_profile()
            .domain_name(domain)
            .set_phone_number(profile.phone_number.clone())
            .set_email_address(profile.email_address.clone())
            .set_account_number(profile.account_number.clone())
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(|e| api_error(OP, e))?;
        Ok(output.profile_id().to_owned())
    }
}
