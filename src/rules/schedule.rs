//! Scheduled rules: `every` (when a sweep runs) and `select` (which cases it acts on) instead of
//! `match` and `case`.
//!
//! ```yaml
//! - name: auto-close-idle-cases
//!   every: rate(1 day)
//!   select:
//!     cases:
//!       andAll:
//!         - equalTo: { status: open }
//!         - lessThan: { last_updated_datetime: "now - {{ sweep.parameters.idleDays | default(14) }}d" }
//!   actions:
//!     - comment: "Closed: no activity for {{ sweep.parameters.idleDays | default(14) }} days."
//!     - update: { fields: { status: closed } }
//! ```
//!
//! A sweep pages through the selection and sends one work item per case to the queue; the work
//! item is an event of its own (`source: cases-automation.sweep`), which the rule matches by its
//! name and whose case it acts on, like any event. Values in a selection are rendered against the
//! sweep (`sweep.rule`, `sweep.scheduledTime`, `sweep.parameters`); a value `now`, `now - 14d` or
//! `now + 2h` is a time relative to the sweep's scheduled time.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::NameOrId;
use super::pattern::Pattern;
use super::value::{CompiledValue, TemplateCheck, ValueSpec};

/// The `source` of work items.
pub const WORK_ITEM_SOURCE: &str = "cases-automation.sweep";
/// The `detail-type` of a work item: one case (or one SLA) of a sweep.
pub const WORK_ITEM: &str = "Sweep Work Item";

/// When a rule's sweep runs, and what it selects.
#[derive(Debug)]
pub struct Schedule {
    /// `rate(…)` or `cron(…)`, as EventBridge Scheduler writes it.
    pub every: String,
    pub select: Selection,
}

#[derive(Debug)]
pub enum Selection {
    /// SearchCases with this filter.
    Cases(Filter),
    /// SearchAllRelatedItems over the domain's SLAs (by status and name), one work item per SLA.
    Slas { status: Option<SlaStatus>, name: Option<CompiledValue> },
}

/// The statuses an SLA related item has (the model's `SlaStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum SlaStatus {
    Active,
    Overdue,
    Met,
    NotMet,
}

impl SlaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaStatus::Active => "Active",
            SlaStatus::Overdue => "Overdue",
            SlaStatus::Met => "Met",
            SlaStatus::NotMet => "NotMet",
        }
    }
}

/// The Cases filter language over field names and values (compiled).
#[derive(Debug)]
pub enum Filter {
    AndAll(Vec<Filter>),
    OrAll(Vec<Filter>),
    Not(Box<Filter>),
    Field { op: FieldOp, field: NameOrId, value: CompiledValue },
    Tag { key: Option<String>, value: Option<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    EqualTo,
    Contains,
    GreaterThan,
    GreaterThanOrEqualTo,
    LessThan,
    LessThanOrEqualTo,
}

// ---- as written ----

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SelectSpec {
    cases: Option<FilterSpec>,
    slas: Option<SlaSelectSpec>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SlaSelectSpec {
    status: Option<SlaStatus>,
    name: Option<ValueSpec>,
}

/// One node of the filter, as the API names it: a comparison holds one `field: value` pair.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
enum FilterSpec {
    AndAll(Vec<FilterSpec>),
    OrAll(Vec<FilterSpec>),
    Not(Box<FilterSpec>),
    EqualTo(BTreeMap<String, ValueSpec>),
    Contains(BTreeMap<String, ValueSpec>),
    GreaterThan(BTreeMap<String, ValueSpec>),
    GreaterThanOrEqualTo(BTreeMap<String, ValueSpec>),
    LessThan(BTreeMap<String, ValueSpec>),
    LessThanOrEqualTo(BTreeMap<String, ValueSpec>),
    /// `{Department: Fraud}`; `{Department: null}`: the tag exists.
    Tag(BTreeMap<String, Option<String>>),
}

/// The API's limits on a filter (cases-api.md §3.6: andAll/orAll at most 10 members).
const MAX_MEMBERS: usize = 10;

/// Checks an `every` expression: `rate(N minute|minutes|hour|hours|day|days)` or `cron(…)` with six
/// fields, as EventBridge Scheduler takes them.
pub fn check_every(every: &str) -> Result<(), String> {
    let every = every.trim();
    if let Some(inner) = every.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut parts = inner.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err("write `rate(VALUE UNIT)`, e.g. rate(1 day)".into());
        };
        let n: u64 = n.parse().map_err(|_| format!("the rate's value must be a whole number, not `{n}`"))?;
        let singular = matches!(unit, "minute" | "hour" | "day");
        let plural = matches!(unit, "minutes" | "hours" | "days");
        return match (n, singular, plural) {
            (0, _, _) => Err("the rate's value must be at least 1".into()),
            (1, true, _) | (2.., _, true) => Ok(()),
            (1, _, true) => Err(format!("write `rate(1 {})`", unit.trim_end_matches('s'))),
            (_, true, _) => Err(format!("write `rate({n} {unit}s)`")),
            _ => Err(format!("the rate's unit is minute(s), hour(s) or day(s), not `{unit}`")),
        };
    }
    if let Some(inner) = every.strip_prefix("cron(").and_then(|c| c.strip_suffix(')')) {
        let fields = inner.split_whitespace().count();
        return if fields == 6 { Ok(()) } else { Err(format!("a cron expression has six fields, this one has {fields}")) };
    }
    Err("write `rate(1 day)` or `cron(0 2 * * ? *)`, as EventBridge Scheduler takes them".into())
}

