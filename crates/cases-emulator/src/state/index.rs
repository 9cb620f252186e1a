//! The search index behind SearchCases, SearchRelatedItems and SearchAllRelatedItems.
//!
//! The real service answers searches from an index that trails the writes. Here every write of
//! a case (its fields and tags) or of one of its related items records a new version of that
//! document, indexed at the write's time plus the search lag; a deletion records a tombstone.
//! A search at time `now` sees, for each document, the newest version (in write order) whose
//! index time is not after `now`: a new case is invisible until then, an updated one is found
//! by its old values, a deleted one keeps appearing.
//!
//! Only the versions still needed are kept: once a version is indexed, the ones written before
//! it are dropped ([`SearchIndex::compact`]), and a document whose tombstone is indexed goes.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::State;
use super::clock::ALWAYS;
use super::model::{Case, RelatedItem};

#[derive(Debug, Clone, PartialEq)]
struct Version<T> {
    indexed_at: OffsetDateTime,
    /// None: deleted.
    doc: Option<T>,
}

/// The versions of one document, in write order.
#[derive(Debug, Clone, PartialEq)]
struct Versions<T>(Vec<Version<T>>);

impl<T: PartialEq> Versions<T> {
    fn new() -> Self {
        Versions(Vec::new())
    }

    /// The version a search at `now` sees.
    fn at(&self, now: OffsetDateTime) -> Option<&T> {
        self.0.iter().rev().find(|v| v.indexed_at <= now).and_then(|v| v.doc.as_ref())
    }

    /// What was written last, indexed or not.
    fn latest(&self) -> Option<&T> {
        self.0.last().and_then(|v| v.doc.as_ref())
    }

    /// Records `doc` (None: deleted) unless it is what was written last (an unchanged document
    /// keeps its place in the index). Returns whether a version was added.
    fn write(&mut self, doc: Option<T>, indexed_at: OffsetDateTime) -> bool {
        if self.latest() == doc.as_ref() {
            return false;
        }
        self.0.push(Version { indexed_at, doc });
        true
    }

    /// Drops the versions superseded by one indexed at `now`. Returns true when nothing worth
    /// keeping is left (an indexed tombstone).
    fn compact(&mut self, now: OffsetDateTime) -> bool {
        if let Some(i) = self.0.iter().rposition(|v| v.indexed_at <= now) {
            self.0.drain(..i);
        }
        matches!(self.0.as_slice(), [only] if only.doc.is_none() && only.indexed_at <= now)
    }

    /// After the clock jumped back from `from` to `to`: what was indexed stays indexed, what was
    /// pending keeps the lag it had left.
    fn rebase(&mut self, from: OffsetDateTime, to: OffsetDateTime) {
        let back = from - to;
        for v in &mut self.0 {
            v.indexed_at = if v.indexed_at <= from { ALWAYS } else { v.indexed_at - back };
        }
    }
}

/// A document of the index: a case or a related item (by case id and related item id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Case(String),
    Item(String, String),
}

/// The index of one domain.
#[derive(Debug, Clone, Default, PartialEq)]
struct DomainIndex {
    cases: BTreeMap<String, Versions<Case>>,
    items: BTreeMap<(String, String), Versions<RelatedItem>>,
    /// Versions not yet compacted away, by index time.
    pending: BTreeSet<(OffsetDateTime, Key)>,
}

impl DomainIndex {
    fn compact_key(&mut self, key: &Key, now: OffsetDateTime) {
        match key {
            Key::Case(id) => {
                if self.cases.get_mut(id).is_some_and(|v| v.compact(now)) {
                    self.cases.remove(id);
                }
            }
            Key::Item(case_id, id) => {
                let k = (case_id.clone(), id.clone());
                if self.items.get_mut(&k).is_some_and(|v| v.compact(now)) {
                    self.items.remove(&k);
                }
            }
        }
    }

    fn items_of(&self, case_id: &str) -> impl Iterator<Item = (&(String, String), &Versions<RelatedItem>)> {
        let case_id = case_id.to_string();
        self.items.range((case_id.clone(), String::new())..).take_while(move |((c, _), _)| *c == case_id)
    }
}

