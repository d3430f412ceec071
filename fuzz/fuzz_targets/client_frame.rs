//! Any bytes a client may send as a WebSocket text frame: the decoder never panics, refuses
//! with `invalid_input` or `too_large` only, and what it accepts carries what the frame said.
#![no_main]

use libfuzzer_sys::fuzz_target;
use messenger_server::protocol::frames::{decode_client_frame, ClientFrame};

fuzz_target!(|data: &[u8]| {
    // Text frames are UTF-8 (tungstenite refuses others before the decoder sees them).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match decode_client_frame(text) {
        Ok(ClientFrame::Change { client_id, .. }) => {
            assert!(text.contains("client_id"), "a change without a client_id: {text:?}");
            let _ = client_id;
        }
        Ok(_) => {}
        Err(refused) => {
            let code = refused.error.code();
            assert!(
                code == "invalid_input" || code == "too_large",
                "unexpected code {code} for {text:?}"
            );
        }
    }
});
