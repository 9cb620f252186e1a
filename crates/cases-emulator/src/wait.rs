//! Waiting for something to have happened (calls, writes) without polling: the counters live in
//! `tokio::sync::watch` channels and a waiter wakes on each change.

use std::time::Duration;

use tokio::sync::watch;

/// A wait that ended before the count was reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("waited {waited:?} for {what}, saw {seen}")]
pub struct WaitTimeout {
    /// What was waited for, e.g. "3 CreateCase calls".
    pub what: String,
    /// The count when the wait ended.
    pub seen: u64,
    pub waited: Duration,
}

/// Resolves as soon as `count` of the channel's value is at least `wanted` (at once if it
/// already is), or fails after `timeout`.
pub async fn wait_until<T>(
    mut rx: watch::Receiver<T>,
    count: impl Fn(&T) -> u64,
    wanted: u64,
    timeout: Duration,
    what: impl FnOnce() -> String,
) -> Result<(), WaitTimeout> {
    let reached = matches!(tokio::time::timeout(timeout, rx.wait_for(|v| count(v) >= wanted)).await, Ok(Ok(_)));
    if reached {
        return Ok(());
    }
    let seen = count(&rx.borrow());
    Err(WaitTimeout { what: what(), seen, waited: timeout })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_when_the_count_is_reached() {
        let (tx, rx) = watch::channel(0u64);
        let waiter = tokio::spawn(wait_until(rx, |n| *n, 2, Duration::from_secs(60), || "two".into()));
        tx.send_modify(|n| *n += 1);
        tx.send_modify(|n| *n += 1);
        waiter.await.unwrap().unwrap();
        // already reached: at once, whatever the timeout
        wait_until(tx.subscribe(), |n| *n, 2, Duration::ZERO, || "two".into()).await.unwrap();
    }

    #[tokio::test]
    async fn fails_after_the_timeout_with_what_it_saw() {
        let (tx, rx) = watch::channel(1u64);
        let err = wait_until(rx, |n| *n, 5, Duration::from_millis(10), || "five things".into()).await.unwrap_err();
        assert_eq!(err, WaitTimeout { what: "five things".into(), seen: 1, waited: Duration::from_millis(10) });
        assert_eq!(err.to_string(), "waited 10ms for five things, saw 1");
        drop(tx);
    }
}
