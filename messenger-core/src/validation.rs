//! The protocol's validation rules, as pure functions.

use crate::error::CoreError;

/// Longest message text, in Unicode characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Longest `client_id`, in characters.
pub const MAX_CLIENT_ID_CHARS: usize = 64;
/// Longest chat name, in characters.
pub const MAX_CHAT_NAME_CHARS: usize = 128;

/// Strips spaces, dashes and brackets and checks `+` followed by 7-15 digits; returns `+digits`.
pub fn normalize_phone(raw: &str) -> Result<String, CoreError> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '[' | ']' | '\t'))
        .collect();
    let digits = compact
        .strip_prefix('+')
        .ok_or_else(|| CoreError::invalid("phone", "must start with + and the country code"))?;
    if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CoreError::invalid("phone", "must be + and 7-15 digits"));
    }
    Ok(compact)
}

/// Password: 8-128 characters.
pub fn validate_password(password: &str) -> Result<(), CoreError> {
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err(CoreError::invalid("password", "must be 8-128 characters"));
    }
    Ok(())
}

/// Username: 3-32 of `[A-Za-z0-9_.]`. Uniqueness ignores case; the stored form keeps it.
pub fn validate_username(username: &str) -> Result<(), CoreError> {
    let ok_chars = username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if !(3..=32).contains(&username.len()) || !ok_chars {
        return Err(CoreError::invalid(
            "username",
            "must be 3-32 of letters, digits, '_' and '.'",
        ));
    }
    Ok(())
}

/// Chat name: 1-128 characters.
pub fn validate_chat_name(name: &str) -> Result<(), CoreError> {
    let n = name.chars().count();
    if name.contains('\0') {
        return Err(CoreError::invalid(
            "name",
            "must not contain the NUL character",
        ));
    }
    if !(1..=MAX_CHAT_NAME_CHARS).contains(&n) {
        return Err(CoreError::invalid("name", "must be 1-128 characters"));
    }
    Ok(())
}

/// Message text: 1-4096 Unicode characters, not only whitespace. Stored as sent.
pub fn validate_text(text: &str) -> Result<(), CoreError> {
    if text.trim().is_empty() {
        return Err(CoreError::invalid(
            "text",
            "must not be empty or only whitespace",
        ));
    }
    if text.contains('\0') {
        return Err(CoreError::invalid(
            "text",
            "must not contain the NUL character",
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(CoreError::invalid(
            "text",
            "must be at most 4096 characters",
        ));
    }
    Ok(())
}

/// `client_id`: at most 64 characters.
pub fn validate_client_id(client_id: &str) -> Result<(), CoreError> {
    if client_id.chars().count() > MAX_CLIENT_ID_CHARS {
        return Err(CoreError::invalid(
            "client_id",
            "must be at most 64 characters",
        ));
    }
    Ok(())
}

/// A page size: absent is `default`, above `max` is capped, 0 or less is `invalid_input`.
pub fn page_limit(limit: Option<i64>, default: usize, max: usize) -> Result<usize, CoreError> {
    match limit {
        None => Ok(default),
        Some(n) if n <= 0 => Err(CoreError::invalid("limit", "must be at least 1")),
        Some(n) => Ok(usize::try_from(n).unwrap_or(max).min(max)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_is_normalised_to_plus_digits() {
        assert_eq!(
            normalize_phone("+1 (555) 123-4567").unwrap(),
            "+15551234567"
        );
        assert_eq!(normalize_phone("+4912345").unwrap(), "+4912345");
    }

    #[test]
    fn phone_rejects_missing_plus_letters_and_bad_lengths() {
        for bad in [
            "5551234567",
            "+123456",
            "+1234567890123456",
            "+12345a789",
            "+",
            "",
        ] {
            let err = normalize_phone(bad).unwrap_err();
            assert!(
                matches!(err, CoreError::InvalidInput { field: "phone", .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn password_length_bounds() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password(&"x".repeat(128)).is_ok());
        assert!(validate_password(&"x".repeat(129)).is_err());
        // characters, not bytes
        assert!(validate_password(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn username_charset_and_length() {
        assert!(validate_username("al").is_err());
        assert!(validate_username("alice_1.b").is_ok());
        assert!(validate_username("alice!").is_err());
        assert!(validate_username("алиса").is_err());
        assert!(validate_username(&"a".repeat(33)).is_err());
    }

    #[test]
    fn text_rules_count_unicode_characters_and_reject_blank() {
        assert!(validate_text("").is_err());
        assert!(validate_text(" \n\t ").is_err());
        assert!(validate_text(" hi ").is_ok());
        assert!(validate_text(&"ж".repeat(4096)).is_ok());
        assert!(validate_text(&"ж".repeat(4097)).is_err());
        assert!(validate_text("a\0b").is_err(), "Postgres cannot store NUL");
    }

    #[test]
    fn chat_name_and_client_id() {
        assert!(validate_chat_name("").is_err());
        assert!(validate_chat_name("Team").is_ok());
        assert!(validate_chat_name(&"n".repeat(129)).is_err());
        assert!(validate_client_id(&"c".repeat(64)).is_ok());
        assert!(validate_client_id(&"c".repeat(65)).is_err());
    }

    #[test]
    fn page_limit_defaults_caps_and_rejects_non_positive() {
        assert_eq!(page_limit(None, 20, 100).unwrap(), 20);
        assert_eq!(page_limit(Some(1000), 20, 100).unwrap(), 100);
        assert_eq!(page_limit(Some(5), 20, 100).unwrap(), 5);
        assert!(page_limit(Some(0), 20, 100).is_err());
        assert!(page_limit(Some(-3), 20, 100).is_err());
    }
}
