//! Sweeps: a scheduled rule's selection, paged through and fanned out to the work queue.
//!
//! EventBridge Scheduler invokes the function with a `Scheduled Sweep` event naming the rule and
//! its scheduled time. The sweep pages through the rule's selection (SearchCases, or
//! SearchAllRelatedItems for SLAs) and sends one work item per selected case (or SLA) to the
//! function's queue; the queue's consumer applies them at the Cases quotas, as events of their own
//! (see `rules::schedule`). A sweep is one per rule and scheduled time: a retried schedule is the
//! same sweep. Its lock and cursor live in the coordination store, so a sweep interrupted
//! (deadline, crash) resumes where it stopped; one that needs more than an invocation sends itself
//! a `Sweep Continuation` through the queue.
//!
//! Cases are paged by their creation time (oldest first, `created_datetime` at or after the
//! cursor) rather than with the service's page tokens: work items applied while the sweep pages
//! (closing cases, say) take cases out of the selection, which would shift token-based pages and
//! skip cases.

pub mod queue;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::info;

use crate::cases::CasesApi;
use crate::cases::domain_cache::DomainCache;
use crate::cases::model::{CaseFilter, FieldEntry, FieldFilter, FieldValue, SearchCasesInput, SearchSlasInput, SortInput};
use crate::claims::{self, ClaimStore, SweepState, keys, now_ms};
use crate::error::Error;
use crate::inbound::{ArnScope, Event};
use crate::plan::{FilterInput, plan_filter};
use crate::rules::RuleSet;
use crate::rules::schedule::{Schedule, Selection, Sweep, WORK_ITEM_SOURCE};
use crate::rules::value::TemplateContext;
use queue::WorkQueue;

/// The `detail-type` of the event a schedule sends.
pub const SCHEDULED: &str = "Scheduled Sweep";
/// The `detail-type` of the event a sweep sends itself to go on in another invocation.
pub const CONTINUATION: &str = "Sweep Continuation";

/// Cases read per SearchCases page (the API's maximum) and SLAs per SearchAllRelatedItems page.
const CASES_PAGE: i32 = crate::cases::limits::SEARCH_CASES_PAGE;
const SLAS_PAGE: i32 = crate::cases::limits::RELATED_ITEMS_PAGE;
/// Time kept back from the deadline to save the cursor and hand over.
const HANDOVER: Duration = Duration::from_secs(3);
/// The field cases are paged by.
const CREATED: &str = "created_datetime";

/// A page of a sweep over cases: oldest first, with their creation time (the cursor).
pub fn selection_request(filter: CaseFilter) -> SearchCasesInput {
    SearchCasesInput {
        max_results: CASES_PAGE,
        filter,
        sorts: vec![SortInput { field_id: CREATED.into(), sort_order: "Asc" }],
        fields: vec![CREATED.into()],
        next_token: None,
    }
}

/// The selection request as `plan` prints it, read back (for `plan --domain`).
pub fn selection_from_json(body: &Value) -> Option<SearchCasesInput> {
    Some(selection_request(filter_from_json(body.get("filter")?)?))
}

fn filter_from_json(filter: &Value) -> Option<CaseFilter> {
    let (kind, inner) = filter.as_object()?.iter().next()?;
    let list = |v: &Value| v.as_array().and_then(|a| a.iter().map(filter_from_json).collect::<Option<Vec<_>>>());
    Some(match kind.as_str() {
        "andAll" => CaseFilter::AndAll(list(inner)?),
        "orAll" => CaseFilter::OrAll(list(inner)?),
        "not" => CaseFilter::Not(Box::new(filter_from_json(inner)?)),
        "tag" => CaseFilter::Tag(crate::cases::model::TagFilter::EqualTo {
            key: inner["equalTo"]["key"].as_str().map(str::to_owned),
            value: inner["equalTo"]["value"].as_str().map(str::to_owned),
        }),
        "field" => {
            let (op, entry) = inner.as_object()?.iter().next()?;
            let entry: FieldEntry = serde_json::from_value(entry.clone()).ok()?;
            CaseFilter::Field(match op.as_str() {
                "equalTo" => FieldFilter::EqualTo(entry),
                "contains" => FieldFilter::Contains(entry),
                "greaterThan" => FieldFilter::GreaterThan(entry),
                "greaterThanOrEqualTo" => FieldFilter::GreaterThanOrEqualTo(entry),
                "lessThan" => FieldFilter::LessThan(entry),
                "lessThanOrEqualTo" => FieldFilter::LessThanOrEqualTo(entry),
                _ => return None,
            })
        }
        _ => return None,
    })
}

