//! Customer resolution: a [`CustomerQuery`] (built from the event by `rules::customer`) becomes
//! the Customer Profiles ARN that CreateCase wants as `customer_id`.
//!
//! A profile the event names is used without any call. Otherwise one `SearchProfiles` (the
//! rule's keys combined with OR) finds the candidates; the rule decides what none or several
//! mean. Search results are cached per process for [`CACHE_TTL`], so a burst of events about one
//! caller costs one search; a profile this function creates is cached at once. Absent results
//! are not cached: the profile may be created by someone else a moment later.

pub mod sdk;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tracing::info;

use crate::cases::ApiError;
use crate::claims::{self, Claim, ClaimState, ClaimStore, Next, NoClaims, StoreError, decide, keys, now_ms, wait_step};
use crate::inbound::ArnScope;
use crate::locks::KeyedLocks;
use crate::plan::RulePlan;
use crate::rules::customer::{CustomerQuery, IfNoProfile, IfSeveral, KnownProfile, SearchKey, SearchTerm};
use crate::telemetry::{self, Lookup};

/// How long a search result is reused.
pub const CACHE_TTL: Duration = Duration::from_secs(60);
/// Searches kept in the cache at most.
const CACHE_ENTRIES: usize = 10_000;
/// Profiles read per search; `ifSeveral` looks at these (100 is the API's maximum).
pub const SEARCH_PAGE: i32 = 100;

/// One profile SearchProfiles found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileMatch {
    pub profile_id: String,
    pub attributes: BTreeMap<String, String>,
}

/// A profile to create: the identifiers the event had, and who created it when.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewProfile {
    pub phone_number: Option<String>,
    pub email_address: Option<String>,
    pub account_number: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// The Customer Profiles operations the function calls, on one profiles domain.
pub trait ProfilesApi: Send + Sync {
    /// The profiles domain, or None when none is configured (`PROFILES_DOMAIN_NAME`).
    fn domain(&self) -> Option<&str>;
    /// Profiles matching any of `terms` (first page, at most `max_results`).
    fn search_profiles(&self, terms: &[SearchTerm], max_results: i32) -> impl Future<Output = Result<Vec<ProfileMatch>, ApiError>> + Send;
    /// The new profile's id.
    fn create_profile(&self, profile: &NewProfile) -> impl Future<Output = Result<String, ApiError>> + Send;
}

/// No profiles domain: events that name their profile still work; lookups fail with a clear error.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProfiles;

impl ProfilesApi for NoProfiles {
    fn domain(&self) -> Option<&str> {
        None
    }

    async fn search_profiles(&self, _: &[SearchTerm], _: i32) -> Result<Vec<ProfileMatch>, ApiError> {
        unreachable!("lookups need a profiles domain, checked before searching")
    }

    async fn create_profile(&self, _: &NewProfile) -> Result<String, ApiError> {
        unreachable!("lookups need a profiles domain, checked before creating")
    }
}

/// What a lookup gives the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The profile's ARN.
    Profile(String),
    /// No customer, and the rule says to skip; the reason names keys, never values.
    Skip(String),
}

/// Why a customer could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    Api(ApiError),
    /// The coordination store could not be used to claim a new profile (retryable).
    Store(StoreError),
    /// No usable identifier, no match, several matches, or no profiles domain configured.
    Unresolved(String),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Api(error) => error.fmt(f),
            ResolveError::Store(error) => error.fmt(f),
            ResolveError::Unresolved(reason) => f.write_str(reason),
        }
    }
}

#[derive(Clone)]
struct Cached {
    at: Instant,
    matches: Arc<[ProfileMatch]>,
}

/// The resolver: the Customer Profiles client, the search cache, and the locks that make one
/// process create a missing profile once (and, with the coordination store, all instances).
pub struct Customers<P, S = NoClaims> {
    pub api: P,
    claims: Arc<S>,
    /// How long the profile claim of an instance that died blocks the others.
    lease: Duration,
    /// Whether `ifNone: create` may create profiles (`PROFILES_ALLOW_CREATE`).
    allow_create: bool,
    /// Made on first use: most deployments' events name their profile.
    cache: OnceLock<quick_cache::sync::Cache<Vec<SearchTerm>, Cached>>,
    creating: KeyedLocks,
    /// Where the function runs (see [`Customers::set_function_arn`]).
    function_scope: OnceLock<Option<ArnScope>>,
}

