//! eden's domain: the naming rules, profiles, the environments file, and the plans that create
//! and delete an environment over the narrow AWS seam in [`cloud`]. No SDK types live here.

pub mod cloud;
pub mod doctor;
pub mod envfile;
pub mod error;
pub mod expiry;
#[cfg(test)]
mod fake;
pub mod iam;
pub mod image;
pub mod names;
pub mod overrides;
pub mod ownership;
pub mod plan;
pub mod profile;
pub mod remote;

pub use error::Error;