/// The sweep an event asks for, if it is a schedule's or a continuation.
pub fn request(event: &Event) -> Option<Result<Sweep, String>> {
    let raw = &event.raw;
    if raw.get("source").and_then(Value::as_str) != Some(WORK_ITEM_SOURCE) {
        return None;
    }
    match raw.get("detail-type").and_then(Value::as_str) {
        Some(SCHEDULED | CONTINUATION) => Some(Sweep::from_payload(raw)),
        _ => None,
    }
}

/// What one invocation of a sweep did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepOutcome {
    pub sweep_id: String,
    pub rule: String,
    /// Work items sent by this invocation, and by the sweep so far.
    pub sent_now: u64,
    pub sent: u64,
    pub done: bool,
    /// Another invocation holds the sweep (a retried schedule while the first still runs).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub held_elsewhere: bool,
}

/// Where a sweep over cases stands: the creation time it reached, and the cases of exactly that
/// time already sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct CaseCursor {
    after: String,
    seen: Vec<String>,
}

/// What a sweep uses of the process: the Cases client and the domain's names, the coordination
/// store (lock and cursor), and the queue its work items go to.
pub struct Sweeper<'a, C, S> {
    pub api: &'a C,
    pub claims: &'a S,
    pub domain: &'a DomainCache,
    pub work_queue: Option<&'a WorkQueue>,
    /// The Cases domain: part of the sweep's key in the store.
    pub domain_id: &'a str,
    /// How long the sweep's lock blocks others after an invocation dies (`CLAIM_LEASE_SECONDS`).
    pub lease: Duration,
    /// Partition, region and account of the function, once an invocation has said.
    pub function_scope: Option<ArnScope>,
}