/// Compiles `every` and `select`; problems are reported with their place in the rule.
pub(super) fn compile(
    every: &str,
    select: Option<&SelectSpec>,
    check: &TemplateCheck,
    problem: &mut impl FnMut(&str, String),
) -> Option<Schedule> {
    if let Err(reason) = check_every(every) {
        problem("every", reason);
    }
    let Some(select) = select else {
        problem(
            "select",
            "a scheduled rule says which cases it acts on: `select: {cases: FILTER}` or `select: {slas: {status: Overdue}}`".into(),
        );
        return None;
    };
    let selection = match (&select.cases, &select.slas) {
        (Some(filter), None) => Selection::Cases(compile_filter(filter, "select.cases", check, problem)?),
        (None, Some(slas)) => Selection::Slas {
            status: slas.status,
            name: match &slas.name {
                Some(name) => Some(name.compile(check).map_err(|reason| problem("select.slas.name", reason)).ok()?),
                None => None,
            },
        },
        _ => {
            problem("select", "select either `cases` (a filter) or `slas`, not both".into());
            return None;
        }
    };
    Some(Schedule { every: every.trim().to_owned(), select: selection })
}

fn compile_filter(spec: &FilterSpec, at: &str, check: &TemplateCheck, problem: &mut impl FnMut(&str, String)) -> Option<Filter> {
    let mut members = |all: &[FilterSpec], name: &str| -> Option<Vec<Filter>> {
        if all.is_empty() || all.len() > MAX_MEMBERS {
            problem(&format!("{at}.{name}"), format!("lists 1 to {MAX_MEMBERS} conditions, this one {}", all.len()));
        }
        let compiled: Vec<Option<Filter>> =
            all.iter().enumerate().map(|(i, f)| compile_filter(f, &format!("{at}.{name}[{i}]"), check, problem)).collect();
        compiled.into_iter().collect()
    };
    let field = |op: FieldOp, name: &str, pair: &BTreeMap<String, ValueSpec>, problem: &mut dyn FnMut(&str, String)| {
        let mut entries = pair.iter();
        let (Some((field, value)), None) = (entries.next(), entries.next()) else {
            problem(&format!("{at}.{name}"), "compares exactly one field: `{FIELD: VALUE}`".into());
            return None;
        };
        if value.is_customer() {
            problem(&format!("{at}.{name}.{field}"), "a `customer` value has no place in a selection".into());
            return None;
        }
        let value = value.compile(check).map_err(|reason| problem(&format!("{at}.{name}.{field}"), reason)).ok()?;
        Some(Filter::Field { op, field: field.clone(), value })
    };
    Some(match spec {
        FilterSpec::AndAll(all) => Filter::AndAll(members(all, "andAll")?),
        FilterSpec::OrAll(all) => Filter::OrAll(members(all, "orAll")?),
        FilterSpec::Not(inner) => Filter::Not(Box::new(compile_filter(inner, &format!("{at}.not"), check, problem)?)),
        FilterSpec::EqualTo(pair) => field(FieldOp::EqualTo, "equalTo", pair, problem)?,
        FilterSpec::Contains(pair) => field(FieldOp::Contains, "contains", pair, problem)?,
        FilterSpec::GreaterThan(pair) => field(FieldOp::GreaterThan, "greaterThan", pair, problem)?,
        FilterSpec::GreaterThanOrEqualTo(pair) => field(FieldOp::GreaterThanOrEqualTo, "greaterThanOrEqualTo", pair, problem)?,
        FilterSpec::LessThan(pair) => field(FieldOp::LessThan, "lessThan", pair, problem)?,
        FilterSpec::LessThanOrEqualTo(pair) => field(FieldOp::LessThanOrEqualTo, "lessThanOrEqualTo", pair, problem)?,
        FilterSpec::Tag(pair) => {
            let mut entries = pair.iter();
            let (Some((key, value)), None) = (entries.next(), entries.next()) else {
                problem(&format!("{at}.tag"), "names exactly one tag: `{KEY: VALUE}` (VALUE null: the tag exists)".into());
                return None;
            };
            Filter::Tag { key: Some(key.clone()), value: value.clone() }
        }
    })
}

