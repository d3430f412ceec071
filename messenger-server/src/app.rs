//! Building and running one server node: adapters from config, services, the persister, the
//! hubs, and the HTTP + WebSocket routes; graceful shutdown.

use crate::config::Config;
use crate::limits::{LoginThrottle, RateLimiter};
use crate::metrics::Metrics;
use crate::payload_errors::PayloadSchemas;
use crate::realtime::{persister_task, AckHub, ChatSource, FeedSource, Hub};
use crate::state::{AppState, ConnIds, SharedState};
use crate::{api, http, ws};
use anyhow::Context;
use messenger_adapters::backend::{Migrations, Storage};
use messenger_core::services::{AuthSettings, Persister, Ports, Services};
use messenger_core::NodeId;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{get, EndpointExt, IntoEndpoint, Route, Server};
use rand::RngCore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long sockets get to close when the server stops.
const SOCKET_GRACE: Duration = Duration::from_secs(5);
/// Reader tasks (each one blocking connection) for user feeds. Chats get one per read lane of
/// their streams (the hub follows each lane's log).
const FEED_READERS: usize = 1;
/// Group commit size of the persister.
const PERSIST_BATCH: usize = 512;

/// A bound, ready-to-run server node.
pub struct Application {
    addr: SocketAddr,
    acceptor: TcpAcceptor,
    state: SharedState,
    shutdown: CancellationToken,
    background_stop: CancellationToken,
    background: TaskTracker,
    persister_stop: CancellationToken,
    persister: TaskTracker,
    jwt_random: bool,
    in_memory: bool,
}

impl Application {
    /// Builds the adapters named by `config` and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let (secret, random) = match &config.jwt_secret {
            Some(s) => (s.expose().as_bytes().to_vec(), false),
            None => {
                let mut bytes = vec![0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                (bytes, true)
            }
        };
        let storage = Storage::open(&config.backend, &secret, Migrations::Apply).await?;
        let mut app = Self::build_with_storage(config, storage).await?;
        app.jwt_random = random;
        Ok(app)
    }

    /// Binds the listener and wires the given ports (embedders and tests bring their own).
    pub async fn build_with_ports(config: Config, ports: Ports) -> anyhow::Result<Self> {
        Self::build_with_storage(config, Storage::from_ports(ports)).await
    }

    async fn build_with_storage(config: Config, storage: Storage) -> anyhow::Result<Self> {
        let in_memory = !storage.is_durable();
        let ports = storage.ports.clone();
        let acceptor = TcpListener::bind(config.addr.to_string())
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("the listener has no TCP address")?;
        let node = NodeId(format!("node-{}", node_suffix()));
        let services = Services::new(
            ports.clone(),
            AuthSettings {
                token_ttl_secs: config.token_ttl_secs,
            },
        );
        let background_stop = CancellationToken::new();
        let background = TaskTracker::new();
        let acks = Arc::new(AckHub::new(node.clone()));
        let metrics = Arc::new(Metrics::default());
        let chats_hub = Hub::new(
            Arc::new(ChatSource::new(
                ports.log.clone(),
                ports.lanes.clone(),
                services.presence.clone(),
                metrics.clone(),
            )),
            1,
            background_stop.clone(),
            background.clone(),
        );
        let feeds_hub = Hub::new(
            Arc::new(FeedSource::new(ports.feed.clone())),
            FEED_READERS,
            background_stop.clone(),
            background.clone(),
        );
        let persister_stop = CancellationToken::new();
        let persister = TaskTracker::new();
        let commits = storage.commit_routing(node.clone(), acks.clone(), background_stop.clone());
        if let Some(listener) = commits.listener {
            background.spawn(listener);
        }
        background.spawn(crate::realtime::maintenance::run(
            ports.clone(),
            metrics.clone(),
            background_stop.clone(),
        ));
        persister.spawn(persister_task::run(
            Persister::new(
                &ports,
                commits.notifier,
                format!("{}-persister", node.0),
                PERSIST_BATCH,
            ),
            metrics.clone(),
            persister_stop.clone(),
        ));
        let state = Arc::new(AppState {
            services,
            acks,
            chats_hub,
            feeds_hub,
            node,
            limiter: RateLimiter::per_second(config.send_rate_per_sec),
            login_throttle: LoginThrottle::default(),
            metrics,
            config,
            storage: Arc::new(storage),
            sockets_stop: CancellationToken::new(),
            sockets: TaskTracker::new(),
            conn_ids: ConnIds::default(),
        });
        Ok(Application {
            addr,
            acceptor,
            state,
            shutdown: CancellationToken::new(),
            background_stop,
            background,
            persister_stop,
            persister,
            jwt_random: false,
            in_memory,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cancel it to stop the server gracefully.
    pub fn shutdown_handle(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown handle is cancelled: then stops accepting, closes every
    /// socket with a close frame, finishes persisting what was queued, and returns.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let storage = if self.in_memory {
            "in-memory storage (nothing survives a restart; set DATABASE_URL and REDIS_URL for Postgres + Redis)"
        } else {
            "Postgres + Redis"
        };
        tracing::info!(addr = %self.addr, "messenger listening on http://{} with {storage}", self.addr);
        if self.jwt_random {
            tracing::warn!("JWT_SECRET is not set: using a random secret; tokens die with this process and other nodes will not accept them");
        }
        let state = self.state.clone();
        let api = api::service(state.clone()).server(format!("http://{}", self.addr));
        let schemas = Arc::new(PayloadSchemas::from_spec(&api.spec()));
        let metrics = state.metrics.clone();
        let spec = api.spec_endpoint();
        let docs = api.swagger_ui();
        let app = Route::new()
            .at("/openapi.json", get(spec))
            .nest("/docs", docs)
            .at("/chat/:id", get(ws::chat_socket))
            .at("/events", get(ws::events_socket))
            .at("/metrics", get(crate::metrics::endpoint))
            .at("/web/:file", get(crate::web::static_file))
            .nest(
                "/",
                crate::web::WithPage::new(api.into_endpoint(), &self.state.config),
            )
            .around(move |ep, req| http::edge(ep, req, schemas.clone(), metrics.clone()))
            .data(state.clone());

        let shutdown = self.shutdown.clone();
        let sockets_stop = state.sockets_stop.clone();
        let sockets = state.sockets.clone();
        let server = Server::new_with_acceptor(crate::listener::NoDelay(self.acceptor))
            .run_with_graceful_shutdown(
                app,
                async move {
                    shutdown.cancelled().await;
                    tracing::info!("shutting down: closing sockets");
                    sockets_stop.cancel();
                    sockets.close();
                    let _ = tokio::time::timeout(SOCKET_GRACE, sockets.wait()).await;
                },
                Some(SOCKET_GRACE),
            );
        let served = server.await;
        self.background_stop.cancel();
        self.background.close();
        self.background.wait().await;
        self.persister_stop.cancel();
        self.persister.close();
        self.persister.wait().await;
        self.state.storage.close().await;
        tracing::info!("stopped");
        served.context("server failed")
    }
}

fn node_suffix() -> String {
    let mut bytes = [0u8; 6];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
