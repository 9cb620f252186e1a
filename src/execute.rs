//! Running a plan against the Cases API: find or create the case, then apply each action once.
//!
//! Safe under redelivery and across instances:
//! - CreateCase carries a deterministic `clientToken`, so a second delivery of an event gets the
//!   case the first one created; with the coordination store (`claims`), the case of a business
//!   fact (the rule's search, after customer resolution) or of an event is claimed before it is
//!   created, so different events and instances agree on one case even while SearchCases lags;
//! - every related item is looked for before it is created (contacts and files by ARN, SLAs by
//!   name, linked cases by case id, comments and custom items by content and author; a contact
//!   flow's comments among those of its redelivery window) and, with the store, claimed, so none
//!   is created twice and none has to be removed;
//! - an update sends only the values that differ from the case's current ones, and, with the
//!   store, only those no newer event of the rule already set, within the case's update budget.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::join_all;
use serde::Serialize;
use tracing::{info, warn};

use crate::cases::model::*;
use crate::cases::{ApiError, ApiErrorKind, CasesApi};
use crate::claims::ledger::{Budget, content_digest, kept_watermarks, watermark};
use crate::claims::{self, Claim, ClaimState, ClaimStore, LedgerUpdate, Next, NoClaims, StoreError, decide, keys, now_ms, wait_step};
use crate::customers::CustomerError;
use crate::locks::KeyedLocks;
use crate::plan::{PlanError, PlannedAction, PlannedLookup, RulePlan, Step};
use crate::rules::IfMissing;

/// Pages of related items read when looking for an existing one (`limits::RELATED_ITEMS_PAGE` a page).
const MAX_RELATED_ITEM_PAGES: usize = 40;

/// The Cases client, the per-case locks, and the coordination store.
pub struct Executor<C, S = NoClaims> {
    pub api: C,
    pub claims: Arc<S>,
    /// The Cases domain: part of every claim's key.
    domain: String,
    budget: Budget,
    /// How long a claim or the ledger lock of an instance that died blocks the others.
    lease: std::time::Duration,
    /// Held while a case's actions run (see `locks`).
    case_locks: KeyedLocks,
}

/// What one rule did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleOutcome {
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_arn: Option<String>,
    pub case: CaseOutcome,
    pub actions: Vec<ActionOutcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseOutcome {
    /// The id came from the event.
    FromEvent,
    FoundForContact,
    FoundBySearch,
    /// Another event or instance created it for the same business fact a moment ago (found
    /// through its claim, before the search index shows it).
    FoundByClaim,
    /// Created now, or by an earlier delivery of the same event (the API does not say which).
    Created,
    /// No case, and the rule says to skip.
    NotFound,
    /// No customer profile, and the rule's `customer.ifNone` says to skip.
    NoCustomer,
    /// A sweep's work item whose case no longer fits the selection (changed since the sweep).
    NoLongerSelected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionOutcome {
    pub action: &'static str,
    pub status: ActionStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    Done,
    /// The case already had it (an earlier delivery of the same event, or the values were equal).
    AlreadyDone,
    /// Not applied: a newer event of the same rule already set every field it would set.
    Stale,
    /// Not applied: the case's budget of automated updates for this window is spent (a loop with
    /// another party that keeps changing the case back).
    BudgetSpent,
    /// Not applied: a `linkCase` found no case to link (and its `ifMissing` is `skip`).
    NotFound,
    /// Not sent: every value of an `update` was left out (`default: null` and nothing in the event).
    NothingToSend,
}

/// A failed step of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    Api {
        rule: String,
        step: String,
        error: ApiError,
    },
    /// The coordination store could not be used (retryable).
    Store {
        rule: String,
        step: String,
        error: StoreError,
    },
    /// No case was found and the rule neither creates one nor skips.
    CaseNotFound {
        rule: String,
    },
    /// A `linkCase` with `ifMissing: fail` found no case to link.
    NoCaseToLink {
        rule: String,
        step: String,
    },
    /// A `keep-one` action without the coordination store, which holds which item is kept.
    NeedsStore {
        rule: String,
        step: String,
    },
    /// The rule's customer could not be looked up.
    Customer(CustomerError),
    /// The plan made with the customer's ARN does not fit (cannot differ from the placeholder
    /// plan checked before, but is not assumed).
    Plan(PlanError),
}

impl<C: CasesApi> Executor<C> {
    /// An executor without a coordination store.
    pub fn new(api: C) -> Executor<C> {
        Executor::with_claims(api, Arc::new(NoClaims), "")
    }
}

/// A step's failure, API or store, or a rule the configuration cannot run.
enum StepError {
    Api(ApiError),
    Store(StoreError),
    NeedsStore,
}

impl From<ApiError> for StepError {
    fn from(error: ApiError) -> StepError {
        StepError::Api(error)
    }
}

impl From<StoreError> for StepError {
    fn from(error: StoreError) -> StepError {
        StepError::Store(error)
    }
}

