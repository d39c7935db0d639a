//! API tests of the policy engine, one binary: the rule table (one allowed and
//! one denied case per rule), scenarios from the working group's discussions
//! per preset, and property tests over random change sequences.

#![allow(clippy::unwrap_used)]

mod add_check;
mod props;
mod rules;
mod scenarios;
mod support;
