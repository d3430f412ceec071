//! The web client: a few static files embedded in the binary, served at `/`.
//!
//! `MESSENGER_WEB_DIR` (development only) serves the same files from a folder instead, so the
//! page can be changed without rebuilding the server.

use std::path::PathBuf;

use poem::http::{header, Method, StatusCode};
use poem::web::{Data, Path};
use poem::{handler, Body, Endpoint, IntoResponse, Request, Response};

use crate::config::Config;
use crate::state::AppState;

/// One file of the client.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

/// A script module of the page, from `web/`.
macro_rules! module {
    ($name:literal) => {
        Asset {
            name: $name,
            content_type: JAVASCRIPT,
            body: include_str!(concat!("../web/", $name)),
        }
    };
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../web/index.html"),
    },
    module!("app.js"),
    module!("messenger-client.js"),
    module!("state.js"),
    module!("feed.js"),
    module!("conversation.js"),
    module!("dom.js"),
    module!("format.js"),
    module!("view-auth.js"),
    module!("view-chat-list.js"),
    module!("view-conversation.js"),
    module!("view-composer.js"),
    module!("view-people.js"),
    module!("view-chat-info.js"),
    module!("validation.js"),
    module!("unread.js"),
    module!("receipts.js"),
    module!("timeline.js"),
    module!("message-row.js"),
    module!("roving.js"),
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../web/app.css"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../web/icon.svg"),
    },
];

/// The page may talk to this origin only (its API and sockets), and runs no inline script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The API with the page at `GET /`.
///
/// The page cannot be a route of its own: the API is nested at `/`, and poem's catch-all for
/// that nest also takes `/` itself.
pub struct WithPage<E> {
    api: E,
    dir: Option<PathBuf>,
}

impl<E> WithPage<E> {
    /// Wraps the API endpoint.
    pub fn new(api: E, config: &Config) -> Self {
        WithPage {
            api,
            dir: config.web_dir.clone(),
        }
    }
}

impl<E: Endpoint> Endpoint for WithPage<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if req.uri().path() == "/" {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return Err(poem::Error::from_status(StatusCode::METHOD_NOT_ALLOWED));
            }
            return Ok(serve(self.dir.clone(), "index.html").await);
        }
        Ok(self.api.call(req).await?.into_response())
    }
}

/// `GET /web/:file`: the page's script modules, style and icon.
#[handler]
pub async fn static_file(
    state: Data<&std::sync::Arc<AppState>>,
    Path(file): Path<String>,
) -> Response {
    serve(state.config.web_dir.clone(), &file).await
}

/// Whether `name` may be a module of the page that is in `MESSENGER_WEB_DIR` but not embedded
/// yet (developing the page): a plain `*.js` name, so the path cannot leave the folder.
fn is_plain_module_name(name: &str) -> bool {
    name.strip_suffix(".js").is_some_and(|stem| {
        !stem.is_empty()
            && stem
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    })
}

async fn serve(dir: Option<PathBuf>, name: &str) -> Response {
    let embedded = ASSETS.iter().find(|a| a.name == name);
    let (content_type, body) = match (embedded, dir) {
        // Only checked names reach the folder, so the path cannot leave it.
        (Some(asset), Some(dir)) => match tokio::fs::read_to_string(dir.join(asset.name)).await {
            Ok(text) => (asset.content_type, Body::from_string(text)),
            Err(e) => {
                tracing::warn!(
                    file = asset.name,
                    "MESSENGER_WEB_DIR: {e}; serving the embedded copy"
                );
                (asset.content_type, Body::from(asset.body))
            }
        },
        // The embedded copy is served as is, without copying it per request.
        (Some(asset), None) => (asset.content_type, Body::from(asset.body)),
        (None, Some(dir)) if is_plain_module_name(name) => {
            match tokio::fs::read_to_string(dir.join(name)).await {
                Ok(text) => (JAVASCRIPT, Body::from_string(text)),
                Err(_) => return StatusCode::NOT_FOUND.into_response(),
            }
        }
        // The edge middleware turns this into the protocol's `not_found` error body.
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .body(body)
}
