//! "Amazon Connect Cases Change" events (case event streams), in the documented EventBridge
//! shape (admin guide, "Case event payload and schema"):
//!
//! ```json
//! {"version":"0","id":"…","detail-type":"Amazon Connect Cases Change","source":"aws.cases",
//!  "account":"…","time":"2026-05-01T12:34:56Z","region":"…",
//!  "resources":["arn:aws:cases:…:domain/D","arn:aws:cases:…:domain/D/case/C"],
//!  "detail":{"version":"0","eventType":"CASE.UPDATED","approximateChangeTime":"…",
//!    "changedFieldIds":["status","last_updated_datetime"],
//!    "performedBy":{"user":{"customEntity":"…"},"iamPrincipalArn":"…"},
//!    "case":{"caseId":"…","templateId":"…","createdDateTime":"…",
//!            "fields":{"status":{"value":{"stringValue":"open"}}}}}}
//! ```
//!
//! Related-item events carry `changedAttributes` and
//! `relatedItem{relatedItemType, relatedItemId, caseId, createdDateTime, <member>{…}}` instead.
//!
//! An event is emitted when the domain's case event configuration has `enabled: true`, or when
//! emission is forced (`--events-out`, [`EventSink::set_force`]). The case fields included are
//! those of `includedData.caseData.fields` (non-null values only); related-item content is included
//! when `includedData.relatedItemData.includeContent` is true. When emission is forced and the
//! domain has no `includedData`, every field and the content are included (inferred).
//! `performedBy.user` is omitted when the request had no `performedBy`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;

use crate::state::model::{Case, Domain, RelatedContent, RelatedItem, User};
use crate::state::{Change, State};
use crate::util::format_ts;

/// Where emitted events go: an in-memory list (always) and optionally a JSON-lines file.
pub struct EventSink {
    inner: Mutex<SinkInner>,
}

struct SinkInner {
    events: Vec<Json>,
    file: Option<PathBuf>,
    force: bool,
}

/// The in-memory list keeps at most this many events (oldest dropped).
pub const MAX_EVENTS_IN_MEMORY: usize = 10_000;

