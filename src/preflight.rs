//! Before the first write of an event: every matching rule planned with the domain's names, and
//! every write of every plan checked against what the domain allows (`cases::domain`), with what
//! the plans need fetched first (`cases::domain_cache`). A name, option or template the cache
//! lacks is fetched again (at most once a minute) before the event is refused. A rule that does
//! not fit refuses the whole event before anything is written.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::cases::catalog::{Catalog, Resolve};
use crate::cases::domain::{Missing, check_plan, needs};
use crate::cases::domain_cache::DomainCache;
use crate::cases::model::FieldType;
use crate::cases::{ApiError, CasesApi};
use crate::inbound::Event;
use crate::plan::{PlanError, PlanInput, RulePlan, plan_rule};
use crate::rules::value::TemplateContext;
use crate::rules::{Rule, RuleSet};

/// Why an event was refused before any write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreflightError {
    /// Reading the domain failed (`what` says which read).
    Api { what: &'static str, error: ApiError },
    /// A rule does not fit the event or the domain.
    Plan(PlanError),
}

/// The event and its matching rules, as planning sees them.
pub struct EventRules<'a> {
    pub rules: &'a RuleSet,
    pub matched: &'a [&'a Rule],
    pub event: &'a Event,
    pub context: &'a TemplateContext,
    /// The global automation identity.
    pub identity: &'a str,
}

/// The plans of the matched rules, in order, each checked against the domain.
pub async fn plan_event<C: CasesApi>(api: &C, cache: &DomainCache, what: &EventRules<'_>) -> Result<Vec<RulePlan>, PreflightError> {
    let api_error = |what| move |error| PreflightError::Api { what, error };
    let mut model = cache.names(api).await.map_err(api_error("listing the domain's fields and templates"))?;
    let mut names_listed_again = false;
    let plans = loop {
        let resolve = RecordingMisses::new(&model.catalog);
        let planned = {
            let input =
                PlanInput { rules: what.rules, event: what.event, context: what.context, identity: what.identity, resolve: &resolve };
            what.matched.iter().map(|rule| plan_rule(rule, &input)).collect::<Result<Vec<_>, _>>()
        };
        match planned {
            Ok(plans) => break plans,
            Err(error) if resolve.missed() && !names_listed_again => {
                names_listed_again = true;
                let refetched = cache.refetch(api, &Missing::Names, Instant::now()).await;
                match refetched.map_err(api_error("listing the domain's fields and templates again"))? {
                    Some(newer) => model = newer,
                    None => return Err(PreflightError::Plan(error)),
                }
            }
            Err(error) => return Err(PreflightError::Plan(error)),
        }
    };

    let needs = needs(&plans, &model.catalog);
    model = cache.complete(api, &needs).await.map_err(api_error("reading the options and templates the rules use"))?;
    let mut fetched_again = BTreeSet::new();
    for plan in &plans {
        while let Err(violation) = check_plan(plan, &model) {
            match violation.missing {
                Some(missing) if fetched_again.insert(missing.clone()) => {
                    let refetched = cache.refetch(api, &missing, Instant::now()).await;
                    match refetched.map_err(api_error("reading the domain again"))? {
                        Some(newer) => model = newer,
                        None => return Err(PreflightError::Plan(violation.error)),
                    }
                }
                _ => return Err(PreflightError::Plan(violation.error)),
            }
        }
    }
    Ok(plans)
}

/// Resolves names with the cached catalog and remembers whether one was not found (or named an
/// inactive template), which listing the names again may change.
struct RecordingMisses<'a> {
    catalog: &'a Catalog,
    missed: AtomicBool,
}

impl<'a> RecordingMisses<'a> {
    fn new(catalog: &'a Catalog) -> RecordingMisses<'a> {
        RecordingMisses { catalog, missed: AtomicBool::new(false) }
    }

    fn missed(&self) -> bool {
        self.missed.load(Ordering::Relaxed)
    }

    fn record<T>(&self, result: Result<T, String>) -> Result<T, String> {
        if result.is_err() {
            self.missed.store(true, Ordering::Relaxed);
        }
        result
    }
}

impl Resolve for RecordingMisses<'_> {
    fn field(&self, name_or_id: &str) -> Result<(String, Option<FieldType>), String> {
        self.record(self.catalog.field(name_or_id))
    }

    fn template(&self, name_or_id: &str) -> Result<String, String> {
        self.record(self.catalog.template(name_or_id))
    }
}
