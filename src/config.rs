//! Configuration from the environment, read and checked once at cold start.

use std::path::PathBuf;
use std::time::Duration;

use crate::cases::paced::{Pacing, parse_quotas};
use crate::claims::ledger::Budget;
use crate::identity::validate_identity;

/// One environment variable the function reads. The SAM template must set exactly the required
/// ones (a test compares the two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    pub required: bool,
    pub meaning: &'static str,
}

pub const ENVIRONMENT: &[EnvVar] = &[
    EnvVar { name: "CASES_DOMAIN_ID", required: true, meaning: "the Cases domain every request goes to" },
    EnvVar {
        name: "AUTOMATION_IDENTITY",
        required: false,
        meaning: "performedBy.customEntity of every write (default: the function name)",
    },
    EnvVar {
        name: "PROFILES_DOMAIN_NAME",
        required: false,
        meaning: "the Customer Profiles domain `customer` values search (and create profiles in); unset: only profiles the event names",
    },
    EnvVar {
        name: "PROFILES_ALLOW_CREATE",
        required: false,
        meaning: "whether `customer.ifNone: create` may create profiles (true or false, default true)",
    },
    EnvVar { name: "RULES_FILE", required: false, meaning: "path of a YAML rules file replacing the shipped default rules" },
    EnvVar {
        name: "CLAIMS_TABLE",
        required: false,
        meaning: "the DynamoDB table of the coordination store (one case per business fact across instances); unset: off",
    },
    EnvVar {
        name: "WORK_QUEUE_URL",
        required: false,
        meaning: "the SQS queue sweeps send their work items to (the function's own event queue); unset: no sweeps",
    },
    EnvVar {
        name: "CLAIM_LEASE_SECONDS",
        required: false,
        meaning: "how long a claim of an instance that died mid-create blocks the others, in seconds (5 to 900, default 60)",
    },
    EnvVar {
        name: "CASE_WRITES_PER_HOUR",
        required: false,
        meaning: "the most writes (UpdateCase, CreateRelatedItem) the automation makes on one case in an hour (default 60; stops loops with other parties)",
    },
    EnvVar {
        name: "CONNECT_INSTANCE_ARN",
        required: false,
        meaning: "the Amazon Connect instance the function serves: contact events and flow invocations of any other instance are refused before anything is read or written; unset: any instance",
    },
    EnvVar {
        name: "RULES_APPCONFIG",
        required: false,
        meaning: "APPLICATION/ENVIRONMENT/PROFILE (ids or names) of AWS AppConfig rules read through the AppConfig agent extension; unset: off",
    },
    EnvVar {
        name: "RULES_REFRESH_SECONDS",
        required: false,
        meaning: "with RULES_APPCONFIG: at most how often an instance asks the agent for the rules, in seconds (0 to 3600, default 30)",
    },
    EnvVar {
        name: "AWS_APPCONFIG_EXTENSION_HTTP_PORT",
        required: false,
        meaning: "the AppConfig agent's port on localhost (its own setting; default 2772)",
    },
    EnvVar { name: "SQS_CONCURRENCY", required: false, meaning: "SQS records processed at once per invocation (default 4)" },
    EnvVar {
        name: "FLOW_TIMEOUT_MS",
        required: false,
        meaning: "how long a contact flow waits for the function, in ms (default 8000, Connect's maximum)",
    },
    EnvVar {
        name: "CASES_QUOTAS",
        required: false,
        meaning: "the account's raised Cases rate quotas, Operation=requests per second, comma-separated (default: the published ones)",
    },
    EnvVar {
        name: "FLOW_QUOTA_PERCENT",
        required: false,
        meaning: "percent of every Cases quota events leave to contact flows (default 3)",
    },
    EnvVar {
        name: "QUEUE_CONCURRENCY",
        required: false,
        meaning: "the event queue's MaximumConcurrency when events come through SQS: how many instances share the events' quota",
    },
    EnvVar {
        name: "MAXIMUM_CONCURRENCY",
        required: false,
        meaning: "the function's reserved concurrency (0: none): how many instances share the events' quota without a queue",
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub domain_id: String,
    pub identity: String,
    pub profiles_domain: Option<String>,
    pub profiles_allow_create: bool,
    pub rules_file: Option<PathBuf>,
    /// The Amazon Connect instance whose contacts the function handles; None: any.
    pub connect_instance: Option<String>,
    /// The coordination store's table; None: off.
    pub claims_table: Option<String>,
    /// The queue sweeps send work items to.
    pub work_queue_url: Option<String>,
    /// Automated writes one case may get per hour.
    pub update_budget: Budget,
    /// The lease of related-item and profile claims and of case ledger locks.
    pub claim_lease: Duration,
    pub sqs_concurrency: usize,
    pub flow_timeout: Duration,
    /// Rules from AWS AppConfig, through the agent extension; None: off.
    pub rules_appconfig: Option<AppConfigRules>,
    /// How this instance paces the Cases calls of events.
    pub pacing: Pacing,
}

/// Where the AppConfig agent serves the rules, and how often to ask it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfigRules {
    /// `/applications/{a}/environments/{e}/configurations/{p}`.
    pub path: String,
    pub port: u16,
    pub refresh: Duration,
}

