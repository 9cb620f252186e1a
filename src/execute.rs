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
use std::sync::Arc;

use futures_util::future::join_all;
use tracing::{info, warn};

use crate::cases::model::*;
use crate::cases::{ApiError, ApiErrorKind, CasesApi};
use crate::claims::ledger::{Budget, content_digest, kept_watermarks, watermark};
use crate::claims::{self, Claim, ClaimState, ClaimStore, LedgerUpdate, Next, NoClaims, StoreError, decide, keys, now_ms, wait_step};
use crate::customers::{CustomerError, Customers, NoProfiles, ProfilesApi};
use crate::locks::KeyedLocks;
pub use crate::outcome::{ActionOutcome, ActionStatus, CaseOutcome, RuleOutcome};
use crate::plan::{PlannedAction, PlannedLookup, RulePlan, Step};
use crate::rules::IfMissing;

/// Pages of related items read when looking for an existing one (`limits::RELATED_ITEMS_PAGE` a page).
const MAX_RELATED_ITEM_PAGES: usize = 40;

/// The Cases client, the customer resolver, the per-case locks, and the coordination store.
pub struct Executor<C, S = NoClaims, P = NoProfiles> {
    pub api: C,
    pub claims: Arc<S>,
    /// Looks up the customers a plan defers, when the executor reaches the first step needing one.
    pub customers: Customers<P, S>,
    /// The Cases domain: part of every claim's key.
    domain: String,
    budget: Budget,
    /// How long a claim or the ledger lock of an instance that died blocks the others.
    lease: std::time::Duration,
    /// Held while a case's actions run (see `locks`).
    case_locks: KeyedLocks,
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
    /// An executor with the coordination store, and without a Customer Profiles domain (`customer`
    /// values then work only when the event names the profile).
    pub fn with_claims(api: C, claims: Arc<S>, domain: impl Into<String>) -> Executor<C, S> {
        Executor {
            api,
            customers: Customers::with_claims(NoProfiles, claims.clone()),
            claims,
            domain: domain.into(),
            budget: Budget::DEFAULT,
            lease: claims::LEASE,
            case_locks: KeyedLocks::default(),
        }
    }

    /// The executor with its customers looked up by `customers` (which shares its store).
    pub fn with_customers<P: ProfilesApi>(self, customers: Customers<P, S>) -> Executor<C, S, P> {
        Executor {
            api: self.api,
            claims: self.claims,
            customers,
            domain: self.domain,
            budget: self.budget,
            lease: self.lease,
            case_locks: self.case_locks,
        }
    }
}

impl<C: CasesApi, S: ClaimStore, P: ProfilesApi> Executor<C, S, P> {
    /// Sets the case's budget of automated writes (`CASE_WRITES_PER_HOUR`) and the lease of claims
    /// and ledger locks (`CLAIM_LEASE_SECONDS`).
    pub fn with_limits(mut self, budget: Budget, lease: std::time::Duration) -> Executor<C, S, P> {
        self.budget = budget;
        self.lease = lease;
        self
    }

