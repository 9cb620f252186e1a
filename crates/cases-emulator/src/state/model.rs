//! The backend data model. Pure data, serializable (the `--state` file and the admin state dump),
//! and shaped so that the pieces that appear verbatim on the wire (values, users, related-item
//! content, audit events) serialize exactly like the API's JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `EmptyFieldValue`: serializes as `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Empty {}

/// A field value (`FieldValueUnion` / `AuditEventFieldValueUnion`); serializes as the
/// one-key union object, e.g. `{"stringValue":"open"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    #[serde(rename = "stringValue")]
    String(String),
    #[serde(rename = "doubleValue")]
    Double(f64),
    #[serde(rename = "booleanValue")]
    Boolean(bool),
    #[serde(rename = "emptyValue")]
    Empty(Empty),
    #[serde(rename = "userArnValue")]
    UserArn(String),
}

impl Value {
    /// The union member name.
    pub fn variant(&self) -> &'static str {
        match self {
            Value::String(_) => "stringValue",
            Value::Double(_) => "doubleValue",
            Value::Boolean(_) => "booleanValue",
            Value::Empty(_) => "emptyValue",
            Value::UserArn(_) => "userArnValue",
        }
    }

    /// The text of a string or user ARN value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::UserArn(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Empty(_))
    }
}

/// `FieldValue`: `{"id": …, "value": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldValue {
    pub id: String,
    pub value: Value,
}

/// `UserUnion`: `{"userArn": …}` or `{"customEntity": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum User {
    #[serde(rename = "userArn")]
    UserArn(String),
    #[serde(rename = "customEntity")]
    CustomEntity(String),
}

/// `FieldType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldType {
    Text,
    Number,
    Boolean,
    DateTime,
    SingleSelect,
    Url,
    User,
}

impl FieldType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Text" => FieldType::Text,
            "Number" => FieldType::Number,
            "Boolean" => FieldType::Boolean,
            "DateTime" => FieldType::DateTime,
            "SingleSelect" => FieldType::SingleSelect,
            "Url" => FieldType::Url,
            "User" => FieldType::User,
            _ => return None,
        })
    }

    /// The value variant a field of this type takes.
    pub fn value_variant(self) -> &'static str {
        match self {
            FieldType::Text | FieldType::Url | FieldType::SingleSelect | FieldType::DateTime => "stringValue",
            FieldType::Number => "doubleValue",
            FieldType::Boolean => "booleanValue",
            FieldType::User => "userArnValue",
        }
    }
}

/// `FieldNamespace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Namespace {
    System,
    Custom,
}

/// `FieldOption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOption {
    pub name: String,
    pub value: String,
    pub active: bool,
}

/// A case field of a domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub id: String,
    pub arn: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub namespace: Namespace,
    /// `FieldAttributes` as sent (e.g. `{"text":{"isMultiline":true}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<serde_json::Value>,
    #[serde(default)]
    pub options: Vec<FieldOption>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub created_time: String,
    pub last_modified_time: String,
    #[serde(default)]
    pub deleted: bool,
}

/// `TemplateStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TemplateStatus {
    Active,
    Inactive,
}

/// `TemplateRule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRule {
    pub case_rule_id: String,
    pub field_id: String,
}

/// A case template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub id: String,
    pub arn: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: TemplateStatus,
    /// Field ids.
    #[serde(default)]
    pub required_fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_layout: Option<String>,
    #[serde(default)]
    pub rules: Vec<TemplateRule>,
    /// `TagPropagationConfiguration` list as sent.
    #[serde(default)]
    pub tag_propagation_configurations: Vec<serde_json::Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub created_time: String,
    pub last_modified_time: String,
    #[serde(default)]
    pub deleted: bool,
}

/// `RelatedItemType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelatedItemType {
    Contact,
    Comment,
    File,
    Sla,
    ConnectCase,
    Custom,
}

impl RelatedItemType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Contact" => Self::Contact,
            "Comment" => Self::Comment,
            "File" => Self::File,
            "Sla" => Self::Sla,
            "ConnectCase" => Self::ConnectCase,
            "Custom" => Self::Custom,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contact => "Contact",
            Self::Comment => "Comment",
            Self::File => "File",
            Self::Sla => "Sla",
            Self::ConnectCase => "ConnectCase",
            Self::Custom => "Custom",
        }
    }

    /// The union member name of the content (`contact`, `comment`, …).
    pub fn member(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Comment => "comment",
            Self::File => "file",
            Self::Sla => "sla",
            Self::ConnectCase => "connectCase",
            Self::Custom => "custom",
        }
    }
}

