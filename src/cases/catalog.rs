//! Field and template names resolved to ids, and values converted to each field's type.
//!
//! Rules may name fields and templates by name or by id. The domain's fields and templates are
//! listed (ListFields, ListTemplates) and kept by `domain_cache`. `plan` runs without the API: it
//! resolves only the system fields, whose ids are fixed.

use time::format_description::well_known::Rfc3339;

use super::model::{FieldInfo, FieldType, FieldValue, TemplateInfo};

/// Turns names into ids and gives field types.
pub trait Resolve {
    /// The field's id and, when known, its type.
    fn field(&self, name_or_id: &str) -> Result<(String, Option<FieldType>), String>;
    fn template(&self, name_or_id: &str) -> Result<String, String>;
}

/// The system fields every domain has, with fixed ids (cases-api.md §4.1).
pub const SYSTEM_FIELDS: &[(&str, &str, FieldType)] = &[
    ("assigned_queue", "Assigned queue", FieldType::Text),
    ("assigned_user", "Assigned user", FieldType::Text),
    ("case_id", "Case ID", FieldType::Text),
    ("case_reason", "Case Reason", FieldType::SingleSelect),
    ("customer_id", "Customer", FieldType::Text),
    ("last_closed_datetime", "Date/Time Closed", FieldType::DateTime),
    ("created_datetime", "Date/Time Opened", FieldType::DateTime),
    ("last_updated_datetime", "Date/Time Updated", FieldType::DateTime),
    ("last_updated_user", "Last Updated User", FieldType::User),
    ("reference_number", "Reference number", FieldType::Text),
    ("status", "Status", FieldType::SingleSelect),
    ("summary", "Summary", FieldType::Text),
    ("title", "Title", FieldType::Text),
];

/// Resolution without the API, for `plan`: system fields by id, anything else shown as written.
pub struct Offline;

impl Resolve for Offline {
    fn field(&self, name_or_id: &str) -> Result<(String, Option<FieldType>), String> {
        Ok(match SYSTEM_FIELDS.iter().find(|(id, _, _)| *id == name_or_id) {
            Some((id, _, ty)) => (id.to_string(), Some(*ty)),
            None => (name_or_id.to_owned(), None),
        })
    }

    fn template(&self, name_or_id: &str) -> Result<String, String> {
        Ok(name_or_id.to_owned())
    }
}

/// The domain's fields and templates, as listed by the API.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub fields: Vec<FieldInfo>,
    pub templates: Vec<TemplateInfo>,
}

impl Resolve for Catalog {
    fn field(&self, name_or_id: &str) -> Result<(String, Option<FieldType>), String> {
        let found = self
            .fields
            .iter()
            .find(|f| f.id == name_or_id)
            .or_else(|| self.fields.iter().find(|f| f.name == name_or_id))
            .or_else(|| self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name_or_id)));
        match found {
            Some(field) => Ok((field.id.clone(), Some(field.field_type))),
            None => Err(format!(
                "the domain has no field with id or name `{name_or_id}` (it has {} fields; check the name in the Cases admin website)",
                self.fields.len()
            )),
        }
    }

    fn template(&self, name_or_id: &str) -> Result<String, String> {
        let found = self
            .templates
            .iter()
            .find(|t| t.id == name_or_id)
            .or_else(|| self.templates.iter().find(|t| t.name == name_or_id))
            .or_else(|| self.templates.iter().find(|t| t.name.eq_ignore_ascii_case(name_or_id)));
        match found {
            Some(t) if !t.active => Err(format!("template `{name_or_id}` is inactive; cases cannot be created from it")),
            Some(t) => Ok(t.id.clone()),
            None => Err(format!("the domain has no active template with id or name `{name_or_id}`")),
        }
    }
}