/// How many instances are taken to share the events' quota when events are invoked directly and no
/// concurrency is reserved (`MAXIMUM_CONCURRENCY=0`): the whole concurrency of a new account. An
/// account with more lets Lambda run more instances than that, and their events get throttled.
pub const UNRESERVED_EVENT_INSTANCES: u64 = 10;

/// The identity used when neither `AUTOMATION_IDENTITY` nor a function name is available.
pub const FALLBACK_IDENTITY: &str = "cases-automation";

impl Config {
    /// Reads the configuration through `var` (the process environment in production), listing
    /// every problem at once.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<String>> {
        let mut problems = Vec::new();
        let present = |name: &str| var(name).filter(|v| !v.trim().is_empty());

        let domain_id = present("CASES_DOMAIN_ID").unwrap_or_else(|| {
            problems.push("CASES_DOMAIN_ID is not set: set it to the id of your Cases domain".into());
            String::new()
        });
        let identity =
            present("AUTOMATION_IDENTITY").or_else(|| present("AWS_LAMBDA_FUNCTION_NAME")).unwrap_or_else(|| FALLBACK_IDENTITY.into());
        if let Err(reason) = validate_identity(&identity) {
            problems.push(format!("AUTOMATION_IDENTITY (or the function name) is not a valid performedBy.customEntity: {reason}"));
        }
        let profiles_domain = present("PROFILES_DOMAIN_NAME").map(|d| d.trim().to_owned());
        if let Some(domain) = &profiles_domain
            && !(domain.len() <= 64 && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        {
            problems.push("PROFILES_DOMAIN_NAME must be a Customer Profiles domain name (1 to 64 of A-Z a-z 0-9 _ -)".into());
        }
        let profiles_allow_create = match present("PROFILES_ALLOW_CREATE").map(|v| v.trim().to_ascii_lowercase()) {
            None => true,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(_) => {
                problems.push("PROFILES_ALLOW_CREATE must be true or false".into());
                true
            }
        };
        let connect_instance = present("CONNECT_INSTANCE_ARN").map(|arn| arn.trim().to_owned());
        if let Some(arn) = &connect_instance
            && !crate::inbound::is_instance_arn(arn)
        {
            problems.push(
                "CONNECT_INSTANCE_ARN must be an Amazon Connect instance ARN (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID)".into(),
            );
        }
        let number = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>, problems: &mut Vec<String>| match present(name) {
            None => default,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => n,
                _ => {
                    problems.push(format!("{name} must be a whole number from {} to {}", range.start(), range.end()));
                    default
                }
            },
        };
        let sqs_concurrency = number("SQS_CONCURRENCY", 4, 1..=10, &mut problems) as usize;
        let flow_timeout = Duration::from_millis(number("FLOW_TIMEOUT_MS", 8000, 1000..=8000, &mut problems));
        let update_budget = Budget {
            updates: number("CASE_WRITES_PER_HOUR", Budget::DEFAULT.updates as u64, 1..=10_000, &mut problems) as u32,
            window: Duration::from_secs(3600),
        };
        let claim_lease = Duration::from_secs(number("CLAIM_LEASE_SECONDS", 60, 5..=900, &mut problems));
        let refresh = Duration::from_secs(number("RULES_REFRESH_SECONDS", 30, 0..=3600, &mut problems));
        let port = number("AWS_APPCONFIG_EXTENSION_HTTP_PORT", 2772, 1..=65535, &mut problems) as u16;
        let rules_appconfig = present("RULES_APPCONFIG").and_then(|text| {
            let parts: Vec<&str> = text.trim().split('/').collect();
            let valid = |p: &&str| !p.is_empty() && p.len() <= 128 && p.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
            match parts.as_slice() {
                [application, environment, profile] if parts.iter().all(valid) => Some(AppConfigRules {
                    path: format!("/applications/{application}/environments/{environment}/configurations/{profile}"),
                    port,
                    refresh,
                }),
                _ => {
                    problems.push("RULES_APPCONFIG must be APPLICATION/ENVIRONMENT/PROFILE (ids or names of A-Z a-z 0-9 _ - .)".into());
                    None
                }
            }
        });
        let raised = match present("CASES_QUOTAS").map(|text| parse_quotas(&text)) {
            None => Vec::new(),
            Some(Ok(raised)) => raised,
            Some(Err(found)) => {
                problems.extend(found);
                Vec::new()
            }
        };
        let flow_percent = number("FLOW_QUOTA_PERCENT", Pacing::DEFAULT_FLOW_PERCENT.into(), 0..=50, &mut problems) as u32;
        // Without a queue, every instance the reserved concurrency allows may be handling an event;
        // with neither (a local run), this instance is taken to be alone.
        let queue_concurrency = present("QUEUE_CONCURRENCY").map(|_| number("QUEUE_CONCURRENCY", 2, 2..=1000, &mut problems));
        let reserved = present("MAXIMUM_CONCURRENCY").map(|_| number("MAXIMUM_CONCURRENCY", 0, 0..=1000, &mut problems));
        let event_instances = match (queue_concurrency, reserved) {
            (Some(queue), _) => queue,
            (None, Some(0)) => UNRESERVED_EVENT_INSTANCES,
            (None, Some(reserved)) => reserved,
            (None, None) => 1,
        } as u32;
        let pacing = Pacing::new(&raised, flow_percent, event_instances);
        let claims_table = present("CLAIMS_TABLE").map(|t| t.trim().to_owned());
        let valid_table = |t: &str| (3..=255).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if let Some(table) = &claims_table
            && !valid_table(table)
        {
            problems.push("CLAIMS_TABLE must be a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ - .)".into());
        }

