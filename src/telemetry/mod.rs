//! What the function counts, as CloudWatch metrics in Embedded Metric Format (EMF): the names,
//! their units and dimensions (one list, which the dashboard and alarms of `template.yaml` are
//! checked against), and one function per thing counted, so that call sites say what happened
//! rather than which metric moves.
//!
//! Metrics go through the `metrics` facade. Without a recorder (tests of the library, the command
//! line) every call is a no-op; the Lambda loop installs the EMF recorder (`emf`) and writes the
//! invocation's documents to stdout when it answers. The SDK calls are counted by an interceptor
//! (`sdk`), the coordination store's by a wrapper (`store`).

pub mod emf;
pub mod sdk;
pub mod store;

use std::time::Duration;

use metrics::{Unit, counter, histogram};

use crate::outcome::{ActionStatus, CaseOutcome, RuleOutcome};
use crate::plan::{Outcome, SkipKind};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "CasesAutomation";

/// The dimension every metric has: the function's name (`AWS_LAMBDA_FUNCTION_NAME`).
pub const FUNCTION_DIMENSION: &str = "FunctionName";

/// One metric the function emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
    /// Dimensions besides `FunctionName`.
    pub dimensions: &'static [&'static str],
    pub meaning: &'static str,
}

impl Metric {
    /// The unit as EMF documents and CloudWatch spell it.
    pub fn cloudwatch_unit(&self) -> &'static str {
        match self.unit {
            Unit::Percent => "Percent",
            Unit::Milliseconds => "Milliseconds",
            _ => "Count",
        }
    }
}

const fn metric(name: &'static str, unit: Unit, dimensions: &'static [&'static str], meaning: &'static str) -> Metric {
    Metric { name, unit, dimensions, meaning }
}

/// Every metric the function emits. The template's dashboard and alarms may name these only
/// (`tests/template.rs`).
pub const METRICS: &[Metric] = &[
    metric(
        "Events",
        Unit::Count,
        &["Trigger", "Outcome"],
        "events handled, by trigger and outcome (applied, skipped-self-caused, skipped-no-rule, failed-permanent, failed-retryable)",
    ),
    metric("RuleMatched", Unit::Count, &["Rule"], "events a rule matched"),
    metric("RuleApplied", Unit::Count, &["Rule"], "events a rule ran to the end for"),
    metric("RuleFailed", Unit::Count, &["Rule"], "events a rule failed for (checks before the first write included)"),
    metric(
        "RuleFailurePercent",
        Unit::Percent,
        &["Rule"],
        "100 for a rule that failed, 0 for one that ran: the average is the rule's failure rate",
    ),
    metric(
        "CasesCreated",
        Unit::Count,
        &[],
        "cases created (a redelivery that CreateCase answers with the first delivery's case counts too)",
    ),
    metric("CasesFound", Unit::Count, &[], "cases found: from the event, for the contact, by search, or through a claim"),
    metric("CasesUpdated", Unit::Count, &[], "UpdateCase calls that changed a case"),
    metric("RelatedItemsCreated", Unit::Count, &[], "comments, contacts, files and SLAs added to cases"),
    metric("RelatedItemsAlreadyThere", Unit::Count, &[], "related items not created because the case had them (duplicates avoided)"),
    metric("ApiCalls", Unit::Count, &["Operation"], "Cases and Customer Profiles operations called (retries not counted)"),
    metric("ApiRetries", Unit::Count, &["Operation"], "attempts after the first of an operation"),
    metric("ApiThrottles", Unit::Count, &["Operation"], "attempts the service answered with throttling"),
    metric(
        "CustomerLookups",
        Unit::Count,
        &["Result"],
        "customer lookups, by result: named (by the event), cached, found, several, none, created",
    ),
    metric("SelfCausedSkips", Unit::Count, &[], "Cases change events skipped because this automation caused them"),
    metric("ColdStarts", Unit::Count, &[], "first invocations of an instance"),
    metric("FlowAnswerTime", Unit::Milliseconds, &[], "time from a contact flow's invocation to the function's answer"),
    metric("StoreCalls", Unit::Count, &["Operation"], "calls to the coordination store"),
    metric("StoreErrors", Unit::Count, &["Operation"], "calls to the coordination store that failed (throttled or unreachable)"),
    metric("ClaimsWon", Unit::Count, &[], "claims this instance took (it creates the case, item or profile)"),
    metric("ClaimsLost", Unit::Count, &[], "claims another event or instance held (its case, item or profile is used)"),
    metric(
        "SweepWorkItems",
        Unit::Count,
        &["Rule"],
        "work items a scheduled rule's sweep sent to the queue (one per selected case or SLA)",
    ),
    metric("SweepsCompleted", Unit::Count, &["Rule"], "sweeps that reached the end of their selection"),
    metric(
        "RulesRefreshes",
        Unit::Count,
        &["Result"],
        "reads of the rules from AWS AppConfig, by result: unchanged, applied, refused, unavailable",
    ),
];

/// Every metric name, for the template's checks.
pub fn metric_names() -> impl Iterator<Item = &'static str> {
    METRICS.iter().map(|m| m.name)
}

/// Tells the recorder each metric's unit (EMF documents carry it).
pub fn describe_all() {
    for m in METRICS {
        match m.name {
            "FlowAnswerTime" | "RuleFailurePercent" => metrics::describe_histogram!(m.name, m.unit, m.meaning),
            _ => metrics::describe_counter!(m.name, m.unit, m.meaning),
        }
    }
}

