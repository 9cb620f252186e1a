//! The coordination store as the function uses it, counting the DynamoDB requests each of its
//! operations makes (for the calls-per-event figures of the tests and `make bench`).

use std::collections::BTreeMap;

use cases_automation::claims::dynamodb::DynamoClaims;
use cases_automation::claims::{Claim, ClaimStore, Ledger, LedgerUpdate, StoreError, SweepState};

/// The coordination store, counting the DynamoDB requests each of its operations makes.
pub struct CountedStore {
    inner: DynamoClaims,
    calls: std::sync::Mutex<BTreeMap<String, u64>>,
}

impl CountedStore {
    pub fn new(inner: DynamoClaims) -> CountedStore {
        CountedStore { inner, calls: Default::default() }
    }

    fn count(&self, operation: &str) {
        *self.calls.lock().unwrap().entry(operation.to_owned()).or_default() += 1;
    }

    /// The requests counted since the last call, by DynamoDB operation.
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

impl ClaimStore for CountedStore {
    fn enabled(&self) -> bool {
        true
    }
    async fn put_new(&self, claim: &Claim) -> Result<Option<Claim>, StoreError> {
        self.count("PutItem");
        self.inner.put_new(claim).await
    }
    async fn replace(&self, claim: &Claim) -> Result<Option<Claim>, StoreError> {
        self.count("PutItem");
        self.inner.replace(claim).await
    }
    async fn get(&self, key: &str) -> Result<Option<Claim>, StoreError> {
        self.count("GetItem");
        self.inner.get(key).await
    }
    async fn bind(&self, key: &str, owner: &str, id: &str, alias: Option<&str>) -> Result<bool, StoreError> {
        self.count(if alias.is_some() { "TransactWriteItems" } else { "UpdateItem" });
        self.inner.bind(key, owner, id, alias).await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.count("DeleteItem");
        self.inner.release(key, owner).await
    }
    async fn abandon(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.count("UpdateItem");
        self.inner.abandon(key, owner).await
    }
    async fn lock_ledger(&self, key: &str, owner: &str, lease_until_ms: i64) -> Result<Option<Ledger>, StoreError> {
        self.count("UpdateItem");
        self.inner.lock_ledger(key, owner, lease_until_ms).await
    }
    async fn unlock_ledger(&self, key: &str, owner: &str, update: &LedgerUpdate) -> Result<(), StoreError> {
        self.count("UpdateItem");
        self.inner.unlock_ledger(key, owner, update).await
    }
    async fn lock_sweep(&self, key: &str, owner: &str, lease_until_ms: i64) -> Result<Option<SweepState>, StoreError> {
        self.count("UpdateItem");
        self.inner.lock_sweep(key, owner, lease_until_ms).await
    }
    async fn save_sweep(&self, key: &str, owner: &str, state: &SweepState, lease_until_ms: i64) -> Result<bool, StoreError> {
        self.count("UpdateItem");
        self.inner.save_sweep(key, owner, state, lease_until_ms).await
    }
}
