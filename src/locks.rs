//! One async lock per key (a case id, a customer search), held while the key's writes run.
//! Writes without an idempotency token (CreateRelatedItem, CreateProfile) look before they
//! create; two deliveries of one event handled at the same time in this process would both see
//! "not there yet" and both create, so they take turns. Locks disappear when no one holds them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

#[derive(Default)]
pub struct KeyedLocks(Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>);

impl KeyedLocks {
    /// The lock for `key`, shared with everyone holding it now.
    pub fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.0.lock().expect("lock table is never poisoned");
        locks.retain(|_, lock| lock.strong_count() > 0);
        if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.to_owned(), Arc::downgrade(&lock));
        lock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_per_key_while_held() {
        let locks = KeyedLocks::default();
        let a = locks.get("a");
        assert!(Arc::ptr_eq(&a, &locks.get("a")));
        assert!(!Arc::ptr_eq(&a, &locks.get("b")));
        drop(a);
        assert_eq!(locks.0.lock().unwrap().values().filter(|l| l.strong_count() > 0).count(), 0);
    }
}
