//! The invocation handler: classify the payload, run the matching rules for each event, and
//! answer in the shape the trigger expects (a flat string map for a flow, a summary for
//! EventBridge, `batchItemFailures` for SQS).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::sqs::SqsBatchResponse;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use tracing::{info, warn};

use crate::cases::CasesApi;
use crate::cases::domain_cache::DomainCache;
use crate::cases::paced::unpaced;
use crate::claims::{ClaimStore, NoClaims};
use crate::config::Config;
use crate::contacts::{self, ContactError, ContactRef, ContactsApi, NoContacts};
use crate::customers::{Customers, NoProfiles, ProfilesApi};
use crate::error::{Error, describe};
use crate::execute::{CaseOutcome, Executor, RuleOutcome};
use crate::inbound::ArnScope;
use crate::inbound::{Event, EventKind, Inbound, classify};
use crate::live_rules::{LiveRules, Rules};
use crate::plan::{Outcome, PlanError, Skip, other_instance, select};
use crate::preflight::{EventRules, PreflightError, plan_event};
use crate::rules::value::TemplateContext;
use crate::rules::{ContactData, Rule, RuleSet};
use crate::sweep::Sweeper;
use crate::sweep::queue::WorkQueue;
use crate::telemetry;

/// Time kept back from the deadline to report the outcome.
const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// Time kept back from a contact flow's own timeout, besides [`DEADLINE_MARGIN`]: the answer's way
/// back to Connect, and on a cold start what came before the process existed (the execution
/// environment being made), which the process cannot see.
pub const FLOW_MARGIN: Duration = Duration::from_millis(500);

/// When a contact flow gives up on this invocation, as far as the process can tell: the flow
/// started waiting when it called, which was before `received` (when the handler got the event);
/// for the invocation that started the process (a cold start, `process_start`) it was before the
/// process started, unless the process had been up longer than a flow can wait (then it was
/// started ahead of the call, e.g. proactively, and `received` is the best estimate). Never later
/// than Lambda's own deadline.
pub fn flow_deadline(received: Instant, lambda_deadline: Instant, process_start: Option<Instant>, flow_timeout: Duration) -> Instant {
    let waiting_since = match process_start {
        Some(start) if received.saturating_duration_since(start) <= flow_timeout => start.min(received),
        _ => received,
    };
    let flow_gives_up = waiting_since + flow_timeout.saturating_sub(FLOW_MARGIN);
    flow_gives_up.min(lambda_deadline)
}

/// Everything that lives for the whole process: configuration, rules, the Cases client, what is
/// known of the domain, the Customer Profiles resolver, the coordination store, the Amazon
/// Connect client.
pub struct App<C, P = NoProfiles, S = NoClaims, K = NoContacts> {
    pub config: Config,
    /// The rules, replaceable while the process runs (`live_rules`).
    pub rules: LiveRules,
    /// Runs plans, looking their customers up on the way.
    pub executor: Executor<C, S, P>,
    /// What the domain allows, fetched as events need it.
    pub domain: DomainCache,
    /// Where sweeps send their work items (`WORK_QUEUE_URL`).
    pub work_queue: Option<WorkQueue>,
    /// Reads the event's contact for the rules that ask for it (`contact`).
    pub contacts: K,
    /// When the process started, until the first invocation takes it: a flow that caused the cold
    /// start was waiting since then (see [`flow_deadline`]).
    process_start: std::sync::Mutex<Option<Instant>>,
    skipped_self_caused: AtomicU64,
}

/// Facts about one invocation, from the Lambda context.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub deadline: Instant,
    /// `arn:aws:lambda:{region}:{account}:function:{name}`, used to build case ARNs.
    pub function_arn: Option<String>,
}

impl Invocation {
    pub fn from_context(context: &lambda_runtime::Context) -> Invocation {
        let remaining = remaining_time(context.deadline, SystemTime::now());
        tracing::debug!(remaining_ms = remaining.as_millis() as u64, "invocation");
        Invocation { deadline: Instant::now() + remaining, function_arn: Some(context.invoked_function_arn.clone()) }
    }

    /// An invocation with `budget` left, for tests and local runs.
    pub fn with_budget(budget: Duration) -> Invocation {
        Invocation { deadline: Instant::now() + budget, function_arn: None }
    }
}

