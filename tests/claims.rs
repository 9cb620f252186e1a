//! The coordination store's DynamoDB adapter against a DynamoDB-compatible server (moto, see
//! `support::moto`): conditional claims, binding with an alias, release, take-over by version,
//! expiry, the ledger lock, and `cases-automation claims init`.

mod support;

use std::collections::BTreeMap;

use cases_automation::claims::dynamodb::TABLE_DEFINITION;
use cases_automation::claims::{Claim, ClaimState, ClaimStore, LedgerUpdate, now_ms};
use futures_util::future::join_all;
use support::moto;

fn pending(key: &str, owner: &str) -> Claim {
    Claim::pending(key, owner, Some("{\"request\":1}".into()), now_ms())
}

/// Conditional writes are atomic (as in DynamoDB: the local server runs one request at a time, see
/// scripts/moto_server.py), so of many claimants at once exactly one wins, every round.
#[tokio::test]
async fn one_claimant_wins_and_the_others_see_its_claim() {
    for round in 0..20 {
        one_of_twelve_wins(&format!("case#fact-{round}")).await;
    }
}

async fn one_of_twelve_wins(key: &str) {
    let store = moto::claims().await;
    let claims: Vec<Claim> = (0..12).map(|n| pending(key, &format!("owner-{n}"))).collect();
    let results = join_all(claims.iter().map(|claim| store.put_new(claim))).await;
    let winners: Vec<usize> = results.iter().enumerate().filter(|(_, r)| matches!(r, Ok(None))).map(|(i, _)| i).collect();
    assert_eq!(winners.len(), 1, "exactly one conditional write succeeds: {results:?}");
    let winner = format!("owner-{}", winners[0]);
    for result in &results {
        if let Ok(Some(held)) = result {
            assert_eq!(held.owner, winner, "the loser is told who holds the key");
            assert_eq!(held.state, claims[winners[0]].state);
        }
    }
}

#[tokio::test]
async fn a_claim_is_bound_by_its_owner_only_and_its_alias_with_it() {
    let store = moto::claims().await;
    store.put_new(&pending("case#a", "token-1")).await.unwrap();
    assert!(!store.bind("case#a", "someone-else", "case-1", None).await.unwrap(), "only the owner binds");
    assert!(store.bind("case#a", "token-1", "case-1", Some("token#1")).await.unwrap());
    assert!(store.bind("case#a", "someone-else", "case-1", None).await.unwrap(), "binding to the same id again is a no-op");
    assert!(!store.bind("case#a", "token-1", "case-2", None).await.unwrap(), "never re-bound to another id");
    for key in ["case#a", "token#1"] {
        let claim = store.get(key).await.unwrap().unwrap();
        assert_eq!(claim.state, ClaimState::Bound { id: "case-1".into() }, "{key}");
    }
    assert_eq!(store.get("case#missing").await.unwrap(), None);
}

/// The claim and its alias are one transaction: when the claim cannot be bound, the alias is not
/// written either (the server rolls back what the transaction named, as DynamoDB does).
#[tokio::test]
async fn an_alias_is_not_written_when_its_claim_cannot_be_bound() {
    let store = moto::claims().await;
    let claim = pending("case#b", "token-1");
    store.put_new(&claim).await.unwrap();
    assert!(!store.bind("case#b", "someone-else", "case-1", Some("token#b")).await.unwrap(), "only the owner binds");
    assert_eq!(store.get("token#b").await.unwrap(), None, "the alias was rolled back with the claim");
    assert_eq!(store.get("case#b").await.unwrap().unwrap().state, claim.state, "the claim is as it was");
}

#[tokio::test]
async fn a_released_claim_can_be_claimed_again_but_only_its_owner_releases_it() {
    let store = moto::claims().await;
    store.put_new(&pending("item#a", "one")).await.unwrap();
    store.release("item#a", "two").await.unwrap();
    assert!(store.get("item#a").await.unwrap().is_some(), "another owner cannot release it");
    store.release("item#a", "one").await.unwrap();
    assert_eq!(store.get("item#a").await.unwrap(), None);
    assert_eq!(store.put_new(&pending("item#a", "two")).await.unwrap(), None);
    // A bound claim is never released.
    store.bind("item#a", "two", "item-1", None).await.unwrap();
    store.release("item#a", "two").await.unwrap();
    assert!(store.get("item#a").await.unwrap().is_some());
}

#[tokio::test]
async fn a_claim_is_taken_over_only_from_the_version_the_taker_saw() {
    let store = moto::claims().await;
    let first = pending("item#b", "dead-owner");
    store.put_new(&first).await.unwrap();
    let held = store.get("item#b").await.unwrap().unwrap();
    let by_one = held.succeeded_by("one", None, now_ms(), cases_automation::claims::LEASE);
    let by_two = held.succeeded_by("two", None, now_ms(), cases_automation::claims::LEASE);
    assert_eq!(store.replace(&by_one).await.unwrap(), None, "the first taker wins");
    let current = store.replace(&by_two).await.unwrap().expect("the second sees the first's claim");
    assert_eq!((current.owner.as_str(), current.version), ("one", 2));
}

