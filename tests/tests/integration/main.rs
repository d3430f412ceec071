//! The integration suite: real servers on port 0 (in memory by default, on Postgres + Redis
//! with `MESSENGER_TEST_BACKEND=postgres`), spoken to over HTTP and WebSocket as clients do.
//! One test binary with a module per area, so the suite links once.

mod common;

mod authz;
mod catch_up;
mod crash;
mod http_auth;
mod http_chats;
mod http_messages;
mod http_users;
mod logs;
mod metrics;
mod nodes;
mod outage;
mod restart;
mod smoke;
mod ws_chat;
mod ws_events;