/// The document SearchCases reads: the case without its related items and audit history.
fn case_doc(c: &Case) -> Case {
    Case { related_items: Vec::new(), audit_events: Vec::new(), ..c.clone() }
}

/// The search index of every domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchIndex {
    domains: BTreeMap<String, DomainIndex>,
}

impl SearchIndex {
    /// Everything in `state`, indexed since always (a seeded or loaded state).
    pub fn of(state: &State) -> Self {
        let mut index = SearchIndex::default();
        for d in &state.domains {
            for id in d.cases.keys() {
                index.record_case(state, &d.id, id, ALWAYS);
            }
        }
        index.compact(ALWAYS);
        index
    }

    /// Reads case `case_id` of domain `domain_id` and its related items from `state` (absent:
    /// deleted) and records what changed since the last write, indexed at `indexed_at`.
    pub fn record_case(&mut self, state: &State, domain_id: &str, case_id: &str, indexed_at: OffsetDateTime) {
        let case = state.domain(domain_id).ok().and_then(|d| d.cases.get(case_id));
        let di = self.domains.entry(domain_id.to_string()).or_default();
        if di.cases.entry(case_id.to_string()).or_insert_with(Versions::new).write(case.map(case_doc), indexed_at) {
            di.pending.insert((indexed_at, Key::Case(case_id.to_string())));
        }
        let current: BTreeMap<&str, &RelatedItem> =
            case.map(|c| c.related_items.iter().map(|i| (i.id.as_str(), i)).collect()).unwrap_or_default();
        let gone: Vec<String> = di
            .items_of(case_id)
            .filter(|((_, id), v)| v.latest().is_some() && !current.contains_key(id.as_str()))
            .map(|((_, id), _)| id.clone())
            .collect();
        let writes = current.iter().map(|(id, item)| (id.to_string(), Some((*item).clone()))).chain(gone.into_iter().map(|id| (id, None)));
        for (id, doc) in writes {
            let key = (case_id.to_string(), id.clone());
            if di.items.entry(key).or_insert_with(Versions::new).write(doc, indexed_at) {
                di.pending.insert((indexed_at, Key::Item(case_id.to_string(), id)));
            }
        }
    }

    /// Forgets the domains `state` no longer has.
    pub fn retain_domains(&mut self, state: &State) {
        self.domains.retain(|id, _| state.domain(id).is_ok());
    }

    /// Drops every version superseded by one indexed at `now`.
    pub fn compact(&mut self, now: OffsetDateTime) {
        for di in self.domains.values_mut() {
            while di.pending.first().is_some_and(|(at, _)| *at <= now) {
                let Some((_, key)) = di.pending.pop_first() else { break };
                di.compact_key(&key, now);
            }
        }
    }

    /// The clock jumped back from `from` to `to`: what was indexed at `from` stays indexed, and
    /// what was not keeps the lag it had left.
    pub fn rebase(&mut self, from: OffsetDateTime, to: OffsetDateTime) {
        self.compact(from);
        for di in self.domains.values_mut() {
            di.pending.clear();
            for (id, v) in &mut di.cases {
                v.rebase(from, to);
                di.pending.extend(v.0.iter().filter(|x| x.indexed_at > to).map(|x| (x.indexed_at, Key::Case(id.clone()))));
            }
            for ((case_id, id), v) in &mut di.items {
                v.rebase(from, to);
                di.pending.extend(v.0.iter().filter(|x| x.indexed_at > to).map(|x| (x.indexed_at, Key::Item(case_id.clone(), id.clone()))));
            }
        }
    }

    /// The cases of a domain as a search at `now` sees them.
    pub fn cases_at(&self, domain_id: &str, now: OffsetDateTime) -> Vec<&Case> {
        self.domains.get(domain_id).map(|di| di.cases.values().filter_map(|v| v.at(now)).collect()).unwrap_or_default()
    }