impl EventSink {
    /// `file`: JSON-lines output (appended); `force`: emit even where the domain has events disabled.
    pub fn new(file: Option<PathBuf>, force: bool) -> Self {
        EventSink { inner: Mutex::new(SinkInner { events: Vec::new(), file, force }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SinkInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Emits the event of `change` (made at `at`), if it has one and events are enabled for
    /// its domain.
    pub fn emit(&self, state: &State, change: &Change, at: OffsetDateTime) {
        let mut inner = self.lock();
        let (domain_id, _) = change.case();
        let Ok(domain) = state.domain(domain_id) else { return };
        let Some(ev) = build_event(state, domain, change, inner.force, at) else { return };
        if let Some(path) = &inner.file {
            let res = std::fs::OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| writeln!(f, "{ev}"));
            if let Err(e) = res {
                tracing::error!(path = %path.display(), error = %e, "cannot write event");
            }
        }
        tracing::debug!(event = %ev, "case event");
        inner.events.push(ev);
        if inner.events.len() > MAX_EVENTS_IN_MEMORY {
            inner.events.remove(0);
        }
    }

    /// The events emitted so far (oldest first).
    pub fn events(&self) -> Vec<Json> {
        self.lock().events.clone()
    }

    /// Forgets the in-memory events.
    pub fn clear(&self) {
        self.lock().events.clear();
    }

    /// Forces emission for every domain (as `--events-out` does).
    pub fn set_force(&self, force: bool) {
        self.lock().force = force;
    }
}

fn performed_by_json(state: &State, user: &Option<User>) -> Json {
    let mut m = Map::new();
    if let Some(u) = user {
        m.insert("user".into(), serde_json::to_value(u).unwrap_or(Json::Null));
    }
    m.insert("iamPrincipalArn".into(), Json::String(state.iam_principal_arn()));
    Json::Object(m)
}

fn case_json(case: &Case, included: Option<Vec<String>>) -> Json {
    let mut fields = Map::new();
    for (id, v) in &case.fields {
        if included.as_ref().is_none_or(|ids| ids.contains(id)) {
            fields.insert(id.clone(), json!({ "value": v }));
        }
    }
    json!({
        "caseId": case.id,
        "templateId": case.template_id,
        "createdDateTime": case.fields.get("created_datetime").and_then(|v| v.as_text()).unwrap_or_default(),
        "fields": fields,
    })
}

fn related_item_json(item: &RelatedItem, include_content: bool) -> Json {
    let mut m = Map::new();
    m.insert("relatedItemType".into(), json!(item.item_type.as_str()));
    m.insert("relatedItemId".into(), json!(item.id));
    m.insert("caseId".into(), json!(item.case_id));
    m.insert("createdDateTime".into(), json!(item.association_time));
    if include_content {
        let content = match &item.content {
            RelatedContent::Contact(c) => serde_json::to_value(c),
            RelatedContent::Comment(c) => serde_json::to_value(c),
            RelatedContent::File(c) => serde_json::to_value(c),
            RelatedContent::Sla(c) => serde_json::to_value(c),
            RelatedContent::ConnectCase(c) => serde_json::to_value(c),
            RelatedContent::Custom(c) => serde_json::to_value(c),
        };
        m.insert(item.item_type.member().into(), content.unwrap_or(Json::Null));
    }
    Json::Object(m)
}

/// Builds the EventBridge event for a change made at `at`, or None when the change has no event
/// or events are disabled for the domain.
pub fn build_event(state: &State, domain: &Domain, change: &Change, force: bool, at: OffsetDateTime) -> Option<Json> {
    let cfg = &domain.event_configuration;
    let enabled = cfg.get("enabled").and_then(Json::as_bool).unwrap_or(false);
    if !enabled && !force {
        return None;
    }
    let included = cfg.get("includedData");
    let now = format_ts(at);
    let time = format!("{}Z", &now[..19]);
    let (resource, detail) = match change {
        Change::Case { event_type, case, changed_field_ids, performed_by, .. } => {
            let ids = included
                .and_then(|i| i.get("caseData"))
                .and_then(|c| c.get("fields"))
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(|f| f.get("id").and_then(Json::as_str).map(str::to_string)).collect::<Vec<_>>());
            let ids = match (ids, included.is_none() && force) {
                (Some(ids), _) => Some(ids),
                (None, true) => None,
                (None, false) => Some(Vec::new()),
            };
            (
                case.arn.clone(),
                json!({
                    "version": "0",
                    "eventType": event_type,
                    "approximateChangeTime": now,
                    "changedFieldIds": changed_field_ids,
                    "performedBy": performed_by_json(state, performed_by),
                    "case": case_json(case, ids),
                }),
            )
        }
        Change::RelatedItem { event_type, item, changed_attributes, performed_by, .. } => {
            let include_content = included
                .and_then(|i| i.get("relatedItemData"))
                .and_then(|r| r.get("includeContent"))
                .and_then(Json::as_bool)
                .unwrap_or(included.is_none() && force);
            (
                item.arn.clone(),
                json!({
                    "version": "0",
                    "eventType": event_type,
                    "approximateChangeTime": now,
                    "changedAttributes": changed_attributes,
                    "performedBy": performed_by_json(state, performed_by),
                    "relatedItem": related_item_json(item, include_content),
                }),
            )
        }
        Change::Searchable { .. } => return None,
    };
    Some(json!({
        "version": "0",
        "id": crate::util::new_id(),
        "detail-type": "Amazon Connect Cases Change",
        "source": "aws.cases",
        "account": state.account,
        "time": time,
        "region": state.region,
        "resources": [domain.arn, resource],
        "detail": detail,
    }))
}
