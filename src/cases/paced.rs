//! Pacing: the Cases calls events make wait for their operation's next turn before they are sent,
//! so that a backlog drains at the account's quota instead of being throttled and retried.
//!
//! The Cases quotas are per account and Region, shared by every instance of the function; an
//! instance cannot see the others, so each paces itself at its share: the operation's quota, less
//! the part left to contact flows, divided by how many instances handle events at once (the queue's
//! `MaximumConcurrency` when events come through SQS, else the reserved concurrency). Contact flows
//! are not paced: they draw on the part of the quota events leave free, and on the service's burst
//! that this leaves standing, so that a backlog of events never makes a caller wait.
//!
//! Instances keep their distance on their own: each never sends an operation twice within its
//! interval (see `Schedule`), starts at a random phase, and moves its later turns after a call the
//! service throttled. Waiting happens inside the invocation: the handler's deadline still bounds
//! it, and a record that waited too long fails retryably like any other.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::model::*;
use super::{ApiError, ApiErrorKind, CasesApi};

/// The Cases API's published rate quotas (requests per second per account and Region) of the
/// operations the function calls; the others have no published rate and are not paced.
pub const PUBLISHED_QUOTAS: [(&str, u32); 5] =
    [("CreateCase", 2), ("UpdateCase", 2), ("CreateRelatedItem", 2), ("SearchCases", 4), ("GetCase", 4)];

/// Every operation the function calls (a quota may be given for any of them).
pub const OPERATIONS: [&str; 9] = [
    "SearchCases",
    "ListCasesForContact",
    "CreateCase",
    "UpdateCase",
    "SearchRelatedItems",
    "GetCase",
    "CreateRelatedItem",
    "ListFields",
    "ListTemplates",
];

/// How the instances of the function share the Cases quotas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacing {
    /// Requests per second per operation for the whole account: the published quotas, with the
    /// account's raised ones in their place.
    pub quotas: BTreeMap<String, u32>,
    /// Percent of every quota left to contact flows.
    pub flow_percent: u32,
    /// How many instances may handle events at the same moment.
    pub event_instances: u32,
}

impl Pacing {
    /// Percent of every quota left to flows when nothing else is said.
    pub const DEFAULT_FLOW_PERCENT: u32 = 3;

    /// The published quotas, `raised` in their place (operation, requests per second).
    pub fn new(raised: &[(String, u32)], flow_percent: u32, event_instances: u32) -> Pacing {
        let mut quotas: BTreeMap<String, u32> = PUBLISHED_QUOTAS.iter().map(|(op, rate)| (op.to_string(), *rate)).collect();
        quotas.extend(raised.iter().cloned());
        Pacing { quotas, flow_percent, event_instances: event_instances.max(1) }
    }

    /// The rate one instance may send `operation` at while it handles events, in requests per
    /// second; None: not paced.
    pub fn instance_rate(&self, operation: &str) -> Option<f64> {
        let quota = *self.quotas.get(operation)? as f64;
        let events_share = f64::from(100 - self.flow_percent.min(100)) / 100.0;
        Some(quota * events_share / f64::from(self.event_instances))
    }
}

/// Parses `CASES_QUOTAS`: `Operation=rate` pairs separated by commas (`CreateCase=10,UpdateCase=5`),
/// the account's raised quotas in requests per second. Every problem is listed.
pub fn parse_quotas(text: &str) -> Result<Vec<(String, u32)>, Vec<String>> {
    let mut quotas = Vec::new();
    let mut problems = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((operation, rate)) = entry.split_once('=') else {
            problems.push(format!("CASES_QUOTAS: `{entry}` is not Operation=rate (e.g. CreateCase=10)"));
            continue;
        };
        let operation = operation.trim();
        if !OPERATIONS.contains(&operation) {
            problems.push(format!("CASES_QUOTAS: `{operation}` is not an operation the function calls ({})", OPERATIONS.join(", ")));
            continue;
        }
        match rate.trim().parse::<u32>() {
            Ok(rate) if (1..=10_000).contains(&rate) => quotas.push((operation.to_owned(), rate)),
            _ => problems
                .push(format!("CASES_QUOTAS: the rate of {operation} must be a whole number of requests per second from 1 to 10000")),
        }
    }
    if problems.is_empty() { Ok(quotas) } else { Err(problems) }
}

