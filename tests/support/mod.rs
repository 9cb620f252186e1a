#![allow(dead_code)] // each test binary uses part of the support code

pub mod appconfig_agent;
pub mod async_invoke;
pub mod cases_service;
pub mod counted_store;
pub mod counting_listener;
pub mod deployment;
pub mod emf;
pub mod function;
pub mod lambda;
pub mod load_app;
pub mod moto;
pub mod readback;
pub mod recorded;
pub mod runtime_api;
pub mod sqs_source;
pub mod work_queue;

/// The shipped default rules with every `from` replaced by `to` (which must occur).
pub fn default_rules_with(from: &str, to: &str) -> String {
    let rules = cases_automation::rules::DEFAULT_RULES;
    assert!(rules.contains(from), "the default rules no longer contain {from:?}");
    rules.replace(from, to)
}
