//! The stateful model of the Cases service, pure Rust, no HTTP and no locking.
//!
//! [`State`] holds every domain with its fields, templates, cases, related items, audit events,
//! idempotency tokens, tags and case-event configuration. Operations are methods on `State`
//! (`admin.rs` for domains/fields/templates/config/tags, `cases.rs` for cases, related items,
//! audit and search). They take already-validated inputs (see `validate`) and the time of the
//! operation, and return [`ApiResult`]s; write operations also return the [`Change`]s they
//! caused, which `backend::Backend::write` turns into case events and search index versions.
//!
//! The Customer Profiles side (profile domains and their profiles, `profiles.rs`) lives in the
//! same [`State`] (`profileDomains`), so it is persisted, dumped and reset with the rest; so
//! does the Amazon Connect side (instances and their contacts, `connect.rs`, `connectInstances`).
//!
//! The search index ([`index`]) that SearchCases and the related-item searches read, and the
//! service [`clock`], are kept beside the state by `backend`.

pub mod admin;
pub mod cases;
pub mod clock;
pub mod connect;
pub mod index;
pub mod model;
pub mod profiles;
pub mod search;
pub mod sla;
pub mod validate;

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use model::{Case, Domain, RelatedItem, User};

/// The whole service state (also the format of the `--state` file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub region: String,
    pub account: String,
    #[serde(default)]
    pub domains: Vec<Domain>,
    /// Customer Profiles domains (see [`profiles`]).
    #[serde(default)]
    pub profile_domains: Vec<profiles::ProfileDomain>,
    /// Amazon Connect instances and their contacts (see [`connect`]).
    #[serde(default)]
    pub connect_instances: Vec<connect::ConnectInstance>,
}

/// What a write did, for case event streams and the search index.
#[derive(Debug, Clone)]
pub enum Change {
    /// `CASE.CREATED` / `CASE.UPDATED` / `CASE.DELETED`; `case` is the case after the change
    /// (before it, for a deletion).
    Case { event_type: &'static str, domain_id: String, case: Box<Case>, changed_field_ids: Vec<String>, performed_by: Option<User> },
    /// `RELATED_ITEM.CREATED` / `RELATED_ITEM.UPDATED` / `RELATED_ITEM.DELETED`.
    RelatedItem {
        event_type: &'static str,
        domain_id: String,
        item: Box<RelatedItem>,
        changed_attributes: Vec<String>,
        performed_by: Option<User>,
    },
    /// A case or one of its related items changed in a way searches see but that has no case
    /// event (tags).
    Searchable { domain_id: String, case_id: String },
}

impl Change {
    /// The (domain, case) whose search documents the change touched.
    pub fn case(&self) -> (&str, &str) {
        match self {
            Change::Case { domain_id, case, .. } => (domain_id, &case.id),
            Change::RelatedItem { domain_id, item, .. } => (domain_id, &item.case_id),
            Change::Searchable { domain_id, case_id } => (domain_id, case_id),
        }
    }
}

impl State {
    /// An empty state (no domains, no profile domains).
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Self {
        State {
            region: region.into(),
            account: account.into(),
            domains: Vec::new(),
            profile_domains: Vec::new(),
            connect_instances: Vec::new(),
        }
    }

    /// `arn:aws:cases:{region}:{account}:`
    pub fn arn_prefix(&self) -> String {
        format!("arn:aws:cases:{}:{}:", self.region, self.account)
    }

    pub fn domain_arn(&self, domain_id: &str) -> String {
        format!("{}domain/{domain_id}", self.arn_prefix())
    }

    /// The IAM principal every call is attributed to (the emulator does not check signatures).
    pub fn iam_principal_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/cases-emulator-caller", self.account)
    }

    /// A domain, or 404 (resourceType `Domain`).
    pub fn domain(&self, id: &str) -> ApiResult<&Domain> {
        self.domains.iter().find(|d| d.id == id).ok_or_else(|| ApiError::not_found("Domain", id))
    }

    /// A domain for writing, or 404.
    pub fn domain_mut(&mut self, id: &str) -> ApiResult<&mut Domain> {
        self.domains.iter_mut().find(|d| d.id == id).ok_or_else(|| ApiError::not_found("Domain", id))
    }
}