impl<C: CasesApi, S: ClaimStore> Executor<C, S> {
    pub fn with_claims(api: C, claims: Arc<S>, domain: impl Into<String>) -> Executor<C, S> {
        Executor { api, claims, domain: domain.into(), budget: Budget::DEFAULT, lease: claims::LEASE, case_locks: KeyedLocks::default() }
    }

    /// Sets the case's budget of automated writes (`CASE_WRITES_PER_HOUR`) and the lease of claims
    /// and ledger locks (`CLAIM_LEASE_SECONDS`).
    pub fn with_limits(mut self, budget: Budget, lease: std::time::Duration) -> Executor<C, S> {
        self.budget = budget;
        self.lease = lease;
        self
    }

    /// Runs a plan whose customers are all known.
    pub async fn run(&self, plan: &RulePlan) -> Result<RuleOutcome, ExecError> {
        self.run_resolving(plan, || async { unreachable!("a plan without placeholders needs no customer") }).await
    }

    /// Runs a plan; `resolve` looks the rule's customer up and plans the rule again with it, and
    /// is called just before the first step that needs the customer (`customer_steps`).
    /// It gives None when the rule says to skip an event without a customer.
    pub async fn run_resolving<F, Fut>(&self, initial: &RulePlan, resolve: F) -> Result<RuleOutcome, ExecError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<RulePlan>, ExecError>>,
    {
        let mut plan = Cow::Borrowed(initial);
        let mut resolve = Some(resolve);
        // Swaps in the plan with the customer before `step`; false means "skip the rule".
        macro_rules! customer_before {
            ($step:expr) => {
                customer_before!($step, None)
            };
            ($step:expr, $case_id:expr) => {
                if plan.customer_steps.contains(&$step)
                    && let Some(resolve) = resolve.take()
                {
                    match resolve().await? {
                        Some(resolved) => plan = Cow::Owned(resolved),
                        None => {
                            // The case found or created before the lookup is still reported.
                            return Ok(RuleOutcome {
                                rule: initial.rule.clone(),
                                case_id: $case_id,
                                case_arn: None,
                                case: CaseOutcome::NoCustomer,
                                actions: vec![],
                            });
                        }
                    }
                }
            };
        }
        let fail = |step: String| {
            move |error: StepError| match error {
                StepError::Api(error) => ExecError::Api { rule: initial.rule.clone(), step, error },
                StepError::Store(error) => ExecError::Store { rule: initial.rule.clone(), step, error },
                StepError::NeedsStore => ExecError::NeedsStore { rule: initial.rule.clone(), step },
            }
        };

        let mut found = None;
        for i in 0..plan.lookups.len() {
            customer_before!(Step::Lookup(i));
            let step = format!("case.find[{i}]");
            found = match &plan.lookups[i] {
                PlannedLookup::Id(id) => Some((id.clone(), CaseOutcome::FromEvent)),
                PlannedLookup::Contact(input) => {
                    let ids = self.api.list_cases_for_contact(input).await.map_err(|e| fail(step)(e.into()))?;
                    ids.into_iter().next().map(|id| (id, CaseOutcome::FoundForContact))
                }
                PlannedLookup::Search(input) => {
                    let page = self.api.search_cases(input).await.map_err(|e| fail(step.clone())(e.into()))?;
                    match page.cases.into_iter().next().map(|case| case.case_id) {
                        Some(id) if self.still_matches(&id, &input.filter).await.map_err(|e| fail(step)(e.into()))? => {
                            Some((id, CaseOutcome::FoundBySearch))
                        }
                        Some(id) => {
                            info!(rule = %plan.rule, case = %id, "the search index still shows a case that no longer matches (closed a moment ago)");
                            None
                        }
                        None => None,
                    }
                }
            };
            if found.is_some() {
                break;
            }
        }

        if let (Some((case_id, _)), Some(filter)) = (&found, &plan.recheck) {
            let ids: Vec<String> = filter.field_ids().into_iter().map(str::to_owned).collect();
            let current = match self.api.get_case_fields(case_id, &ids).await {
                Ok(current) => Some(current),
                Err(error) if error.kind == ApiErrorKind::NotFound => None,
                Err(error) => return Err(fail("select".into())(error.into())),
            };
            if !current.is_some_and(|current| filter.matches(&current)) {
                info!(rule = %plan.rule, case = %case_id, "the case no longer fits the sweep's selection; skipped");
                return Ok(RuleOutcome {
                    rule: plan.rule.clone(),
                    case_id: Some(case_id.clone()),
                    case_arn: None,
                    case: CaseOutcome::NoLongerSelected,
                    actions: vec![],
                });
            }
        }
        if found.is_none() {
            customer_before!(Step::Create);
        }
        // The fields a case created here has: an update can be compared with them without GetCase.
        let mut created_with = None;
        let (case_id, case_arn, case) = match (found, &plan.create) {
            (Some((id, how)), _) => (id, None, how),
            (None, Some(create)) => {
                let (created, how, fresh) = self.create_case_once(&plan, create).await.map_err(fail("case.create".into()))?;
                if fresh {
                    created_with = Some(&create.fields);
                }
                (created.case_id, Some(created.case_arn).filter(|arn| !arn.is_empty()), how)
            }
            (None, None) if plan.if_missing == IfMissing::Skip => {
                return Ok(RuleOutcome {
                    rule: plan.rule.clone(),
                    case_id: None,
                    case_arn: None,
                    case: CaseOutcome::NotFound,
                    actions: vec![],
                });
            }
            (None, None) => return Err(ExecError::CaseNotFound { rule: plan.rule.clone() }),
        };
        let created_with = created_with.cloned();
        customer_before!(Step::Actions, Some(case_id.clone()));
        let plan = &*plan;

        // A case found through this very contact is already linked to it.
        let linked_contact = plan.lookups.iter().find_map(|l| match (l, case) {
            (PlannedLookup::Contact(input), CaseOutcome::FoundForContact) => Some(input.contact_arn.as_str()),
            _ => None,
        });

        // The cases `linkCase` actions link to, found now that the rule's own case is known.
        let mut actions = Vec::with_capacity(plan.actions.len());
        for (i, action) in plan.actions.iter().enumerate() {
            actions.push(match action {
                PlannedAction::LinkCase { lookups, if_missing, performed_by } => {
                    let step = format!("actions[{i}].linkCase");
                    match self.other_case(lookups, &case_id).await.map_err(|e| fail(step.clone())(e.into()))? {
                        Some(other) => PlannedAction::Relate(CreateRelatedItemInput::new(
                            RelatedItemContent::ConnectCase { case_id: other },
                            performed_by.clone(),
                        )),
                        None if *if_missing == IfMissing::Fail => return Err(ExecError::NoCaseToLink { rule: plan.rule.clone(), step }),
                        None => action.clone(),
                    }
                }
                _ => action.clone(),
            });
        }

        let case_lock = self.case_locks.get(&case_id);
        let _turn = case_lock.lock().await;
        // The looks for existing items are independent reads: made together, so a rule with several
        // related items waits for one round trip instead of one per item. The writes stay in order.
        // With the store, a comment or custom item is identified by its event (see
        // `claims::keys::item`), so it is not looked for by its content. Without it, a comment of a
        // contact flow is its own call's only if it was added within the flow's redelivery window:
        // an identical note added before is another call's (two agents writing the same words) and
        // stays on its own.
        let already_there = join_all(actions.iter().map(|action| async {
            match action {
                // No case to link: nothing to look for. A kept item is found through its claim.
                PlannedAction::LinkCase { .. } | PlannedAction::Keep { .. } => Ok(false),
                PlannedAction::Relate(input) => match &input.content {
                    RelatedItemContent::Contact { contact_arn } if Some(contact_arn.as_str()) == linked_contact => Ok(true),
                    RelatedItemContent::Comment { .. } | RelatedItemContent::Custom { .. } if self.claims.enabled() => Ok(false),
                    RelatedItemContent::Comment { .. } => {
                        let since = plan.redeliveries_within.map(|window| now_ms() - window.as_millis() as i64);
                        self.has_related_item(&case_id, input, since).await
                    }
                    _ => self.has_related_item(&case_id, input, None).await,
                },
                PlannedAction::Update(_) => Ok(false),
            }
        }))
        .await;
        // With the store, the rule's writes on the case happen under the case's ledger lock: in event
        // order for updates, within the case's budget of automated writes.
        // A redelivery that finds every item already there writes nothing and takes no lock.
        let may_write = actions.iter().zip(&already_there).any(|(action, there)| match action {
            PlannedAction::Update(_) | PlannedAction::Keep { .. } => true,
            PlannedAction::LinkCase { .. } => false,
            PlannedAction::Relate(_) => !matches!(there, Ok(true)),
        });
        let mut session = if may_write {
            self.open_ledger(&case_id).await.map_err(|e| fail("case.ledger".into())(e))?
        } else {
            LedgerSession::unenforced()
        };
        let result = self.apply_actions(plan, &actions, &case_id, already_there, created_with.as_deref(), &mut session).await;
        self.close_ledger(&case_id, session).await.map_err(|e| fail("case.ledger".into())(e))?;
        let actions = result.map_err(|(step, error)| fail(step)(error))?;
        Ok(RuleOutcome { rule: plan.rule.clone(), case_id: Some(case_id), case_arn, case, actions })
    }