    /// The related items of a domain (of one case when `case_id` is given) as a search at `now`
    /// sees them.
    pub fn items_at(&self, domain_id: &str, case_id: Option<&str>, now: OffsetDateTime) -> Vec<&RelatedItem> {
        let Some(di) = self.domains.get(domain_id) else { return Vec::new() };
        match case_id {
            Some(c) => di.items_of(c).filter_map(|(_, v)| v.at(now)).collect(),
            None => di.items.values().filter_map(|v| v.at(now)).collect(),
        }
    }

    /// How many document versions are kept (memory).
    pub fn version_count(&self) -> usize {
        self.domains
            .values()
            .map(|di| di.cases.values().map(|v| v.0.len()).sum::<usize>() + di.items.values().map(|v| v.0.len()).sum::<usize>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::super::model::{CommentContent, RelatedContent, RelatedItemType, Value};
    use super::*;
    use crate::state::model::Domain;

    const T0: OffsetDateTime = datetime!(2026-05-01 12:00:00 UTC);
    const LAG: Duration = Duration::seconds(1);

    fn ms(n: i64) -> Duration {
        Duration::milliseconds(n)
    }

    fn state() -> State {
        let mut st = State::new("us-east-1", "123456789012");
        st.domains.push(Domain {
            id: "d".into(),
            arn: "arn:d".into(),
            name: "d".into(),
            created_time: String::new(),
            status: "Active".into(),
            tags: Default::default(),
            event_configuration: serde_json::json!({"enabled": false}),
            fields: vec![],
            templates: vec![],
            cases: Default::default(),
            idempotency: Default::default(),
            next_seq: 0,
        });
        st
    }

    fn put_case(st: &mut State, id: &str, title: &str) {
        let d = st.domain_mut("d").unwrap();
        let seq = d.take_seq();
        let existing = d.cases.get(id).map(|c| c.related_items.clone()).unwrap_or_default();
        d.cases.insert(
            id.into(),
            Case {
                id: id.into(),
                arn: format!("arn:{id}"),
                template_id: "t".into(),
                fields: [("title".to_string(), Value::String(title.into()))].into(),
                tags: Default::default(),
                related_items: existing,
                audit_events: vec![],
                seq,
            },
        );
    }

    fn add_comment(st: &mut State, case_id: &str, id: &str) {
        let c = st.domain_mut("d").unwrap().cases.get_mut(case_id).unwrap();
        c.related_items.push(RelatedItem {
            id: id.into(),
            arn: String::new(),
            case_id: case_id.into(),
            item_type: RelatedItemType::Comment,
            association_time: String::new(),
            content: RelatedContent::Comment(CommentContent { body: id.into(), content_type: "Text/Plain".into() }),
            performed_by: None,
            last_updated_user: None,
            tags: Default::default(),
            seq: 0,
        });
    }

    fn titles(index: &SearchIndex, now: OffsetDateTime) -> Vec<String> {
        index.cases_at("d", now).iter().map(|c| c.fields["title"].as_text().unwrap().to_string()).collect()
    }

    #[test]
    fn a_new_case_appears_when_its_version_is_indexed() {
        let mut st = state();
        let mut index = SearchIndex::of(&st);
        put_case(&mut st, "a", "first");
        index.record_case(&st, "d", "a", T0 + LAG);
        assert!(titles(&index, T0).is_empty());
        assert!(titles(&index, T0 + LAG - ms(1)).is_empty());
        assert_eq!(titles(&index, T0 + LAG), ["first"]);
    }

    #[test]
    fn an_update_is_found_by_the_old_values_until_indexed() {
        let mut st = state();
        put_case(&mut st, "a", "old");
        let mut index = SearchIndex::of(&st);
        put_case(&mut st, "a", "new");
        index.record_case(&st, "d", "a", T0 + LAG);
        assert_eq!(titles(&index, T0), ["old"]);
        assert_eq!(titles(&index, T0 + LAG), ["new"]);
    }

    #[test]
    fn a_deleted_case_and_its_items_stay_until_indexed() {
        let mut st = state();
        put_case(&mut st, "a", "x");
        add_comment(&mut st, "a", "c1");
        let mut index = SearchIndex::of(&st);
        assert_eq!(index.items_at("d", Some("a"), T0).len(), 1);
        st.domain_mut("d").unwrap().cases.remove("a");
        index.record_case(&st, "d", "a", T0 + LAG);
        assert_eq!(titles(&index, T0), ["x"]);
        assert_eq!(index.items_at("d", None, T0).len(), 1);
        assert!(titles(&index, T0 + LAG).is_empty());
        assert!(index.items_at("d", Some("a"), T0 + LAG).is_empty());
        index.compact(T0 + LAG);
        assert_eq!(index.version_count(), 0, "indexed tombstones are dropped");
    }

    #[test]
    fn an_unchanged_document_keeps_its_place() {
        let mut st = state();
        put_case(&mut st, "a", "x");
        add_comment(&mut st, "a", "c1");
        let mut index = SearchIndex::of(&st);
        // a second comment: the case document and the first comment are unchanged
        add_comment(&mut st, "a", "c2");
        index.record_case(&st, "d", "a", T0 + LAG);
        assert_eq!(titles(&index, T0), ["x"]);
        let ids = |now| index.items_at("d", Some("a"), now).iter().map(|i| i.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(T0), ["c1"]);
        assert_eq!(ids(T0 + LAG), ["c1", "c2"]);
    }

    #[test]
    fn a_later_write_supersedes_an_earlier_one_indexed_later() {
        // the lag shrank between two writes: the second is the one that counts once indexed
        let mut st = state();
        put_case(&mut st, "a", "v1");
        let mut index = SearchIndex::of(&st);
        put_case(&mut st, "a", "v2");
        index.record_case(&st, "d", "a", T0 + Duration::seconds(10));
        put_case(&mut st, "a", "v3");
        index.record_case(&st, "d", "a", T0 + ms(1));
        assert_eq!(titles(&index, T0), ["v1"]);
        assert_eq!(titles(&index, T0 + ms(1)), ["v3"]);
        assert_eq!(titles(&index, T0 + Duration::seconds(10)), ["v3"]);
    }

    #[test]
    fn only_the_versions_still_needed_are_kept() {
        let mut st = state();
        put_case(&mut st, "a", "v0");
        let mut index = SearchIndex::of(&st);
        assert_eq!(index.version_count(), 1);
        let mut now = T0;
        for i in 1..=50 {
            now += ms(10);
            put_case(&mut st, "a", &format!("v{i}"));
            index.record_case(&st, "d", "a", now + LAG);
            index.compact(now);
        }
        // the 50 versions still waiting for the lag, and the one indexed before them
        assert_eq!(index.version_count(), 51);
        assert_eq!(titles(&index, now), ["v0"]);
        index.compact(now + LAG);
        assert_eq!(index.version_count(), 1);
        assert_eq!(titles(&index, now + LAG), ["v50"]);

        // with no lag, one version per document
        for i in 51..=60 {
            now += ms(10);
            put_case(&mut st, "a", &format!("v{i}"));
            index.record_case(&st, "d", "a", now);
            index.compact(now);
        }
        assert_eq!(index.version_count(), 1);
    }

    #[test]
    fn a_backward_jump_keeps_what_was_indexed_and_the_lag_left() {
        let mut st = state();
        let mut index = SearchIndex::of(&st);
        put_case(&mut st, "a", "indexed");
        index.record_case(&st, "d", "a", T0);
        put_case(&mut st, "b", "pending");
        index.record_case(&st, "d", "b", T0 + LAG);
        let back = datetime!(2020-01-01 00:00:00 UTC);
        index.rebase(T0, back);
        assert_eq!(titles(&index, back), ["indexed"]);
        assert_eq!(titles(&index, back + LAG - ms(1)), ["indexed"]);
        assert_eq!(titles(&index, back + LAG), ["indexed", "pending"]);
    }

    #[test]
    fn deleted_domains_are_forgotten() {
        let mut st = state();
        put_case(&mut st, "a", "x");
        let mut index = SearchIndex::of(&st);
        st.domains.clear();
        index.retain_domains(&st);
        assert!(index.cases_at("d", T0).is_empty());
        assert_eq!(index.version_count(), 0);
    }
}
