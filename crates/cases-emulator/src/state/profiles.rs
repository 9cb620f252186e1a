//! The Amazon Connect Customer Profiles backend (the subset the automation uses): profile
//! domains holding standard profiles, profile creation and `SearchProfiles` matching.
//!
//! A [`Profile`] is kept as the JSON object of the API's `Profile` shape (PascalCase members:
//! `ProfileId`, `FirstName`, `PhoneNumber`, `Attributes`, `Address`, …), already validated by
//! [`crate::wire::profiles::validate::create_profile`], so everything the SDK can send is stored and returned as
//! sent. Profiles are kept in creation order, which is also the order of search results.
//!
//! Search semantics ([`SearchKey::matched_values`]): `_phone` matches `PhoneNumber`,
//! `MobilePhoneNumber`, `HomePhoneNumber` and `BusinessPhoneNumber` exactly; `_email` matches
//! `EmailAddress`, `PersonalEmailAddress` and `BusinessEmailAddress` case-insensitively;
//! `_account` matches `AccountNumber`, `_profileId` matches `ProfileId`, `_fullName` matches
//! `"First Last"` / `"First Middle Last"` exactly; any other key name matches `Attributes[key]`
//! exactly. The values of one key are OR-ed; the keys are combined with the
//! [`LogicalOperator`] (default `OR`, as documented by the model).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::{Change, State};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::util::format_ts;

/// `DefaultExpirationDays` of a profile domain created without one (the console's default).
pub const DEFAULT_EXPIRATION_DAYS: i32 = 366;

/// The profile members `_phone` searches.
pub const PHONE_MEMBERS: [&str; 4] = ["PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber"];
/// The profile members `_email` searches.
pub const EMAIL_MEMBERS: [&str; 3] = ["EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress"];

/// A Customer Profiles domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDomain {
    pub name: String,
    pub default_expiration_days: i32,
    /// RFC 3339 (rendered as epoch seconds on the wire).
    pub created_at: String,
    pub last_updated_at: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// In creation order.
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

impl ProfileDomain {
    /// A profile by id.
    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id() == id)
    }
}

/// A standard profile: the JSON object of the `Profile` shape (always with `ProfileId`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Profile(pub Map<String, Json>);

impl Profile {
    /// `ProfileId` (empty if unset, which a stored profile never is).
    pub fn id(&self) -> &str {
        self.text("ProfileId").unwrap_or_default()
    }

    /// A string member.
    pub fn text(&self, member: &str) -> Option<&str> {
        self.0.get(member).and_then(Json::as_str)
    }

    /// `Attributes[key]`.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.0.get("Attributes").and_then(|a| a.get(key)).and_then(Json::as_str)
    }

    /// `"First [Middle] Last"` from the members that are set (None when none is).
    pub fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = ["FirstName", "MiddleName", "LastName"].iter().filter_map(|m| self.text(m)).collect();
        if parts.is_empty() { None } else { Some(parts.join(" ")) }
    }

    /// The profile as JSON.
    pub fn to_json(&self) -> Json {
        Json::Object(self.0.clone())
    }
}

/// How the search keys combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogicalOperator {
    And,
    /// The documented default when `LogicalOperator` is absent.
    #[default]
    Or,
}

impl LogicalOperator {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "AND" => Some(LogicalOperator::And),
            "OR" => Some(LogicalOperator::Or),
            _ => None,
        }
    }
}

/// A key name with its values (a search key, or one `FoundByItems` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchKey {
    pub key_name: String,
    pub values: Vec<String>,
}

impl SearchKey {
    pub fn new(key_name: impl Into<String>, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        SearchKey { key_name: key_name.into(), values: values.into_iter().map(Into::into).collect() }
    }

    /// The values of this key that `profile` matches, in request order, without duplicates.
    pub fn matched_values(&self, profile: &Profile) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in &self.values {
            if !out.contains(v) && key_matches(&self.key_name, v, profile) {
                out.push(v.clone());
            }
        }
        out
    }
}

fn key_matches(key: &str, value: &str, p: &Profile) -> bool {
    match key {
        "_phone" => PHONE_MEMBERS.iter().any(|m| p.text(m) == Some(value)),
        "_email" => {
            let v = value.to_lowercase();
            EMAIL_MEMBERS.iter().any(|m| p.text(m).is_some_and(|e| e.to_lowercase() == v))
        }
        "_account" => p.text("AccountNumber") == Some(value),
        "_profileId" => p.id() == value,
        "_fullName" => p.full_name().as_deref() == Some(value),
        other => p.attribute(other) == Some(value),
    }
}

/// A validated SearchProfiles request (the first key is `KeyName`/`Values`, then the
/// `AdditionalSearchKeys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSearch {
    pub keys: Vec<SearchKey>,
    pub operator: LogicalOperator,
}