/// The customers of one rule for one event: the ARN for each of its queries, or None when the
/// rule says to skip an event without a customer.
pub type RuleCustomers = Option<HashMap<CustomerQuery, String>>;

/// A resolution failure with the rule and place it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerError {
    pub rule: String,
    pub path: String,
    pub error: ResolveError,
}

impl<P: ProfilesApi> Customers<P> {
    pub fn new(api: P) -> Customers<P> {
        Customers::with_claims(api, Arc::new(NoClaims))
    }
}

impl From<StoreError> for ResolveError {
    fn from(error: StoreError) -> Self {
        ResolveError::Store(error)
    }
}

impl<P: ProfilesApi, S: ClaimStore> Customers<P, S> {
    pub fn with_claims(api: P, claims: Arc<S>) -> Customers<P, S> {
        Customers {
            api,
            claims,
            lease: claims::LEASE,
            allow_create: true,
            cache: OnceLock::new(),
            creating: KeyedLocks::default(),
            function_scope: OnceLock::new(),
        }
    }

    /// The lease of profile claims (`CLAIM_LEASE_SECONDS`).
    pub fn with_lease(mut self, lease: Duration) -> Customers<P, S> {
        self.lease = lease;
        self
    }

    /// Turns `ifNone: create` into a clear error (the deployment did not grant CreateProfile).
    pub fn allow_create(mut self, allow: bool) -> Customers<P, S> {
        self.allow_create = allow;
        self
    }

    fn cache(&self) -> &quick_cache::sync::Cache<Vec<SearchTerm>, Cached> {
        self.cache.get_or_init(|| quick_cache::sync::Cache::new(CACHE_ENTRIES))
    }

    /// The function's partition, region and account, from its ARN (the first invocation's
    /// context): profile ARNs built from a profile id point there.
    pub fn set_function_arn(&self, arn: &str) {
        self.function_scope.get_or_init(|| ArnScope::from_function_arn(arn));
    }

    /// Partition, region and account of the function, once an invocation has said.
    pub fn function_scope(&self) -> Option<ArnScope> {
        self.function_scope.get().cloned().flatten()
    }

    /// Looks up every customer `plan` defers (equal queries once), as the rule's `performedBy`.
    /// None when the rule says to skip an event without a customer. A profile id becomes an ARN
    /// where the function is, else where the event came from.
    pub async fn resolve_plan(&self, plan: &RulePlan) -> Result<RuleCustomers, CustomerError> {
        let scope = self.function_scope().or_else(|| plan.scope.clone());
        let creator = &plan.performed_by.custom_entity;
        let mut profiles = HashMap::new();
        for deferred in &plan.customers {
            if profiles.contains_key(&deferred.query) {
                continue;
            }
            match self.resolve(&deferred.query, scope.as_ref(), creator).await {
                Ok(Resolution::Profile(arn)) => {
                    profiles.insert(deferred.query.clone(), arn);
                }
                Ok(Resolution::Skip(reason)) => {
                    info!(event = %plan.event_key, rule = %plan.rule, at = %deferred.path, reason = %reason, "no customer; rule skipped");
                    return Ok(None);
                }
                Err(error) => return Err(CustomerError { rule: plan.rule.clone(), path: deferred.path.clone(), error }),
            }
        }
        Ok(Some(profiles))
    }

