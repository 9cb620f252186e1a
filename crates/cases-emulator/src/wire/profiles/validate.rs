//! Customer Profiles request checks (constraints of the `customer-profiles` 2020-08-15 model), in
//! the same message style as the Cases checks; the Customer Profiles wire layer renders these
//! ValidationExceptions as 400 BadRequestException.

use crate::error::{ApiError, ApiResult};
use crate::wire::validate::{constraint, enum_value, length};

/// The `name` pattern of the Customer Profiles model (domain names, search key names).
pub const PROFILES_NAME_PATTERN: &str = "^[a-zA-Z0-9_-]+$";

/// A Customer Profiles `name` (`DomainName`, `KeyName`): 1–64 characters of `^[a-zA-Z0-9_-]+$`.
pub fn profiles_name(s: &str, path: &str) -> ApiResult<()> {
    length(s, path, 1, 64)?;
    if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Ok(())
    } else {
        Err(constraint(path, format_args!("Member must satisfy regular expression pattern: {PROFILES_NAME_PATTERN}")))
    }
}

/// CreateProfile members of type `sensitiveString1To255`.
pub const PROFILE_STRING_MEMBERS: [&str; 15] = [
    "AccountNumber",
    "BusinessName",
    "FirstName",
    "MiddleName",
    "LastName",
    "BirthDate",
    "PhoneNumber",
    "MobilePhoneNumber",
    "HomePhoneNumber",
    "BusinessPhoneNumber",
    "EmailAddress",
    "PersonalEmailAddress",
    "BusinessEmailAddress",
    "PartyTypeString",
    "GenderString",
];
/// CreateProfile members of type `Address`.
pub const PROFILE_ADDRESS_MEMBERS: [&str; 4] = ["Address", "ShippingAddress", "MailingAddress", "BillingAddress"];
/// The members of `Address` (each `string1To255`).
pub const ADDRESS_FIELDS: [&str; 10] =
    ["Address1", "Address2", "Address3", "Address4", "City", "County", "State", "Province", "Country", "PostalCode"];
/// `PartyType`.
pub const PARTY_TYPES: [&str; 3] = ["INDIVIDUAL", "BUSINESS", "OTHER"];
/// `Gender`.
pub const GENDERS: [&str; 3] = ["MALE", "FEMALE", "UNSPECIFIED"];
/// `ProfileType`.
pub const PROFILE_TYPES: [&str; 2] = ["ACCOUNT_PROFILE", "PROFILE"];
/// `ContactType`.
pub const CONTACT_TYPES: [&str; 7] = [
    "PhoneNumber",
    "MobilePhoneNumber",
    "HomePhoneNumber",
    "BusinessPhoneNumber",
    "EmailAddress",
    "PersonalEmailAddress",
    "BusinessEmailAddress",
];

fn json_str<'a>(v: &'a serde_json::Value, path: &str) -> ApiResult<&'a str> {
    v.as_str().ok_or_else(|| ApiError::validation(format!("Invalid request body: '{path}' must be a string")))
}

fn json_obj<'a>(v: &'a serde_json::Value, path: &str) -> ApiResult<&'a serde_json::Map<String, serde_json::Value>> {
    v.as_object().ok_or_else(|| ApiError::validation(format!("Invalid request body: '{path}' must be an object")))
}

fn json_list<'a>(v: &'a serde_json::Value, path: &str) -> ApiResult<&'a Vec<serde_json::Value>> {
    v.as_array().ok_or_else(|| ApiError::validation(format!("Invalid request body: '{path}' must be a list")))
}

fn str_1_to(v: &serde_json::Value, path: &str, max: usize) -> ApiResult<serde_json::Value> {
    let s = json_str(v, path)?;
    length(s, path, 1, max)?;
    Ok(serde_json::Value::String(s.to_string()))
}

fn contact_preferences(v: &serde_json::Value, path: &str) -> ApiResult<serde_json::Value> {
    let mut out = Vec::new();
    for (i, item) in json_list(v, path)?.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let mut o = serde_json::Map::new();
        for (k, x) in json_obj(item, &p)? {
            if x.is_null() {
                continue;
            }
            let kp = format!("{p}.{k}");
            let value = match k.as_str() {
                "KeyName" => {
                    profiles_name(json_str(x, &kp)?, &kp)?;
                    x.clone()
                }
                "KeyValue" => str_1_to(x, &kp, 255)?,
                "ProfileId" => {
                    if !crate::state::profiles::is_profile_id(json_str(x, &kp)?) {
                        return Err(constraint(&kp, "Member must satisfy regular expression pattern: ^[a-f0-9]{32}$"));
                    }
                    x.clone()
                }
                "ContactType" => {
                    enum_value(json_str(x, &kp)?, &kp, &CONTACT_TYPES)?;
                    x.clone()
                }
                _ => continue,
            };
            o.insert(k.clone(), value);
        }
        out.push(serde_json::Value::Object(o));
    }
    Ok(serde_json::Value::Array(out))
}