/// Time left from `Lambda-Runtime-Deadline-Ms`, which Lambda sends as epoch milliseconds. Local
/// runtimes such as `cargo lambda watch` send the timeout itself (e.g. 600000); a value too small
/// to be a date after 2001 is taken as such.
pub fn remaining_time(deadline_ms: u64, now: SystemTime) -> Duration {
    const EPOCH_2001_MS: u64 = 1_000_000_000_000;
    if deadline_ms < EPOCH_2001_MS {
        return Duration::from_millis(deadline_ms);
    }
    (SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms)).duration_since(now).unwrap_or_default()
}

/// What happened to one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventOutcome {
    pub event_id: String,
    pub kind: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub results: Vec<RuleOutcome>,
    /// What a sweep's invocation did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<crate::sweep::SweepOutcome>,
}

impl EventOutcome {
    fn skipped(event: &Event, skip: &Skip) -> EventOutcome {
        EventOutcome {
            event_id: event.key.clone(),
            kind: event.kind.to_string(),
            outcome: Outcome::Skipped(skip.kind()),
            reason: Some(skip.reason().to_owned()),
            results: vec![],
            sweep: None,
        }
    }
}

impl<C: CasesApi> App<C> {
    /// An app without a Customer Profiles domain: `customer` values work only when the event names
    /// the profile.
    pub fn new(config: Config, rules: RuleSet, api: C) -> App<C> {
        App::with_profiles(config, rules, api, NoProfiles)
    }
}

impl<C: CasesApi, P: ProfilesApi> App<C, P> {
    pub fn with_profiles(config: Config, rules: RuleSet, api: C, profiles: P) -> App<C, P> {
        App::with_store(config, rules, api, profiles, NoClaims)
    }
}

impl<C: CasesApi, P: ProfilesApi, S: ClaimStore> App<C, P, S> {
    /// The app with a coordination store (see `claims`).
    pub fn with_store(config: Config, rules: RuleSet, api: C, profiles: P, store: S) -> App<C, P, S> {
        let rules = LiveRules::new(rules, &config.identity);
        let store = std::sync::Arc::new(store);
        let customers =
            Customers::with_claims(profiles, store.clone()).allow_create(config.profiles_allow_create).with_lease(config.claim_lease);
        let executor = Executor::with_claims(api, store, config.domain_id.clone())
            .with_limits(config.update_budget, config.claim_lease)
            .with_customers(customers);
        App {
            config,
            rules,
            executor,
            domain: DomainCache::default(),
            work_queue: None,
            contacts: NoContacts,
            process_start: std::sync::Mutex::new(None),
            skipped_self_caused: AtomicU64::new(0),
        }
    }
}

impl<C: CasesApi, P: ProfilesApi, S: ClaimStore, K: ContactsApi> App<C, P, S, K> {
    /// The queue sweeps send their work items to.
    pub fn with_work_queue(mut self, queue: WorkQueue) -> Self {
        self.work_queue = Some(queue);
        self
    }

    /// Amazon Connect, for the rules that read the event's contact (`contact`).
    pub fn with_contacts<K2: ContactsApi>(self, contacts: K2) -> App<C, P, S, K2> {
        App {
            config: self.config,
            rules: self.rules,
            executor: self.executor,
            domain: self.domain,
            work_queue: self.work_queue,
            contacts,
            process_start: self.process_start,
            skipped_self_caused: self.skipped_self_caused,
        }
    }

    /// Partition, region and account of the function, once an invocation has said.
    pub fn function_scope(&self) -> Option<ArnScope> {
        self.executor.customers.function_scope()
    }

    /// The process started at `started` for its first invocation (an on-demand cold start): that
    /// invocation's flow budget counts from then.
    pub fn with_process_start(self, started: Instant) -> Self {
        *self.process_start.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(started);
        self
    }

    /// Cases change events skipped because this automation caused them, since the process started.
    pub fn skipped_self_caused(&self) -> u64 {
        self.skipped_self_caused.load(Ordering::Relaxed)
    }