tokio::task_local! {
    /// Set while a contact flow is handled: its calls are not paced.
    static UNPACED: ();
    /// Set while a paced call is made: whether the service throttled one of its attempts.
    static THROTTLED: Cell<bool>;
}

/// Records that the service throttled an attempt of the paced call in progress (called by the
/// SDK's interceptor, `throttled::ThrottleSignal`); outside a paced call it does nothing.
pub fn note_throttled() {
    let _ = THROTTLED.try_with(|throttled| throttled.set(true));
}

/// Runs `work` without pacing (a contact flow: the caller is waiting).
pub async fn unpaced<F: Future>(work: F) -> F::Output {
    UNPACED.scope((), work).await
}

/// When this instance may next send each paced operation: one call per interval (its share of
/// the quota), never two closer than that, so that two instances at half the quota each stay
/// within it however their calls fall. The first call of each waits until a random point of the
/// first interval, so that instances started together (a burst arriving) do not send together.
#[derive(Debug)]
struct Schedule {
    /// Where a new instance's first calls may start.
    start: Instant,
    /// Per operation, the earliest its next call may go.
    free_from: BTreeMap<&'static str, Instant>,
}

impl Schedule {
    /// Takes the next turn of an operation sent every `interval`, at or after `now`: when it starts.
    /// A call that comes a little after its turn (a quarter of the interval at most) keeps the
    /// pace: the next turn counts from the turn, not from the late call, so that the small delays
    /// of the calls in between, and between two batches, do not add up to a slower pace.
    fn take(&mut self, operation: &'static str, interval: Duration, now: Instant) -> Instant {
        let due = self.free_from.get(operation).copied().unwrap_or(self.start);
        let turn = due.max(now);
        let counted_from = if turn.duration_since(due) <= interval / 4 { due } else { turn };
        self.free_from.insert(operation, counted_from + interval);
        turn
    }

    /// Moves every later turn back by `delay`.
    fn shift(&mut self, delay: Duration) {
        self.start += delay;
        for free_from in self.free_from.values_mut() {
            *free_from += delay;
        }
    }
}

/// How many times a call the service still throttled after the SDK's retries is sent again, each
/// at the operation's next turn: an event waits rather than failing for one unlucky moment.
pub const TURNS_AFTER_THROTTLING: usize = 2;

/// A `CasesApi` whose calls wait for their operation's turn (see the module documentation).
pub struct Paced<C> {
    inner: C,
    /// The interval between two calls of each paced operation.
    intervals: BTreeMap<&'static str, Duration>,
    schedule: Mutex<Schedule>,
    /// The quickest each operation has answered: what a call takes without retries.
    quickest: Mutex<BTreeMap<&'static str, Duration>>,
    waits: AtomicU64,
    shifts: AtomicU64,
}

impl<C> Paced<C> {
    /// `inner` paced as `pacing` says; None: not paced at all.
    pub fn new(inner: C, pacing: Option<&Pacing>) -> Paced<C> {
        Paced::with_phase(inner, pacing, fastrand::f64())
    }

    /// `phase` (0 to 1): where in the longest interval the first calls may start. Random in
    /// production, so that instances started together do not all send at the same instants.
    fn with_phase(inner: C, pacing: Option<&Pacing>, phase: f64) -> Paced<C> {
        let intervals: BTreeMap<&'static str, Duration> = pacing
            .map(|pacing| {
                OPERATIONS.iter().filter_map(|op| Some((*op, Duration::from_secs_f64(1.0 / pacing.instance_rate(op)?.max(1e-3))))).collect()
            })
            .unwrap_or_default();
        let longest = intervals.values().max().copied().unwrap_or_default();
        let start = Instant::now() + longest.mul_f64(phase.clamp(0.0, 1.0));
        Paced {
            inner,
            intervals,
            schedule: Mutex::new(Schedule { start, free_from: BTreeMap::new() }),
            quickest: Mutex::new(BTreeMap::new()),
            waits: AtomicU64::new(0),
            shifts: AtomicU64::new(0),
        }
    }

