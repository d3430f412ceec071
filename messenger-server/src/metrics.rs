//! `GET /metrics`: this node's counters in Prometheus' text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::state::SharedState;
use poem::web::Data;
use poem::{handler, Response};

/// A socket kind, a frame type or an error code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    /// The label's value.
    pub kind: &'static str,
}

/// An error code of the protocol, and where it was answered (`http` or `ws`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// The protocol's code (`invalid_input`, `not_found`, ...).
    pub code: &'static str,
    /// `http` or `ws`.
    pub via: &'static str,
}

/// What this node counts. Cheap to update (atomics) from any task.
pub struct Metrics {
    registry: Registry,
    /// Open sockets, by kind (`chat`, `events`).
    pub open_sockets: Family<Kind, Gauge>,
    /// Client frames received, by type.
    pub frames_in: Family<Kind, Counter>,
    /// Server frames sent, by type.
    pub frames_out: Family<Kind, Counter>,
    /// Errors answered, by code.
    pub errors: Family<ErrorLabels, Counter>,
    /// Sockets closed for falling behind (4008).
    pub slow_closes: Counter,
    /// Events committed per persister batch.
    pub persist_batch_size: Histogram,
    /// Seconds one persister batch takes (claim, commit, acknowledge, notify).
    pub persist_latency: Histogram,
    /// Stream entries no persister has read yet, over all chats (from the last sweep).
    pub persist_unread: Gauge,
    /// Stream entries read by a persister and not yet acknowledged (from the last sweep).
    pub persist_pending: Gauge,
    /// Seconds from a message's creation to this node's hub reading it off the stream.
    pub stream_lag: Histogram,
    /// Seconds from a socket's change to its `ack` (the commit to the message store included).
    pub ack_latency: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("messenger");
        let open_sockets = Family::<Kind, Gauge>::default();
        registry.register(
            "open_sockets",
            "Open WebSocket connections",
            open_sockets.clone(),
        );
        let frames_in = Family::<Kind, Counter>::default();
        registry.register(
            "frames_in",
            "Client frames received, by type",
            frames_in.clone(),
        );
        let frames_out = Family::<Kind, Counter>::default();
        registry.register(
            "frames_out",
            "Server frames sent, by type",
            frames_out.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "errors",
            "Errors answered, by protocol code",
            errors.clone(),
        );
        let slow_closes = Counter::default();
        registry.register(
            "slow_closes",
            "Sockets closed for falling behind (4008)",
            slow_closes.clone(),
        );
        let persist_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        registry.register(
            "persist_batch_size",
            "Events committed per persister batch",
            persist_batch_size.clone(),
        );
        let persist_latency = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "persist_latency_seconds",
            "One persister batch: claim, commit, acknowledge, notify",
            persist_latency.clone(),
        );
        let persist_unread = Gauge::default();
        registry.register(
            "persist_unread",
            "Stream entries no persister has read yet (the persist group's lag), at the last sweep",
            persist_unread.clone(),
        );
        let persist_pending = Gauge::default();
        registry.register(
            "persist_pending",
            "Stream entries read by a persister but not acknowledged, at the last sweep",
            persist_pending.clone(),
        );
        let stream_lag = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "stream_lag_seconds",
            "From a message's creation to this node's hub reading it off the stream",
            stream_lag.clone(),
        );
        let ack_latency = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "ack_latency_seconds",
            "From a socket's change to its ack (commit included)",
            ack_latency.clone(),
        );
        Metrics {
            registry,
            open_sockets,
            frames_in,
            frames_out,
            errors,
            slow_closes,
            persist_batch_size,
            persist_latency,
            persist_unread,
            persist_pending,
            stream_lag,
            ack_latency,
        }
    }
}

impl Metrics {
    /// Counts an error answered with `code` over `via`.
    pub fn error(&self, code: &'static str, via: &'static str) {
        self.errors.get_or_create(&ErrorLabels { code, via }).inc();
    }

    /// Counts a frame of type `kind` in (`true`) or out.
    pub fn frame(&self, incoming: bool, kind: &'static str) {
        let family = if incoming {
            &self.frames_in
        } else {
            &self.frames_out
        };
        family.get_or_create(&Kind { kind }).inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// `GET /metrics`: Prometheus' text format. Like `/healthz`, it needs no token: keep it off
/// the public side of the proxy.
#[handler]
pub fn endpoint(state: Data<&SharedState>) -> Response {
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
