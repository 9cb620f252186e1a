//! Values taken from an event: JSON paths (RFC 9535, `serde_json_path`) and string templates
//! (Jinja syntax, `minijinja`), converted to the typed field values Cases accepts.
//!
//! In a rules file a value is written as
//! - `"$.detail.orderNumber"`: a JSON path (anything starting with `$`),
//! - `"Call from {{ Details.ContactData.Channel }}"`: a template (anything containing `{{` or `{%`),
//! - any other scalar: a literal,
//! - or a mapping `{path | template | value, type, default}` to say the type explicitly or give a
//!   default used when the path finds nothing.
//!
//! `spec` is a value as written, `compiled` a value compiled and then taken from an event; the
//! two sources that need an engine are `path` and `template`; `field` is what a value gives (a
//! typed field value) or why it could not.

mod compiled;
mod field;
mod path;
mod spec;
mod template;

pub use compiled::{CompiledValue, Source};
pub use field::{EmptyValue, ExtractError, FieldValue, Limit, convert, describe_json};
pub use path::Path;

/// The top-level key of the event the contact's data is put under (`contacts`): paths and
/// templates under it ask for the contact to be read.
pub const CONTACT_KEY: &str = "contact";
pub use spec::{DetailedValue, ValueSpec, ValueType};
pub(crate) use spec::{ValueSpecVisitor, some_even_if_null};
pub use template::{TEMPLATE_FUEL, TEMPLATE_RECURSION_LIMIT, TemplateCheck, TemplateContext, template_environment};