/// Validates the body of a CreateProfile request (every member optional; `sensitiveString1To255`
/// strings, `AdditionalInformation` 1–1000, the `PartyType`/`Gender`/`ProfileType` enums,
/// addresses of 1–255 character strings, `Attributes` with 1–255 character keys and values,
/// `EngagementPreferences` contact preferences) and returns the profile to store. `null`
/// members count as absent; members the model does not have are dropped.
pub fn create_profile(body: &serde_json::Map<String, serde_json::Value>) -> ApiResult<crate::state::profiles::Profile> {
    let mut out = serde_json::Map::new();
    for (k, v) in body {
        if v.is_null() {
            continue;
        }
        let key = k.as_str();
        let value = if PROFILE_STRING_MEMBERS.contains(&key) {
            str_1_to(v, key, 255)?
        } else if PROFILE_ADDRESS_MEMBERS.contains(&key) {
            let mut a = serde_json::Map::new();
            for (f, x) in json_obj(v, key)? {
                if ADDRESS_FIELDS.contains(&f.as_str()) && !x.is_null() {
                    a.insert(f.clone(), str_1_to(x, &format!("{key}.{f}"), 255)?);
                }
            }
            serde_json::Value::Object(a)
        } else {
            match key {
                "AdditionalInformation" => str_1_to(v, key, 1000)?,
                "PartyType" => {
                    enum_value(json_str(v, key)?, key, &PARTY_TYPES)?;
                    v.clone()
                }
                "Gender" => {
                    enum_value(json_str(v, key)?, key, &GENDERS)?;
                    v.clone()
                }
                "ProfileType" => {
                    enum_value(json_str(v, key)?, key, &PROFILE_TYPES)?;
                    v.clone()
                }
                "Attributes" => {
                    let mut a = serde_json::Map::new();
                    for (ak, av) in json_obj(v, key)? {
                        let p = format!("Attributes.{ak}");
                        length(ak, &p, 1, 255)?;
                        a.insert(ak.clone(), str_1_to(av, &p, 255)?);
                    }
                    serde_json::Value::Object(a)
                }
                "EngagementPreferences" => {
                    let mut e = serde_json::Map::new();
                    for (ek, ev) in json_obj(v, key)? {
                        if (ek == "Phone" || ek == "Email") && !ev.is_null() {
                            e.insert(ek.clone(), contact_preferences(ev, &format!("{key}.{ek}"))?);
                        }
                    }
                    serde_json::Value::Object(e)
                }
                _ => continue,
            }
        };
        out.insert(k.clone(), value);
    }
    Ok(crate::state::profiles::Profile(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_names_and_create_profile_bodies() {
        assert!(profiles_name("demo-profiles_1", "DomainName").is_ok());
        assert!(profiles_name("bad name", "DomainName").unwrap_err().message.contains(PROFILES_NAME_PATTERN));
        assert!(profiles_name(&"a".repeat(65), "DomainName").is_err());
        assert!(profiles_name("", "KeyName").is_err());
        let body = serde_json::json!({
            "FirstName": "Ann", "PartyType": "INDIVIDUAL", "Unknown": 1, "LastName": null,
            "Address": {"City": "Seattle", "Nope": "x"}, "Attributes": {"tier": "gold"},
            "EngagementPreferences": {"Phone": [{"KeyName": "_phone", "KeyValue": "+1", "ContactType": "PhoneNumber"}]}
        });
        let p = create_profile(body.as_object().unwrap()).unwrap();
        assert_eq!(p.text("FirstName"), Some("Ann"));
        assert!(p.0.get("Unknown").is_none() && p.0.get("LastName").is_none());
        assert_eq!(p.0["Address"], serde_json::json!({"City": "Seattle"}));
        assert_eq!(p.attribute("tier"), Some("gold"));
        let bad = |v: serde_json::Value| create_profile(v.as_object().unwrap()).unwrap_err().message;
        assert!(bad(serde_json::json!({"FirstName": ""})).contains("'FirstName'"));
        assert!(bad(serde_json::json!({"PhoneNumber": "1".repeat(256)})).contains("less than or equal to 255"));
        assert!(bad(serde_json::json!({"AdditionalInformation": "x".repeat(1001)})).contains("1000"));
        assert!(bad(serde_json::json!({"Gender": "male"})).contains("enum"));
        assert!(bad(serde_json::json!({"FirstName": 3})).contains("must be a string"));
        assert!(bad(serde_json::json!({"Attributes": {"k": ""}})).contains("Attributes.k"));
        assert!(bad(serde_json::json!({"EngagementPreferences": {"Email": [{"ContactType": "Fax"}]}})).contains("ContactType"));
    }
}
