//! SLA related items over time (`SlaStatus`: Active, Overdue, Met, NotMet).
//!
//! An SLA is met when the case's `fieldId` takes one of its `targetFieldValues` (API reference,
//! `SlaInputConfiguration.targetFieldValues`: "The SLA is considered met if any one of these
//! target field values matches the actual field value"). The first time that happens its
//! `completionTime` is recorded; the status is computed when read:
//! - completed at or before `targetTime`: `Met`; after it: `NotMet`;
//! - not completed: `Active` until `targetTime`, `Overdue` once the clock is past it.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::model::{RelatedContent, RelatedItem, SlaConfiguration, Value};
use super::search::values_equal;
use crate::util::{format_ts, parse_ts};

pub const ACTIVE: &str = "Active";
pub const OVERDUE: &str = "Overdue";
pub const MET: &str = "Met";
pub const NOT_MET: &str = "NotMet";

/// The status of `sla` at `now`.
pub fn status(sla: &SlaConfiguration, now: OffsetDateTime) -> &'static str {
    let target = parse_ts(&sla.target_time);
    match (sla.completion_time.as_deref().and_then(parse_ts), target) {
        (Some(done), Some(target)) if done <= target => MET,
        (Some(_), _) => NOT_MET,
        (None, Some(target)) if now > target => OVERDUE,
        (None, _) => ACTIVE,
    }
}

/// Records the completion of `sla` at `now` if the case `fields` give its field one of the
/// target values and it was not completed before. Returns whether it was completed now.
pub fn complete(sla: &mut SlaConfiguration, fields: &BTreeMap<String, Value>, now: OffsetDateTime) -> bool {
    if sla.completion_time.is_some() {
        return false;
    }
    let (Some(field_id), Some(targets)) = (&sla.field_id, &sla.target_field_values) else { return false };
    let Some(value) = fields.get(field_id) else { return false };
    if !targets.iter().any(|t| values_equal(t, value)) {
        return false;
    }
    sla.completion_time = Some(format_ts(now));
    sla.status = status(sla, now).to_string();
    true
}

/// `item` as a read at `now` shows it (an SLA with its current status).
pub fn as_of(item: &RelatedItem, now: OffsetDateTime) -> RelatedItem {
    let mut item = item.clone();
    if let RelatedContent::Sla(s) = &mut item.content {
        s.sla_configuration.status = status(&s.sla_configuration, now).to_string();
    }
    item
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    const TARGET: OffsetDateTime = datetime!(2026-05-01 13:00:00 UTC);

    fn sla() -> SlaConfiguration {
        SlaConfiguration {
            name: "respond".into(),
            sla_type: "CaseField".into(),
            status: ACTIVE.into(),
            field_id: Some("status".into()),
            target_field_values: Some(vec![Value::String("closed".into())]),
            target_time: format_ts(TARGET),
            completion_time: None,
        }
    }

    fn fields(status: &str) -> BTreeMap<String, Value> {
        [("status".to_string(), Value::String(status.into()))].into()
    }

    #[test]
    fn active_until_the_target_time_then_overdue() {
        let s = sla();
        assert_eq!(status(&s, TARGET - Duration::minutes(1)), ACTIVE);
        assert_eq!(status(&s, TARGET), ACTIVE);
        assert_eq!(status(&s, TARGET + Duration::milliseconds(1)), OVERDUE);
    }

    #[test]
    fn met_when_the_field_reaches_a_target_value_in_time() {
        let mut s = sla();
        let at = TARGET - Duration::minutes(5);
        assert!(!complete(&mut s, &fields("open"), at), "not a target value");
        assert!(!complete(&mut s, &BTreeMap::new(), at), "no value");
        assert!(complete(&mut s, &fields("closed"), at));
        assert_eq!(s.completion_time.as_deref(), Some("2026-05-01T12:55:00.000Z"));
        assert_eq!(status(&s, TARGET + Duration::days(1)), MET, "met stays met");
        assert!(!complete(&mut s, &fields("closed"), TARGET), "completed once");
        assert_eq!(s.completion_time.as_deref(), Some("2026-05-01T12:55:00.000Z"));
        assert_eq!(status(&sla(), TARGET), ACTIVE);
        let mut on_time = sla();
        complete(&mut on_time, &fields("closed"), TARGET);
        assert_eq!(status(&on_time, TARGET), MET, "at the target time is in time");
    }

    #[test]
    fn not_met_when_reached_late() {
        let mut s = sla();
        assert!(complete(&mut s, &fields("closed"), TARGET + Duration::seconds(1)));
        assert_eq!(s.status, NOT_MET);
        assert_eq!(status(&s, TARGET + Duration::days(1)), NOT_MET);
    }

    #[test]
    fn an_sla_without_a_field_never_completes() {
        let mut s = SlaConfiguration { field_id: None, target_field_values: None, ..sla() };
        assert!(!complete(&mut s, &fields("closed"), TARGET));
        assert_eq!(status(&s, TARGET + Duration::seconds(1)), OVERDUE);
    }

    #[test]
    fn values_compare_by_type() {
        let mut s = SlaConfiguration { target_field_values: Some(vec![Value::Double(1.0)]), ..sla() };
        assert!(!complete(&mut s, &fields("1"), TARGET));
        assert!(complete(&mut s, &[("status".to_string(), Value::Double(1.0))].into(), TARGET));
    }
}