    async fn apply_actions(
        &self,
        plan: &RulePlan,
        planned: &[PlannedAction],
        case_id: &str,
        already_there: Vec<Result<bool, ApiError>>,
        created_with: Option<&[FieldEntry]>,
        session: &mut LedgerSession,
    ) -> Result<Vec<ActionOutcome>, (String, StepError)> {
        let mut actions = Vec::with_capacity(planned.len());
        for (i, (action, already_there)) in planned.iter().zip(already_there).enumerate() {
            let step = format!("actions[{i}].{}", action.kind());
            let status = match action {
                PlannedAction::LinkCase { .. } => ActionStatus::NotFound,
                PlannedAction::Keep { key, input } => self.keep_one(plan, case_id, key, input, session).await.map_err(|e| (step, e))?,
                PlannedAction::Update(input) if input.fields.is_empty() => ActionStatus::NothingToSend,
                PlannedAction::Update(input) => {
                    self.update_case_once(plan, case_id, input, created_with, session).await.map_err(|e| (step, e))?
                }
                PlannedAction::Relate(input) => {
                    // An identical item an earlier action of this rule just created counts too.
                    let created_above = planned[..i].iter().any(|a| matches!(a, PlannedAction::Relate(earlier) if earlier == input));
                    if already_there.map_err(|e| (step.clone(), e.into()))? || created_above {
                        ActionStatus::AlreadyDone
                    } else if !session.spend(self.budget) {
                        warn!(rule = %plan.rule, case = %case_id, budget = self.budget.updates, "the case's budget of automated writes is spent; not adding the item");
                        ActionStatus::BudgetSpent
                    } else {
                        let status = self.relate_once(plan, case_id, input).await.map_err(|e| (step, e))?;
                        if status != ActionStatus::Done {
                            session.refund();
                        }
                        status
                    }
                }
            };
            actions.push(ActionOutcome { action: action.kind(), status });
        }
        Ok(actions)
    }

