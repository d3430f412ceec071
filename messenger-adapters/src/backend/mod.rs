//! Which backend a deployment runs on, and opening it: the one place that turns
//! `DATABASE_URL` / `REDIS_URL` / `REDIS_PREFIX` into a set of ports. The server and the
//! operator's CLI are two users of it, so both always open the same thing the same way.

mod config;
mod operator;
mod storage;

pub use config::{Backend, BackendConfigError, Secret};
pub use operator::{SeedPlan, Seeded};
pub use storage::{CommitRouting, Migrations, OpenError, Shared, Storage};