/// `ContactContent` (output form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactContent {
    pub contact_arn: String,
    pub channel: String,
    pub connected_to_system_time: String,
}

/// `CommentContent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentContent {
    pub body: String,
    pub content_type: String,
}

/// `FileContent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileContent {
    pub file_arn: String,
}

/// `SlaConfiguration` (output form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaConfiguration {
    pub name: String,
    #[serde(rename = "type")]
    pub sla_type: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_field_values: Option<Vec<Value>>,
    pub target_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
}

/// `SlaContent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaContent {
    pub sla_configuration: SlaConfiguration,
}

/// `ConnectCaseContent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectCaseContent {
    pub case_id: String,
}

/// `CustomContent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomContent {
    pub fields: Vec<FieldValue>,
}

/// `RelatedItemContent` (output union); serializes as `{"comment":{…}}` etc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RelatedContent {
    #[serde(rename = "contact")]
    Contact(ContactContent),
    #[serde(rename = "comment")]
    Comment(CommentContent),
    #[serde(rename = "file")]
    File(FileContent),
    #[serde(rename = "sla")]
    Sla(SlaContent),
    #[serde(rename = "connectCase")]
    ConnectCase(ConnectCaseContent),
    #[serde(rename = "custom")]
    Custom(CustomContent),
}

impl RelatedContent {
    pub fn item_type(&self) -> RelatedItemType {
        match self {
            RelatedContent::Contact(_) => RelatedItemType::Contact,
            RelatedContent::Comment(_) => RelatedItemType::Comment,
            RelatedContent::File(_) => RelatedItemType::File,
            RelatedContent::Sla(_) => RelatedItemType::Sla,
            RelatedContent::ConnectCase(_) => RelatedItemType::ConnectCase,
            RelatedContent::Custom(_) => RelatedItemType::Custom,
        }
    }
}

/// A related item of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedItem {
    pub id: String,
    pub arn: String,
    pub case_id: String,
    #[serde(rename = "type")]
    pub item_type: RelatedItemType,
    pub association_time: String,
    pub content: RelatedContent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performed_by: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_user: Option<User>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Creation order within the domain.
    pub seq: u64,
}

/// `AuditEventField`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventField {
    pub event_field_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_value: Option<Value>,
    pub new_value: Value,
}

/// `AuditEventPerformedBy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventPerformedBy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    pub iam_principal_arn: String,
}

/// `AuditEvent`; serializes exactly as the wire shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub event_id: String,
    /// `Case.Created`, `Case.Updated`, `RelatedItem.Created`, `RelatedItem.Updated`, `RelatedItem.Deleted`.
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_item_type: Option<RelatedItemType>,
    pub performed_time: String,
    pub fields: Vec<AuditEventField>,
    pub performed_by: AuditEventPerformedBy,
}

/// A case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub id: String,
    pub arn: String,
    pub template_id: String,
    /// Field id → value (only set fields; `emptyValue` removes the entry).
    pub fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub related_items: Vec<RelatedItem>,
    #[serde(default)]
    pub audit_events: Vec<AuditEvent>,
    /// Creation order within the domain.
    pub seq: u64,
}

/// A stored `CreateCase` idempotency token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyEntry {
    /// SHA-256 (hex) of the canonical request (templateId, fields, performedBy, tags).
    pub request_hash: String,
    pub case_id: String,
    pub case_arn: String,
}

/// A Cases domain with everything in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub created_time: String,
    pub status: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `EventBridgeConfiguration` as stored by PutCaseEventConfiguration.
    #[serde(default = "default_event_config")]
    pub event_configuration: serde_json::Value,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default)]
    pub templates: Vec<Template>,
    #[serde(default)]
    pub cases: BTreeMap<String, Case>,
    /// `clientToken` → stored request hash and response.
    #[serde(default)]
    pub idempotency: BTreeMap<String, IdempotencyEntry>,
    #[serde(default)]
    pub next_seq: u64,
}

/// `{"enabled": false}`.
pub fn default_event_config() -> serde_json::Value {
    serde_json::json!({"enabled": false})
}

impl Domain {
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// A field that exists and is not deleted.
    pub fn live_field(&self, id: &str) -> Option<&Field> {
        self.field(id).filter(|f| !f.deleted)
    }

    pub fn template(&self, id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == id)
    }

    pub fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}
