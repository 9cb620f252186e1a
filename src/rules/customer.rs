//! The `customer` value source: a Customer Profiles ARN for `customer_id`, from the event when it
//! names the profile, else found by phone number, e-mail, account number or a custom search key.
//!
//! ```yaml
//! customer_id:
//!   customer:
//!     profile: { path: $.detail.tags.customerProfileArn, default: null }  # ARN or profile id, used as is
//!     phone: $.detail.customerEndpoint.address      # normalised to E.164, then SearchProfiles on _phone
//!     email: $.Details.Parameters.customerEmail     # _email
//!     account: $.detail.accountNumber               # _account
//!     keys: { loyaltyId: $.detail.loyaltyId }       # custom search keys of the profiles domain
//!     country: US            # for numbers written without a country code
//!     ifNone: create         # fail (default) | skip | create
//!     ifSeveral: newest      # fail (default) | first | newest
//!     newestBy: createdAt    # the profile attribute `newest` compares (default createdAt)
//! ```
//!
//! This module is pure: it turns an event into a [`CustomerQuery`]. Looking the query up
//! (cache, `SearchProfiles`, `CreateProfile`) is `crate::customers`.

use std::collections::BTreeMap;
use std::fmt;

use minijinja::Environment;
use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, Region};
use serde::Deserialize;
use serde_json::Value;

use super::value::{CompiledValue, Limit, TemplateCheck, TemplateContext, ValueSpec};
use crate::cases::limits::PROFILE_SEARCH_TEXT;

/// The section as written in the rules file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomerSpec {
    pub profile: Option<ValueSpec>,
    pub phone: Option<ValueSpec>,
    pub email: Option<ValueSpec>,
    pub account: Option<ValueSpec>,
    #[serde(default)]
    pub keys: BTreeMap<String, ValueSpec>,
    pub country: Option<String>,
    #[serde(default)]
    pub if_none: IfNoProfile,
    #[serde(default)]
    pub if_several: IfSeveral,
    pub newest_by: Option<String>,
}

/// What to do when no profile matches (or the event has no usable identifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IfNoProfile {
    /// A permanent error naming the keys that were tried.
    #[default]
    Fail,
    /// The rule does nothing for this event.
    Skip,
    /// `CreateProfile` with the identifiers the event has.
    Create,
}

/// What to do when several profiles match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IfSeveral {
    #[default]
    Fail,
    /// The first profile SearchProfiles returns.
    First,
    /// The profile whose `newestBy` attribute is greatest: SearchProfiles returns no timestamps,
    /// so the time has to be an attribute of the profile (profiles this function creates get
    /// `createdAt`).
    Newest,
    /// The profile whose `newestBy` attribute is smallest (profiles without it first): a choice
    /// that profiles created later do not change, so redeliveries keep choosing the same customer.
    Oldest,
}

/// The attribute `ifSeveral: newest` compares when the rule names none.
pub const DEFAULT_NEWEST_BY: &str = "createdAt";

/// A search key of Customer Profiles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SearchKey {
    Phone,
    Email,
    Account,
    Custom(String),
}

impl SearchKey {
    /// The `KeyName` SearchProfiles takes.
    pub fn key_name(&self) -> &str {
        match self {
            SearchKey::Phone => "_phone",
            SearchKey::Email => "_email",
            SearchKey::Account => "_account",
            SearchKey::Custom(name) => name,
        }
    }

    /// Where the value sits in the rule, e.g. `customer.phone`.
    fn rule_path(&self) -> String {
        match self {
            SearchKey::Phone => "customer.phone".into(),
            SearchKey::Email => "customer.email".into(),
            SearchKey::Account => "customer.account".into(),
            SearchKey::Custom(name) => format!("customer.keys.{name}"),
        }
    }
}

/// A compiled `customer` source.
#[derive(Debug, Clone)]
pub struct CompiledCustomer {
    pub profile: Option<CompiledValue>,
    /// In the order SearchProfiles receives them.
    pub keys: Vec<(SearchKey, CompiledValue)>,
    pub country: Option<Region>,
    pub if_none: IfNoProfile,
    pub if_several: IfSeveral,
    pub newest_by: String,
}

impl CompiledCustomer {
    /// Whether the lookup searches by phone number (and so needs libphonenumber's metadata).
    pub fn searches_by_phone(&self) -> bool {
        self.keys.iter().any(|(key, _)| *key == SearchKey::Phone)
    }
}

