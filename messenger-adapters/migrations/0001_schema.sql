-- What lasts: users, chats, read markers, messages.

CREATE TABLE users (
    user_id       BIGSERIAL PRIMARY KEY,
    username      TEXT        NOT NULL,
    phone         TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    -- The chats the user takes part in, kept with the chats' participants in one transaction.
    chats         BIGINT[]    NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_phone_unique UNIQUE (phone)
);
CREATE UNIQUE INDEX users_username_unique ON users (lower(username));
-- Prefix search on usernames (LIKE 'abc%').
CREATE INDEX users_username_prefix ON users (lower(username) text_pattern_ops);

CREATE TABLE chats (
    chat_id      BIGSERIAL PRIMARY KEY,
    name         TEXT        NOT NULL,
    kind         TEXT        NOT NULL CHECK (kind IN ('group', 'direct')),
    owner_id     BIGINT      NOT NULL REFERENCES users (user_id),
    -- In the order they were added: the first is the longest-standing.
    participants BIGINT[]    NOT NULL,
    -- "low:high" user ids of a direct chat: makes the pair's chat unique under concurrency.
    direct_pair  TEXT UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE read_markers (
    chat_id    BIGINT NOT NULL REFERENCES chats (chat_id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (user_id),
    message_id BIGINT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

CREATE TABLE messages (
    -- Assigned by the chat's event stream (its position), not by Postgres.
    message_id  BIGINT PRIMARY KEY,
    chat_id     BIGINT      NOT NULL REFERENCES chats (chat_id) ON DELETE CASCADE,
    author_id   BIGINT      NOT NULL REFERENCES users (user_id),
    text        TEXT        NOT NULL,
    client_id   TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    edited_at   TIMESTAMPTZ,
    -- Deleted messages stay as tombstones so that a repeated client_id still finds them.
    deleted_at  TIMESTAMPTZ,
    -- Position of the last event applied (an older edit never wins) and of the delete.
    last_seq    BIGINT      NOT NULL,
    deleted_seq BIGINT
);
-- History pages: WHERE chat_id = $1 AND message_id < $2 ORDER BY message_id DESC.
CREATE INDEX messages_history ON messages (chat_id, message_id) WHERE deleted_at IS NULL;
-- Idempotent sends.
CREATE UNIQUE INDEX messages_client_id ON messages (chat_id, author_id, client_id)
    WHERE client_id IS NOT NULL;