    // -----------------------------------------------------------------------------------------
    // Cases
    // -----------------------------------------------------------------------------------------

    /// CreateCase, at most once per business fact (or per event, for a rule that does not search)
    /// while that case is open: claimed first when the store is on. Also says whether this very
    /// call created the case with the plan's fields (so its values are known without GetCase).
    async fn create_case_once(&self, plan: &RulePlan, create: &CreateCaseInput) -> Result<(CreatedCase, CaseOutcome, bool), StepError> {
        if !self.claims.enabled() {
            // The API does not say whether the case is new or an earlier delivery's.
            return Ok((self.api.create_case(create).await?, CaseOutcome::Created, false));
        }
        let searches: Vec<&SearchCasesInput> = plan
            .lookups
            .iter()
            .filter_map(|l| match l {
                PlannedLookup::Search(search) => Some(search),
                _ => None,
            })
            .collect();
        let per_fact = !searches.is_empty();
        let key = if per_fact {
            keys::fact(&self.domain, &searches)
        } else {
            keys::event_case(&self.domain, &plan.event_key, &create.template_id)
        };
        let token = create.client_token.as_str();
        let request = serde_json::to_string(create).expect("requests serialize");
        let mine = Claim::pending_with_lease(&key, token, Some(request.clone()), now_ms(), claims::CASE_LEASE);
        let Some(mut held) = self.claims.put_new(&mine).await? else {
            return self.create_claimed(&key, create, token).await;
        };
        for round in 0.. {
            match decide(&held, token, now_ms()) {
                Next::Use(case_id) => {
                    // A fact's case is reused only while it is open: after it was closed, a new
                    // event about the fact opens a new case.
                    if !per_fact || self.case_is_open(&case_id).await? {
                        info!(rule = %plan.rule, case = %case_id, "the case of this business fact was created a moment ago");
                        return Ok((CreatedCase { case_id, case_arn: String::new() }, CaseOutcome::FoundByClaim, false));
                    }
                    let next = held.succeeded_by(token, Some(request.clone()), now_ms(), claims::CASE_LEASE);
                    match self.claims.replace(&next).await? {
                        None => return self.create_claimed(&key, create, token).await,
                        Some(now_held) => held = now_held,
                    }
                }
                Next::Replay { request: stored, owner } => {
                    // The request its owner sent (possibly of an earlier version of the rule):
                    // its clientToken returns the case the owner created, or creates it once.
                    let stored: CreateCaseInput = match serde_json::from_str(&stored) {
                        Ok(stored) => stored,
                        Err(_) => create.clone(),
                    };
                    let created = self.api.create_case(&stored).await?;
                    self.claims.bind(&key, &owner, &created.case_id, Some(&keys::token(&self.domain, &owner))).await?;
                    let how = if owner == token { CaseOutcome::Created } else { CaseOutcome::FoundByClaim };
                    return Ok((created, how, false));
                }
                Next::Wait(pause) => {
                    tokio::time::sleep(wait_step(round).min(pause.max(std::time::Duration::from_millis(10)))).await;
                    held = match self.claims.get(&key).await? {
                        Some(claim) => claim,
                        // Released by its owner (its create failed): claim it again.
                        None => match self.claims.put_new(&mine).await? {
                            None => return self.create_claimed(&key, create, token).await,
                            Some(claim) => claim,
                        },
                    };
                }
                Next::TakeOver => {
                    let next = held.succeeded_by(token, Some(request.clone()), now_ms(), claims::CASE_LEASE);
                    match self.claims.replace(&next).await? {
                        None => return self.create_claimed(&key, create, token).await,
                        Some(now_held) => held = now_held,
                    }
                }
            }
        }
        unreachable!("the loop only ends by returning")
    }

