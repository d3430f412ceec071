//! The wire format, in one place: the JSON objects of the HTTP API and of socket frames
//! ([`dto`]), socket frames in and out ([`frames`]), socket close codes ([`close`]), catch-up cursors ([`cursor`]), and what a
//! client is told of an error ([`errors`]; the codes are `CoreError::code`'s, their HTTP
//! statuses are in `crate::error`).
//!
//! It imports the domain only: `api/`, `ws/` and `realtime/` import it, never the other way.

pub mod close;
pub mod cursor;
pub mod dto;
pub mod errors;
pub mod frames;