#[tokio::test]
async fn a_claim_past_its_retention_counts_as_absent() {
    let store = moto::claims().await;
    let mut old = pending("case#old", "gone");
    old.expires_at = now_ms() / 1000 - 1;
    store.put_new(&old).await.unwrap();
    assert_eq!(store.put_new(&pending("case#old", "new")).await.unwrap(), None, "an expired claim does not hold its key");
}

#[tokio::test]
async fn the_ledger_lock_is_exclusive_until_released_or_expired_and_keeps_what_is_written() {
    let store = moto::claims().await;
    let until = now_ms() + 30_000;
    let ledger = store.lock_ledger("ledger#c", "a", until).await.unwrap().expect("free at first");
    assert!(ledger.applied.is_empty());
    assert_eq!(store.lock_ledger("ledger#c", "b", until).await.unwrap(), None, "held by a");
    let update = LedgerUpdate { applied: vec![("w:1:r:priority".into(), 42)], window_start_ms: 1000, updates_in_window: 3 };
    store.unlock_ledger("ledger#c", "a", &update).await.unwrap();
    let ledger = store.lock_ledger("ledger#c", "b", until).await.unwrap().expect("released");
    assert_eq!(ledger.applied, BTreeMap::from([("w:1:r:priority".to_owned(), 42)]));
    assert_eq!((ledger.window_start_ms, ledger.updates_in_window), (1000, 3));
    // b's lock ran out: c takes it; b's late release does not undo c's lock.
    let expired = store.lock_ledger("ledger#d", "b", now_ms() - 1).await.unwrap();
    assert!(expired.is_some());
    assert!(store.lock_ledger("ledger#d", "c", until).await.unwrap().is_some(), "an expired lock is free");
    store.unlock_ledger("ledger#d", "b", &LedgerUpdate::default()).await.unwrap();
    assert_eq!(store.lock_ledger("ledger#d", "e", until).await.unwrap(), None, "still c's");
}

/// `cases-automation claims init` creates the table the template declares, and is idempotent.
#[tokio::test]
async fn claims_init_creates_the_table_once() {
    let table = format!("init-{}", std::process::id());
    for _ in 0..2 {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_cases-automation"))
            .args(["claims", "init", "--table", &table])
            .env_clear()
            .env("AWS_ENDPOINT_URL_DYNAMODB", moto::endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stdout).contains(&table));
    }
    let client = moto::dynamodb();
    let table_description = client.describe_table().table_name(&table).send().await.unwrap();
    let described = table_description.table().unwrap();
    let keys: Vec<&str> = described.key_schema().iter().map(|k| k.attribute_name()).collect();
    assert_eq!(keys, [TABLE_DEFINITION.partition_key]);
    let ttl = client.describe_time_to_live().table_name(&table).send().await.unwrap();
    assert_eq!(ttl.time_to_live_description().and_then(|d| d.attribute_name()), Some(TABLE_DEFINITION.ttl_attribute));

    let output =
        tokio::process::Command::new(env!("CARGO_BIN_EXE_cases-automation")).args(["claims", "init"]).env_clear().output().await.unwrap();
    assert_eq!(output.status.code(), Some(2), "no table named");
    assert!(String::from_utf8_lossy(&output.stderr).contains("CLAIMS_TABLE"));
}

#[tokio::test]
async fn a_sweep_is_held_by_one_owner_and_keeps_where_it_stands() {
    use cases_automation::claims::SweepState;
    let store = moto::claims().await;
    let until = now_ms() + 30_000;
    assert_eq!(store.lock_sweep("sweep#s", "a", until).await.unwrap(), Some(SweepState::default()), "a new sweep");
    assert_eq!(store.lock_sweep("sweep#s", "b", until).await.unwrap(), None, "held by a");
    let progress = SweepState { cursor: Some("{\"after\":\"2026-12-01T00:00:00Z\"}".into()), sent: 100, done: false };
    assert!(store.save_sweep("sweep#s", "a", &progress, until).await.unwrap(), "a keeps its lock");
    assert_eq!(store.lock_sweep("sweep#s", "b", until).await.unwrap(), None, "still a's");
    assert!(store.save_sweep("sweep#s", "a", &progress, 0).await.unwrap(), "a stops: released");
    assert_eq!(store.lock_sweep("sweep#s", "b", until).await.unwrap(), Some(progress.clone()), "b resumes where a stopped");
    assert!(!store.save_sweep("sweep#s", "a", &progress, 0).await.unwrap(), "a no longer holds it");
    let done = SweepState { cursor: None, sent: 150, done: true };
    assert!(store.save_sweep("sweep#s", "b", &done, 0).await.unwrap());
    assert_eq!(store.lock_sweep("sweep#s", "c", until).await.unwrap(), Some(done));
}
