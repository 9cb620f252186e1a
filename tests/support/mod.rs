#![allow(dead_code)] // each test binary uses part of the support code

pub mod cases_service;
pub mod fake_cases;
pub mod fake_profiles;
pub mod lambda;
pub mod readback;
pub mod runtime_api;
