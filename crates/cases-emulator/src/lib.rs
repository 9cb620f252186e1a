//! A local, stateful, wire-compatible emulator of the Amazon Connect Cases API
//! (`connectcases`, 2022-10-03), for tests and demos. The real `aws-sdk-connectcases` client
//! talks to it over HTTP (restJson1). The same listener also serves the subset of Amazon Connect
//! Customer Profiles (`profile`, 2020-08-15) the automation uses — SearchProfiles, CreateProfile,
//! GetDomain — for the real `aws-sdk-customerprofiles` client, and the two Amazon Connect
//! (`connect`, 2017-08-08) operations it reads contacts with — DescribeContact and
//! GetContactAttributes — for the real `aws-sdk-connect` client.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use cases_emulator::{Emulator, Seed, Fault, ErrorKind};
//! let emu = Emulator::builder().seed(Seed::demo()).quotas(false).start().await?;
//! let url = emu.endpoint_url(); // http://127.0.0.1:PORT → the SDK's endpoint_url
//! emu.inject_fault(Fault::error("CreateCase", ErrorKind::ThrottlingException, 3));
//! // … drive the SDK …
//! let calls = emu.calls();            // {"CreateCase": 4, …}
//! let events = emu.events();          // "Amazon Connect Cases Change" events
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout (moto-style): [`wire`] is HTTP (routing, request/response shapes, errors, admin API;
//! `wire::profiles` for Customer Profiles, `wire::connect` for Amazon Connect), [`state`] the
//! service's model with no HTTP and no locking (`state::profiles` for profile domains,
//! `state::connect` for instances and their contacts), [`backend`] the state behind one lock with
//! its search index, clock, case events and state file. Validation follows the same line: `wire::validate` checks request
//! shapes, `wire::profiles::validate` Customer Profiles bodies, `state::validate` values against
//! the stored fields. [`faults`] fault injection/quotas/call counts, [`events`] case event streams, [`seed`] the
//! seed format and the built-in demo seed, [`wait`] waiting on call and write counts.
//! `state::clock` is the settable service clock, `state::index` the search index that trails
//! the writes, `state::sla` SLA status over time.

pub mod backend;
pub mod emulator;
pub mod error;
pub mod events;
pub mod faults;
pub mod operation;
pub mod seed;
pub mod state;
pub mod util;
pub mod wait;
pub mod wire;

/// The `time` crate, for [`Emulator::now`] and [`Emulator::set_clock`].
pub use time;

pub use emulator::{Emulator, EmulatorBuilder, StartError};
pub use error::{ApiError, ErrorKind};
pub use faults::Fault;
pub use operation::Operation;
pub use seed::{Seed, SeedError, demo};
pub use wait::WaitTimeout;
