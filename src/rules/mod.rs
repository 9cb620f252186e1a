//! The rules file: what happens for which event.
//!
//! Rules are YAML: it allows comments and multi-line templates, and it is what SAM and
//! EventBridge users already write. The file is parsed into plain JSON values first, then each
//! rule is compiled on its own, so that one start-up reports every problem in every rule.
//!
//! `spec` holds the file's shapes as written (and so its JSON Schema); `compile` turns each rule
//! into the `model` that the planner and the executor read, reporting every problem with its rule
//! and place.

mod at;
mod compile;
pub mod customer;
mod model;
pub mod pattern;
pub mod schedule;
mod spec;
pub mod value;

pub use compile::{DEFAULT_RULES, RuleProblem, RulesError, content_version};
pub use model::{
    Action, CaseSpec, ContactData, CreateCase, CustomerSource, IfMissing, ItemMode, KeepOne, LinkTarget, Lookup, MAX_SLA_MINUTES, NameOrId,
    Rule, RuleSet, Sort, SortOrder, Step, Tag,
};
