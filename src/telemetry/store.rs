//! The coordination store, counted: every call by operation, its failures, and whether a claim
//! was won (this instance creates) or lost (another event or instance holds it).

use metrics::counter;

use crate::claims::{Claim, ClaimStore, Ledger, LedgerUpdate, StoreError, SweepState};

/// A `ClaimStore` whose calls are counted.
#[derive(Debug, Clone, Default)]
pub struct Counted<S>(pub S);

fn counted<T>(operation: &'static str, result: Result<T, StoreError>) -> Result<T, StoreError> {
    counter!("StoreCalls", "Operation" => operation).increment(1);
    if result.is_err() {
        counter!("StoreErrors", "Operation" => operation).increment(1);
    }
    result
}

/// A claim stored (`None`) is won; the claim found in its place means it was lost.
fn claimed(result: &Result<Option<Claim>, StoreError>) {
    match result {
        Ok(None) => counter!("ClaimsWon").increment(1),
        Ok(Some(_)) => counter!("ClaimsLost").increment(1),
        Err(_) => {}
    }
}

impl<S: ClaimStore> ClaimStore for Counted<S> {
    fn enabled(&self) -> bool {
        self.0.enabled()
    }

    async fn put_new(&self, claim: &Claim) -> Result<Option<Claim>, StoreError> {
        let result = counted("PutNew", self.0.put_new(claim).await);
        claimed(&result);
        result
    }

    async fn replace(&self, claim: &Claim) -> Result<Option<Claim>, StoreError> {
        let result = counted("Replace", self.0.replace(claim).await);
        claimed(&result);
        result
    }

    async fn get(&self, key: &str) -> Result<Option<Claim>, StoreError> {
        counted("Get", self.0.get(key).await)
    }

    async fn bind(&self, key: &str, owner: &str, id: &str, alias: Option<&str>) -> Result<bool, StoreError> {
        counted("Bind", self.0.bind(key, owner, id, alias).await)
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        counted("Release", self.0.release(key, owner).await)
    }

    async fn abandon(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        counted("Abandon", self.0.abandon(key, owner).await)
    }

    async fn lock_ledger(&self, key: &str, owner: &str, lease_until_ms: i64) -> Result<Option<Ledger>, StoreError> {
        counted("LockLedger", self.0.lock_ledger(key, owner, lease_until_ms).await)
    }

    async fn unlock_ledger(&self, key: &str, owner: &str, update: &LedgerUpdate) -> Result<(), StoreError> {
        counted("UnlockLedger", self.0.unlock_ledger(key, owner, update).await)
    }

    async fn lock_sweep(&self, key: &str, owner: &str, lease_until_ms: i64) -> Result<Option<SweepState>, StoreError> {
        counted("LockSweep", self.0.lock_sweep(key, owner, lease_until_ms).await)
    }

    async fn save_sweep(&self, key: &str, owner: &str, state: &SweepState, lease_until_ms: i64) -> Result<bool, StoreError> {
        counted("SaveSweep", self.0.save_sweep(key, owner, state, lease_until_ms).await)
    }
}