    /// The wrapped API.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Calls that had to wait for their turn, since the process started.
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// Times a throttled call moved the later turns, since the process started.
    pub fn shifts(&self) -> u64 {
        self.shifts.load(Ordering::Relaxed)
    }

    /// Sends `call()` at `operation`'s next turn: at once for a flow or an operation without a
    /// quota. Still throttled after the SDK's retries, it is sent again at a later turn.
    async fn paced<T, F, Fut>(&self, operation: &'static str, call: F) -> Result<T, ApiError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let Some(interval) = self.intervals.get(operation).copied().filter(|_| UNPACED.try_with(|_| ()).is_err()) else {
            return call().await;
        };
        let mut turns_left = TURNS_AFTER_THROTTLING;
        loop {
            let turn = self.schedule.lock().unwrap_or_else(|e| e.into_inner()).take(operation, interval, Instant::now());
            if turn > Instant::now() {
                self.waits.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep_until(turn.into()).await;
            }
            let sent = Instant::now();
            let (answer, throttled) = THROTTLED
                .scope(Cell::new(false), async {
                    let answer = call().await;
                    (answer, THROTTLED.with(Cell::get))
                })
                .await;
            self.settle(operation, sent.elapsed(), throttled);
            match answer {
                Err(error) if error.kind == ApiErrorKind::Throttling && turns_left > 0 => turns_left -= 1,
                answer => return answer,
            }
        }
    }

    /// After a call that took `took`: when the service throttled it, most likely another instance
    /// sends at the same instants (instances at equal rates keep their phase); the later turns move
    /// by the time the SDK's retries took, so that colliding instances drift apart instead of
    /// colliding at every turn.
    fn settle(&self, operation: &'static str, took: Duration, throttled: bool) {
        let quickest = {
            let mut quickest = self.quickest.lock().unwrap_or_else(|e| e.into_inner());
            let fastest = quickest.get(operation).map_or(took, |q| (*q).min(took));
            quickest.insert(operation, fastest);
            fastest
        };
        if throttled {
            self.shifts.fetch_add(1, Ordering::Relaxed);
            self.schedule.lock().unwrap_or_else(|e| e.into_inner()).shift(took - quickest);
        }
    }
}

impl<C: CasesApi> CasesApi for Paced<C> {
    async fn search_cases(&self, input: &SearchCasesInput) -> Result<CasesPage, ApiError> {
        self.paced("SearchCases", || self.inner.search_cases(input)).await
    }

    async fn search_slas(&self, input: &SearchSlasInput) -> Result<SlasPage, ApiError> {
        self.paced("SearchAllRelatedItems", || self.inner.search_slas(input)).await
    }

    async fn update_related_item(&self, case_id: &str, related_item_id: &str, input: &UpdateRelatedItemInput) -> Result<(), ApiError> {
        self.paced("UpdateRelatedItem", || self.inner.update_related_item(case_id, related_item_id, input)).await
    }

    async fn list_field_options(&self, field_id: &str) -> Result<Vec<FieldOption>, ApiError> {
        self.paced("ListFieldOptions", || self.inner.list_field_options(field_id)).await
    }

    async fn get_template(&self, template_id: &str) -> Result<TemplateDetail, ApiError> {
        self.paced("GetTemplate", || self.inner.get_template(template_id)).await
    }

    async fn list_cases_for_contact(&self, input: &ListCasesForContactInput) -> Result<Vec<String>, ApiError> {
        self.paced("ListCasesForContact", || self.inner.list_cases_for_contact(input)).await
    }

    async fn create_case(&self, input: &CreateCaseInput) -> Result<CreatedCase, ApiError> {
        self.paced("CreateCase", || self.inner.create_case(input)).await
    }

    async fn update_case(&self, case_id: &str, input: &UpdateCaseInput) -> Result<(), ApiError> {
        self.paced("UpdateCase", || self.inner.update_case(case_id, input)).await
    }

    async fn search_related_items(&self, case_id: &str, input: &SearchRelatedItemsInput) -> Result<RelatedItemsPage, ApiError> {
        self.paced("SearchRelatedItems", || self.inner.search_related_items(case_id, input)).await
    }

    async fn get_case_fields(
        &self,
        case_id: &str,
        field_ids: &[String],
    ) -> Result<std::collections::HashMap<String, FieldValue>, ApiError> {
        self.paced("GetCase", || self.inner.get_case_fields(case_id, field_ids)).await
    }