impl ProfileSearch {
    /// The `FoundByItems` of `profile` if it matches: every key it matched, with the values it
    /// matched (with AND that is every key of the request).
    pub fn found_by(&self, profile: &Profile) -> Option<Vec<SearchKey>> {
        let mut found = Vec::new();
        for k in &self.keys {
            let values = k.matched_values(profile);
            if values.is_empty() {
                if self.operator == LogicalOperator::And {
                    return None;
                }
            } else {
                found.push(SearchKey { key_name: k.key_name.clone(), values });
            }
        }
        if found.is_empty() { None } else { Some(found) }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileHit {
    pub profile: Profile,
    pub found_by: Vec<SearchKey>,
}

/// A new `ProfileId`: 32 lowercase hexadecimal characters.
pub fn new_profile_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `^[a-f0-9]{32}$`.
pub fn is_profile_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn domain_not_found(name: &str) -> ApiError {
    ApiError {
        kind: ErrorKind::ResourceNotFoundException,
        message: format!("Domain {name} does not exist"),
        resource_id: Some(name.to_string()),
        resource_type: Some("ProfileDomain".into()),
    }
}

impl State {
    /// A profile domain, or 404.
    pub fn profile_domain(&self, name: &str) -> ApiResult<&ProfileDomain> {
        self.profile_domains.iter().find(|d| d.name == name).ok_or_else(|| domain_not_found(name))
    }

    /// A profile domain for writing, or 404.
    pub fn profile_domain_mut(&mut self, name: &str) -> ApiResult<&mut ProfileDomain> {
        self.profile_domains.iter_mut().find(|d| d.name == name).ok_or_else(|| domain_not_found(name))
    }

    /// Creates an empty profile domain (seeds; there is no CreateDomain for profiles).
    pub fn create_profile_domain(
        &mut self,
        name: &str,
        default_expiration_days: Option<i32>,
        tags: BTreeMap<String, String>,
        now: time::OffsetDateTime,
    ) -> ApiResult<&ProfileDomain> {
        if self.profile_domains.iter().any(|d| d.name == name) {
            return Err(ApiError::validation(format!("Domain {name} already exists")));
        }
        let now = format_ts(now);
        self.profile_domains.push(ProfileDomain {
            name: name.to_string(),
            default_expiration_days: default_expiration_days.unwrap_or(DEFAULT_EXPIRATION_DAYS),
            created_at: now.clone(),
            last_updated_at: now,
            tags,
            profiles: Vec::new(),
        });
        Ok(self.profile_domains.last().expect("just pushed"))
    }

    /// Stores a new profile (validated members, no `ProfileId`) with the given id or a new one;
    /// returns the id. Emits no case events.
    pub fn create_profile(&mut self, domain: &str, profile_id: Option<&str>, mut profile: Profile) -> ApiResult<(String, Vec<Change>)> {
        let d = self.profile_domain_mut(domain)?;
        let id = match profile_id {
            Some(id) => {
                if !is_profile_id(id) {
                    return Err(ApiError::validation(format!("ProfileId '{id}' must match ^[a-f0-9]{{32}}$")));
                }
                if d.profile(id).is_some() {
                    return Err(ApiError::validation(format!("Profile {id} already exists in domain {domain}")));
                }
                id.to_string()
            }
            None => loop {
                let id = new_profile_id();
                if d.profile(&id).is_none() {
                    break id;
                }
            },
        };
        let mut obj = Map::new();
        obj.insert("ProfileId".into(), Json::String(id.clone()));
        obj.append(&mut profile.0);
        obj.remove("FoundByItems");
        d.profiles.push(Profile(obj));
        Ok((id, Vec::new()))
    }

    /// Every profile of `domain` that matches, in creation order.
    pub fn search_profiles(&self, domain: &str, search: &ProfileSearch) -> ApiResult<Vec<ProfileHit>> {
        let d = self.profile_domain(domain)?;
        Ok(d.profiles.iter().filter_map(|p| search.found_by(p).map(|found_by| ProfileHit { profile: p.clone(), found_by })).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(v: Json) -> Profile {
        match v {
            Json::Object(m) => Profile(m),
            _ => unreachable!(),
        }
    }

    fn state() -> State {
        let mut st = State::new("us-east-1", "123456789012");
        st.create_profile_domain("d", None, BTreeMap::new(), time::OffsetDateTime::UNIX_EPOCH).unwrap();
        let seed = [
            json!({"FirstName": "Alex", "LastName": "Morgan", "PhoneNumber": "+12065550123",
                   "EmailAddress": "Alex.Morgan@Example.com", "AccountNumber": "ACC-1"}),
            json!({"FirstName": "Sam", "MiddleName": "J", "LastName": "Lee", "MobilePhoneNumber": "+12065550188",
                   "BusinessEmailAddress": "sam@corp.example"}),
            json!({"FirstName": "Kim", "HomePhoneNumber": "+12065550188", "Attributes": {"tier": "gold"}}),
            json!({"BusinessPhoneNumber": "+12065550199", "PersonalEmailAddress": "x@y.example", "Attributes": {"tier": "silver"}}),
        ];
        for (i, p) in seed.into_iter().enumerate() {
            st.create_profile("d", Some(&format!("{i:032x}")), profile(p)).unwrap();
        }
        st
    }

    fn search(st: &State, keys: Vec<SearchKey>, operator: LogicalOperator) -> Vec<String> {
        st.search_profiles("d", &ProfileSearch { keys, operator }).unwrap().iter().map(|h| h.profile.id().to_string()).collect()
    }

    fn id(i: usize) -> String {
        format!("{i:032x}")
    }

    #[test]
    fn phone_matches_every_phone_member_exactly() {
        let st = state();
        let or = LogicalOperator::Or;
        assert_eq!(search(&st, vec![SearchKey::new("_phone", ["+12065550123"])], or), [id(0)]);
        assert_eq!(search(&st, vec![SearchKey::new("_phone", ["+12065550188"])], or), [id(1), id(2)]);
        assert_eq!(search(&st, vec![SearchKey::new("_phone", ["+12065550199"])], or), [id(3)]);
        assert!(search(&st, vec![SearchKey::new("_phone", ["12065550123"])], or).is_empty());
        // values of one key are OR-ed
        assert_eq!(search(&st, vec![SearchKey::new("_phone", ["+12065550199", "+12065550123"])], or), [id(0), id(3)]);
    }

    #[test]
    fn email_is_case_insensitive_over_the_three_members() {
        let st = state();
        let or = LogicalOperator::Or;
        assert_eq!(search(&st, vec![SearchKey::new("_email", ["alex.morgan@example.com"])], or), [id(0)]);
        assert_eq!(search(&st, vec![SearchKey::new("_email", ["SAM@corp.example"])], or), [id(1)]);
        assert_eq!(search(&st, vec![SearchKey::new("_email", ["x@y.example"])], or), [id(3)]);
    }

    #[test]
    fn account_profile_id_full_name_and_attributes() {
        let st = state();
        let or = LogicalOperator::Or;
        assert_eq!(search(&st, vec![SearchKey::new("_account", ["ACC-1"])], or), [id(0)]);
        assert!(search(&st, vec![SearchKey::new("_account", ["acc-1"])], or).is_empty());
        assert_eq!(search(&st, vec![SearchKey::new("_profileId", [id(2)])], or), [id(2)]);
        assert_eq!(search(&st, vec![SearchKey::new("_fullName", ["Alex Morgan"])], or), [id(0)]);
        assert_eq!(search(&st, vec![SearchKey::new("_fullName", ["Sam J Lee"])], or), [id(1)]);
        assert!(search(&st, vec![SearchKey::new("_fullName", ["Sam Lee"])], or).is_empty());
        assert_eq!(search(&st, vec![SearchKey::new("tier", ["gold"])], or), [id(2)]);
        assert!(search(&st, vec![SearchKey::new("tier", ["Gold"])], or).is_empty());
        assert!(search(&st, vec![SearchKey::new("_caseId", ["gold"])], or).is_empty());
    }

    #[test]
    fn keys_combine_with_the_logical_operator() {
        let st = state();
        let keys = || vec![SearchKey::new("_phone", ["+12065550188"]), SearchKey::new("tier", ["gold", "silver"])];
        assert_eq!(search(&st, keys(), LogicalOperator::And), [id(2)]);
        assert_eq!(search(&st, keys(), LogicalOperator::Or), [id(1), id(2), id(3)]);
        assert_eq!(LogicalOperator::default(), LogicalOperator::Or);
    }

    #[test]
    fn found_by_lists_the_matched_keys_and_values() {
        let st = state();
        let s = ProfileSearch {
            keys: vec![SearchKey::new("_phone", ["+12065550188", "+10000000000"]), SearchKey::new("tier", ["gold"])],
            operator: LogicalOperator::Or,
        };
        let hits = st.search_profiles("d", &s).unwrap();
        assert_eq!(hits[0].found_by, [SearchKey::new("_phone", ["+12065550188"])]);
        assert_eq!(hits[1].found_by, [SearchKey::new("_phone", ["+12065550188"]), SearchKey::new("tier", ["gold"])]);
    }

    #[test]
    fn profile_ids_and_domains() {
        let mut st = state();
        let (pid, changes) = st.create_profile("d", None, Profile::default()).unwrap();
        assert!(is_profile_id(&pid), "{pid}");
        assert!(changes.is_empty());
        assert_eq!(st.profile_domain("d").unwrap().profiles.last().unwrap().id(), pid);
        assert!(st.create_profile("d", Some(&id(0)), Profile::default()).is_err(), "duplicate id");
        assert!(st.create_profile("d", Some("ABC"), Profile::default()).is_err(), "bad id");
        assert_eq!(st.profile_domain("nope").unwrap_err().kind, ErrorKind::ResourceNotFoundException);
        assert!(st.create_profile_domain("d", None, BTreeMap::new(), time::OffsetDateTime::UNIX_EPOCH).is_err());
        assert!(!is_profile_id("F768064F958507AD239EED24C2C063FE"));
    }
}