/// SearchProfiles takes one key plus at most four additional ones.
pub const MAX_SEARCH_KEYS: usize = 5;

impl CustomerSpec {
    /// Compiles the section; `check` says whether its templates are compiled now.
    pub fn compile(&self, check: &TemplateCheck) -> Result<CompiledCustomer, String> {
        let compile = |key: &dyn std::fmt::Display, spec: &ValueSpec| {
            if spec.is_customer() {
                return Err(format!("customer.{key}: a `customer` value cannot be nested in another"));
            }
            spec.compile(check).map_err(|e| format!("customer.{key}: {e}"))
        };
        let profile = self.profile.as_ref().map(|spec| compile(&"profile", spec)).transpose()?;
        let mut keys = Vec::new();
        for (key, spec) in [(SearchKey::Phone, &self.phone), (SearchKey::Email, &self.email), (SearchKey::Account, &self.account)] {
            if let Some(spec) = spec {
                keys.push((key.clone(), compile(&key.key_name().trim_start_matches('_'), spec)?));
            }
        }
        for (key_name, spec) in &self.keys {
            if key_name.is_empty()
                || key_name.len() > PROFILE_SEARCH_TEXT
                || !key_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!("customer.keys: `{key_name}` is not a search key name (1 to 255 of A-Z a-z 0-9 _ -)"));
            }
            if key_name.starts_with('_') {
                return Err(format!(
                    "customer.keys: `{key_name}` is a predefined key; use `phone`, `email` or `account` (normalised), or your own key name"
                ));
            }
            keys.push((SearchKey::Custom(key_name.clone()), compile(&format_args!("keys.{key_name}"), spec)?));
        }
        if profile.is_none() && keys.is_empty() {
            return Err("customer: give `profile` or at least one of `phone`, `email`, `account`, `keys`".into());
        }
        if keys.len() > MAX_SEARCH_KEYS {
            return Err(format!("customer: SearchProfiles takes at most {MAX_SEARCH_KEYS} search keys, this has {}", keys.len()));
        }
        let country = match &self.country {
            None => None,
            Some(code) => Some(
                code.trim()
                    .to_ascii_uppercase()
                    .parse::<Region>()
                    .map_err(|_| format!("customer.country: `{code}` is not a two-letter country code (ISO 3166, e.g. US, GB, DE)"))?,
            ),
        };
        if self.if_none == IfNoProfile::Create && keys.iter().all(|(k, _)| matches!(k, SearchKey::Custom(_))) {
            return Err("customer.ifNone: `create` needs `phone`, `email` or `account` to create the profile with".into());
        }
        if self.newest_by.is_some() && !matches!(self.if_several, IfSeveral::Newest | IfSeveral::Oldest) {
            return Err("customer.newestBy: only used with `ifSeveral: newest` or `oldest`".into());
        }
        Ok(CompiledCustomer {
            profile,
            keys,
            country,
            if_none: self.if_none,
            if_several: self.if_several,
            newest_by: self.newest_by.clone().unwrap_or_else(|| DEFAULT_NEWEST_BY.into()),
        })
    }
}

/// A profile the event names itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KnownProfile {
    /// A full Customer Profiles ARN, used as is.
    Arn(String),
    /// A profile id; the ARN is built with the configured profiles domain.
    Id(String),
}

/// One search key with its normalised value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SearchTerm {
    pub key_name: String,
    pub value: String,
}

/// What to look up for one event. Equal queries share one lookup.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerQuery {
    pub known: Option<KnownProfile>,
    pub terms: Vec<SearchTerm>,
    /// Why each identifier the rule names could not be used for this event (no values in it).
    pub unusable: Vec<String>,
    pub if_none: IfNoProfile,
    pub if_several: IfSeveral,
    pub newest_by: String,
}

impl CustomerQuery {
    /// The value of a search key, for CreateProfile.
    pub fn term(&self, key: &SearchKey) -> Option<&str> {
        self.terms.iter().find(|t| t.key_name == key.key_name()).map(|t| t.value.as_str())
    }