/// The pattern a scheduled rule's work items match: `source: cases-automation.sweep`, its name.
pub fn work_item_pattern(rule: &str) -> Pattern {
    Pattern::compile(&json!({"source": [WORK_ITEM_SOURCE], "detail-type": [WORK_ITEM], "detail": {"rule": [rule]}}))
        .expect("a literal pattern compiles")
}

/// `now`, `now - 14d`, `now + 2h` (units s, m, h, d, w): the time relative to `now`, in RFC 3339
/// (UTC, milliseconds); None when the text is not such an expression.
pub fn relative_time(text: &str, now: OffsetDateTime) -> Option<Result<String, String>> {
    let rest = text.trim().strip_prefix("now")?.trim();
    let format = |t: OffsetDateTime| {
        let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(t.millisecond() as u32 * 1_000_000).unwrap_or(t);
        t.format(&Rfc3339).map_err(|e| e.to_string())
    };
    if rest.is_empty() {
        return Some(format(now));
    }
    let (sign, amount) = match rest.split_at(1) {
        ("-", amount) => (-1i64, amount.trim()),
        ("+", amount) => (1, amount.trim()),
        _ => return None,
    };
    let split = amount.find(|c: char| !c.is_ascii_digit()).unwrap_or(amount.len());
    let (number, unit) = amount.split_at(split);
    let Ok(number) = number.parse::<i64>() else {
        return Some(Err(format!("`{text}`: write now - 14d (a whole number and s, m, h, d or w)")));
    };
    let seconds = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        other => return Some(Err(format!("`{text}`: the unit is s, m, h, d or w, not `{other}`"))),
    };
    let offset = time::Duration::seconds(sign * number.saturating_mul(seconds));
    Some(now.checked_add(offset).ok_or_else(|| format!("`{text}` is out of range")).and_then(format))
}

/// The event a sweep's values are rendered against (`sweep.…`), and a work item's shape. A
/// schedule invokes the function with `{"sweep": {"rule": …, "scheduledTime": …, "parameters": …}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub rule: String,
    pub scheduled_time: OffsetDateTime,
    pub parameters: Value,
}

impl Sweep {
    /// From a schedule's payload: `{"sweep": {"rule", "scheduledTime", "parameters"?}}`.
    pub fn from_payload(payload: &Value) -> Result<Sweep, String> {
        let sweep = payload.get("sweep").filter(|s| s.is_object()).ok_or("a scheduled invocation has a `sweep` object")?;
        let rule = sweep.get("rule").and_then(Value::as_str).filter(|r| !r.is_empty()).ok_or("`sweep.rule` must name a rule")?;
        let time = sweep.get("scheduledTime").and_then(Value::as_str).ok_or("`sweep.scheduledTime` must be an RFC 3339 time")?;
        let scheduled_time =
            OffsetDateTime::parse(time, &Rfc3339).map_err(|_| "`sweep.scheduledTime` must be an RFC 3339 time".to_owned())?;
        let parameters = sweep.get("parameters").cloned().unwrap_or(Value::Object(Default::default()));
        if !parameters.is_object() {
            return Err("`sweep.parameters` must be an object".into());
        }
        Ok(Sweep { rule: rule.to_owned(), scheduled_time, parameters })
    }

