-- When a chat last saw a new message (or its creation): kept by the persister's group commit,
-- for operators and for ordering chat lists without touching messages.
ALTER TABLE chats ADD COLUMN last_activity_at TIMESTAMPTZ;
UPDATE chats c SET last_activity_at = COALESCE(
    (SELECT max(m.created_at) FROM messages m WHERE m.chat_id = c.chat_id), c.created_at);
ALTER TABLE chats ALTER COLUMN last_activity_at SET NOT NULL;
ALTER TABLE chats ALTER COLUMN last_activity_at SET DEFAULT now();