    /// CreateCase under this claimant's claim, then the claim bound to the case (and the token
    /// recorded, so that a retry whose request changed finds the case).
    async fn create_claimed(
        &self,
        key: &str,
        create: &CreateCaseInput,
        token: &str,
    ) -> Result<(CreatedCase, CaseOutcome, bool), StepError> {
        match self.api.create_case(create).await {
            Ok(created) => {
                if !self.claims.bind(key, token, &created.case_id, Some(&keys::token(&self.domain, token))).await? {
                    warn!(case = %created.case_id, "the case's claim was taken over while it was being created");
                }
                Ok((created, CaseOutcome::Created, true))
            }
            Err(error) if error.kind == ApiErrorKind::Conflict => {
                // The token was used before with another request (the rule, template or customer
                // changed between attempts): the case that attempt created is the event's case.
                self.claims.release(key, token).await?;
                match self.claims.get(&keys::token(&self.domain, token)).await? {
                    Some(Claim { state: ClaimState::Bound { id }, .. }) => {
                        info!(case = %id, "a retry whose request changed since its first attempt ends on the case that attempt created");
                        Ok((CreatedCase { case_id: id, case_arn: String::new() }, CaseOutcome::Created, false))
                    }
                    _ => Err(error.into()),
                }
            }
            Err(error) => {
                // Refused outright (validation, throttling): nothing was created, others may claim
                // now. After a timeout or a 5xx the case may exist: the claim stays pending with its
                // request, which anyone can replay with the same token.
                if refused_outright(&error) {
                    self.claims.release(key, token).await?;
                }
                Err(error.into())
            }
        }
    }

    /// Whether the case found by a search still has every value the search asked for: the search
    /// index trails the writes, so it can return a case closed (or changed) a moment ago.
    async fn still_matches(&self, case_id: &str, filter: &CaseFilter) -> Result<bool, ApiError> {
        let conditions = filter.equalities();
        let ids: Vec<String> = conditions.iter().map(|entry| entry.id.clone()).collect();
        let current = match self.api.get_case_fields(case_id, &ids).await {
            Ok(current) => current,
            Err(error) if error.kind == ApiErrorKind::NotFound => return Ok(false),
            Err(error) => return Err(error),
        };
        Ok(conditions.iter().all(|entry| same_value(current.get(&entry.id), &entry.value)))
    }