impl<C: CasesApi, S: ClaimStore> Sweeper<'_, C, S> {
    /// Runs (or resumes) the sweep until it is done or the deadline comes near.
    pub async fn run(&self, event: &Event, sweep: &Sweep, deadline: Instant, rules: &RuleSet) -> Result<SweepOutcome, Error> {
        let describe = || format!("sweep {} ({})", sweep.id(), event.key);
        let rule = rules.rules.iter().find(|r| r.name == sweep.rule && r.schedule.is_some()).ok_or_else(|| {
            Error::permanent("UnknownScheduledRule", format!("{}: no scheduled rule is named `{}`", describe(), sweep.rule))
        })?;
        let Some(Schedule { select, .. }) = &rule.schedule else { unreachable!("found with a schedule") };
        let queue = self.work_queue.ok_or_else(|| {
            Error::permanent(
                "NoWorkQueue",
                format!("{}: a sweep sends its work items to the function's queue: set WORK_QUEUE_URL (the template does)", describe()),
            )
        })?;
        let store = self.claims;
        let key = keys::sweep(self.domain_id, &sweep.id());
        let me = claims::attempt_id();
        let lease = || now_ms() + self.lease.as_millis() as i64;
        let store_error = |e: claims::StoreError| Error::retryable("CoordinationStoreUnavailable", format!("{}: {e}", describe()));
        let Some(mut state) = store.lock_sweep(&key, &me, lease()).await.map_err(store_error)? else {
            info!(sweep = %sweep.id(), "the sweep runs in another invocation");
            return Ok(SweepOutcome {
                sweep_id: sweep.id(),
                rule: sweep.rule.clone(),
                sent_now: 0,
                sent: 0,
                done: false,
                held_elsewhere: true,
            });
        };
        let already_done = state.done;
        let mut sent_now = 0;
        let result: Result<(), Error> = async {
            let domain = self.domain.names(self.api).await.map_err(|e| Error::api(event, "listing the domain's fields and templates", &e))?;
            let context_value = sweep.context();
            let context = TemplateContext::new(&context_value);
            let scope = self.function_scope.clone().or_else(|| event.scope.clone());
            let (account, region) = scope.map(|s| (s.account, s.region)).unwrap_or_default();
            while !state.done {
                if Instant::now() + HANDOVER >= deadline {
                    break;
                }
                let (items, cursor, last) = match select {
                    Selection::Cases(filter) => {
                        let input = FilterInput {
                            rule: &rule.name,
                            event: &context_value,
                            rules,
                            context: &context,
                            resolve: &domain.catalog,
                            now: sweep.scheduled_time,
                        };
                        let filter = plan_filter(filter, &input).map_err(|e| Error::plan(event, &e))?;
                        self.cases_page(sweep, filter, state.cursor.as_deref(), &account, &region).await.map_err(|e| Error::api(event, "selecting the cases", &e))?
                    }
                    Selection::Slas { status, name } => {
                        let name = match name {
                            Some(value) => value
                                .extract_string(&context_value, rules.templates(), &context, crate::rules::value::Limit::IDENTIFIER)
                                .map_err(|e| Error::permanent("RuleDoesNotFitEvent", format!("{}: select.slas.name: {e}", describe())))?,
                            None => None,
                        };
                        let input = SearchSlasInput { max_results: SLAS_PAGE, status: status.map(|s| s.as_str()), name, next_token: state.cursor.clone() };
                        let page = self.api.search_slas(&input).await.map_err(|e| Error::api(event, "selecting the SLAs", &e))?;
                        let items = page
                            .slas
                            .iter()
                            .map(|sla| {
                                let extra = json!({"sla": {"relatedItemId": sla.related_item_id, "name": sla.name, "status": sla.status, "targetTime": sla.target_time}});
                                sweep.work_item(&sla.case_id, &format!("sla/{}", sla.related_item_id), &account, &region, extra).to_string()
                            })
                            .collect::<Vec<_>>();
                        let last = page.next_token.is_none();
                        (items, page.next_token, last)
                    }
                };
                queue.send(&items).await.map_err(|e| Error::retryable("WorkQueueUnavailable", format!("{}: {e}", describe())))?;
                sent_now += items.len() as u64;
                state = SweepState { cursor, sent: state.sent + items.len() as u64, done: last };
                if !store.save_sweep(&key, &me, &state, if state.done { 0 } else { lease() }).await.map_err(store_error)? {
                    return Err(Error::retryable("SweepTakenOver", format!("{}: the sweep's lock ran out and another invocation took it", describe())));
                }
            }
            Ok(())
        }
        .await;
        if let Err(error) = result {
            // Released so that the retry resumes at once from the saved cursor.
            let _ = store.save_sweep(&key, &me, &state, 0).await;
            return Err(error);
        }
        if !state.done {
            // Released first: the continuation may be received before this invocation ends.
            store.save_sweep(&key, &me, &state, 0).await.map_err(store_error)?;
            let continuation = json!({
                "version": "0",
                "id": format!("{}/continue/{}", sweep.id(), state.sent),
                "source": WORK_ITEM_SOURCE,
                "detail-type": CONTINUATION,
                "time": event.raw.get("time").cloned().unwrap_or(Value::Null),
                "account": event.raw.get("account").cloned().unwrap_or(Value::Null),
                "region": event.raw.get("region").cloned().unwrap_or(Value::Null),
                "resources": [],
                "detail": {},
                "sweep": sweep.context()["sweep"],
            });
            queue
                .send(&[continuation.to_string()])
                .await
                .map_err(|e| Error::retryable("WorkQueueUnavailable", format!("{}: {e}", describe())))?;
        }
        info!(sweep = %sweep.id(), rule = %sweep.rule, sent_now, sent = state.sent, done = state.done, "sweep");
        crate::telemetry::sweep_progress(&sweep.rule, sent_now, state.done && !already_done);
        Ok(SweepOutcome {
            sweep_id: sweep.id(),
            rule: sweep.rule.clone(),
            sent_now,
            sent: state.sent,
            done: state.done,
            held_elsewhere: false,
        })
    }

    /// One page of a sweep over cases: the work items, the new cursor, and whether it was the last.
    async fn cases_page(
        &self,
        sweep: &Sweep,
        filter: CaseFilter,
        cursor: Option<&str>,
        account: &str,
        region: &str,
    ) -> Result<(Vec<String>, Option<String>, bool), crate::cases::ApiError> {
        let cursor: Option<CaseCursor> = cursor.and_then(|c| serde_json::from_str(c).ok());
        let filter = match &cursor {
            Some(cursor) => CaseFilter::AndAll(vec![
                filter,
                CaseFilter::Field(FieldFilter::GreaterThanOrEqualTo(FieldEntry {
                    id: CREATED.into(),
                    value: FieldValue::String(cursor.after.clone()),
                })),
            ]),
            None => filter,
        };
        let input = selection_request(filter);
        let page = self.api.search_cases(&input).await?;
        let last = page.cases.len() < CASES_PAGE as usize;
        let seen: HashSet<&str> = cursor.as_ref().map(|c| c.seen.iter().map(String::as_str).collect()).unwrap_or_default();
        let mut next = cursor.clone().unwrap_or_default();
        let mut items = Vec::new();
        for case in &page.cases {
            let created = match case.fields.get(CREATED) {
                Some(FieldValue::String(created)) => created.clone(),
                _ => String::new(),
            };
            if created == next.after {
                if seen.contains(case.case_id.as_str()) {
                    continue;
                }
                next.seen.push(case.case_id.clone());
            } else {
                next = CaseCursor { after: created, seen: vec![case.case_id.clone()] };
            }
            let key = format!("{}/{}", sweep.id(), case.case_id);
            items.push(sweep.work_item(&case.case_id, &key, account, region, json!({})).to_string());
        }
        // A full page of cases all created in one instant would repeat itself: the service cannot
        // tell them apart by time, so the sweep stops there rather than loop.
        let stuck = !last && items.is_empty();
        let cursor = (!next.after.is_empty()).then(|| serde_json::to_string(&next).expect("cursors serialize"));
        Ok((items, cursor, last || stuck))
    }
}
