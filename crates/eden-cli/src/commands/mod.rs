//! One module per command; each turns parsed flags into a call of the core and prints the result.

pub mod completions;
pub mod config;
pub mod create;
pub mod delete;
pub mod gc;
pub mod iam_policy;
pub mod ls;
pub mod man;
pub mod serve;
pub mod status;
