//! The ledger of one case: what updates need to agree on across instances.
//!
//! - **Event-time order.** For each rule and field, the time of the newest event whose value the
//!   rule applied. An older event (a throttled delivery retried after a newer one was applied)
//!   does not overwrite the newer value.
//! - **A budget of automated updates.** A rule that reacts to changes made by another party (a
//!   CRM, a second stack) which itself reacts to the automation's changes can flip a value back and
//!   forth for ever. Unchanged values are never sent, which ends most such loops; where values still
//!   flip, the case's budget of UpdateCase calls per window stops it.
//!
//! The ledger is read and written under a short lock (see [`super::ClaimStore::lock_ledger`]), so
//! that "compare with the watermark, update the case, move the watermark" is one step for all
//! instances.

use std::collections::BTreeMap;
use std::time::Duration;

/// A case's ledger as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ledger {
    /// Watermark name ([`watermark`]) → event time in epoch milliseconds.
    pub applied: BTreeMap<String, i64>,
    /// When the current budget window started (epoch ms), and the updates spent in it.
    pub window_start_ms: i64,
    pub updates_in_window: u32,
}

/// What to write back when releasing the lock.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedgerUpdate {
    pub applied: Vec<(String, i64)>,
    pub window_start_ms: i64,
    pub updates_in_window: u32,
}

/// The name of a rule's watermark for a field: lengths first, so names cannot collide.
pub fn watermark(rule: &str, field_id: &str) -> String {
    format!("w:{}:{rule}:{field_id}", rule.len())
}

/// The watermarks of a kept item (`keep-one`): the time of the newest event applied to it, and a
/// digest of the content it was given (an event with the same content sends nothing).
pub fn kept_watermarks(kind: &str, key: &str) -> (String, String) {
    (format!("w:k:{kind}:{}:{key}", key.len()), format!("w:d:{kind}:{}:{key}", key.len()))
}

/// A digest of an item's content, as a ledger number.
pub fn content_digest(content: &impl serde::Serialize) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(serde_json::to_vec(content).expect("contents serialize"));
    i64::from_be_bytes(digest[..8].try_into().expect("eight bytes")) & i64::MAX
}

/// How many automated writes a case may get per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub updates: u32,
    pub window: Duration,
}

impl Budget {
    /// The default: 60 writes per case per hour, far above what one business fact needs and far
    /// below what a ping-pong with another party makes.
    pub const DEFAULT: Budget = Budget { updates: 60, window: Duration::from_secs(3600) };
}

impl Ledger {
    /// Splits `fields` into those the event (at `event_time_ms`) may still write, and the stale
    /// ones: fields this rule already set from a newer event. Equal times are not stale.
    pub fn fresh<'a, T>(&self, rule: &str, fields: &'a [T], id: impl Fn(&T) -> &str, event_time_ms: i64) -> (Vec<&'a T>, Vec<&'a T>) {
        fields.iter().partition(|f| self.applied.get(&watermark(rule, id(f))).is_none_or(|&applied| applied <= event_time_ms))
    }

    /// Spends one update of the budget at `now_ms`: the new window and count, or None when the
    /// case's budget for this window is used up.
    pub fn spend(&self, budget: Budget, now_ms: i64) -> Option<(i64, u32)> {
        let window_ms = budget.window.as_millis() as i64;
        if now_ms - self.window_start_ms >= window_ms || self.window_start_ms > now_ms {
            return Some((now_ms, 1));
        }
        (self.updates_in_window < budget.updates).then_some((self.window_start_ms, self.updates_in_window + 1))
    }

    /// The update that leaves the ledger as it is (released without writing the case).
    pub fn unchanged(&self) -> LedgerUpdate {
        LedgerUpdate { applied: vec![], window_start_ms: self.window_start_ms, updates_in_window: self.updates_in_window }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_event_does_not_overwrite_a_field_a_newer_one_set() {
        let mut ledger = Ledger::default();
        ledger.applied.insert(watermark("r", "priority"), 2_000);
        let fields = ["priority", "total"];
        let (fresh, stale) = ledger.fresh("r", &fields, |f| f, 1_000);
        assert_eq!((fresh, stale), (vec![&"total"], vec![&"priority"]));
        let (fresh, stale) = ledger.fresh("r", &fields, |f| f, 2_000);
        assert_eq!((fresh.len(), stale.len()), (2, 0), "the same time is not older");
        let (fresh, _) = ledger.fresh("other-rule", &fields, |f| f, 1_000);
        assert_eq!(fresh.len(), 2, "each rule has its own order");
    }

    #[test]
    fn watermark_names_do_not_collide() {
        assert_ne!(watermark("a:b", "c"), watermark("a", "b:c"));
        let (time, digest) = kept_watermarks("comment", "k");
        assert_ne!(time, digest);
        assert_ne!(kept_watermarks("comment", "a:b").0, kept_watermarks("comment:a", "b").0);
        assert!(time.starts_with("w:") && !time.starts_with(&watermark("k", "x")[..4]), "a rule's watermark starts with a length");
        assert_eq!(content_digest(&"x"), content_digest(&"x"));
        assert_ne!(content_digest(&"x"), content_digest(&"y"));
        assert!(content_digest(&"x") >= 0);
    }

    #[test]
    fn the_budget_stops_a_case_after_its_updates_and_renews_each_window() {
        let budget = Budget { updates: 2, window: Duration::from_secs(60) };
        let mut ledger = Ledger::default();
        let now = 1_000_000;
        let (start, used) = ledger.spend(budget, now).unwrap();
        assert_eq!((start, used), (now, 1));
        (ledger.window_start_ms, ledger.updates_in_window) = (start, used);
        (ledger.window_start_ms, ledger.updates_in_window) = ledger.spend(budget, now + 10).unwrap();
        assert_eq!(ledger.updates_in_window, 2);
        assert_eq!(ledger.spend(budget, now + 20), None, "spent");
        assert_eq!(ledger.spend(budget, now + 60_000), Some((now + 60_000, 1)), "a new window");
        assert_eq!(ledger.unchanged().updates_in_window, 2);
    }
}
