//! Password hashing and signed tokens.

mod argon;
mod jwt;

pub use argon::Argon2Hasher;
pub use jwt::JwtCodec;