    async fn create_related_item(&self, case_id: &str, input: &CreateRelatedItemInput) -> Result<String, ApiError> {
        self.paced("CreateRelatedItem", || self.inner.create_related_item(case_id, input)).await
    }

    async fn list_fields(&self) -> Result<Vec<FieldInfo>, ApiError> {
        self.paced("ListFields", || self.inner.list_fields()).await
    }

    async fn list_templates(&self) -> Result<Vec<TemplateInfo>, ApiError> {
        self.paced("ListTemplates", || self.inner.list_templates()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Records the operations, in order; UpdateCase answers after a delay, and says it was
    /// throttled when told to (as the SDK's interceptor would); CreateCase fails with throttling
    /// as many times as told.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<&'static str>>, Mutex<(Duration, bool)>, Mutex<u32>);

    impl Recorder {
        fn note(&self, op: &'static str) {
            self.0.lock().unwrap().push(op);
        }
    }

    impl CasesApi for Recorder {
        async fn search_cases(&self, _: &SearchCasesInput) -> Result<CasesPage, ApiError> {
            self.note("SearchCases");
            Ok(CasesPage { cases: vec![], next_token: None, total: Some(0) })
        }
        async fn list_cases_for_contact(&self, _: &ListCasesForContactInput) -> Result<Vec<String>, ApiError> {
            self.note("ListCasesForContact");
            Ok(vec![])
        }
        async fn create_case(&self, _: &CreateCaseInput) -> Result<CreatedCase, ApiError> {
            self.note("CreateCase");
            let mut throttles = self.2.lock().unwrap();
            if *throttles > 0 {
                *throttles -= 1;
                note_throttled();
                return Err(ApiError { operation: "CreateCase", kind: ApiErrorKind::Throttling, message: "Rate exceeded".into() });
            }
            Ok(CreatedCase { case_id: "c".into(), case_arn: String::new() })
        }
        async fn update_case(&self, _: &str, _: &UpdateCaseInput) -> Result<(), ApiError> {
            self.note("UpdateCase");
            let (delay, throttled) = *self.1.lock().unwrap();
            if throttled {
                note_throttled();
            }
            tokio::time::sleep(delay).await;
            Ok(())
        }
        async fn search_related_items(&self, _: &str, _: &SearchRelatedItemsInput) -> Result<RelatedItemsPage, ApiError> {
            unimplemented!("not called by these tests")
        }
        async fn get_case_fields(&self, _: &str, _: &[String]) -> Result<HashMap<String, FieldValue>, ApiError> {
            self.note("GetCase");
            Ok(HashMap::new())
        }
        async fn create_related_item(&self, _: &str, _: &CreateRelatedItemInput) -> Result<String, ApiError> {
            unimplemented!("not called by these tests")
        }
        async fn list_fields(&self) -> Result<Vec<FieldInfo>, ApiError> {
            self.note("ListFields");
            Ok(vec![])
        }
        async fn list_templates(&self) -> Result<Vec<TemplateInfo>, ApiError> {
            unimplemented!("not called by these tests")
        }
        async fn search_slas(&self, _: &SearchSlasInput) -> Result<SlasPage, ApiError> {
            unimplemented!("not called by these tests")
        }
        async fn update_related_item(&self, _: &str, _: &str, _: &UpdateRelatedItemInput) -> Result<(), ApiError> {
            unimplemented!("not called by these tests")
        }
        async fn list_field_options(&self, _: &str) -> Result<Vec<FieldOption>, ApiError> {
            unimplemented!("not called by these tests")
        }
        async fn get_template(&self, _: &str) -> Result<TemplateDetail, ApiError> {
            unimplemented!("not called by these tests")
        }
    }

    fn create() -> CreateCaseInput {
        CreateCaseInput {
            template_id: "t".into(),
            fields: vec![],
            client_token: "x".into(),
            performed_by: PerformedBy { custom_entity: "a".into() },
            tags: Default::default(),
        }
    }

    fn search() -> SearchCasesInput {
        SearchCasesInput { max_results: 1, filter: CaseFilter::AndAll(vec![]), sorts: vec![], fields: vec![], next_token: None }
    }

    #[test]
    fn each_instance_gets_its_share_of_what_flows_leave() {
        let pacing = Pacing::new(&[], 5, 2);
        assert_eq!(pacing.instance_rate("CreateCase"), Some(2.0 * 0.95 / 2.0));
        assert_eq!(pacing.instance_rate("SearchCases"), Some(4.0 * 0.95 / 2.0));
        assert_eq!(pacing.instance_rate("ListFields"), None, "no published rate: not paced");

        let raised = Pacing::new(&[("CreateCase".into(), 20), ("ListFields".into(), 5)], 0, 5);
        assert_eq!(raised.instance_rate("CreateCase"), Some(4.0), "a raised quota replaces the published one");
        assert_eq!(raised.instance_rate("ListFields"), Some(1.0));
        assert_eq!(raised.instance_rate("UpdateCase"), Some(0.4), "the others keep the published quota");
        assert_eq!(Pacing::new(&[], 0, 0).event_instances, 1, "at least this instance");
    }

    #[test]
    fn turns_are_one_interval_apart_and_move_together() {
        let start = Instant::now() + Duration::from_secs(10);
        let ms = Duration::from_millis;
        let mut schedule = Schedule { start, free_from: BTreeMap::new() };
        assert_eq!(schedule.take("CreateCase", ms(100), start - ms(40)), start, "a new instance starts at its phase");
        assert_eq!(schedule.take("CreateCase", ms(100), start), start + ms(100), "never two within an interval");
        assert_eq!(schedule.take("UpdateCase", ms(100), start + ms(1)), start + ms(1), "each operation has its own turns");
        // A little late (25 ms of a 100 ms interval): the pace holds.
        assert_eq!(schedule.take("CreateCase", ms(100), start + ms(225)), start + ms(225));
        assert_eq!(schedule.take("CreateCase", ms(100), start + ms(225)), start + ms(300));
        // Idle for a while: the next call goes at once, and the one after an interval later.
        assert_eq!(schedule.take("CreateCase", ms(100), start + ms(1234)), start + ms(1234));
        assert_eq!(schedule.take("CreateCase", ms(100), start + ms(1234)), start + ms(1334));
        schedule.shift(ms(30));
        assert_eq!(schedule.take("CreateCase", ms(100), start + ms(1234)), start + ms(1464), "moved back");
        assert_eq!(schedule.take("UpdateCase", ms(100), start + ms(1)), start + ms(130), "every operation moved");
    }

    #[test]
    fn raised_quotas_are_parsed_and_every_mistake_is_named() {
        assert_eq!(parse_quotas(" CreateCase=10, UpdateCase = 4 ,"), Ok(vec![("CreateCase".to_owned(), 10), ("UpdateCase".to_owned(), 4)]));
        assert_eq!(parse_quotas(""), Ok(vec![]));
        let problems = parse_quotas("CreateCase=0,DeleteCase=3,UpdateCase,GetCase=2.5").unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[1].contains("DeleteCase") && problems[1].contains("CreateCase"), "names the operations: {}", problems[1]);
    }

    /// Five CreateCase calls at 20 per second, one per turn, cannot all be sent in less than four
    /// intervals (a lower bound: a busy machine only makes it longer).
    #[tokio::test]
    async fn events_wait_for_their_operations_turn() {
        let paced = Paced::with_phase(Recorder::default(), Some(&Pacing::new(&[("CreateCase".into(), 40)], 0, 2)), 0.0);
        let create = create();
        let started = Instant::now();
        for _ in 0..5 {
            paced.create_case(&create).await.unwrap();
        }
        assert!(started.elapsed() >= Duration::from_millis(4 * 50 - 5), "{:?}", started.elapsed());
        assert!(paced.waits() >= 1);
        assert_eq!(paced.inner().0.lock().unwrap().len(), 5);
    }

    #[tokio::test]
    async fn flows_and_operations_without_a_quota_never_wait() {
        // One SearchCases per 100 s, the first at once.
        let paced = Paced::with_phase(Recorder::default(), Some(&Pacing::new(&[("SearchCases".into(), 1)], 0, 100)), 0.0);
        unpaced(async {
            for _ in 0..5 {
                paced.search_cases(&search()).await.unwrap();
            }
        })
        .await;
        for _ in 0..5 {
            paced.list_fields().await.unwrap();
        }
        assert_eq!(paced.waits(), 0);
        assert_eq!(paced.inner().0.lock().unwrap().len(), 10);
        // The flow took none of the events' turns: the first turn is still free, the next 100 s away.
        paced.search_cases(&search()).await.unwrap();
        assert_eq!(paced.waits(), 0);
        let event = tokio::time::timeout(Duration::from_millis(50), paced.search_cases(&search())).await;
        assert!(event.is_err(), "the next event's call waits for its turn");
        assert_eq!(paced.waits(), 1);
    }

    /// A new instance's first call goes at its phase: instances started by one burst spread out
    /// instead of sending together.
    #[tokio::test]
    async fn a_new_instance_starts_each_operation_at_its_phase() {
        // CreateCase 10 per second, the longest interval (100 ms); the first turn at 90% of it.
        let faster = ["UpdateCase", "CreateRelatedItem", "SearchCases", "GetCase"].map(|op| (op.to_owned(), 20));
        let mut quotas = vec![("CreateCase".to_owned(), 10)];
        quotas.extend(faster);
        let paced = Paced::with_phase(Recorder::default(), Some(&Pacing::new(&quotas, 0, 1)), 0.9);
        let started = Instant::now();
        paced.create_case(&create()).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(90 - 5), "{:?}", started.elapsed());
        assert_eq!(paced.waits(), 1);
    }