    /// The ARN of the query's customer.
    pub async fn resolve(&self, query: &CustomerQuery, scope: Option<&ArnScope>, creator: &str) -> Result<Resolution, ResolveError> {
        let unresolved = |reason: String| Err(ResolveError::Unresolved(reason));
        if let Some(known) = &query.known {
            return match known {
                KnownProfile::Arn(arn) => {
                    telemetry::customer_lookup(Lookup::Named);
                    Ok(Resolution::Profile(arn.clone()))
                }
                KnownProfile::Id(id) => match (self.api.domain(), scope) {
                    (Some(domain), Some(scope)) => {
                        telemetry::customer_lookup(Lookup::Named);
                        Ok(Resolution::Profile(scope.profile_arn(domain, id)))
                    }
                    (None, _) => unresolved("the event gives a profile id, and building its ARN needs PROFILES_DOMAIN_NAME".into()),
                    (_, None) => unresolved("the event gives a profile id, and neither it nor the function says the account".into()),
                },
            };
        }
        if query.terms.is_empty() {
            let why =
                if query.unusable.is_empty() { "the event has no customer identifier".to_string() } else { query.unusable.join("; ") };
            return match query.if_none {
                IfNoProfile::Skip => Ok(Resolution::Skip(format!("no usable customer identifier: {why}"))),
                IfNoProfile::Fail | IfNoProfile::Create => unresolved(format!("no usable customer identifier: {why}")),
            };
        }
        let (Some(domain), Some(scope)) = (self.api.domain(), scope) else {
            return unresolved(match self.api.domain() {
                None => {
                    format!("looking the customer up by {} needs PROFILES_DOMAIN_NAME (the Customer Profiles domain)", query.key_names())
                }
                Some(_) => "neither the event nor the function says the account the profiles domain is in".into(),
            });
        };

        let (matches, cached) = self.search(&query.terms).await?;
        telemetry::customer_lookup(match matches.len() {
            _ if cached => Lookup::Cached,
            0 => Lookup::None,
            1 => Lookup::Found,
            _ => Lookup::Several,
        });
        let profile_id = match matches.len() {
            0 => match query.if_none {
                IfNoProfile::Fail => {
                    return unresolved(format!(
                        "no profile in {domain} matches {} (set `customer.ifNone` to skip or create)",
                        query.key_names()
                    ));
                }
                IfNoProfile::Skip => return Ok(Resolution::Skip(format!("no profile in {domain} matches {}", query.key_names()))),
                IfNoProfile::Create if !self.allow_create => {
                    return unresolved(format!(
                        "no profile in {domain} matches {}, and creating profiles is turned off (PROFILES_ALLOW_CREATE=false)",
                        query.key_names()
                    ));
                }
                IfNoProfile::Create => {
                    let id = self.create(query, creator, domain).await?;
                    telemetry::customer_lookup(Lookup::Created);
                    id
                }
            },
            _ => choose(&matches, query, domain)?,
        };
        Ok(Resolution::Profile(scope.profile_arn(domain, &profile_id)))
    }

    /// SearchProfiles, or a result from the last [`CACHE_TTL`] (then true).
    async fn search(&self, terms: &[SearchTerm]) -> Result<(Arc<[ProfileMatch]>, bool), ResolveError> {
        let key = terms.to_vec();
        if let Some(cached) = self.cache().get(&key)
            && cached.at.elapsed() < CACHE_TTL
        {
            return Ok((cached.matches, true));
        }
        let matches: Arc<[ProfileMatch]> = self.api.search_profiles(terms, SEARCH_PAGE).await.map_err(ResolveError::Api)?.into();
        if !matches.is_empty() {
            self.cache().insert(key, Cached { at: Instant::now(), matches: matches.clone() });
        }
        Ok((matches, false))
    }