    /// The first case `lookups` find other than `this` (the rule's own case, which a search for
    /// the customer's open cases may find first); a search result is checked like a case lookup's.
    async fn other_case(&self, lookups: &[PlannedLookup], this: &str) -> Result<Option<String>, ApiError> {
        for lookup in lookups {
            let candidates = match lookup {
                PlannedLookup::Id(id) => vec![id.clone()],
                PlannedLookup::Contact(input) => self.api.list_cases_for_contact(input).await?,
                PlannedLookup::Search(input) => self.api.search_cases(input).await?.cases.into_iter().map(|case| case.case_id).collect(),
            };
            for id in candidates.into_iter().filter(|id| id != this) {
                if let PlannedLookup::Search(input) = lookup
                    && !self.still_matches(&id, &input.filter).await?
                {
                    continue;
                }
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    async fn case_is_open(&self, case_id: &str) -> Result<bool, StepError> {
        match self.api.get_case_fields(case_id, &["status".to_owned()]).await {
            Ok(fields) => Ok(fields.get("status") != Some(&FieldValue::String("closed".into()))),
            Err(error) if error.kind == ApiErrorKind::NotFound => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Related items
    // -----------------------------------------------------------------------------------------

    /// CreateRelatedItem, claimed first when the store is on, so that deliveries in different
    /// instances create it once.
    async fn relate_once(&self, plan: &RulePlan, case_id: &str, input: &CreateRelatedItemInput) -> Result<ActionStatus, StepError> {
        if !self.claims.enabled() {
            self.api.create_related_item(case_id, input).await?;
            return Ok(ActionStatus::Done);
        }
        let key = keys::item(&self.domain, case_id, &input.content, &plan.event_key);
        let me = claims::attempt_id();
        let mine = Claim::pending_with_lease(&key, &me, None, now_ms(), self.lease);
        let Some(mut held) = self.claims.put_new(&mine).await? else {
            return self.relate_claimed(&key, &me, case_id, input).await;
        };
        for round in 0.. {
            match decide(&held, &me, now_ms()) {
                Next::Use(_) => return Ok(ActionStatus::AlreadyDone),
                Next::Wait(pause) => {
                    tokio::time::sleep(wait_step(round).min(pause.max(std::time::Duration::from_millis(10)))).await;
                    held = match self.claims.get(&key).await? {
                        Some(claim) => claim,
                        None => match self.claims.put_new(&mine).await? {
                            None => return self.relate_claimed(&key, &me, case_id, input).await,
                            Some(claim) => claim,
                        },
                    };
                }
                // Related-item claims carry no request; a dead owner's item may exist: look first.
                Next::TakeOver | Next::Replay { .. } => {
                    let existing = self.items_like(case_id, input, true, None).await?;
                    let next = match existing.first() {
                        Some(item) => Claim {
                            state: ClaimState::Bound { id: item.related_item_id.clone() },
                            ..held.succeeded_by(&me, None, now_ms(), self.lease)
                        },
                        None => held.succeeded_by(&me, None, now_ms(), self.lease),
                    };
                    match self.claims.replace(&next).await? {
                        None if existing.is_empty() => return self.relate_claimed(&key, &me, case_id, input).await,
                        None => return Ok(ActionStatus::AlreadyDone),
                        Some(now_held) => held = now_held,
                    }
                }
            }
        }
        unreachable!("the loop only ends by returning")
    }

    async fn relate_claimed(&self, key: &str, me: &str, case_id: &str, input: &CreateRelatedItemInput) -> Result<ActionStatus, StepError> {
        match self.api.create_related_item(case_id, input).await {
            Ok(item_id) => {
                if !self.claims.bind(key, me, &item_id, None).await? {
                    warn!(case = %case_id, item = %item_id, "a related item's claim was taken over while it was being created");
                }
                Ok(ActionStatus::Done)
            }
            Err(error) => {
                if refused_outright(&error) {
                    self.claims.release(key, me).await?;
                } else {
                    self.claims.abandon(key, me).await?;
                }
                Err(error.into())
            }
        }
    }

    /// Whether the case already has this related item (added at `since_ms` or later, when given).
    async fn has_related_item(&self, case_id: &str, input: &CreateRelatedItemInput, since_ms: Option<i64>) -> Result<bool, ApiError> {
        Ok(!self.items_like(case_id, input, true, since_ms).await?.is_empty())
    }

    /// The case's items that are this item (all of them, or the first found), added at `since_ms`
    /// or later when given.
    async fn items_like(
        &self,
        case_id: &str,
        input: &CreateRelatedItemInput,
        first_only: bool,
        since_ms: Option<i64>,
    ) -> Result<Vec<RelatedItem>, ApiError> {
        let mut search = input.existing_item_search();
        let mut found = Vec::new();
        for _ in 0..MAX_RELATED_ITEM_PAGES {
            let page = self.api.search_related_items(case_id, &search).await?;
            found.extend(
                page.items.into_iter().filter(|item| input.is_same_as(item) && since_ms.is_none_or(|since| item.added_since(since))),
            );
            if first_only && !found.is_empty() {
                break;
            }
            match page.next_token {
                Some(token) if !token.is_empty() => search.next_token = Some(token),
                _ => break,
            }
        }
        Ok(found)
    }

    /// `mode: keep-one`: the case's one item of this kind and key. The first event creates it and
    /// binds its claim to the item's id; later events edit that item (UpdateRelatedItem), under
    /// the case's ledger lock and in event order: an event older than the last one applied to the
    /// item changes nothing (`Stale`), nor does one that gives it the content it already has. Only
    /// the item the claim is bound to, which the automation created, is ever edited.
    async fn keep_one(
        &self,
        plan: &RulePlan,
        case_id: &str,
        key: &str,
        input: &CreateRelatedItemInput,
        session: &mut LedgerSession,
    ) -> Result<ActionStatus, StepError> {
        if !self.claims.enabled() {
            return Err(StepError::NeedsStore);
        }
        let update = input.as_update().expect("keep-one items are comments or custom items");
        let event_time = plan.event_time_ms.unwrap_or_else(now_ms);
        let (time_mark, digest_mark) = kept_watermarks(input.kind, key);
        let digest = content_digest(&input.content);
        let applied = session.ledger.applied.get(&time_mark).copied();
        if applied.is_some_and(|applied| applied > event_time) {
            info!(rule = %plan.rule, case = %case_id, "a newer event already set the kept item; not overwriting it");
            return Ok(ActionStatus::Stale);
        }
        if applied.is_some() && session.ledger.applied.get(&digest_mark) == Some(&digest) {
            session.applied.push((time_mark, event_time));
            return Ok(ActionStatus::AlreadyDone);
        }
        if !session.spend(self.budget) {
            warn!(rule = %plan.rule, case = %case_id, budget = self.budget.updates, "the case's budget of automated writes is spent; not writing the kept item");
            return Ok(ActionStatus::BudgetSpent);
        }
        let result = self.write_kept(case_id, key, input, &update).await;
        match &result {
            Ok(_) => session.applied.extend([(time_mark, event_time), (digest_mark, digest)]),
            Err(_) => session.refund(),
        }
        result
    }

    /// Creates the kept item (claiming it) or edits the one its claim is bound to.
    async fn write_kept(
        &self,
        case_id: &str,
        key: &str,
        input: &CreateRelatedItemInput,
        update: &UpdateRelatedItemInput,
    ) -> Result<ActionStatus, StepError> {
        let claim_key = keys::kept(&self.domain, case_id, input.kind, key);
        let me = claims::attempt_id();
        // The content rides in the pending claim: whoever finds it orphaned looks for that item.
        let content = serde_json::to_string(&input.content).expect("contents serialize");
        let mine = Claim::pending_with_lease(&claim_key, &me, Some(content.clone()), now_ms(), self.lease);
        let Some(mut held) = self.claims.put_new(&mine).await? else {
            return self.relate_claimed(&claim_key, &me, case_id, input).await;
        };
        for round in 0.. {
            match decide(&held, &me, now_ms()) {
                Next::Use(item_id) => match self.api.update_related_item(case_id, &item_id, update).await {
                    Ok(()) => return Ok(ActionStatus::Done),
                    // Removed by someone since: the next write creates the case's item again.
                    Err(error) if error.kind == ApiErrorKind::NotFound => {
                        let next = held.succeeded_by(&me, Some(content.clone()), now_ms(), self.lease);
                        match self.claims.replace(&next).await? {
                            None => return self.relate_claimed(&claim_key, &me, case_id, input).await,
                            Some(now_held) => held = now_held,
                        }
                    }
                    Err(error) => return Err(error.into()),
                },
                Next::Wait(pause) => {
                    tokio::time::sleep(wait_step(round).min(pause.max(std::time::Duration::from_millis(10)))).await;
                    held = match self.claims.get(&claim_key).await? {
                        Some(claim) => claim,
                        None => match self.claims.put_new(&mine).await? {
                            None => return self.relate_claimed(&claim_key, &me, case_id, input).await,
                            Some(claim) => claim,
                        },
                    };
                }
                // Its creator died mid-create: the item it was creating may exist (with the content
                // its claim holds); bind the claim to it, else create it now.
                Next::Replay { request, .. } => {
                    let orphan = match serde_json::from_str::<serde_json::Value>(&request) {
                        Ok(_) => self.orphan_kept_item(case_id, input, &request).await?,
                        Err(_) => None,
                    };
                    let mut next = held.succeeded_by(&me, Some(content.clone()), now_ms(), self.lease);
                    if let Some(id) = &orphan {
                        next.state = ClaimState::Bound { id: id.clone() };
                    }
                    match self.claims.replace(&next).await? {
                        None if orphan.is_none() => return self.relate_claimed(&claim_key, &me, case_id, input).await,
                        None => held = next,
                        Some(now_held) => held = now_held,
                    }
                }
                Next::TakeOver => {
                    let next = held.succeeded_by(&me, Some(content.clone()), now_ms(), self.lease);
                    match self.claims.replace(&next).await? {
                        None => return self.relate_claimed(&claim_key, &me, case_id, input).await,
                        Some(now_held) => held = now_held,
                    }
                }
            }
        }
        unreachable!("the loop only ends by returning")
    }

    /// The item of the automation with `content` (as stored in an orphaned claim), if any.
    async fn orphan_kept_item(&self, case_id: &str, input: &CreateRelatedItemInput, content: &str) -> Result<Option<String>, ApiError> {
        let stored = match (&input.content, serde_json::from_str::<serde_json::Value>(content)) {
            (RelatedItemContent::Comment { content_type, .. }, Ok(v)) => match v.pointer("/comment/body").and_then(|b| b.as_str()) {
                Some(body) => RelatedItemContent::Comment { body: body.to_owned(), content_type },
                None => return Ok(None),
            },
            (RelatedItemContent::Custom { .. }, Ok(v)) => match v.pointer("/custom/fields").cloned().map(serde_json::from_value) {
                Some(Ok(fields)) => RelatedItemContent::Custom { fields },
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        let probe = CreateRelatedItemInput::new(stored, input.performed_by.clone());
        Ok(self.items_like(case_id, &probe, true, None).await?.into_iter().next().map(|item| item.related_item_id))
    }

    // -----------------------------------------------------------------------------------------
    // Updates
    // -----------------------------------------------------------------------------------------

    /// Takes the case's ledger lock (with the store; waits while another instance holds it).
    async fn open_ledger(&self, case_id: &str) -> Result<LedgerSession, StepError> {
        if !self.claims.enabled() {
            return Ok(LedgerSession::unenforced());
        }
        let owner = claims::attempt_id();
        let key = keys::ledger(&self.domain, case_id);
        let mut round = 0;
        loop {
            let lease_until = now_ms() + self.lease.as_millis() as i64;
            if let Some(ledger) = self.claims.lock_ledger(&key, &owner, lease_until).await? {
                return Ok(LedgerSession { owner, ledger, applied: Vec::new(), enforced: true });
            }
            tokio::time::sleep(wait_step(round)).await;
            round += 1;
        }
    }

    /// Writes the watermarks and the budget spent, and releases the lock.
    async fn close_ledger(&self, case_id: &str, session: LedgerSession) -> Result<(), StepError> {
        if !session.enforced {
            return Ok(());
        }
        let update = LedgerUpdate {
            applied: session.applied,
            window_start_ms: session.ledger.window_start_ms,
            updates_in_window: session.ledger.updates_in_window,
        };
        self.claims.unlock_ledger(&keys::ledger(&self.domain, case_id), &session.owner, &update).await?;
        Ok(())
    }

    /// UpdateCase with only the values that change the case, none that a newer event of the rule
    /// already set, within the case's budget of automated writes. `created_with`: the fields of a
    /// case this rule just created (compared with instead of reading the case).
    async fn update_case_once(
        &self,
        plan: &RulePlan,
        case_id: &str,
        input: &UpdateCaseInput,
        created_with: Option<&[FieldEntry]>,
        session: &mut LedgerSession,
    ) -> Result<ActionStatus, StepError> {
        let event_time = plan.event_time_ms.unwrap_or_else(now_ms);
        let (fresh, stale) = session.ledger.fresh(&plan.rule, &input.fields, |f| f.id.as_str(), event_time);
        if !stale.is_empty() {
            info!(rule = %plan.rule, case = %case_id, fields = stale.len(), "values a newer event already set are not overwritten");
        }
        if fresh.is_empty() {
            return Ok(ActionStatus::Stale);
        }
        // The values the case was created with are its values only while no automated write has
        // touched it since (another delivery may have updated it before this one got the lock).
        let created_with = created_with.filter(|_| session.ledger.applied.is_empty());
        let current: HashMap<String, FieldValue> = match created_with {
            Some(fields) => fields.iter().map(|f| (f.id.clone(), f.value.clone())).collect(),
            None => {
                let ids: Vec<String> = fresh.iter().map(|f| f.id.clone()).collect();
                self.api.get_case_fields(case_id, &ids).await?
            }
        };
        let changed: Vec<FieldEntry> = fresh.iter().filter(|f| !same_value(current.get(&f.id), &f.value)).map(|f| (*f).clone()).collect();
        let watermarks: Vec<(String, i64)> = fresh.iter().map(|f| (watermark(&plan.rule, &f.id), event_time)).collect();
        if changed.is_empty() {
            session.applied.extend(watermarks);
            return Ok(ActionStatus::AlreadyDone);
        }
        if !session.spend(self.budget) {
            warn!(rule = %plan.rule, case = %case_id, budget = self.budget.updates, "the case's budget of automated writes is spent; not updating it");
            return Ok(ActionStatus::BudgetSpent);
        }
        let request = UpdateCaseInput { fields: changed, performed_by: input.performed_by.clone() };
        if let Err(error) = self.api.update_case(case_id, &request).await {
            session.refund();
            return Err(error.into());
        }
        session.applied.extend(watermarks);
        Ok(ActionStatus::Done)
    }
}

/// A rule's writes on one case under the case's ledger: what the ledger said when it was locked,
/// the budget spent since (in `ledger`), the watermarks to move.
struct LedgerSession {
    owner: String,
    ledger: claims::Ledger,
    applied: Vec<(String, i64)>,
    /// False without the store: no lock, watermarks or budget.
    enforced: bool,
}

impl LedgerSession {
    /// No lock, watermarks or budget (the store is off, or nothing will be written).
    fn unenforced() -> LedgerSession {
        LedgerSession { owner: String::new(), ledger: claims::Ledger::default(), applied: Vec::new(), enforced: false }
    }

    /// Spends one automated write of the case's budget; false when it is used up.
    fn spend(&mut self, budget: Budget) -> bool {
        if !self.enforced {
            return true;
        }
        match self.ledger.spend(budget, now_ms()) {
            Some((start, used)) => {
                (self.ledger.window_start_ms, self.ledger.updates_in_window) = (start, used);
                true
            }
            None => false,
        }
    }

    /// Gives back a write that was not made.
    fn refund(&mut self) {
        self.ledger.updates_in_window = self.ledger.updates_in_window.saturating_sub(1);
    }
}

/// Whether a failed create certainly created nothing (refused: validation, throttling, access),
/// as opposed to a timeout or a server error after which the item may exist.
pub fn refused_outright(error: &ApiError) -> bool {
    !error.kind.is_retryable() || error.kind == ApiErrorKind::Throttling
}

/// Whether the case's current value (absent: no value) equals the value to send.
fn same_value(current: Option<&FieldValue>, wanted: &FieldValue) -> bool {
    match (current, wanted) {
        (None | Some(FieldValue::Empty(_)), FieldValue::Empty(_)) => true,
        (Some(FieldValue::UserArn(a) | FieldValue::String(a)), FieldValue::UserArn(b)) => a == b,
        (Some(current), wanted) => current == wanted,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_as_the_case_holds_them() {
        let text = |s: &str| FieldValue::String(s.into());
        assert!(same_value(Some(&text("a")), &text("a")));
        assert!(!same_value(Some(&text("a")), &text("b")));
        assert!(!same_value(None, &text("a")));
        assert!(same_value(None, &FieldValue::empty()), "clearing a field without a value changes nothing");
        assert!(same_value(Some(&FieldValue::Double(2.0)), &FieldValue::Double(2.0)));
        assert!(same_value(Some(&text("arn:u")), &FieldValue::UserArn("arn:u".into())));
    }
}
