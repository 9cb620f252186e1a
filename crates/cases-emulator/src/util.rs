//! Small helpers: timestamps in the wire format, ids, page tokens.

use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339, macros::format_description};

use crate::error::{ApiError, ApiResult};

/// Formats a time as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
pub fn format_ts(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&fmt).unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_string())
}

/// Parses an RFC 3339 date-time (any offset).
pub fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// `ts` plus `minutes`, formatted like [`format_ts`].
pub fn add_minutes(ts: &str, minutes: i64) -> String {
    match parse_ts(ts) {
        Some(t) => format_ts(t + time::Duration::minutes(minutes)),
        None => ts.to_string(),
    }
}

/// A new random UUID v4 string.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A random 8-digit numeric reference number.
pub fn reference_number() -> String {
    use rand::Rng;
    let n: u32 = rand::rng().random_range(10_000_000..100_000_000);
    n.to_string()
}

const TOKEN_PREFIX: &str = "cetk1.";

/// An opaque page token for `offset`.
pub fn encode_token(offset: usize) -> String {
    format!("{TOKEN_PREFIX}{offset:x}")
}

/// Reads a page token produced by [`encode_token`]; absent or empty means offset 0.
pub fn decode_token(token: Option<&str>) -> ApiResult<usize> {
    let Some(t) = token else { return Ok(0) };
    if t.is_empty() {
        return Ok(0);
    }
    if t.len() > 9000 {
        return Err(ApiError::validation("nextToken: length must be at most 9000"));
    }
    t.strip_prefix(TOKEN_PREFIX)
        .and_then(|h| usize::from_str_radix(h, 16).ok())
        .ok_or_else(|| ApiError::validation("nextToken: invalid pagination token"))
}

/// Slices `items` into one page; returns the page and the next token (None on the last page).
pub fn page<T: Clone>(items: &[T], offset: usize, max: usize) -> (Vec<T>, Option<String>) {
    let start = offset.min(items.len());
    let end = (start + max).min(items.len());
    let next = if end < items.len() { Some(encode_token(end)) } else { None };
    (items[start..end].to_vec(), next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_format_is_utc_z_with_millis() {
        let s = format_ts(time::macros::datetime!(2026-05-01 12:34:56.789123 +02:00));
        assert_eq!(s, "2026-05-01T10:34:56.789Z");
        assert!(s.ends_with('Z'), "{s}");
        assert_eq!(s.len(), 24, "{s}");
        assert!(parse_ts(&s).is_some());
        assert_eq!(add_minutes("2026-05-01T12:00:00.000Z", 90), "2026-05-01T13:30:00.000Z");
    }

    #[test]
    fn tokens_round_trip() {
        assert_eq!(decode_token(Some(&encode_token(37))).unwrap(), 37);
        assert_eq!(decode_token(None).unwrap(), 0);
        assert!(decode_token(Some("garbage")).is_err());
        let (p, n) = page(&[1, 2, 3], 0, 2);
        assert_eq!(p, vec![1, 2]);
        let (p2, n2) = page(&[1, 2, 3], decode_token(n.as_deref()).unwrap(), 2);
        assert_eq!(p2, vec![3]);
        assert!(n2.is_none());
    }
}
