//! An in-memory `ProfilesApi` for handler tests, holding the local service's demo profiles.

use std::collections::BTreeMap;
use std::sync::Mutex;

use cases_automation::cases::ApiError;
use cases_automation::customers::{NewProfile, ProfileMatch, ProfilesApi};
use cases_automation::rules::customer::SearchTerm;
use serde_json::Value;

pub struct FakeProfiles {
    profiles: Mutex<Vec<Value>>,
    calls: Mutex<Vec<&'static str>>,
}

impl FakeProfiles {
    /// The `demo-profiles` domain of the local service's demo seed.
    pub fn demo() -> FakeProfiles {
        let seed: Value = serde_json::from_str(cases_emulator::seed::DEMO_SEED_JSON).unwrap();
        let profiles = seed["profileDomains"][0]["profiles"].as_array().unwrap().clone();
        FakeProfiles { profiles: Mutex::new(profiles), calls: Mutex::new(Vec::new()) }
    }

    pub fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().unwrap().clone()
    }

    pub fn profiles(&self) -> Vec<Value> {
        self.profiles.lock().unwrap().clone()
    }
}

fn matches(profile: &Value, term: &SearchTerm) -> bool {
    let any = |members: &[&str]| members.iter().any(|m| profile[*m].as_str() == Some(term.value.as_str()));
    match term.key_name.as_str() {
        "_phone" => any(&["PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber"]),
        "_email" => any(&["EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress"]),
        "_account" => any(&["AccountNumber"]),
        key => profile["Attributes"][key].as_str() == Some(term.value.as_str()),
    }
}

impl ProfilesApi for FakeProfiles {
    fn domain(&self) -> Option<&str> {
        Some("demo-profiles")
    }

    async fn search_profiles(&self, terms: &[SearchTerm], max_results: i32) -> Result<Vec<ProfileMatch>, ApiError> {
        self.calls.lock().unwrap().push("SearchProfiles");
        let profiles = self.profiles.lock().unwrap();
        Ok(profiles
            .iter()
            .filter(|p| terms.iter().any(|t| matches(p, t)))
            .take(max_results as usize)
            .map(|p| ProfileMatch {
                profile_id: p["ProfileId"].as_str().unwrap().into(),
                attributes: serde_json::from_value(p["Attributes"].clone()).unwrap_or_default(),
            })
            .collect())
    }

    async fn create_profile(&self, profile: &NewProfile) -> Result<String, ApiError> {
        self.calls.lock().unwrap().push("CreateProfile");
        let mut profiles = self.profiles.lock().unwrap();
        let id = format!("{:032x}", profiles.len() + 1);
        let attributes: BTreeMap<_, _> = profile.attributes.clone();
        profiles.push(serde_json::json!({
            "ProfileId": id,
            "PhoneNumber": profile.phone_number,
            "EmailAddress": profile.email_address,
            "AccountNumber": profile.account_number,
            "Attributes": attributes,
        }));
        Ok(id)
    }
}
