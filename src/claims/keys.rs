//! The keys of claims: what counts as "the same" case, related item or profile.
//!
//! Keys are a kind prefix and a SHA-256 of their parts (length-prefixed, so parts cannot run into
//! each other), so that no identifier or personal value is stored in the table in clear.

use sha2::{Digest, Sha256};

use crate::cases::model::{FieldEntry, RelatedItemContent, SearchCasesInput};

fn hashed(kind: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{kind}#{digest}")
}

/// The case of a business fact: the rule's searches (every field and value they require), in a
/// canonical order. Two rules or events that search for the same thing claim the same case, as
/// the search would find it once the index catches up. Neither the rule's name nor the identity
/// is part of it: renaming a rule between a delivery and its retry keeps the claim.
pub fn fact(domain: &str, searches: &[&SearchCasesInput]) -> String {
    let mut conditions: Vec<String> = searches
        .iter()
        .flat_map(|search| search.filter.equalities())
        .map(|FieldEntry { id, value }| format!("{id}={}", serde_json::to_string(value).expect("field values serialize")))
        .collect();
    conditions.sort();
    conditions.dedup();
    let mut parts = vec![domain];
    parts.extend(conditions.iter().map(String::as_str));
    hashed("case", &parts)
}

/// The case one event creates without searching (e.g. a callback request per abandoned call):
/// the event and the template, not the rule's name or the identity, so a retry after a rename
/// finds the case the first attempt created.
pub fn event_case(domain: &str, event_key: &str, template_id: &str) -> String {
    hashed("case", &[domain, "event", event_key, template_id])
}

/// The case a CreateCase `clientToken` created: found again when a retry's request changed since
/// the first attempt (the service then answers ConflictException instead of the case).
pub fn token(domain: &str, client_token: &str) -> String {
    hashed("token", &[domain, client_token])
}

/// A related item of a case. Contacts and files are one per case whatever the event; an SLA is
/// one per name; a linked case is one per case it links to; a comment is one per event and text,
/// and a custom item one per event and values (in any order), so a redelivery writes it once
/// while two events writing the same words or values (two agents' identical notes on two calls)
/// write it twice.
pub fn item(domain: &str, case_id: &str, content: &RelatedItemContent, event_key: &str) -> String {
    match content {
        RelatedItemContent::ConnectCase { case_id: linked } => hashed("item", &[domain, case_id, "connectCase", linked]),
        RelatedItemContent::Custom { fields } => {
            let mut values: Vec<String> = fields
                .iter()
                .filter(|f| !matches!(f.value, crate::cases::model::FieldValue::Empty(_)))
                .map(|FieldEntry { id, value }| format!("{id}={}", serde_json::to_string(value).expect("field values serialize")))
                .collect();
            values.sort();
            let mut parts = vec![domain, case_id, "custom", event_key];
            parts.extend(values.iter().map(String::as_str));
            hashed("item", &parts)
        }
        RelatedItemContent::Contact { contact_arn } => hashed("item", &[domain, case_id, "contact", contact_arn]),
        RelatedItemContent::File { file_arn } => hashed("item", &[domain, case_id, "file", file_arn]),
        RelatedItemContent::Sla { sla_input_configuration } => hashed("item", &[domain, case_id, "sla", &sla_input_configuration.name]),
        RelatedItemContent::Comment { body, .. } => hashed("item", &[domain, case_id, "comment", event_key, body]),
    }
}

/// The one item of a kind and key that a `keep-one` action keeps on a case (bound to its id).
pub fn kept(domain: &str, case_id: &str, kind: &str, key: &str) -> String {
    hashed("kept", &[domain, case_id, kind, key])
}

