-- Catch-up (`/chat/{id}?since=`): what changed in a chat after a position, from the store.
-- A message's `last_seq` becomes the position of its latest change, its deletion included, so
-- one index answers "changed after"; a read marker keeps the position of the `read` event
-- that announced it (NULL while that event is not recorded yet).
-- A large table takes longer than the pool's statement timeout (this runs in one transaction).
SET LOCAL statement_timeout = 0;
UPDATE messages SET last_seq = deleted_seq WHERE deleted_seq > last_seq;
CREATE INDEX messages_changes ON messages (chat_id, last_seq);
ALTER TABLE read_markers ADD COLUMN read_seq BIGINT;
-- No cursor is older than this migration: markers already there count as seen (0), not as
-- pending (NULL), which every catch-up would send again.
UPDATE read_markers SET read_seq = 0;
