//! Amazon Connect contact-flow invocations and EventBridge events become Amazon Connect Cases
//! writes, each performed under the automation's own identity.
//!
//! `inbound` tells triggers apart and parses events; `rules` holds patterns and values; `plan`
//! turns an event and a rule into Cases requests; `preflight` plans every matching rule and checks
//! each write against the domain before the first one is sent; `execute` sends them through the `cases`
//! adapter, looking customers up (`customers`) on the way, and reports each rule's `outcome`; `contacts` reads the event's contact from Amazon Connect for the rules that ask;
//! `handler` ties them together per invocation; `runtime` is the cold start; `aws` the SDK plumbing the adapters share.

pub mod appconfig;
pub mod aws;
pub mod cases;
pub mod claims;
pub mod cli;
pub mod config;
pub mod contacts;
pub mod customers;
pub mod error;
pub mod execute;
pub mod handler;
pub mod identity;
pub mod inbound;
#[cfg(test)]
mod layers;
pub mod live_rules;
pub mod locks;
pub mod logging;
pub mod outcome;
pub mod plan;
pub mod preflight;
pub mod rules;
pub mod rules_check;
pub mod runtime;
pub mod sweep;
pub mod telemetry;