    /// `_phone, _email`: the keys searched, never their values.
    pub fn key_names(&self) -> String {
        self.terms.iter().map(|t| t.key_name.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for CustomerQuery {
    /// For `plan`, which shows what would be looked up (values included: it runs on the author's
    /// machine, not in logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.known {
            Some(KnownProfile::Arn(arn)) => return f.write_str(arn),
            Some(KnownProfile::Id(id)) => return write!(f, "<the ARN of profile {id} in PROFILES_DOMAIN_NAME>"),
            None => {}
        }
        let terms: Vec<String> = self.terms.iter().map(|t| format!("{}={}", t.key_name, t.value)).collect();
        write!(f, "<the customer profile found by SearchProfiles {}", terms.join(" OR "))?;
        if self.if_none == IfNoProfile::Create {
            f.write_str(", or created")?;
        }
        f.write_str(">")
    }
}

impl CompiledCustomer {
    /// The query for this event. Identifiers that are missing or malformed are left out and
    /// explained in `unusable`; what that means (fail, skip, create) is the resolver's decision.
    pub fn query(&self, event: &Value, env: &Environment<'static>, ctx: &TemplateContext) -> CustomerQuery {
        let mut unusable = Vec::new();
        let known = self.profile.as_ref().and_then(|value| match value.extract_string(event, env, ctx, Limit::IDENTIFIER) {
            Ok(Some(text)) if !text.trim().is_empty() => match known_profile(text.trim()) {
                Ok(known) => Some(known),
                Err(reason) => {
                    unusable.push(format!("customer.profile ({}) {reason}", value.describe()));
                    None
                }
            },
            Ok(_) => None,
            Err(error) => {
                unusable.push(format!("customer.profile: {error}"));
                None
            }
        });
        let mut terms = Vec::new();
        // A profile the event names is used as is: its other identifiers are not needed (and
        // normalising a phone number loads libphonenumber's tables).
        let keys = if known.is_some() { &[][..] } else { &self.keys[..] };
        for (key, value) in keys {
            let normalised = match value.extract_string(event, env, ctx, Limit::SEARCH_VALUE) {
                Ok(Some(text)) => match key {
                    SearchKey::Phone => normalise_phone(&text, self.country),
                    SearchKey::Email => normalise_email(&text),
                    SearchKey::Account | SearchKey::Custom(_) => normalise_plain(&text),
                },
                Ok(None) => Err("is left out by its default".into()),
                Err(error) => Err(error.to_string()),
            };
            match normalised {
                Ok(value) => terms.push(SearchTerm { key_name: key.key_name().to_owned(), value }),
                Err(reason) => unusable.push(format!("{} ({}) {reason}", key.rule_path(), value.describe())),
            }
        }
        CustomerQuery { known, terms, unusable, if_none: self.if_none, if_several: self.if_several, newest_by: self.newest_by.clone() }
    }
}

/// A Customer Profiles ARN, or a profile id (32 lowercase hex characters).
pub fn known_profile(text: &str) -> Result<KnownProfile, String> {
    if text.starts_with("arn:") {
        return parse_profile_arn(text).map(|_| KnownProfile::Arn(text.to_owned()));
    }
    if is_profile_id(text) {
        Ok(KnownProfile::Id(text.to_owned()))
    } else {
        Err("is neither a Customer Profiles ARN nor a profile id (32 lowercase hex characters)".into())
    }
}

/// The profile id pattern of the Customer Profiles model (`uuid`: `[a-f0-9]{32}`).
pub fn is_profile_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The parts of `arn:{partition}:profile:{region}:{account}:domains/{domain}/profiles/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileArn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub domain: &'a str,
    pub profile_id: &'a str,
}

pub fn parse_profile_arn(arn: &str) -> Result<ProfileArn<'_>, String> {
    let malformed = || "is not a Customer Profiles ARN (arn:aws:profile:{region}:{account}:domains/{domain}/profiles/{id})".to_string();
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "profile", region, account, resource] = parts.as_slice() else { return Err(malformed()) };
    let resource: Vec<&str> = resource.split('/').collect();
    let ["domains", domain, "profiles", profile_id] = resource.as_slice() else { return Err(malformed()) };
    let valid_domain =
        !domain.is_empty() && domain.len() <= 64 && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if partition.is_empty() || region.is_empty() || !valid_account || !valid_domain || !is_profile_id(profile_id) {
        return Err(malformed());
    }
    Ok(ProfileArn { partition, region, account, domain, profile_id })
}

/// Loads libphonenumber's metadata (every region's, decoded at once on first use): a few
/// milliseconds that the first phone number of a process would otherwise wait for.
pub fn load_phone_metadata() {
    let _ = &*PHONE_NUMBER_UTIL;
}

/// E.164 (`+12065550123`), the form Amazon Connect stores and searches. Numbers without a
/// country code need the rule's `country`. Reasons never repeat the number.
pub fn normalise_phone(text: &str, country: Option<Region>) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty".into());
    }
    if text.chars().count() > 64 {
        return Err("is too long to be a phone number".into());
    }
    if text.chars().filter(char::is_ascii_digit).count() < 3 {
        // e.g. "anonymous" or "Restricted", which Connect shows for withheld numbers.
        return Err("is not a phone number".into());
    }
    let number = PHONE_NUMBER_UTIL.parse(text, country).map_err(|_| match country {
        None if !text.starts_with('+') => "has no country code (+…) and the rule sets no `customer.country`".to_string(),
        _ => "is not a phone number".to_string(),
    })?;
    if !PHONE_NUMBER_UTIL.is_valid_number(&number) {
        return Err("is not a valid phone number for its country".into());
    }
    Ok(PHONE_NUMBER_UTIL.format(&number, PhoneNumberFormat::E164).into_owned())
}

/// Trimmed; must look like `local@domain`.
pub fn normalise_email(text: &str) -> Result<String, String> {
    let text = text.trim();
    let looks_like_an_address = text.len() <= PROFILE_SEARCH_TEXT
        && !text.chars().any(char::is_whitespace)
        && text.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if looks_like_an_address { Ok(text.to_owned()) } else { Err("is not an e-mail address".into()) }
}

/// Trimmed, 1 to 255 characters (the limit of a search value).
pub fn normalise_plain(text: &str) -> Result<String, String> {
    let text = text.trim();
    match text.chars().count() {
        0 => Err("is empty".into()),
        1..=PROFILE_SEARCH_TEXT => Ok(text.to_owned()),
        n => Err(format!("has {n} characters; a search value has at most 255")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::value::template_environment;
    use serde_json::json;

    fn compile(spec: Value) -> Result<(CompiledCustomer, Environment<'static>), String> {
        let env = template_environment();
        let spec: CustomerSpec = serde_json::from_value(spec).map_err(|e| e.to_string())?;
        let compiled = spec.compile(&TemplateCheck::Now(&env))?;
        Ok((compiled, env))
    }

    fn query(spec: Value, event: Value) -> CustomerQuery {
        let (compiled, env) = compile(spec).unwrap();
        compiled.query(&event, &env, &TemplateContext::new(&event))
    }

    #[test]
    fn phone_numbers_become_e164() {
        let us = Some(Region::US);
        assert_eq!(normalise_phone("+1 (206) 555-0123", None).unwrap(), "+12065550123");
        assert_eq!(normalise_phone("206-555-0123", us).unwrap(), "+12065550123");
        assert_eq!(normalise_phone("tel:+44-20-7946-0958", None).unwrap(), "+442079460958");
        assert_eq!(normalise_phone("020 7946 0958", Some(Region::GB)).unwrap(), "+442079460958");
        // National formats, trunk prefixes and international dialling prefixes of other countries
        // (Italy keeps its leading zero).
        for (country, written, e164) in [
            (Region::DE, "030 123456", "+4930123456"),
            (Region::DE, "0049 30 123456", "+4930123456"),
            (Region::US, "011 44 20 7946 0958", "+442079460958"),
            (Region::FR, "01 23 45 67 89", "+33123456789"),
            (Region::AU, "02 1234 5678", "+61212345678"),
            (Region::JP, "03-1234-5678", "+81312345678"),
            (Region::IN, "081234 56789", "+918123456789"),
            (Region::BR, "(11) 2345-6789", "+551123456789"),
            (Region::CA, "(613) 555-0123", "+16135550123"),
            (Region::MX, "55 1234 5678", "+525512345678"),
            (Region::ES, "912 34 56 78", "+34912345678"),
            (Region::IT, "02 1234 5678", "+390212345678"),
            (Region::NL, "010 123 4567", "+31101234567"),
            (Region::IE, "01 234 5678", "+35312345678"),
            (Region::SG, "6123 4567", "+6561234567"),
            (Region::ZA, "010 123 4567", "+27101234567"),
            (Region::GB, "07400 123456", "+447400123456"),
        ] {
            assert_eq!(normalise_phone(written, Some(country)).as_deref(), Ok(e164), "{country} {written}");
        }
        for (bad, why) in
            [("206-555-0123", "no country code"), ("anonymous", "not a phone number"), ("+1 206", "not a valid"), ("", "empty")]
        {
            let reason = normalise_phone(bad, None).unwrap_err();
            assert!(reason.contains(why), "{bad}: {reason}");
        }
        assert!(!normalise_phone("+1 206 5", None).unwrap_err().contains("206"), "reasons never repeat the number");
    }

    #[test]
    fn emails_and_plain_values() {
        assert_eq!(normalise_email("  Jordan.Rivera@example.com ").unwrap(), "Jordan.Rivera@example.com");
        for bad in ["jordan", "@example.com", "a b@example.com", "a@b", "a@b@c.com"] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
        assert_eq!(normalise_plain(" ACC-1 ").unwrap(), "ACC-1");
        assert!(normalise_plain(&"x".repeat(256)).is_err());
    }

    #[test]
    fn profile_arns_and_ids() {
        let arn = "arn:aws:profile:us-east-1:123456789012:domains/demo-profiles/profiles/f768064f958507ad239eed24c2c063fe";
        assert_eq!(known_profile(arn), Ok(KnownProfile::Arn(arn.into())));
        assert_eq!(parse_profile_arn(arn).unwrap().domain, "demo-profiles");
        assert_eq!(known_profile("f768064f958507ad239eed24c2c063fe"), Ok(KnownProfile::Id("f768064f958507ad239eed24c2c063fe".into())));
        for bad in [
            "arn:aws:profile:us-east-1:123456789012:domains/demo-profiles/f768064f958507ad239eed24c2c063fe",
            "arn:aws:profile:us-east-1:1234:domains/d/profiles/f768064f958507ad239eed24c2c063fe",
            "arn:aws:connect:us-east-1:123456789012:domains/d/profiles/f768064f958507ad239eed24c2c063fe",
            "F768064F958507AD239EED24C2C063FE",
            "customer-1",
        ] {
            assert!(known_profile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_query_keeps_usable_identifiers_and_explains_the_others() {
        let spec = json!({"profile": {"path": "$.arn", "default": null}, "phone": "$.phone", "email": {"path": "$.email", "default": null},
                          "keys": {"loyaltyId": "$.loyalty"}, "country": "us"});
        let q = query(spec.clone(), json!({"phone": "(206) 555-0147", "loyalty": 42}));
        assert_eq!(q.known, None);
        let terms: Vec<(&str, &str)> = q.terms.iter().map(|t| (t.key_name.as_str(), t.value.as_str())).collect();
        assert_eq!(terms, [("_phone", "+12065550147"), ("loyaltyId", "42")]);
        assert_eq!(q.unusable.len(), 1, "{:?}", q.unusable);
        assert!(q.unusable[0].starts_with("customer.email"), "{:?}", q.unusable);

        let q = query(spec.clone(), json!({"arn": "f768064f958507ad239eed24c2c063fe", "phone": "+12065550147"}));
        assert_eq!(q.known, Some(KnownProfile::Id("f768064f958507ad239eed24c2c063fe".into())));
        assert!(q.terms.is_empty(), "a named profile needs no search terms");

        let q = query(spec.clone(), json!({"arn": "not-a-profile", "phone": "anonymous"}));
        assert_eq!(q.known, None);
        assert!(q.unusable.iter().any(|u| u.starts_with("customer.profile")), "{:?}", q.unusable);
        assert!(q.unusable.iter().any(|u| u.starts_with("customer.phone") && !u.contains("anonymous")), "{:?}", q.unusable);
    }

    #[test]
    fn mistakes_in_the_section_are_caught_when_rules_load() {
        for (bad, why) in [
            (json!({}), "give `profile`"),
            (json!({"phone": "$.p", "country": "USA"}), "country code"),
            (json!({"keys": {"bad key": "$.k"}}), "search key name"),
            (json!({"keys": {"k": "$.k"}, "ifNone": "create"}), "needs `phone`"),
            (json!({"phone": "$.p", "newestBy": "x"}), "only used with"),
            (json!({"keys": {"_phone": "$.p"}}), "predefined key"),
            (json!({"phone": {"customer": {"phone": "$.p"}}}), "cannot be nested"),
            (json!({"phone": "$..["}), "customer.phone"),
        ] {
            let error = compile(bad.clone()).map(|_| ()).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
        assert!(compile(json!({"phone": "$.p", "ifNone": "sometimes"})).is_err());
    }
}