/// Converts a value to what a field of type `ty` accepts, when the conversion is unambiguous;
/// otherwise says why not. Values of unknown type pass unchanged.
pub fn coerce(value: FieldValue, ty: Option<FieldType>) -> Result<FieldValue, String> {
    use FieldType::*;
    let Some(ty) = ty else { return Ok(value) };
    match (ty, value) {
        (_, FieldValue::Empty(e)) => Ok(FieldValue::Empty(e)),
        (Number, FieldValue::Double(n)) => Ok(FieldValue::Double(n)),
        (Number, FieldValue::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(FieldValue::Double(n)),
            _ => Err(format!("a Number field needs a number, got a string of {} characters", s.chars().count())),
        },
        (Boolean, FieldValue::Boolean(b)) => Ok(FieldValue::Boolean(b)),
        (Boolean, FieldValue::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(FieldValue::Boolean(true)),
            "false" => Ok(FieldValue::Boolean(false)),
            _ => Err("a Boolean field needs true or false".into()),
        },
        (User, FieldValue::UserArn(arn) | FieldValue::String(arn)) => Ok(FieldValue::UserArn(arn)),
        // Checked here, so that a bad date is refused before the rule's first write, not by
        // UpdateCase after a comment was already added.
        // Sent in UTC (`…Z`): Cases compares and sorts DateTime values as text.
        (DateTime, FieldValue::String(s)) => match time::OffsetDateTime::parse(s.trim(), &Rfc3339) {
            Ok(t) => Ok(FieldValue::String(t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_else(|_| s.trim().to_owned()))),
            Err(_) => Err(format!(
                "a DateTime field needs an RFC 3339 date and time such as 2026-12-05T12:00:00Z, got a string of {} characters",
                s.chars().count()
            )),
        },
        (Text | SingleSelect | Url, FieldValue::String(s)) => Ok(FieldValue::String(s)),
        (Text | SingleSelect | Url, FieldValue::Double(n)) => Ok(FieldValue::String(format_number(n))),
        (Text | SingleSelect | Url, FieldValue::Boolean(b)) => Ok(FieldValue::String(b.to_string())),
        (Other, value) => Ok(value),
        (ty, value) => Err(format!("a {ty:?} field cannot take {}", variant_name(&value))),
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

pub(crate) fn variant_name(value: &FieldValue) -> &'static str {
    match value {
        FieldValue::String(_) => "a string",
        FieldValue::Double(_) => "a number",
        FieldValue::Boolean(_) => "a boolean",
        FieldValue::Empty(_) => "an empty value",
        FieldValue::UserArn(_) => "a user ARN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog {
            fields: vec![
                FieldInfo { id: "status".into(), name: "Status".into(), field_type: FieldType::SingleSelect },
                FieldInfo { id: "f-1".into(), name: "Order total".into(), field_type: FieldType::Number },
            ],
            templates: vec![
                TemplateInfo { id: "t-1".into(), name: "General inquiry".into(), active: true },
                TemplateInfo { id: "t-2".into(), name: "Legacy".into(), active: false },
            ],
        }
    }

    #[test]
    fn names_and_ids_resolve() {
        let c = catalog();
        assert_eq!(c.field("Order total").unwrap(), ("f-1".into(), Some(FieldType::Number)));
        assert_eq!(c.field("order TOTAL").unwrap().0, "f-1");
        assert_eq!(c.field("f-1").unwrap().0, "f-1");
        assert!(c.field("Nope").unwrap_err().contains("`Nope`"));
        assert_eq!(c.template("General inquiry").unwrap(), "t-1");
        assert!(c.template("Legacy").unwrap_err().contains("inactive"));
        assert_eq!(Offline.field("title").unwrap(), ("title".into(), Some(FieldType::Text)));
        assert_eq!(Offline.field("Order total").unwrap(), ("Order total".into(), None));
    }

    #[test]
    fn values_take_the_field_type() {
        use FieldType::*;
        assert_eq!(coerce(FieldValue::String("12.5".into()), Some(Number)), Ok(FieldValue::Double(12.5)));
        assert_eq!(coerce(FieldValue::Double(3.0), Some(Text)), Ok(FieldValue::String("3".into())));
        assert_eq!(coerce(FieldValue::String("TRUE".into()), Some(Boolean)), Ok(FieldValue::Boolean(true)));
        assert_eq!(coerce(FieldValue::String("arn:u".into()), Some(User)), Ok(FieldValue::UserArn("arn:u".into())));
        assert_eq!(coerce(FieldValue::empty(), Some(Number)), Ok(FieldValue::empty()));
        assert!(coerce(FieldValue::String("abc".into()), Some(Number)).is_err());
        assert!(coerce(FieldValue::Boolean(true), Some(Number)).is_err());
        assert_eq!(coerce(FieldValue::Boolean(true), None), Ok(FieldValue::Boolean(true)));
        assert_eq!(
            coerce(FieldValue::String("2026-12-05T12:00:00Z".into()), Some(DateTime)),
            Ok(FieldValue::String("2026-12-05T12:00:00Z".into()))
        );
        assert_eq!(
            coerce(FieldValue::String("2026-12-05T12:00:00.5+01:00".into()), Some(DateTime)),
            Ok(FieldValue::String("2026-12-05T11:00:00.5Z".into()))
        );
        for not_a_date in ["next tuesday", "2027-01-31", "2027-13-05T12:00:00Z"] {
            let error = coerce(FieldValue::String(not_a_date.into()), Some(DateTime)).unwrap_err();
            assert!(error.contains("RFC 3339") && !error.contains(not_a_date), "{error}");
        }
        assert!(coerce(FieldValue::Double(1_733_400_000.0), Some(DateTime)).is_err());
    }
}