    /// A call the service throttled (the SDK's interceptor says so) and that took longer than the
    /// quickest moves the later turns back by the delay. A call that was only slow does not.
    #[tokio::test]
    async fn a_throttled_call_moves_the_later_turns_back() {
        let paced = Paced::with_phase(Recorder::default(), Some(&Pacing::new(&[("UpdateCase".into(), 10)], 0, 1)), 0.0);
        let update = UpdateCaseInput { fields: vec![], performed_by: PerformedBy { custom_entity: "a".into() } };
        paced.update_case("c", &update).await.unwrap();
        *paced.inner().1.lock().unwrap() = (Duration::from_millis(300), false);
        paced.update_case("c", &update).await.unwrap();
        assert_eq!(paced.shifts(), 0, "slow, not throttled: the turns stay");
        *paced.inner().1.lock().unwrap() = (Duration::from_millis(300), true);
        paced.update_case("c", &update).await.unwrap();
        assert_eq!(paced.shifts(), 1);
        *paced.inner().1.lock().unwrap() = (Duration::ZERO, false);
        // The next turn was 100 ms after the throttled call was sent, long before it answered;
        // moved by the call's delay, it now comes an interval after the answer.
        let answered = Instant::now();
        paced.update_case("c", &update).await.unwrap();
        assert!(answered.elapsed() >= Duration::from_millis(100 - 5), "{:?}", answered.elapsed());
        note_throttled();
        assert_eq!(paced.shifts(), 1, "outside a paced call the signal changes nothing");
    }

    /// A call still throttled after the SDK's retries is sent again at a later turn, twice at most.
    #[tokio::test]
    async fn a_call_still_throttled_is_sent_again_at_a_later_turn() {
        let paced = Paced::with_phase(Recorder::default(), Some(&Pacing::new(&[("CreateCase".into(), 100)], 0, 1)), 0.0);
        *paced.inner().2.lock().unwrap() = 2;
        paced.create_case(&create()).await.expect("the third turn gets through");
        assert_eq!((paced.inner().0.lock().unwrap().len(), paced.shifts()), (3, 2));
        *paced.inner().2.lock().unwrap() = 5;
        let error = paced.create_case(&create()).await.unwrap_err();
        assert_eq!(error.kind, ApiErrorKind::Throttling, "then the error is the caller's");
        assert_eq!(paced.inner().0.lock().unwrap().len(), 6, "three more calls, no more");
    }

    #[tokio::test]
    async fn without_pacing_nothing_waits() {
        let paced = Paced::new(Recorder::default(), None);
        for _ in 0..20 {
            paced.search_cases(&search()).await.unwrap();
        }
        assert_eq!(paced.waits(), 0);
    }
}
