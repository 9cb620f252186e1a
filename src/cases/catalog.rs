//! Field and template names resolved to ids.
//!
//! Rules may name fields and templates by name or by id. The domain's fields and templates are
//! listed (ListFields, ListTemplates) and kept by `domain_cache`. `plan` runs without the API: it
//! resolves only the system fields, whose ids are fixed.

use super::model::{FieldInfo, FieldType, TemplateInfo};

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
}