    pub async fn handle(&self, payload: Value, invocation: &Invocation) -> Result<Value, Error> {
        let received = Instant::now();
        let process_start = self.process_start.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(arn) = &invocation.function_arn {
            self.executor.customers.set_function_arn(arn);
        }
        match classify(payload).map_err(Error::invalid_event)? {
            Inbound::ContactFlow(event) => {
                // A flow of another instance gets an error, not a skip: the flow expects a case,
                // and its Error branch is where its designer handles not getting one.
                if let Some(Skip::OtherInstance { instance }) = other_instance(&event, self.config.connect_instance.as_deref()) {
                    let error = Error::permanent(
                        "OtherConnectInstance",
                        format!(
                            "{}: invoked from {}, but this function serves {} (CONNECT_INSTANCE_ARN); nothing was read or written",
                            describe(&event),
                            instance.as_deref().unwrap_or("a flow that names no instance"),
                            self.config.connect_instance.as_deref().unwrap_or_default(),
                        ),
                    );
                    warn!(event = %event.key, kind = %event.kind, error_type = %error.error_type(), error = %error.message, "event failed");
                    return Err(error);
                }
                let rules_version = self.rules.version();
                // Connect gives up after the block's timeout, counted from its call, even if Lambda
                // would allow more.
                let deadline = flow_deadline(received, invocation.deadline, process_start, self.config.flow_timeout);
                // A caller is waiting: a flow's calls are not paced (see `cases::paced`). Boxed: the
                // task-local scope would make the handler's future deeper than callers can lay out.
                let outcome = Box::pin(unpaced(self.process(&event, deadline))).await?;
                if matches!(outcome.outcome, Outcome::Skipped(_)) {
                    return Err(Error::permanent(
                        "NoRuleMatched",
                        format!("{}: no rule matches this invocation; pass a parameter a rule matches (e.g. action)", describe(&event)),
                    ));
                }
                Ok(self.flow_response(&outcome, invocation, &rules_version))
            }
            Inbound::EventBridge(event) => {
                let outcome = self.process(&event, invocation.deadline).await?;
                Ok(serde_json::to_value(outcome).expect("outcomes serialize"))
            }
            Inbound::SqsBatch(records) => {
                let failures: Vec<String> = futures_util::stream::iter(records)
                    .map(|record| async move {
                        let result = match &record.body {
                            Ok(event) => self.process(event, invocation.deadline).await.map(drop),
                            Err(error) => {
                                warn!(message_id = %record.message_id, error = %error, "SQS record is not a usable event");
                                Err(Error::invalid_event(error.clone()))
                            }
                        };
                        result.err().map(|_| record.message_id)
                    })
                    .buffer_unordered(self.config.sqs_concurrency)
                    .filter_map(|failed| async move { failed })
                    .collect()
                    .await;
                let mut response = SqsBatchResponse::default();
                for id in failures {
                    response.add_failure(id);
                }
                Ok(serde_json::to_value(response).expect("batch responses serialize"))
            }
        }
    }

    /// Runs every matching rule for one event, within the deadline. Logs the outcome (ids only).
    pub async fn process(&self, event: &Event, deadline: Instant) -> Result<EventOutcome, Error> {
        let started = Instant::now();
        let rules = self.rules.current();
        let result = self.process_inner(event, deadline, &rules).await;
        telemetry::event_handled(
            &event.kind.to_string(),
            result.as_ref().map(|o| o.outcome).map_err(Error::is_retryable),
            event.kind == EventKind::ContactFlow,
            started.elapsed(),
        );
        match &result {
            Ok(outcome) => info!(
                event = %event.key,
                kind = %event.kind,
                outcome = outcome.outcome.as_str(),
                reason = outcome.reason.as_deref().unwrap_or(""),
                rules_version = %rules.set.version,
                rules = %outcome.results.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>().join(","),
                cases = %outcome.results.iter().filter_map(|r| r.case_id.as_deref()).collect::<Vec<_>>().join(","),
                "event handled"
            ),
            Err(error) => {
                warn!(event = %event.key, kind = %event.kind, rules_version = %rules.set.version, error_type = %error.error_type(), error = %error.message, "event failed")
            }
        }
        result
    }

