//! Where tests find Postgres and Redis: `DATABASE_URL` / `REDIS_URL`, else the local ones
//! (`postgres://postgres@127.0.0.1:5432/test`, `redis://127.0.0.1:6379`) when they answer,
//! else containers started with testcontainers when a Docker engine is there (feature
//! `containers`), else a failure at once that says how to provide them.

use std::time::Duration;
use tokio::sync::OnceCell;

const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const LOCAL_REDIS: &str = "redis://127.0.0.1:6379";

static POSTGRES: OnceCell<String> = OnceCell::const_new();
static REDIS: OnceCell<String> = OnceCell::const_new();

fn host_port(url: &str, default_port: u16) -> Option<String> {
    let authority = url.split("://").nth(1)?.split('/').next()?;
    let host_port = authority.rsplit('@').next()?;
    Some(if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    })
}

async fn answers(url: &str, default_port: u16) -> bool {
    let Some(addr) = host_port(url, default_port) else {
        return false;
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// The Postgres server tests use.
pub async fn postgres_url() -> String {
    POSTGRES
        .get_or_init(|| async {
            if let Ok(url) = std::env::var("DATABASE_URL") {
                return url;
            }
            if answers(LOCAL_POSTGRES, 5432).await {
                return LOCAL_POSTGRES.to_owned();
            }
            containers::postgres().await.unwrap_or_else(|why| {
                panic!(
                    "no Postgres for the tests: nothing answers at {LOCAL_POSTGRES}, DATABASE_URL is not set, \
                     and no container could be started ({why}). Start Postgres (pg_ctlcluster 15 main start), \
                     set DATABASE_URL, or run a Docker engine"
                )
            })
        })
        .await
        .clone()
}

/// The Redis server tests use.
pub async fn redis_url() -> String {
    REDIS
        .get_or_init(|| async {
            if let Ok(url) = std::env::var("REDIS_URL") {
                return url;
            }
            if answers(LOCAL_REDIS, 6379).await {
                return LOCAL_REDIS.to_owned();
            }
            containers::redis().await.unwrap_or_else(|why| {
                panic!(
                    "no Redis for the tests: nothing answers at {LOCAL_REDIS}, REDIS_URL is not set, \
                     and no container could be started ({why}). Start Redis (redis-server --daemonize yes \
                     --port 6379 --save '' --appendonly no), set REDIS_URL, or run a Docker engine"
                )
            })
        })
        .await
        .clone()
}

#[cfg(any(test, feature = "containers"))]
mod containers {
    use std::sync::Mutex;
    use testcontainers_modules::testcontainers::runners::AsyncRunner;
    use testcontainers_modules::testcontainers::ContainerAsync;
    use testcontainers_modules::{postgres::Postgres, redis::Redis};

    /// The containers started by this process.
    type Started = (Vec<ContainerAsync<Postgres>>, Vec<ContainerAsync<Redis>>);

    /// Containers live as long as the test process.
    static KEEP: Mutex<Started> = Mutex::new((Vec::new(), Vec::new()));

    pub async fn postgres() -> Result<String, String> {
        let c = Postgres::default()
            .start()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let port = c
            .get_host_port_ipv4(5432)
            .await
            .map_err(|e| format!("{e:?}"))?;
        KEEP.lock().unwrap_or_else(|p| p.into_inner()).0.push(c);
        Ok(format!(
            "postgres://postgres:postgres@127.0.0.1:{port}/postgres"
        ))
    }

    pub async fn redis() -> Result<String, String> {
        let c = Redis::default()
            .start()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let port = c
            .get_host_port_ipv4(6379)
            .await
            .map_err(|e| format!("{e:?}"))?;
        KEEP.lock().unwrap_or_else(|p| p.into_inner()).1.push(c);
        Ok(format!("redis://127.0.0.1:{port}"))
    }
}

#[cfg(not(any(test, feature = "containers")))]
mod containers {
    pub async fn postgres() -> Result<String, String> {
        Err("built without the `containers` feature".into())
    }

    pub async fn redis() -> Result<String, String> {
        Err("built without the `containers` feature".into())
    }
}