    /// CreateProfile with the identifiers the event has. In one process, concurrent deliveries
    /// take turns and whoever waited finds the new profile. Across instances, two deliveries at the
    /// same moment can each create one: each then searches again and takes the oldest of the
    /// profiles it sees (by `createdAt`, then id), so both use the same customer and a later
    /// redelivery with `ifSeveral: oldest` too; the other profile stays unused.
    async fn create(&self, query: &CustomerQuery, creator: &str, domain: &str) -> Result<String, ResolveError> {
        if [SearchKey::Phone, SearchKey::Email, SearchKey::Account].iter().all(|key| query.term(key).is_none()) {
            let why = if query.unusable.is_empty() { String::new() } else { format!(" ({})", query.unusable.join("; ")) };
            return Err(ResolveError::Unresolved(format!(
                "no profile in {domain} matches {}, and the event has no phone number, e-mail or account number to create one with{why}",
                query.key_names()
            )));
        }
        let lock_key =
            serde_json::to_string(&query.terms.iter().map(|t| (&t.key_name, &t.value)).collect::<Vec<_>>()).expect("strings serialize");
        let lock = self.creating.get(&lock_key);
        let _turn = lock.lock().await;
        let (found, _) = self.search(&query.terms).await?;
        if !found.is_empty() {
            return choose(&found, query, domain);
        }
        let profile = new_profile(query, creator);
        if self.claims.enabled() {
            return self.create_claimed(query, profile, domain).await;
        }
        let id = self.api.create_profile(&profile).await.map_err(ResolveError::Api)?;
        info!(profile = %id, keys = %query.key_names(), "customer profile created");
        let seen = self.api.search_profiles(&query.terms, SEARCH_PAGE).await.map_err(ResolveError::Api)?;
        let chosen = match oldest(&seen, CREATED_AT) {
            Some(oldest) if seen.len() > 1 => {
                info!(profile = %oldest.profile_id, created = %id, matches = seen.len(), "another delivery created the customer at the same moment; using the oldest");
                oldest.clone()
            }
            _ => ProfileMatch { profile_id: id, attributes: profile.attributes },
        };
        self.cache().insert(query.terms.clone(), Cached { at: Instant::now(), matches: Arc::from(seen.into_boxed_slice()) });
        Ok(chosen.profile_id)
    }

    /// CreateProfile under a claim on the caller's identifiers: one profile per new caller across
    /// instances. Whoever finds the claim held uses the profile it is bound to, or waits for it.
    async fn create_claimed(&self, query: &CustomerQuery, profile: NewProfile, domain: &str) -> Result<String, ResolveError> {
        let terms: Vec<(&str, &str)> = query.terms.iter().map(|t| (t.key_name.as_str(), t.value.as_str())).collect();
        let key = keys::profile(domain, &terms);
        let me = claims::attempt_id();
        let mine = Claim::pending_with_lease(&key, &me, None, now_ms(), self.lease);
        let Some(mut held) = self.claims.put_new(&mine).await? else {
            return self.create_profile_claimed(query, &key, &me, profile).await;
        };
        for round in 0.. {
            match decide(&held, &me, now_ms()) {
                Next::Use(id) => {
                    let found = ProfileMatch { profile_id: id.clone(), attributes: profile.attributes };
                    self.cache()
                        .insert(query.terms.clone(), Cached { at: Instant::now(), matches: Arc::from(vec![found].into_boxed_slice()) });
                    return Ok(id);
                }
                Next::Wait(pause) => {
                    tokio::time::sleep(wait_step(round).min(pause.max(Duration::from_millis(10)))).await;
                    held = match self.claims.get(&key).await? {
                        Some(claim) => claim,
                        None => match self.claims.put_new(&mine).await? {
                            None => return self.create_profile_claimed(query, &key, &me, profile).await,
                            Some(claim) => claim,
                        },
                    };
                }
                // The claimant died (its lease ran out): its profile may exist. Look, then take over.
                Next::TakeOver | Next::Replay { .. } => {
                    let seen = self.api.search_profiles(&query.terms, SEARCH_PAGE).await.map_err(ResolveError::Api)?;
                    let existing = if seen.is_empty() { None } else { Some(choose(&seen, query, domain)?) };
                    let mut next = held.succeeded_by(&me, None, now_ms(), self.lease);
                    if let Some(id) = &existing {
                        next.state = ClaimState::Bound { id: id.clone() };
                    }
                    match (self.claims.replace(&next).await?, existing) {
                        (None, Some(id)) => return Ok(id),
                        (None, None) => return self.create_profile_claimed(query, &key, &me, profile).await,
                        (Some(now_held), _) => held = now_held,
                    }
                }
            }
        }
        unreachable!("the loop only ends by returning")
    }

