//! Catch-up cursors: a position in one chat's log, as clients keep it.
//!
//! On the wire a cursor is `"<chat id>.<position>"`; clients treat it as opaque and hand it back
//! in `?since=`. Naming the chat lets a cursor of another chat be refused instead of silently
//! skipping or repeating changes.

use messenger_core::{ChatId, CoreError, EventSeq};

/// The cursor of `position` in `chat`'s log.
pub fn encode(chat: ChatId, position: EventSeq) -> String {
    format!("{}.{}", chat.get(), position.get())
}

/// The position `text` names in `chat`'s log: `invalid_input` (naming `since`) for anything
/// that is not a cursor of this chat.
pub fn decode(chat: ChatId, text: &str) -> Result<EventSeq, CoreError> {
    let refuse = || CoreError::invalid("since", "not a cursor of this chat");
    let (of_chat, position) = text.split_once('.').ok_or_else(refuse)?;
    let of_chat: i64 = of_chat.parse().map_err(|_| refuse())?;
    let position: i64 = position.parse().map_err(|_| refuse())?;
    if of_chat != chat.get() || position < 0 {
        return Err(refuse());
    }
    Ok(EventSeq(position))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_only_in_its_own_chat() {
        let text = encode(ChatId(7), EventSeq(1042));
        assert_eq!(decode(ChatId(7), &text).unwrap(), EventSeq(1042));
        for (chat, bad) in [
            (8, text.as_str()),
            (7, "1042"),
            (7, "7."),
            (7, "7.-1"),
            (7, "7.x"),
            (7, ""),
            (7, "7.1.2"),
        ] {
            let err = decode(ChatId(chat), bad).unwrap_err();
            assert_eq!(err.code(), "invalid_input", "{bad}");
            assert!(err.to_string().starts_with("since"), "{err}");
        }
    }
}
