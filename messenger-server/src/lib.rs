//! The messenger's server: the HTTP API (OpenAPI-documented), the WebSocket routes, and the
//! wiring of adapters into `messenger-core`'s services.

pub mod api;
pub mod app;
pub mod config;
pub mod error;
pub mod http;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod payload_errors;
pub mod protocol;
pub mod realtime;
pub mod send;
pub mod state;
pub mod web;
pub mod ws;

pub use app::Application;
pub use config::Config;