    /// Runs a plan. Its deferred customers are looked up just before the first step that needs
    /// one; a rule that says to skip an event without a customer ends there (`NoCustomer`), with
    /// the case found or created before reported.
    pub async fn run(&self, initial: &RulePlan) -> Result<RuleOutcome, ExecError> {
        let mut plan = Cow::Borrowed(initial);
        // Swaps in the plan with its customers before `step`, or ends the rule without a customer.
        macro_rules! customer_before {
            ($step:expr) => {
                customer_before!($step, None)
            };
            ($step:expr, $case_id:expr) => {
                if plan.needs_customer_before($step) {
                    match self.customers.resolve_plan(&plan).await.map_err(ExecError::Customer)? {
                        Some(profiles) => plan = Cow::Owned(plan.with_customers(&profiles)),
                        None => {
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
                if error.refused_outright() {
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
                if error.refused_outright() {
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

    /// Plans run against the local Cases service in-process, through the function's own adapter.
    mod over_the_local_service {
        use cases_emulator::{Emulator, Seed};
        use serde_json::{Value, json};

        use super::*;
        use crate::cases::catalog::Offline;
        use crate::cases::sdk::SdkCases;
        use crate::inbound::eventbridge;
        use crate::plan::{PlanInput, plan_rule};
        use crate::rules::RuleSet;
        use crate::rules::value::TemplateContext;

        const DOMAIN: &str = "demo-domain";
        const GENERAL_INQUIRY: &str = "7a2b3c4d-0000-4000-8000-000000000001";
        const PROFILE: &str = "arn:aws:profile:us-east-1:123456789012:domains/demo-profiles/profiles/f768064f958507ad239eed24c2c063fe";

        async fn service() -> Emulator {
            Emulator::builder().seed(Seed::demo().without_cases()).quotas(false).start().await.expect("the local Cases service starts")
        }

        async fn executor(service: &Emulator) -> Executor<SdkCases> {
            let config = crate::aws::sdk_config_for_local_service(&service.endpoint_url()).await;
            Executor::new(SdkCases::lazy(config, DOMAIN))
        }

        /// The plan of the only rule of `rules` (field and template ids, as `Offline` passes them
        /// through) for the EventBridge event with `id` and `detail`.
        fn plan(rules: &str, id: &str, detail: Value) -> RulePlan {
            let rules = RuleSet::from_yaml(rules, "test").expect("the rules compile");
            let event = eventbridge(json!({"id": id, "source": "shop", "detail-type": "Order", "detail": detail})).unwrap();
            let context = TemplateContext::new(&event.raw);
            let input = PlanInput { rules: &rules, event: &event, context: &context, identity: "bot", resolve: &Offline };
            plan_rule(&rules.rules[0], &input).expect("the rule plans")
        }

        fn create_rule(customer: &str, actions: &str) -> String {
            format!(
                r#"
rules:
  - name: order
    match: {{ source: [shop] }}
    case:
      create:
        template: {GENERAL_INQUIRY}
        fields:
          title: "Order {{{{ detail.order }}}}"
          customer_id: {customer}
    actions: {actions}
"#
            )
        }

        async fn customer_of(executor: &Executor<SdkCases>, case_id: &str) -> Option<FieldValue> {
            let fields = executor.api.get_case_fields(case_id, &["customer_id".to_owned()]).await.expect("GetCase");
            fields.get("customer_id").cloned()
        }

        #[tokio::test]
        async fn a_redelivered_plan_gets_back_its_case_and_adds_nothing() {
            let service = service().await;
            let executor = executor(&service).await;
            let rules = create_rule(
                "$.detail.profile",
                r#"[{ comment: "Order {{ detail.order }} received" }, { update: { fields: { summary: "from the shop" } } }]"#,
            );
            let plan = plan(&rules, "e-1", json!({"order": "A-1", "profile": PROFILE}));

            let first = executor.run(&plan).await.expect("the first delivery");
            assert_eq!(first.case, CaseOutcome::Created);
            let statuses = |outcome: &RuleOutcome| outcome.actions.iter().map(|a| a.status).collect::<Vec<_>>();
            assert_eq!(statuses(&first), [ActionStatus::Done, ActionStatus::Done]);

            let again = executor.run(&plan).await.expect("the redelivery");
            assert_eq!(again.case_id, first.case_id, "the clientToken gives back the case the first delivery created");
            assert_eq!(
                statuses(&again),
                [ActionStatus::AlreadyDone, ActionStatus::AlreadyDone],
                "the comment is found, the value is equal"
            );
            assert_eq!(service.call_count("CreateCase"), 2);
            assert_eq!(service.call_count("CreateRelatedItem"), 1, "one comment");
            assert_eq!(service.call_count("UpdateCase"), 1, "the equal value is not sent again");
        }

        #[tokio::test]
        async fn a_customer_stands_in_the_plan_until_the_step_that_needs_it() {
            let service = service().await;
            let executor = executor(&service).await;
            let rules = create_rule("{ customer: { profile: $.detail.profile } }", "[]");
            let plan = plan(&rules, "e-2", json!({"order": "A-2", "profile": PROFILE}));
            let create = plan.create.as_ref().unwrap();
            let stand_in = &create.fields.iter().find(|f| f.id == "customer_id").unwrap().value;
            assert_eq!(plan.customers.len(), 1);
            assert_eq!(*stand_in, FieldValue::String(plan.customers[0].stand_in()));

            let outcome = executor.run(&plan).await.expect("applied");
            let case_id = outcome.case_id.expect("a case");
            assert_eq!(customer_of(&executor, &case_id).await, Some(FieldValue::String(PROFILE.into())), "the case has the profile's ARN");
        }

        #[tokio::test]
        async fn a_customer_is_looked_up_only_when_a_step_needs_it() {
            let service = service().await;
            let executor = executor(&service).await;
            // A phone number needs SearchProfiles, which this executor cannot call (no profiles
            // domain): the lookup fails, but only where the customer is needed.
            let rules = r#"
rules:
  - name: order
    match: { source: [shop] }
    case:
      find:
        - search: { fields: { title: "Order {{ detail.order }}" } }
      create:
        template: GENERAL
        fields:
          title: "Order {{ detail.order }}"
          customer_id: { customer: { phone: $.detail.phone } }
    actions:
      - comment: "Order {{ detail.order }}"
"#
            .replace("GENERAL", GENERAL_INQUIRY);
            let existing = {
                let plan = plan(&create_rule("$.detail.profile", "[]"), "e-3", json!({"order": "A-3", "profile": PROFILE}));
                executor.run(&plan).await.expect("a case to find").case_id.expect("its id")
            };
            let found = plan(&rules, "e-4", json!({"order": "A-3", "phone": "+12065550123"}));
            let outcome = executor.run(&found).await.expect("no customer is needed for a case the search finds");
            assert_eq!((outcome.case, outcome.case_id.as_deref()), (CaseOutcome::FoundBySearch, Some(existing.as_str())));

            let to_create = plan(&rules, "e-5", json!({"order": "A-5", "phone": "+12065550123"}));
            let Err(ExecError::Customer(error)) = executor.run(&to_create).await else { panic!("the create step needs the customer") };
            assert_eq!((error.rule.as_str(), error.path.as_str()), ("order", "case.create.fields.customer_id"));
            assert!(error.error.to_string().contains("PROFILES_DOMAIN_NAME"), "{error:?}");
            assert_eq!(service.call_count("CreateCase"), 1, "nothing was created for the event whose customer failed");
        }

        #[tokio::test]
        async fn a_rule_without_its_customer_skips_and_reports_the_case_it_found() {
            let service = service().await;
            let executor = executor(&service).await;
            let rules = r#"
rules:
  - name: tag
    match: { source: [shop] }
    case:
      find:
        - id: $.detail.caseId
    actions:
      - update: { fields: { customer_id: { customer: { phone: { path: $.detail.phone, default: null }, ifNone: skip } } } }
"#;
            let existing = {
                let plan = plan(&create_rule("$.detail.profile", "[]"), "e-6", json!({"order": "A-6", "profile": PROFILE}));
                executor.run(&plan).await.expect("a case").case_id.expect("its id")
            };
            let outcome = executor.run(&plan(rules, "e-7", json!({"caseId": existing}))).await.expect("skipped, not failed");
            assert_eq!(outcome.case, CaseOutcome::NoCustomer);
            assert_eq!(outcome.case_id.as_deref(), Some(existing.as_str()), "the case found before the lookup is reported");
            assert_eq!(service.call_count("UpdateCase"), 0);
        }

        #[tokio::test]
        async fn what_cannot_be_done_fails_with_the_rule_and_step() {
            let service = service().await;
            let executor = executor(&service).await;
            let no_case = r#"
rules:
  - name: link
    match: { source: [shop] }
    case:
      find:
        - id: $.detail.caseId
    actions:
      - linkCase: { find: [ { search: { fields: { title: "$.detail.other" } } } ], ifMissing: fail }
"#;
            let existing = {
                let plan = plan(&create_rule("$.detail.profile", "[]"), "e-8", json!({"order": "A-8", "profile": PROFILE}));
                executor.run(&plan).await.expect("a case").case_id.expect("its id")
            };
            let error = executor.run(&plan(no_case, "e-9", json!({"caseId": existing, "other": "no such title"}))).await.unwrap_err();
            assert!(
                matches!(&error, ExecError::NoCaseToLink { rule, step } if rule == "link" && step == "actions[0].linkCase"),
                "{error:?}"
            );

            let keep_one = create_rule("$.detail.profile", r#"[{ comment: { body: "Status", mode: keep-one } }]"#);
            let error = executor.run(&plan(&keep_one, "e-10", json!({"order": "A-10", "profile": PROFILE}))).await.unwrap_err();
            assert!(matches!(&error, ExecError::NeedsStore { rule, .. } if rule == "order"), "{error:?}");
        }
    }
}
