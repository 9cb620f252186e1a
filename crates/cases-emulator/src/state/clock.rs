//! The service clock: real time plus a settable offset, with millisecond resolution (the wire
//! format's), handing out strictly increasing timestamps to writes.
//!
//! Real time is measured from a monotonic anchor (wall time at start + elapsed `Instant`), so a
//! system clock adjustment does not move the service clock. [`ClockState`] is the pure logic
//! (given the real time as an argument); [`Clock`] adds the anchor and a lock.

use std::sync::Mutex;
use std::time::Instant;

use time::{Date, Duration, OffsetDateTime, macros::datetime};

/// Earliest instant the clock can be set to.
pub const EARLIEST: OffsetDateTime = datetime!(1970-01-01 00:00:00 UTC);
/// Latest instant the clock can be set to; far enough below the `time` crate's year 9999 that a
/// running service never overflows it.
pub const LATEST: OffsetDateTime = datetime!(9000-01-01 00:00:00 UTC);
/// Earlier than any clock reading: what is "always" already indexed.
pub const ALWAYS: OffsetDateTime = Date::MIN.midnight().assume_utc();

const ONE_MS: Duration = Duration::milliseconds(1);

/// Why the clock refused to move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("the clock cannot be set to {0}: it must lie between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z")]
    OutOfRange(String),
}

/// Truncates to whole milliseconds.
pub fn truncate_ms(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(u32::from(t.millisecond()) * 1_000_000).unwrap_or(t)
}

/// The clock's state: the offset from real time and the last timestamp handed to a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockState {
    offset: Duration,
    last: Option<OffsetDateTime>,
}

impl ClockState {
    fn shifted(&self, real: OffsetDateTime) -> OffsetDateTime {
        truncate_ms(real.checked_add(self.offset).unwrap_or(LATEST).clamp(EARLIEST, LATEST))
    }

    /// The current time: never earlier than a timestamp already handed out, so what was
    /// written at `t` is "in the past" for every read that follows.
    pub fn now(&self, real: OffsetDateTime) -> OffsetDateTime {
        let t = self.shifted(real);
        self.last.map_or(t, |last| t.max(last))
    }

    /// The timestamp the next write gets: the current time, or 1 ms after the previous write's
    /// when that is not later, so that two writes never share a timestamp. Not taken until
    /// [`ClockState::commit`].
    pub fn next(&self, real: OffsetDateTime) -> OffsetDateTime {
        let t = self.shifted(real);
        match self.last {
            Some(last) if t <= last => last + ONE_MS,
            _ => t,
        }
    }

    /// Records that a write used `t`.
    pub fn commit(&mut self, t: OffsetDateTime) {
        self.last = Some(self.last.map_or(t, |last| last.max(t)));
    }

    /// Jumps to `to` (forwards or backwards). After a backward jump the timestamps start again
    /// from `to`.
    pub fn set(&mut self, real: OffsetDateTime, to: OffsetDateTime) -> Result<(), ClockError> {
        if !(EARLIEST..=LATEST).contains(&to) {
            return Err(ClockError::OutOfRange(crate::util::format_ts(to)));
        }
        self.offset = to - real;
        self.last = None;
        Ok(())
    }

    /// Moves forward by `by`.
    pub fn advance(&mut self, real: OffsetDateTime, by: std::time::Duration) -> Result<(), ClockError> {
        let to = Duration::try_from(by).ok().and_then(|by| self.now(real).checked_add(by));
        match to {
            Some(to) if to <= LATEST => {
                self.offset = to - real;
                Ok(())
            }
            _ => Err(ClockError::OutOfRange(format!("now + {by:?}"))),
        }
    }
}

/// The service clock shared by every operation.
pub struct Clock {
    anchor_wall: OffsetDateTime,
    anchor: Instant,
    state: Mutex<ClockState>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    /// A clock showing real time.
    pub fn new() -> Self {
        Clock { anchor_wall: OffsetDateTime::now_utc(), anchor: Instant::now(), state: Mutex::new(ClockState::default()) }
    }

