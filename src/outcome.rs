//! What one rule did for one event: the case it found or created, and each action's status. The
//! executor makes these; answers, logs and metrics report them.

use serde::Serialize;

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