/// A profile the function creates for a caller no profile matches: the profiles domain and the
/// (normalised) identifiers it searched with.
pub fn profile(profiles_domain: &str, terms: &[(&str, &str)]) -> String {
    let mut parts = vec![profiles_domain.to_owned()];
    let mut terms: Vec<String> = terms.iter().map(|(key, value)| format!("{key}={value}")).collect();
    terms.sort();
    parts.extend(terms);
    hashed("profile", &parts.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A sweep: one per scheduled rule and scheduled time.
pub fn sweep(domain: &str, sweep_id: &str) -> String {
    hashed("sweep", &[domain, sweep_id])
}

/// The ledger of a case: lock, update watermarks, update budget.
pub fn ledger(domain: &str, case_id: &str) -> String {
    hashed("ledger", &[domain, case_id])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::model::{CaseFilter, FieldFilter, FieldValue, SlaInput, SortInput};

    fn search(fields: &[(&str, &str)]) -> SearchCasesInput {
        SearchCasesInput {
            max_results: 1,
            fields: vec![],
            next_token: None,
            filter: CaseFilter::AndAll(
                fields
                    .iter()
                    .map(|(id, v)| {
                        CaseFilter::Field(FieldFilter::EqualTo(FieldEntry { id: id.to_string(), value: FieldValue::String(v.to_string()) }))
                    })
                    .collect(),
            ),
            sorts: vec![SortInput { field_id: "created_datetime".into(), sort_order: "Desc" }],
        }
    }

    #[test]
    fn a_fact_is_its_conditions_in_any_order_and_nothing_else() {
        let a = fact("d", &[&search(&[("customer_id", "arn:c"), ("status", "open"), ("order", "O-1")])]);
        let b = fact("d", &[&search(&[("order", "O-1"), ("customer_id", "arn:c"), ("status", "open")])]);
        assert_eq!(a, b);
        assert!(a.starts_with("case#") && a.len() == 5 + 64);
        assert_ne!(a, fact("d", &[&search(&[("order", "O-2"), ("customer_id", "arn:c"), ("status", "open")])]));
        assert_ne!(a, fact("other-domain", &[&search(&[("order", "O-1"), ("customer_id", "arn:c"), ("status", "open")])]));
        assert!(!a.contains("O-1"), "values are not stored in clear");
    }

    #[test]
    fn values_of_other_types_are_other_facts() {
        let text = SearchCasesInput {
            filter: CaseFilter::AndAll(vec![CaseFilter::Field(FieldFilter::EqualTo(FieldEntry {
                id: "n".into(),
                value: FieldValue::String("1".into()),
            }))]),
            ..search(&[])
        };
        let number = SearchCasesInput {
            filter: CaseFilter::AndAll(vec![CaseFilter::Field(FieldFilter::EqualTo(FieldEntry {
                id: "n".into(),
                value: FieldValue::Double(1.0),
            }))]),
            ..search(&[])
        };
        assert_ne!(fact("d", &[&text]), fact("d", &[&number]));
    }

    #[test]
    fn comments_are_per_event_and_text_other_items_per_case() {
        let comment = |body: &str| RelatedItemContent::Comment { body: body.into(), content_type: "Text/Plain" };
        assert_eq!(item("d", "c", &comment("hi"), "e1"), item("d", "c", &comment("hi"), "e1"));
        assert_ne!(item("d", "c", &comment("hi"), "e1"), item("d", "c", &comment("hi"), "e2"));
        assert_ne!(item("d", "c", &comment("hi"), "e1"), item("d", "c", &comment("ho"), "e1"));
        let contact = RelatedItemContent::Contact { contact_arn: "arn:contact".into() };
        assert_eq!(item("d", "c", &contact, "e1"), item("d", "c", &contact, "e2"));
        assert_ne!(item("d", "c", &contact, "e1"), item("d", "c2", &contact, "e1"));
        let sla = |name: &str| RelatedItemContent::Sla {
            sla_input_configuration: SlaInput {
                name: name.into(),
                kind: "CaseField",
                field_id: None,
                target_field_values: vec![],
                target_sla_minutes: 1,
            },
        };
        assert_eq!(item("d", "c", &sla("a"), "e1"), item("d", "c", &sla("a"), "e2"));
        assert_ne!(item("d", "c", &sla("a"), "e1"), item("d", "c", &sla("b"), "e1"));
    }

    #[test]
    fn custom_items_are_per_event_and_values_in_any_order_linked_cases_per_target() {
        let entry = |id: &str, v: &str| FieldEntry { id: id.into(), value: FieldValue::String(v.into()) };
        let custom = |fields: Vec<FieldEntry>| RelatedItemContent::Custom { fields };
        let a = custom(vec![entry("order", "O-1"), entry("total", "3")]);
        let b = custom(vec![entry("total", "3"), entry("order", "O-1")]);
        assert_eq!(item("d", "c", &a, "e1"), item("d", "c", &b, "e1"));
        assert_ne!(item("d", "c", &a, "e1"), item("d", "c", &a, "e2"));
        assert_ne!(item("d", "c", &a, "e1"), item("d", "c", &custom(vec![entry("order", "O-2"), entry("total", "3")]), "e1"));
        let link = |to: &str| RelatedItemContent::ConnectCase { case_id: to.into() };
        assert_eq!(item("d", "c", &link("c2"), "e1"), item("d", "c", &link("c2"), "e2"));
        assert_ne!(item("d", "c", &link("c2"), "e1"), item("d", "c", &link("c3"), "e1"));
    }

    #[test]
    fn events_and_profiles_have_keys_of_their_own() {
        assert_ne!(event_case("d", "e1", "t"), event_case("d", "e1", "t2"));
        assert_ne!(event_case("d", "e1", "t"), event_case("d", "e2", "t"));
        assert_eq!(profile("p", &[("_phone", "+1"), ("_email", "a@b")]), profile("p", &[("_email", "a@b"), ("_phone", "+1")]));
        assert_ne!(profile("p", &[("_phone", "+1")]), profile("p", &[("_phone", "+2")]));
        assert!(ledger("d", "c").starts_with("ledger#"));
    }
}