    fn real(&self) -> OffsetDateTime {
        let elapsed = Duration::try_from(self.anchor.elapsed()).unwrap_or(Duration::ZERO);
        self.anchor_wall.checked_add(elapsed).unwrap_or(LATEST)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current time (millisecond resolution).
    pub fn now(&self) -> OffsetDateTime {
        let real = self.real();
        self.lock().now(real)
    }

    /// The timestamp the next write would get (see [`ClockState::next`]); callers that hold the
    /// backend lock pair it with [`Clock::commit`] once the write succeeded.
    pub fn next(&self) -> OffsetDateTime {
        let real = self.real();
        self.lock().next(real)
    }

    /// Takes a timestamp from [`Clock::next`] for a write that succeeded.
    pub fn commit(&self, t: OffsetDateTime) {
        self.lock().commit(t)
    }

    /// Takes the next write timestamp at once (seeding, where nothing can fail half-way).
    pub fn tick(&self) -> OffsetDateTime {
        let real = self.real();
        let mut st = self.lock();
        let t = st.next(real);
        st.commit(t);
        t
    }

    /// Jumps to `to`; returns the time before the jump.
    pub fn set(&self, to: OffsetDateTime) -> Result<OffsetDateTime, ClockError> {
        let real = self.real();
        let mut st = self.lock();
        let before = st.now(real);
        st.set(real, to)?;
        Ok(before)
    }

    /// Moves forward by `by`.
    pub fn advance(&self, by: std::time::Duration) -> Result<(), ClockError> {
        let real = self.real();
        self.lock().advance(real, by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: OffsetDateTime = datetime!(2026-05-01 12:00:00.123456 UTC);

    #[test]
    fn shows_real_time_in_whole_milliseconds() {
        let c = ClockState::default();
        assert_eq!(c.now(REAL), datetime!(2026-05-01 12:00:00.123 UTC));
        assert_eq!(c.next(REAL), datetime!(2026-05-01 12:00:00.123 UTC));
    }

    #[test]
    fn writes_in_one_millisecond_get_increasing_timestamps() {
        let mut c = ClockState::default();
        let mut seen = Vec::new();
        for _ in 0..3 {
            let t = c.next(REAL);
            c.commit(t);
            seen.push(t);
        }
        assert_eq!(
            seen,
            [datetime!(2026-05-01 12:00:00.123 UTC), datetime!(2026-05-01 12:00:00.124 UTC), datetime!(2026-05-01 12:00:00.125 UTC)]
        );
        // a read after them is not earlier than the last write
        assert_eq!(c.now(REAL), datetime!(2026-05-01 12:00:00.125 UTC));
        // an uncommitted timestamp is not taken
        let _ = c.next(REAL);
        assert_eq!(c.next(REAL), datetime!(2026-05-01 12:00:00.126 UTC));
        // real time catching up takes over
        assert_eq!(c.next(REAL + Duration::seconds(1)), datetime!(2026-05-01 12:00:01.123 UTC));
    }

    #[test]
    fn set_jumps_both_ways_and_time_keeps_running() {
        let mut c = ClockState::default();
        c.commit(c.next(REAL));
        c.set(REAL, datetime!(2030-01-01 00:00:00 UTC)).unwrap();
        assert_eq!(c.now(REAL), datetime!(2030-01-01 00:00:00 UTC));
        assert_eq!(c.now(REAL + Duration::milliseconds(1500)), datetime!(2030-01-01 00:00:01.5 UTC));
        c.set(REAL, datetime!(2020-01-01 00:00:00 UTC)).unwrap();
        assert_eq!(c.next(REAL), datetime!(2020-01-01 00:00:00 UTC), "timestamps start again after a backward jump");
        assert!(matches!(c.set(REAL, datetime!(1969-12-31 23:59:59 UTC)), Err(ClockError::OutOfRange(_))));
        assert!(c.set(REAL, datetime!(9500-01-01 00:00:00 UTC)).is_err());
        assert_eq!(c.now(REAL), datetime!(2020-01-01 00:00:00 UTC), "a refused jump changes nothing");
    }

    #[test]
    fn advance_moves_forward_from_the_current_time() {
        let mut c = ClockState::default();
        c.set(REAL, datetime!(2030-01-01 00:00:00 UTC)).unwrap();
        c.advance(REAL, std::time::Duration::from_millis(2500)).unwrap();
        assert_eq!(c.now(REAL), datetime!(2030-01-01 00:00:02.5 UTC));
        // from the last write when that is ahead of the clock
        c.commit(datetime!(2030-01-01 00:00:03 UTC));
        c.advance(REAL, std::time::Duration::from_secs(1)).unwrap();
        assert_eq!(c.now(REAL), datetime!(2030-01-01 00:00:04 UTC));
        assert!(c.advance(REAL, std::time::Duration::from_secs(u64::MAX)).is_err());
        assert!(c.advance(REAL, std::time::Duration::from_secs(300_000_000_000)).is_err());
        assert_eq!(c.now(REAL), datetime!(2030-01-01 00:00:04 UTC));
    }

    #[test]
    fn the_shared_clock_never_runs_backwards_by_itself() {
        let clock = Clock::new();
        let a = clock.tick();
        let b = clock.tick();
        assert!(b > a);
        assert!(clock.now() >= b);
        let before = clock.set(datetime!(2031-02-03 04:05:06 UTC)).unwrap();
        assert!(before >= b);
        assert!(clock.now() >= datetime!(2031-02-03 04:05:06 UTC));
    }
}