    async fn process_inner(&self, event: &Event, deadline: Instant, rules: &Rules) -> Result<EventOutcome, Error> {
        if let Some(sweep) = crate::sweep::request(event) {
            let sweep = sweep.map_err(|reason| Error::permanent("InvalidEvent", format!("{}: {reason}", describe(event))))?;
            let sweeper = Sweeper {
                api: &self.executor.api,
                claims: &*self.executor.claims,
                domain: &self.domain,
                work_queue: self.work_queue.as_ref(),
                domain_id: &self.config.domain_id,
                lease: self.config.claim_lease,
                function_scope: self.function_scope(),
            };
            let outcome = sweeper.run(event, &sweep, deadline, &rules.set).await?;
            return Ok(EventOutcome {
                event_id: event.key.clone(),
                kind: "sweep".into(),
                outcome: Outcome::Applied,
                reason: None,
                results: vec![],
                sweep: Some(outcome),
            });
        }
        // A contact event of another instance is skipped, not failed: it is no fault of the event's,
        // no retry can change it, and a failure would carry another instance's callers into the
        // dead-letter queue and alarm on every one.
        if let Some(skip) = other_instance(event, self.config.connect_instance.as_deref()) {
            if let Skip::OtherInstance { instance } = &skip {
                info!(event = %event.key, instance = instance.as_deref().unwrap_or("(none named)"), "skipping an event of another Amazon Connect instance");
            }
            return Ok(EventOutcome::skipped(event, &skip));
        }
        let own_identities = &rules.own_identities;
        let rules = &rules.set;
        let matched = match select(rules, event, own_identities) {
            Ok(matched) => matched,
            Err(skip) => {
                if let Skip::SelfCaused { .. } = skip {
                    let total = self.skipped_self_caused.fetch_add(1, Ordering::Relaxed) + 1;
                    info!(event = %event.key, skipped_self_caused_total = total, "skipping a change this automation made");
                }
                return Ok(EventOutcome::skipped(event, &skip));
            }
        };

        telemetry::rules_matched(matched.iter().map(|rule| rule.name.as_str()));
        let work = async {
            let identity = &self.config.identity;
            // The contact's data the rules ask for, read before planning so that values and the
            // domain checks see it: the event from here on carries it at `$.contact`.
            let with_contact = self.read_contact(event, &matched).await?;
            let event = with_contact.as_ref().unwrap_or(event);
            let context = TemplateContext::new(&event.raw);
            // Every rule is planned and checked against the domain before anything is looked up or
            // written: bad input changes nothing. A `customer` value stands in a plan as its lookup
            // until the executor reaches the first step that needs it.
            let what = EventRules { rules, matched: &matched, event, context: &context, identity };
            let plans = plan_event(&self.executor.api, &self.domain, &what).await.map_err(|e| {
                if let PreflightError::Plan(refused) = &e {
                    telemetry::rule_failed(&refused.rule);
                }
                Error::preflight(event, &e)
            })?;
            let mut results = Vec::with_capacity(plans.len());
            for (rule, plan) in matched.iter().zip(&plans) {
                let result = self.executor.run(plan).await;
                match &result {
                    Ok(outcome) => telemetry::rule_applied(outcome),
                    Err(_) => telemetry::rule_failed(&rule.name),
                }
                results.push(result.map_err(|e| Error::exec(event, &e))?);
            }
            Ok(EventOutcome {
                event_id: event.key.clone(),
                kind: event.kind.to_string(),
                outcome: Outcome::Applied,
                reason: None,
                results,
                sweep: None,
            })
        };
        let budget_end = deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline);
        match tokio::time::timeout_at(budget_end.into(), work).await {
            Ok(result) => result,
            Err(_) => Err(Error::retryable(
                "DeadlineExceeded",
                format!("{}: not finished before the invocation deadline; a redelivery will complete it", describe(event)),
            )),
        }
    }

    /// The event with its contact's data at `$.contact`, when a matched rule asks for it (read
    /// once for all of them); None when none does. Logs ids and a count, never attribute values.
    async fn read_contact(&self, event: &Event, matched: &[&Rule]) -> Result<Option<Event>, Error> {
        let wanted = matched.iter().fold(ContactData::default(), |wanted, rule| wanted.union(rule.contact));
        let Some(asking) = matched.iter().find(|rule| rule.contact.any()) else { return Ok(None) };
        let failed = |error: Error| {
            telemetry::rule_failed(&asking.name);
            error
        };
        let contact = ContactRef::of(event)
            .map_err(|reason| failed(Error::plan(event, &PlanError { rule: asking.name.clone(), path: "contact".into(), reason })))?;
        let place = format!("rule `{}`, at `contact`", asking.name);
        let data = contacts::read(&self.contacts, &contact, wanted).await.map_err(|error| {
            failed(match error {
                ContactError::NotFound { operation, contact } => Error::permanent(
                    "ContactNotFound",
                    format!(
                        "{}: {place}: {operation} found no contact {} in Amazon Connect instance {} (a contact older than Amazon \
                         Connect keeps, or one of another instance); nothing was written",
                        describe(event),
                        if operation == "GetContactAttributes" { &contact.initial_contact_id } else { &contact.contact_id },
                        contact.instance_id,
                    ),
                ),
                ContactError::Api(error) => Error::api(event, &format!("{place}: reading the contact"), &error),
            })
        })?;
        tracing::debug!(
            event = %event.key,
            contact = %contact.contact_id,
            attributes = data.get("attributes").and_then(serde_json::Value::as_object).map_or(0, |a| a.len()),
            described = data.get("description").is_some(),
            "read the contact"
        );
        Ok(Some(contacts::with_contact(event, data)))
    }

    /// The flat string map a contact flow reads as `$.External.*`.
    fn flow_response(&self, outcome: &EventOutcome, invocation: &Invocation, rules_version: &str) -> Value {
        let mut out = BTreeMap::new();
        out.insert("outcome", outcome.outcome.as_str().to_owned());
        out.insert("rulesVersion", rules_version.to_owned());
        out.insert("rules", outcome.results.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>().join(","));
        if let Some(result) = outcome.results.iter().find(|r| r.case_id.is_some()) {
            let case_id = result.case_id.clone().unwrap_or_default();
            let case_arn = result.case_arn.clone().or_else(|| self.case_arn(invocation, &case_id));
            out.insert("caseCreated", (result.case == CaseOutcome::Created).to_string());
            if let Some(arn) = case_arn {
                out.insert("caseArn", arn);
            }
            out.insert("caseId", case_id);
        }
        let actions: Vec<String> = outcome
            .results
            .iter()
            .flat_map(|r| {
                r.actions
                    .iter()
                    .map(|a| format!("{}:{}", a.action, serde_json::to_value(a.status).expect("serializes").as_str().unwrap_or("")))
            })
            .collect();
        out.insert("actions", actions.join(","));
        serde_json::to_value(out).expect("string maps serialize")
    }

    /// `arn:aws:cases:{region}:{account}:domain/{domain}/case/{case}`, from the function's own ARN.
    fn case_arn(&self, invocation: &Invocation, case_id: &str) -> Option<String> {
        let parts: Vec<&str> = invocation.function_arn.as_deref()?.split(':').collect();
        match parts.as_slice() {
            ["arn", partition, "lambda", region, account, ..] => {
                Some(format!("arn:{partition}:cases:{region}:{account}:domain/{}/case/{case_id}", self.config.domain_id))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flows_budget_counts_from_its_call_and_on_a_cold_start_from_the_process_start() {
        let start = Instant::now();
        let timeout = Duration::from_secs(8);
        let lambda = start + Duration::from_secs(60);
        let keep = FLOW_MARGIN;
        // Warm: from the moment the invocation arrived.
        let received = start + Duration::from_secs(100);
        assert_eq!(flow_deadline(received, received + Duration::from_secs(30), None, timeout), received + timeout - keep);
        // The cold start took 3 s: the flow has been waiting since the process started.
        let received = start + Duration::from_secs(3);
        assert_eq!(flow_deadline(received, lambda, Some(start), timeout), start + timeout - keep);
        // A process started ahead of the call (longer ago than a flow waits): from the arrival.
        let received = start + Duration::from_secs(9);
        assert_eq!(flow_deadline(received, lambda, Some(start), timeout), received + timeout - keep);
        // Never past Lambda's own deadline.
        assert_eq!(flow_deadline(start, start + Duration::from_secs(2), None, timeout), start + Duration::from_secs(2));
    }

    #[test]
    fn deadlines_are_epoch_milliseconds_or_a_local_runtime_timeout() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_800_000_000_000);
        assert_eq!(remaining_time(1_800_000_003_000, now), Duration::from_secs(3));
        assert_eq!(remaining_time(1_799_999_999_000, now), Duration::ZERO, "a deadline already past");
        assert_eq!(remaining_time(600_000, now), Duration::from_secs(600), "cargo lambda watch");
    }
}