    /// One sweep per rule and scheduled time: a retried schedule invocation is the same sweep.
    pub fn id(&self) -> String {
        format!("{}@{}", self.rule, self.scheduled_time.unix_timestamp())
    }

    /// `{"sweep": {...}}`: what values in a selection see.
    pub fn context(&self) -> Value {
        json!({"sweep": {"rule": self.rule, "scheduledTime": self.time(), "parameters": self.parameters, "id": self.id()}})
    }

    fn time(&self) -> String {
        self.scheduled_time.format(&Rfc3339).unwrap_or_default()
    }

    /// The work item of one selected case (or SLA): an event of its own, which the rule matches.
    /// `key` makes it unique: the case id for a case selection (one per sweep), the SLA's item
    /// id for an SLA selection (acted on once, whatever the sweep).
    pub fn work_item(&self, case_id: &str, key: &str, account: &str, region: &str, extra: Value) -> Value {
        let mut detail = json!({"rule": self.rule, "sweepId": self.id(), "caseId": case_id});
        if let (Some(detail), Some(extra)) = (detail.as_object_mut(), extra.as_object()) {
            detail.extend(extra.clone());
        }
        let mut item = json!({
            "version": "0",
            "id": key,
            "source": WORK_ITEM_SOURCE,
            "detail-type": WORK_ITEM,
            "time": self.time(),
            "account": account,
            "region": region,
            "resources": [],
            "detail": detail,
        });
        item["sweep"] = self.context()["sweep"].clone();
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_takes_what_eventbridge_scheduler_takes() {
        for good in ["rate(1 day)", "rate(5 minutes)", "rate(2 hours)", "cron(0 2 * * ? *)"] {
            assert_eq!(check_every(good), Ok(()), "{good}");
        }
        for bad in ["rate(0 days)", "rate(1 days)", "rate(2 day)", "rate(1 week)", "daily", "cron(0 2 * * *)"] {
            assert!(check_every(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_times_count_from_the_scheduled_time() {
        let now = OffsetDateTime::parse("2026-12-15T02:00:00.123456Z", &Rfc3339).unwrap();
        assert_eq!(relative_time("now", now), Some(Ok("2026-12-15T02:00:00.123Z".into())));
        assert_eq!(relative_time("now - 14d", now), Some(Ok("2026-12-01T02:00:00.123Z".into())));
        assert_eq!(relative_time(" now+2h ", now), Some(Ok("2026-12-15T04:00:00.123Z".into())));
        assert!(relative_time("now - 14 fortnights", now).unwrap().is_err());
        assert_eq!(relative_time("2026-01-01T00:00:00Z", now), None, "not an expression: used as written");
        assert_eq!(relative_time("nowhere", now), None);
    }

    #[test]
    fn a_sweep_is_its_rule_and_scheduled_time() {
        let payload = json!({"sweep": {"rule": "auto-close", "scheduledTime": "2026-12-15T02:00:00Z", "parameters": {"idleDays": 14}}});
        let sweep = Sweep::from_payload(&payload).unwrap();
        assert_eq!(sweep.id(), Sweep::from_payload(&payload).unwrap().id(), "a retried schedule is the same sweep");
        let item = sweep.work_item("case-1", "auto-close@1/case-1", "123456789012", "us-east-1", json!({}));
        assert_eq!((item["source"].as_str(), item["detail"]["caseId"].as_str()), (Some(WORK_ITEM_SOURCE), Some("case-1")));
        assert_eq!(item["sweep"]["parameters"]["idleDays"], 14);
        assert!(work_item_pattern("auto-close").matches(&item));
        assert!(!work_item_pattern("other").matches(&item));
        for bad in [json!({}), json!({"sweep": {"rule": "r"}}), json!({"sweep": {"rule": "r", "scheduledTime": "soon"}})] {
            assert!(Sweep::from_payload(&bad).is_err(), "{bad}");
        }
    }
}
