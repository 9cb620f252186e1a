//! The operations the service answers, in one table: each one's name (as on the wire, in
//! `Emulator::calls()` and in fault rules), which API it belongs to, and its rate quota.
//!
//! Routing ([`crate::wire::routes`], `wire::profiles::route`, `wire::connect::route`) yields an
//! [`Operation`]; the handler table (`wire::dispatch`), the call counts, the fault rules and the
//! quotas ([`crate::faults`]) are keyed by it.

use std::fmt;
use std::str::FromStr;

/// Which AWS API an operation (or a request) belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Amazon Connect Cases (SigV4 signing name `cases`).
    Cases,
    /// Amazon Connect Customer Profiles (SigV4 signing name `profile`).
    Profiles,
    /// Amazon Connect (SigV4 signing name `connect`): DescribeContact, GetContactAttributes.
    Connect,
}

impl Api {
    /// The API's name in messages.
    pub fn title(self) -> &'static str {
        match self {
            Api::Cases => "Cases",
            Api::Profiles => "Customer Profiles",
            Api::Connect => "Amazon Connect",
        }
    }
}

/// A token bucket: `per_second` tokens replenished each second, at most `burst` held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    pub per_second: u32,
    pub burst: u32,
}

/// The quota of every operation the table gives none.
pub const DEFAULT_QUOTA: RateQuota = RateQuota { per_second: 50, burst: 100 };

/// Declares [`Operation`] from one list: `Name: Api` or `Name: Api, quota(rate, burst)`.
macro_rules! operations {
    ($($(#[$doc:meta])* $op:ident: $api:ident $(, quota($rate:literal, $burst:literal))?;)*) => {
        /// An operation of one of the served APIs; its name is the variant's.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $($(#[$doc])* $op,)*
        }

        impl Operation {
            /// Every operation, in table order.
            pub const ALL: &[Operation] = &[$(Operation::$op),*];

            /// The operation's name: `CreateCase`, `SearchProfiles`, `DescribeContact`, …
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Operation::$op => stringify!($op),)*
                }
            }

            /// The API the operation belongs to.
            pub fn api(self) -> Api {
                match self {
                    $(Operation::$op => Api::$api,)*
                }
            }

            /// The rate quota enforced when quotas are on.
            pub fn quota(self) -> RateQuota {
                match self {
                    $(Operation::$op => operations!(@quota $($rate, $burst)?),)*
                }
            }
        }
    };
    (@quota $rate:literal, $burst:literal) => {
        RateQuota { per_second: $rate, burst: $burst }
    };
    (@quota) => {
        DEFAULT_QUOTA
    };
}

// Quotas: the Cases figures are the published default rates (Service Quotas: CreateCase 2/s
// burst 10, UpdateCase 2/s, GetCase 4/s, BatchGetField 8/s, CreateRelatedItem burst 10; see
// docs/reference/cases-api.md §4.2). Customer Profiles' per-API quotas were not found:
// SearchProfiles and CreateProfile assume 10/s burst 10. Every other operation (Amazon Connect's
// included) has [`DEFAULT_QUOTA`].
operations! {
    // ---- Cases: domains
    CreateDomain: Cases;
    ListDomains: Cases;
    GetDomain: Cases;
    DeleteDomain: Cases;
    // ---- Cases: fields
    CreateField: Cases;
    ListFields: Cases;
    BatchGetField: Cases, quota(8, 10);
    UpdateField: Cases;
    DeleteField: Cases;
    BatchPutFieldOptions: Cases;
    ListFieldOptions: Cases;
    // ---- Cases: templates, layouts, case rules
    CreateTemplate: Cases;
    ListTemplates: Cases;
    GetTemplate: Cases;
    UpdateTemplate: Cases;
    DeleteTemplate: Cases;
    ListLayouts: Cases;
    ListCaseRules: Cases;
    // ---- Cases: cases
    CreateCase: Cases, quota(2, 10);
    SearchCases: Cases, quota(4, 10);
    GetCase: Cases, quota(4, 10);
    UpdateCase: Cases, quota(2, 2);
    DeleteCase: Cases;
    GetCaseAuditEvents: Cases;
    ListCasesForContact: Cases;
    // ---- Cases: related items
    CreateRelatedItem: Cases, quota(2, 10);
    SearchRelatedItems: Cases;
    UpdateRelatedItem: Cases;
    DeleteRelatedItem: Cases;
    SearchAllRelatedItems: Cases;
    // ---- Cases: event configuration, tags
    GetCaseEventConfiguration: Cases;
    PutCaseEventConfiguration: Cases;
    ListTagsForResource: Cases;
    TagResource: Cases;
    UntagResource: Cases;
    // ---- Customer Profiles
    SearchProfiles: Profiles, quota(10, 10);
    CreateProfile: Profiles, quota(10, 10);
    /// Customer Profiles' GetDomain, named apart from the Cases operation.
    GetProfilesDomain: Profiles;
    // ---- Amazon Connect
    DescribeContact: Connect;
    GetContactAttributes: Connect;
}

/// An operation name the service does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOperation(pub String);

impl fmt::Display for UnknownOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Operation::ALL.iter().map(|o| o.as_str()).collect();
        write!(f, "unknown operation {:?}; expected one of {}", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownOperation {}

impl FromStr for Operation {
    type Err = UnknownOperation;

    /// Reads an operation name, ignoring ASCII case (as fault rules always matched).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::ALL.iter().copied().find(|o| o.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| UnknownOperation(s.to_string()))
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Operation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Operation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>(), Ok(*op));
            assert_eq!(op.as_str().to_ascii_lowercase().parse::<Operation>(), Ok(*op), "case is ignored");
            assert_eq!(serde_json::to_value(op).unwrap(), op.as_str());
        }
        let mut names: Vec<&str> = Operation::ALL.iter().map(|o| o.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Operation::ALL.len());
        let err = "SearchCase".parse::<Operation>().unwrap_err().to_string();
        assert!(err.starts_with("unknown operation \"SearchCase\"; expected one of CreateDomain,"), "{err}");
        assert!(serde_json::from_str::<Operation>("\"Nope\"").is_err());
    }

    #[test]
    fn apis_and_quotas() {
        let of = |api: Api| Operation::ALL.iter().filter(|o| o.api() == api).count();
        assert_eq!((of(Api::Cases), of(Api::Profiles), of(Api::Connect)), (35, 3, 2));
        assert_eq!(Operation::CreateCase.quota(), RateQuota { per_second: 2, burst: 10 });
        assert_eq!(Operation::UpdateCase.quota(), RateQuota { per_second: 2, burst: 2 });
        assert_eq!(Operation::GetProfilesDomain.quota(), DEFAULT_QUOTA);
        assert_eq!(Operation::DescribeContact.quota(), DEFAULT_QUOTA);
    }
}
