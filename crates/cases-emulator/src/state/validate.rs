//! Checks that need the stored data, called by the backend: a case value against its field's type
//! and options, and the shape of a Customer Profiles ARN (`customer_id`). Failures are 400
//! ValidationExceptions naming the field and the place in the request.

use crate::error::{ApiError, ApiResult};
use crate::state::model::{Field, FieldType, Value};

/// Whether `s` looks like a Customer Profiles profile ARN,
/// `arn:aws:profile:{region}:{account}:domains/{domainName}/profiles/{profileId}`.
/// Region and account are not compared with the emulator's own (inferred; see README).
pub fn is_profile_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else { return false };
    if *arn != "arn" || !partition.starts_with("aws") || *service != "profile" || region.is_empty() {
        return false;
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let segs: Vec<&str> = resource.split('/').collect();
    matches!(segs.as_slice(), ["domains", name, "profiles", id] if !name.is_empty() && !id.is_empty())
}

/// Checks a case value against the field's type (and options for SingleSelect).
/// `emptyValue` is always type-compatible (the caller checks required fields).
pub fn check_value_for_field(field: &Field, value: &Value, path: &str) -> ApiResult<()> {
    if value.is_empty() {
        return Ok(());
    }
    let want = field.field_type.value_variant();
    if value.variant() != want {
        return Err(ApiError::validation(format!(
            "Invalid value for field '{}' ({}) at '{path}': a {:?} field takes {want}, got {}",
            field.id,
            field.name,
            field.field_type,
            value.variant()
        )));
    }
    match (field.field_type, value) {
        (FieldType::SingleSelect, Value::String(s)) if !field.options.iter().any(|o| o.active && &o.value == s) => {
            let allowed: Vec<&str> = field.options.iter().filter(|o| o.active).map(|o| o.value.as_str()).collect();
            return Err(ApiError::validation(format!(
                "Invalid value for field '{}' ({}) at '{path}': '{s}' is not an active option (allowed: {})",
                field.id,
                field.name,
                allowed.join(", ")
            )));
        }
        (FieldType::DateTime, Value::String(s)) if crate::util::parse_ts(s).is_none() => {
            return Err(ApiError::validation(format!(
                "Invalid value for field '{}' ({}) at '{path}': '{s}' is not an ISO-8601 date-time (e.g. 2026-05-01T12:34:56.789Z)",
                field.id, field.name
            )));
        }
        (FieldType::Text, Value::String(s)) if field.id == "summary" && s.chars().count() > 3000 => {
            return Err(ApiError::validation(format!("Invalid value for field 'summary' at '{path}': at most 3000 characters")));
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::model::{Empty, FieldOption, Namespace};

    #[test]
    fn profile_arns() {
        assert!(is_profile_arn("arn:aws:profile:us-east-1:123456789012:domains/my-profiles/profiles/0123abcd"));
        for bad in [
            "",
            "cust-1",
            "arn:aws:profile:us-east-1:1234:domains/d/profiles/p",
            "arn:aws:profile:us-east-1:123456789012:domains/d/profile/p",
            "arn:aws:profile:us-east-1:123456789012:domains//profiles/p",
            "arn:aws:connect:us-east-1:123456789012:domains/d/profiles/p",
        ] {
            assert!(!is_profile_arn(bad), "{bad}");
        }
    }

    fn field(t: FieldType) -> Field {
        Field {
            id: "f".into(),
            arn: String::new(),
            name: "F".into(),
            description: None,
            field_type: t,
            namespace: Namespace::Custom,
            attributes: None,
            options: vec![
                FieldOption { name: "Low".into(), value: "low".into(), active: true },
                FieldOption { name: "Old".into(), value: "old".into(), active: false },
            ],
            tags: Default::default(),
            created_time: String::new(),
            last_modified_time: String::new(),
            deleted: false,
        }
    }

    #[test]
    fn value_types_against_fields() {
        let s = |x: &str| Value::String(x.into());
        assert!(check_value_for_field(&field(FieldType::Text), &s("x"), "p").is_ok());
        assert!(check_value_for_field(&field(FieldType::Text), &Value::Double(1.0), "p").is_err());
        assert!(check_value_for_field(&field(FieldType::Number), &Value::Double(1.0), "p").is_ok());
        assert!(check_value_for_field(&field(FieldType::Number), &s("1"), "p").is_err());
        assert!(check_value_for_field(&field(FieldType::Boolean), &Value::Boolean(true), "p").is_ok());
        assert!(check_value_for_field(&field(FieldType::User), &Value::UserArn("arn:u".into()), "p").is_ok());
        assert!(check_value_for_field(&field(FieldType::User), &s("arn:u"), "p").is_err());
        assert!(check_value_for_field(&field(FieldType::SingleSelect), &s("low"), "p").is_ok());
        assert!(check_value_for_field(&field(FieldType::SingleSelect), &s("old"), "p").is_err());
        assert!(check_value_for_field(&field(FieldType::SingleSelect), &s("Low"), "p").is_err());
        assert!(check_value_for_field(&field(FieldType::DateTime), &s("2026-05-01T12:00:00Z"), "p").is_ok());
        assert!(check_value_for_field(&field(FieldType::DateTime), &s("yesterday"), "p").is_err());
        assert!(check_value_for_field(&field(FieldType::Number), &Value::Empty(Empty {}), "p").is_ok());
    }
}