/// How an event ended, as the `Outcome` dimension spells it: its outcome, or whether its error
/// was retryable.
pub fn event_outcome(result: Result<Outcome, bool>) -> &'static str {
    match result {
        Ok(Outcome::Applied) => "applied",
        Ok(Outcome::Skipped(SkipKind::SelfCaused)) => "skipped-self-caused",
        Ok(Outcome::Skipped(SkipKind::NoRuleMatches)) => "skipped-no-rule",
        Ok(Outcome::Skipped(SkipKind::OtherInstance)) => "skipped",
        Err(true) => "failed-retryable",
        Err(false) => "failed-permanent",
    }
}

/// An event handled: its trigger (`inbound::EventKind`), how it ended, and how long it took.
pub fn event_handled(trigger: &str, result: Result<Outcome, bool>, flow: bool, took: Duration) {
    counter!("Events", "Trigger" => trigger.replace(' ', "-"), "Outcome" => event_outcome(result)).increment(1);
    if result == Ok(Outcome::Skipped(SkipKind::SelfCaused)) {
        counter!("SelfCausedSkips").increment(1);
    }
    if flow {
        histogram!("FlowAnswerTime").record(took.as_secs_f64() * 1000.0);
    }
}

/// A sweep's invocation sent `sent` work items; `done` when it reached the end of its selection.
pub fn sweep_progress(rule: &str, sent: u64, done: bool) {
    counter!("SweepWorkItems", "Rule" => rule.to_owned()).increment(sent);
    if done {
        counter!("SweepsCompleted", "Rule" => rule.to_owned()).increment(1);
    }
}

/// A payload that is no event the function knows (no trigger to count it under).
pub fn invalid_payload() {
    counter!("Events", "Trigger" => "unknown", "Outcome" => "failed-permanent").increment(1);
}

/// The rules an event matched.
pub fn rules_matched<'a>(rules: impl IntoIterator<Item = &'a str>) {
    for rule in rules {
        counter!("RuleMatched", "Rule" => rule.to_owned()).increment(1);
    }
}

/// A rule failed for an event.
pub fn rule_failed(rule: &str) {
    counter!("RuleFailed", "Rule" => rule.to_owned()).increment(1);
    histogram!("RuleFailurePercent", "Rule" => rule.to_owned()).record(100.0);
}

/// A rule ran to the end: what it did to the case and its items.
pub fn rule_applied(outcome: &RuleOutcome) {
    counter!("RuleApplied", "Rule" => outcome.rule.clone()).increment(1);
    histogram!("RuleFailurePercent", "Rule" => outcome.rule.clone()).record(0.0);
    match outcome.case {
        CaseOutcome::Created => counter!("CasesCreated").increment(1),
        CaseOutcome::FromEvent | CaseOutcome::FoundForContact | CaseOutcome::FoundBySearch | CaseOutcome::FoundByClaim => {
            counter!("CasesFound").increment(1)
        }
        CaseOutcome::NotFound | CaseOutcome::NoCustomer | CaseOutcome::NoLongerSelected => {}
    }
    for action in &outcome.actions {
        match (action.action, action.status) {
            ("update", ActionStatus::Done) => counter!("CasesUpdated").increment(1),
            ("update", _) => {}
            (_, ActionStatus::Done) => counter!("RelatedItemsCreated").increment(1),
            (_, ActionStatus::AlreadyDone) => counter!("RelatedItemsAlreadyThere").increment(1),
            (_, ActionStatus::Stale | ActionStatus::BudgetSpent | ActionStatus::NotFound | ActionStatus::NothingToSend) => {}
        }
    }
}

/// How a customer lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The event named the profile: no call.
    Named,
    /// A search of the last minute answered.
    Cached,
    Found,
    Several,
    None,
    Created,
}

pub fn customer_lookup(result: Lookup) {
    let result = match result {
        Lookup::Named => "named",
        Lookup::Cached => "cached",
        Lookup::Found => "found",
        Lookup::Several => "several",
        Lookup::None => "none",
        Lookup::Created => "created",
    };
    counter!("CustomerLookups", "Result" => result).increment(1);
}

/// The first invocation of this instance.
pub fn cold_start() {
    counter!("ColdStarts").increment(1);
}

/// A read of the rules from AppConfig: `unchanged`, `applied`, `refused` or `unavailable`.
pub fn rules_refresh(result: &'static str) {
    counter!("RulesRefreshes", "Result" => result).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_dimensions_few() {
        let mut names: Vec<&str> = metric_names().collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len(), "each metric is listed once");
        // Each dimension value is a separate metric to pay for: at most two besides the function.
        assert!(METRICS.iter().all(|m| m.dimensions.len() <= 2));
        assert!(METRICS.len() <= 100, "one EMF document holds at most 100 metrics");
        assert!(METRICS.iter().all(|m| matches!(m.unit, Unit::Count | Unit::Percent | Unit::Milliseconds)), "units cloudwatch_unit spells");
    }

    #[test]
    fn outcomes_name_the_skip_reason_and_the_error_class() {
        assert_eq!(event_outcome(Ok(Outcome::Applied)), "applied");
        assert_eq!(event_outcome(Ok(Outcome::Skipped(crate::plan::Skip::NoRuleMatches.kind()))), "skipped-no-rule");
        let self_caused = crate::plan::Skip::SelfCaused { identity: "x".into() };
        assert_eq!(event_outcome(Ok(Outcome::Skipped(self_caused.kind()))), "skipped-self-caused");
        assert_eq!(event_outcome(Ok(Outcome::Skipped(SkipKind::OtherInstance))), "skipped");
        assert_eq!(event_outcome(Err(true)), "failed-retryable");
        assert_eq!(event_outcome(Err(false)), "failed-permanent");
    }
}
