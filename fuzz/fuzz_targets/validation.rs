//! Phone, username, password, chat name, text and client_id rules on any input: no panic, and
//! a normalised phone is `+` and 7-15 ASCII digits that normalises to itself again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use messenger_core::validation::{
    normalize_phone, validate_chat_name, validate_client_id, validate_password, validate_text,
    validate_username,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(phone) = normalize_phone(text) {
        let digits = phone.strip_prefix('+').expect("a normalised phone starts with +");
        assert!((7..=15).contains(&digits.len()), "{phone:?} from {text:?}");
        assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{phone:?} from {text:?}");
        assert_eq!(normalize_phone(&phone).as_deref(), Ok(phone.as_str()));
    }
    if validate_username(text).is_ok() {
        assert!((3..=32).contains(&text.len()));
    }
    let _ = validate_password(text);
    if validate_chat_name(text).is_ok() {
        assert!(!text.is_empty() && !text.contains('\0'));
    }
    if validate_text(text).is_ok() {
        assert!(!text.trim().is_empty() && !text.contains('\0'));
    }
    let _ = validate_client_id(text);
});
