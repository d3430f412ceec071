//! What a client is told of an error: its code (`CoreError::code`) and a message. A backing
//! service's failure or a bug is logged here with its whole chain of causes, and never told.

use messenger_core::error::Chain;
use messenger_core::CoreError;

/// The client-facing message of an error. A backing service's failure is logged here with its
/// whole chain of causes, and never sent.
pub fn public_message(err: &CoreError) -> String {
    match err {
        CoreError::Unavailable(_) => {
            tracing::error!(error = %Chain(err), "backing service unavailable");
            "a backing service is unavailable; try again shortly".to_owned()
        }
        CoreError::Internal(_) => {
            tracing::error!(error = %Chain(err), "internal error");
            "internal error; it has been logged".to_owned()
        }
        other => other.to_string(),
    }
}