    async fn create_profile_claimed(
        &self,
        query: &CustomerQuery,
        key: &str,
        me: &str,
        profile: NewProfile,
    ) -> Result<String, ResolveError> {
        let id = match self.api.create_profile(&profile).await {
            Ok(id) => id,
            Err(error) => {
                // Refused outright: nothing was created. After a timeout or a 5xx it may have been:
                // whoever comes next looks first.
                if error.refused_outright() {
                    self.claims.release(key, me).await?;
                } else {
                    self.claims.abandon(key, me).await?;
                }
                return Err(ResolveError::Api(error));
            }
        };
        info!(profile = %id, keys = %query.key_names(), "customer profile created");
        if !self.claims.bind(key, me, &id, None).await? {
            tracing::warn!(profile = %id, "a new profile's claim was taken over while it was being created");
        }
        let created = ProfileMatch { profile_id: id.clone(), attributes: profile.attributes };
        self.cache().insert(query.terms.clone(), Cached { at: Instant::now(), matches: Arc::from(vec![created].into_boxed_slice()) });
        Ok(id)
    }
}

/// The attribute profiles this function creates get, with the time (RFC 3339, UTC).
const CREATED_AT: &str = "createdAt";

/// The profile to create for the query's caller: the identifiers the event had, and who created it when.
fn new_profile(query: &CustomerQuery, creator: &str) -> NewProfile {
    let now = aws_sdk_customerprofiles::primitives::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_sdk_customerprofiles::primitives::DateTimeFormat::DateTime)
        .unwrap_or_default();
    NewProfile {
        phone_number: query.term(&SearchKey::Phone).map(str::to_owned),
        email_address: query.term(&SearchKey::Email).map(str::to_owned),
        account_number: query.term(&SearchKey::Account).map(str::to_owned),
        attributes: BTreeMap::from([(CREATED_AT.to_owned(), now), ("createdBy".to_owned(), creator.to_owned())]),
    }
}

/// One of several matching profiles, as the rule says.
fn choose(matches: &[ProfileMatch], query: &CustomerQuery, domain: &str) -> Result<String, ResolveError> {
    if let [only] = matches {
        return Ok(only.profile_id.clone());
    }
    let chosen = match query.if_several {
        IfSeveral::Fail => {
            return Err(ResolveError::Unresolved(format!(
                "{} profiles in {domain} match {} (set `customer.ifSeveral` to first, oldest or newest)",
                matches.len(),
                query.key_names()
            )));
        }
        IfSeveral::First => &matches[0],
        IfSeveral::Newest => newest(matches, &query.newest_by),
        IfSeveral::Oldest => oldest(matches, &query.newest_by).expect("several matches"),
    };
    info!(matches = matches.len(), policy = ?query.if_several, profile = %chosen.profile_id, keys = %query.key_names(), "several profiles match");
    Ok(chosen.profile_id.clone())
}

/// The match with the smallest `by` attribute, then the smallest id; profiles without the
/// attribute come first (they were not created by this function, so they are older than anything it created).
fn oldest<'a>(matches: &'a [ProfileMatch], by: &str) -> Option<&'a ProfileMatch> {
    matches.iter().min_by(|a, b| a.attributes.get(by).cmp(&b.attributes.get(by)).then_with(|| a.profile_id.cmp(&b.profile_id)))
}

