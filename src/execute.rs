//! Running a plan against the Cases API: find or create the case, then apply each action once.
//!
//! Safe under redelivery: CreateCase carries a deterministic `clientToken`, so a second
//! delivery gets the case the first one created; every related item is looked for before it
//! is created (contacts and files by ARN, SLAs by name, comments by body and author); UpdateCase
//! sets values, so repeating it changes nothing.

use std::borrow::Cow;
use std::future::Future;

use futures_util::future::join_all;
use serde::Serialize;
use tracing::info;

use crate::cases::model::*;
use crate::cases::{ApiError, CasesApi};
use crate::customers::CustomerError;
use crate::locks::KeyedLocks;
use crate::plan::{PlanError, PlannedAction, PlannedLookup, RulePlan, Step};
use crate::rules::IfMissing;

/// Pages of related items read when looking for an existing one (25 per page).
const MAX_RELATED_ITEM_PAGES: usize = 40;

/// The Cases client and the per-case locks.
pub struct Executor<C> {
    pub api: C,
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
    /// Created now, or by an earlier delivery of the same event (the API does not say which).
    Created,
    /// No case, and the rule says to skip.
    NotFound,
    /// No customer profile, and the rule's `customer.ifNone` says to skip.
    NoCustomer,
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
    /// The case already had it (an earlier delivery of the same event).
    AlreadyDone,
}

/// A failed step of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    Api {
        rule: String,
        step: String,
        error: ApiError,
    },
    /// No case was found and the rule neither creates one nor skips.
    CaseNotFound {
        rule: String,
    },
    /// The rule's customer could not be looked up.
    Customer(CustomerError),
    /// The plan made with the customer's ARN does not fit (cannot differ from the placeholder
    /// plan checked before, but is not assumed).
    Plan(PlanError),
}

impl<C: CasesApi> Executor<C> {
    pub fn new(api: C) -> Executor<C> {
        Executor { api, case_locks: KeyedLocks::default() }
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
        let fail = |step: String| move |error: ApiError| ExecError::Api { rule: initial.rule.clone(), step, error };

        let mut found = None;
        for i in 0..plan.lookups.len() {
            customer_before!(Step::Lookup(i));
            let step = format!("case.find[{i}]");
            found = match &plan.lookups[i] {
                PlannedLookup::Id(id) => Some((id.clone(), CaseOutcome::FromEvent)),
                PlannedLookup::Contact(input) => {
                    let ids = self.api.list_cases_for_contact(input).await.map_err(fail(step))?;
                    ids.into_iter().next().map(|id| (id, CaseOutcome::FoundForContact))
                }
                PlannedLookup::Search(input) => {
                    let ids = self.api.search_cases(input).await.map_err(fail(step))?;
                    ids.into_iter().next().map(|id| (id, CaseOutcome::FoundBySearch))
                }
            };
            if found.is_some() {
                break;
            }
        }

        if found.is_none() {
            customer_before!(Step::Create);
        }
        let (case_id, case_arn, case) = match (found, &plan.create) {
            (Some((id, how)), _) => (id, None, how),
            (None, Some(create)) => {
                let created = self.api.create_case(create).await.map_err(fail("case.create".into()))?;
                (created.case_id, Some(created.case_arn), CaseOutcome::Created)
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
        customer_before!(Step::Actions, Some(case_id.clone()));
        let plan = &*plan;

        // A case found through this very contact is already linked to it.
        let linked_contact = plan.lookups.iter().find_map(|l| match (l, case) {
            (PlannedLookup::Contact(input), CaseOutcome::FoundForContact) => Some(input.contact_arn.as_str()),
            _ => None,
        });

        let case_lock = self.case_locks.get(&case_id);
        let _turn = case_lock.lock().await;
        // The looks for existing items are independent reads: made together, so a rule with several
        // related items waits for one round trip instead of one per item. The writes stay in order.
        let already_there = join_all(plan.actions.iter().map(|action| async {
            match action {
                PlannedAction::Relate(input) => match &input.content {
                    RelatedItemContent::Contact { contact_arn } if Some(contact_arn.as_str()) == linked_contact => Ok(true),
                    _ => self.has_related_item(&case_id, input).await,
                },
                PlannedAction::Update(_) => Ok(false),
            }
        }))
        .await;
        let mut actions = Vec::with_capacity(plan.actions.len());
        for (i, (action, already_there)) in plan.actions.iter().zip(already_there).enumerate() {
            let step = format!("actions[{i}].{}", action.kind());
            let status = match action {
                PlannedAction::Update(input) => {
                    self.api.update_case(&case_id, input).await.map_err(fail(step))?;
                    ActionStatus::Done
                }
                PlannedAction::Relate(input) => {
                    // An identical item an earlier action of this rule just created counts too.
                    let created_above = plan.actions[..i].iter().any(|a| matches!(a, PlannedAction::Relate(earlier) if earlier == input));
                    if already_there.map_err(fail(step.clone()))? || created_above {
                        ActionStatus::AlreadyDone
                    } else {
                        let created = self.api.create_related_item(&case_id, input).await.map_err(fail(step.clone()))?;
                        if self.is_later_duplicate(&case_id, input, &created).await.map_err(fail(step.clone()))? {
                            self.api.delete_related_item(&case_id, &created).await.map_err(fail(step))?;
                            info!(case = %case_id, item = %created, action = action.kind(), "removed the duplicate of an item created at the same moment");
                            ActionStatus::AlreadyDone
                        } else {
                            ActionStatus::Done
                        }
                    }
                }
            };
            actions.push(ActionOutcome { action: action.kind(), status });
        }
        Ok(RuleOutcome { rule: plan.rule.clone(), case_id: Some(case_id), case_arn, case, actions })
    }

    /// Whether the case already has this related item.
    async fn has_related_item(&self, case_id: &str, input: &CreateRelatedItemInput) -> Result<bool, ApiError> {
        Ok(!self.items_like(case_id, input, true).await?.is_empty())
    }

    /// The case's items that are this item (all of them, or the first found).
    async fn items_like(&self, case_id: &str, input: &CreateRelatedItemInput, first_only: bool) -> Result<Vec<RelatedItem>, ApiError> {
        let mut search = input.existing_item_search();
        let mut found = Vec::new();
        for _ in 0..MAX_RELATED_ITEM_PAGES {
            let page = self.api.search_related_items(case_id, &search).await?;
            found.extend(page.items.into_iter().filter(|item| input.is_same_as(item)));
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

    /// Whether the item just created duplicates one created at the same moment by another
    /// delivery of the event in another instance (the look before creating is not atomic, and
    /// CreateRelatedItem has no idempotency token). Of two, the earliest is kept: the later
    /// creator always sees the earlier item when it looks again, and removes its own. Files cannot
    /// be removed (DeleteRelatedItem refuses them), so they are not looked at again.
    async fn is_later_duplicate(&self, case_id: &str, input: &CreateRelatedItemInput, created: &str) -> Result<bool, ApiError> {
        if matches!(input.content, RelatedItemContent::File { .. }) {
            return Ok(false);
        }
        let items = self.items_like(case_id, input, false).await?;
        if items.len() < 2 || !items.iter().any(|i| i.related_item_id == created) {
            return Ok(false);
        }
        let earliest = items
            .iter()
            .min_by(|a, b| {
                let time = |i: &RelatedItem| i.association_time.unwrap_or((i64::MAX, u32::MAX));
                time(a).cmp(&time(b)).then_with(|| a.related_item_id.cmp(&b.related_item_id))
            })
            .expect("at least two items");
        Ok(earliest.related_item_id != created)
    }
}
