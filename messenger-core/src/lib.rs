//! The messenger's pure domain: entities, validation rules, the services that enforce the
//! protocol's rules, and the ports (async traits) that adapters implement.
//!
//! Nothing here performs I/O. The server and the CLI translate between the outside world and
//! [`services`]; [`ports`] are implemented by `messenger-adapters` (in memory, Postgres, Redis).
#![warn(missing_docs)]

pub mod error;
pub mod model;
pub mod ports;
pub mod services;
pub mod validation;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{CoreError, StoreError};
pub use model::*;