        if problems.is_empty() {
            Ok(Config {
                domain_id,
                identity,
                profiles_domain,
                profiles_allow_create,
                rules_file: present("RULES_FILE").map(PathBuf::from),
                connect_instance,
                claims_table,
                work_queue_url: present("WORK_QUEUE_URL").map(|u| u.trim().to_owned()),
                update_budget,
                claim_lease,
                sqs_concurrency,
                flow_timeout,
                rules_appconfig,
                pacing,
            })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, Vec<String>> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_env(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_and_identity_from_the_function_name() {
        let c = config(&[("CASES_DOMAIN_ID", "d"), ("AWS_LAMBDA_FUNCTION_NAME", "my-fn")]).unwrap();
        assert_eq!((c.identity.as_str(), c.sqs_concurrency, c.flow_timeout), ("my-fn", 4, Duration::from_secs(8)));
        let c = config(&[("CASES_DOMAIN_ID", "d"), ("AWS_LAMBDA_FUNCTION_NAME", "my-fn"), ("AUTOMATION_IDENTITY", "erp-bridge")]).unwrap();
        assert_eq!(c.identity, "erp-bridge");
        assert_eq!(c.profiles_domain, None);
        let c = config(&[("CASES_DOMAIN_ID", "d"), ("PROFILES_DOMAIN_NAME", "amazon-connect-acme")]).unwrap();
        assert_eq!(c.profiles_domain.as_deref(), Some("amazon-connect-acme"));
        assert!(c.profiles_allow_create);
        assert!(!config(&[("CASES_DOMAIN_ID", "d"), ("PROFILES_ALLOW_CREATE", "False")]).unwrap().profiles_allow_create);
        assert_eq!(c.claims_table, None, "the coordination store is off unless a table is given");
        assert_eq!(c.update_budget, Budget::DEFAULT);
        let c = config(&[("CASES_DOMAIN_ID", "d"), ("CLAIMS_TABLE", "cases-automation-claims"), ("CASE_WRITES_PER_HOUR", "5")]).unwrap();
        assert_eq!((c.claims_table.as_deref(), c.update_budget.updates), (Some("cases-automation-claims"), 5));
        assert_eq!(c.connect_instance, None, "any instance unless one is given");
        let arn = "arn:aws:connect:us-east-1:123456789012:instance/a1b2c3d4-1111-4222-8333-444455556666";
        assert_eq!(config(&[("CASES_DOMAIN_ID", "d"), ("CONNECT_INSTANCE_ARN", arn)]).unwrap().connect_instance.as_deref(), Some(arn));
    }

    #[test]
    fn appconfig_rules_are_off_unless_named() {
        assert_eq!(config(&[("CASES_DOMAIN_ID", "d")]).unwrap().rules_appconfig, None);
        let c = config(&[("CASES_DOMAIN_ID", "d"), ("RULES_APPCONFIG", "abc123/live/rules"), ("RULES_REFRESH_SECONDS", "0")]).unwrap();
        let rules = c.rules_appconfig.unwrap();
        assert_eq!(rules.path, "/applications/abc123/environments/live/configurations/rules");
        assert_eq!((rules.port, rules.refresh), (2772, Duration::ZERO));
    }

    #[test]
    fn every_problem_is_listed() {
        let problems = config(&[
            ("AUTOMATION_IDENTITY", "bad!"),
            ("SQS_CONCURRENCY", "0"),
            ("FLOW_TIMEOUT_MS", "9000"),
            ("PROFILES_DOMAIN_NAME", "no spaces please"),
            ("PROFILES_ALLOW_CREATE", "maybe"),
            ("CLAIMS_TABLE", "no spaces"),
            ("CASE_WRITES_PER_HOUR", "0"),
            ("CLAIM_LEASE_SECONDS", "1"),
            ("CONNECT_INSTANCE_ARN", "arn:aws:connect:us-east-1:123456789012:instance/i/contact/c"),
            ("RULES_APPCONFIG", "app/env"),
            ("RULES_REFRESH_SECONDS", "3601"),
            ("CASES_QUOTAS", "CreateCase=fast"),
            ("FLOW_QUOTA_PERCENT", "60"),
            ("QUEUE_CONCURRENCY", "1"),
            ("MAXIMUM_CONCURRENCY", "-1"),
        ])
        .unwrap_err();
        assert_eq!(problems.len(), 16, "{problems:#?}");
    }

    #[test]
    fn events_share_the_quota_among_the_instances_that_may_handle_them() {
        let pacing = |vars: &[(&str, &str)]| {
            let mut all = vec![("CASES_DOMAIN_ID", "d")];
            all.extend_from_slice(vars);
            config(&all).unwrap().pacing
        };
        assert_eq!(pacing(&[]).event_instances, 1, "a local run: this instance alone");
        assert_eq!(pacing(&[("MAXIMUM_CONCURRENCY", "5")]).event_instances, 5, "direct invocations: every reserved instance");
        assert_eq!(
            pacing(&[("MAXIMUM_CONCURRENCY", "5"), ("QUEUE_CONCURRENCY", "2")]).event_instances,
            2,
            "through the queue: its pollers"
        );
        assert_eq!(pacing(&[("MAXIMUM_CONCURRENCY", "0")]).event_instances, UNRESERVED_EVENT_INSTANCES as u32);
        let raised = pacing(&[("CASES_QUOTAS", "CreateCase=10"), ("FLOW_QUOTA_PERCENT", "20"), ("QUEUE_CONCURRENCY", "4")]);
        assert_eq!(raised.instance_rate("CreateCase"), Some(2.0), "10/s less a fifth for flows, over four pollers");
        assert_eq!(raised.instance_rate("UpdateCase"), Some(0.4), "the published 2/s");
        assert_eq!(pacing(&[]).flow_percent, Pacing::DEFAULT_FLOW_PERCENT);
    }
}