/// The match with the greatest `by` attribute (ISO 8601 times compare as text); ties and
/// profiles without it keep SearchProfiles' order.
fn newest<'a>(matches: &'a [ProfileMatch], by: &str) -> &'a ProfileMatch {
    let mut best = &matches[0];
    for candidate in &matches[1..] {
        if candidate.attributes.get(by) > best.attributes.get(by) {
            best = candidate;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use crate::cases::ApiErrorKind;
    use crate::rules::customer::CustomerSpec;
    use crate::rules::value::{TemplateCheck, TemplateContext, template_environment};
    use serde_json::Value;
    use serde_json::json;

    const DOMAIN: &str = "people";
    const ID_A: &str = "0000000000000000000000000000000a";
    const ID_B: &str = "0000000000000000000000000000000b";

    /// Profiles in memory, counting calls.
    #[derive(Default)]
    struct Memory {
        profiles: Mutex<Vec<(String, NewProfile)>>,
        searches: Mutex<u32>,
        fail_with: Option<ApiErrorKind>,
    }

    impl ProfilesApi for Memory {
        fn domain(&self) -> Option<&str> {
            Some(DOMAIN)
        }

        async fn search_profiles(&self, terms: &[SearchTerm], max: i32) -> Result<Vec<ProfileMatch>, ApiError> {
            *self.searches.lock().unwrap() += 1;
            if let Some(kind) = self.fail_with {
                return Err(ApiError { operation: "SearchProfiles", kind, message: "no".into() });
            }
            let profiles = self.profiles.lock().unwrap();
            let hit = |p: &NewProfile, t: &SearchTerm| match t.key_name.as_str() {
                "_phone" => p.phone_number.as_deref() == Some(&t.value),
                "_email" => p.email_address.as_deref() == Some(&t.value),
                "_account" => p.account_number.as_deref() == Some(&t.value),
                other => p.attributes.get(other) == Some(&t.value),
            };
            Ok(profiles
                .iter()
                .filter(|(_, p)| terms.iter().any(|t| hit(p, t)))
                .take(max as usize)
                .map(|(id, p)| ProfileMatch { profile_id: id.clone(), attributes: p.attributes.clone() })
                .collect())
        }

        async fn create_profile(&self, profile: &NewProfile) -> Result<String, ApiError> {
            let mut profiles = self.profiles.lock().unwrap();
            let id = format!("{:032x}", profiles.len() + 100);
            profiles.push((id.clone(), profile.clone()));
            Ok(id)
        }
    }

    fn with_profiles(profiles: &[(&str, &str, &str)]) -> Customers<Memory> {
        let memory = Memory::default();
        for (id, phone, created) in profiles {
            let attributes = BTreeMap::from([("createdAt".to_owned(), created.to_string())]);
            memory
                .profiles
                .lock()
                .unwrap()
                .push((id.to_string(), NewProfile { phone_number: Some(phone.to_string()), attributes, ..Default::default() }));
        }
        Customers::new(memory)
    }

    fn query(spec: Value, event: Value) -> CustomerQuery {
        let env = template_environment();
        let spec: CustomerSpec = serde_json::from_value(spec).unwrap();
        let compiled = spec.compile(&TemplateCheck::Now(&env)).unwrap();
        compiled.query(&event, &env, &TemplateContext::new(&event))
    }

    fn scope() -> ArnScope {
        ArnScope::from_function_arn("arn:aws:lambda:eu-west-2:111122223333:function:f").unwrap()
    }

    fn arn(id: &str) -> Resolution {
        Resolution::Profile(scope().profile_arn(DOMAIN, id))
    }

    async fn resolve(customers: &Customers<Memory>, spec: Value, event: Value) -> Result<Resolution, ResolveError> {
        customers.resolve(&query(spec, event), Some(&scope()), "bot").await
    }

    #[tokio::test]
    async fn a_profile_in_the_event_needs_no_call() {
        let customers = with_profiles(&[]);
        let given = "arn:aws:profile:us-east-1:123456789012:domains/d/profiles/f768064f958507ad239eed24c2c063fe";
        let spec = json!({"profile": "$.p", "phone": "$.phone"});
        assert_eq!(
            resolve(&customers, spec.clone(), json!({"p": given, "phone": "+12065550123"})).await,
            Ok(Resolution::Profile(given.into()))
        );
        assert_eq!(resolve(&customers, spec, json!({"p": ID_A, "phone": "+12065550123"})).await, Ok(arn(ID_A)));
        assert_eq!(*customers.api.searches.lock().unwrap(), 0);
        assert_eq!(scope().profile_arn(DOMAIN, ID_A), format!("arn:aws:profile:eu-west-2:111122223333:domains/people/profiles/{ID_A}"));
    }

    #[tokio::test]
    async fn one_match_is_the_customer_and_is_cached() {
        let customers = with_profiles(&[(ID_A, "+12065550123", "2025")]);
        let spec = json!({"phone": "$.phone", "country": "US"});
        for written in ["+1 206 555 0123", "(206) 555-0123"] {
            assert_eq!(resolve(&customers, spec.clone(), json!({"phone": written})).await, Ok(arn(ID_A)));
        }
        assert_eq!(*customers.api.searches.lock().unwrap(), 1, "the second lookup is served from the cache");
    }

    #[tokio::test]
    async fn none_fails_skips_or_creates_once() {
        let customers = with_profiles(&[]);
        let event = json!({"phone": "+12065550999", "email": "new@example.com"});
        let error = resolve(&customers, json!({"phone": "$.phone"}), event.clone()).await.unwrap_err();
        assert!(error.to_string().contains("no profile in people matches _phone"), "{error}");
        assert!(!error.to_string().contains("0999"), "{error}");
        let skip = resolve(&customers, json!({"phone": "$.phone", "ifNone": "skip"}), event.clone()).await.unwrap();
        assert!(matches!(skip, Resolution::Skip(_)), "{skip:?}");
        let not_allowed = with_profiles(&[]).allow_create(false);
        let error = resolve(&not_allowed, json!({"phone": "$.phone", "ifNone": "create"}), event.clone()).await.unwrap_err();
        assert!(error.to_string().contains("PROFILES_ALLOW_CREATE=false"), "{error}");
        assert!(not_allowed.api.profiles.lock().unwrap().is_empty());

        let spec = json!({"phone": "$.phone", "email": "$.email", "ifNone": "create"});
        let (first, second) = tokio::join!(resolve(&customers, spec.clone(), event.clone()), resolve(&customers, spec, event));
        assert_eq!(first, second, "concurrent deliveries create one profile");
        let profiles = customers.api.profiles.lock().unwrap();
        assert_eq!(profiles.len(), 1);
        let created = &profiles[0].1;
        assert_eq!((created.phone_number.as_deref(), created.email_address.as_deref()), (Some("+12065550999"), Some("new@example.com")));
        assert_eq!(created.attributes["createdBy"], "bot");
    }

    #[tokio::test]
    async fn several_matches_follow_the_rule() {
        let customers = with_profiles(&[(ID_A, "+12065550188", "2026-06-15T09:00:00Z"), (ID_B, "+12065550188", "2025-03-01T09:00:00Z")]);
        let event = json!({"phone": "+12065550188"});
        let error = resolve(&customers, json!({"phone": "$.phone"}), event.clone()).await.unwrap_err();
        assert!(error.to_string().contains("2 profiles"), "{error}");
        assert_eq!(resolve(&customers, json!({"phone": "$.phone", "ifSeveral": "first"}), event.clone()).await, Ok(arn(ID_A)));
        assert_eq!(resolve(&customers, json!({"phone": "$.phone", "ifSeveral": "newest"}), event.clone()).await, Ok(arn(ID_A)));
        let by_other = json!({"phone": "$.phone", "ifSeveral": "newest", "newestBy": "tier"});
        assert_eq!(resolve(&customers, by_other, event).await, Ok(arn(ID_A)), "without the attribute, the first");
    }

    #[tokio::test]
    async fn unusable_identifiers_and_missing_configuration_are_explained() {
        let customers = with_profiles(&[]);
        let error = resolve(&customers, json!({"phone": "$.phone"}), json!({"phone": "anonymous"})).await.unwrap_err();
        assert!(error.to_string().contains("customer.phone ($.phone) is not a phone number"), "{error}");
        let skip = resolve(&customers, json!({"phone": "$.phone", "ifNone": "skip"}), json!({})).await.unwrap();
        assert!(matches!(skip, Resolution::Skip(_)));

        let unconfigured = Customers::new(NoProfiles);
        let error = unconfigured.resolve(&query(json!({"phone": "$.p"}), json!({"p": "+12065550123"})), Some(&scope()), "bot").await;
        assert!(error.unwrap_err().to_string().contains("PROFILES_DOMAIN_NAME"));
    }

    #[tokio::test]
    async fn service_errors_keep_their_kind() {
        let customers = Customers::new(Memory { fail_with: Some(ApiErrorKind::Throttling), ..Default::default() });
        let error = resolve(&customers, json!({"phone": "$.phone"}), json!({"phone": "+12065550123"})).await.unwrap_err();
        assert!(matches!(error, ResolveError::Api(ApiError { kind: ApiErrorKind::Throttling, .. })), "{error:?}");
    }
}
