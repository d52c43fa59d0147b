//! `archon view`: a read-only web UI over a runs folder — one page for both kinds of
//! experiment (classic trials, one-shot supernets), live while they run. The page is
//! plain HTML/JS/SVG embedded in the binary: nothing is fetched from the internet.

pub mod api;
pub mod cell_layout;
pub mod http;
pub mod report;

use anyhow::{bail, Context, Result};
use http::{Request, Response};
use std::{net::IpAddr, path::PathBuf, sync::Arc};

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// Where and what to serve.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// The runs folder.
    pub runs: PathBuf,
    /// Address to bind (loopback unless `allow_remote`).
    pub host: IpAddr,
    /// Port (0: any free port).
    pub port: u16,
    /// Allow a non-loopback address.
    pub allow_remote: bool,
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    Response {
        status: 200,
        content_type,
        body: body.as_bytes().to_vec(),
    }
}

/// Answers one request.
pub fn route(runs: &std::path::Path, req: &Request) -> Response {
    match req.path.as_str() {
        "/" | "/index.html" => asset(INDEX_HTML, "text/html; charset=utf-8"),
        "/app.js" => asset(APP_JS, "text/javascript; charset=utf-8"),
        "/app.css" => asset(APP_CSS, "text/css; charset=utf-8"),
        p if p.starts_with("/api/") => api::handle(runs, req),
        _ => Response::error(404, "not found"),
    }
}

/// Serves the UI until the process is stopped; calls `ready` with the URL once
/// listening.
pub fn serve(opts: &ViewOptions, ready: impl FnOnce(&str)) -> Result<()> {
    if !opts.host.is_loopback() && !opts.allow_remote {
        bail!(
            "--host {}: not a loopback address; the UI shows everything in {} to anyone who can reach it. Add --allow-remote to bind it anyway",
            opts.host,
            opts.runs.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((opts.host, opts.port))
            .await
            .with_context(|| format!("binding {}:{}", opts.host, opts.port))?;
        let addr = listener.local_addr()?;
        if !opts.host.is_loopback() {
            archon_core::reporter::warning(format!(
                "serving {} on {addr}, reachable from other machines",
                opts.runs.display()
            ));
        }
        ready(&format!("http://{addr}/"));
        let runs = Arc::new(opts.runs.clone());
        // A loopback UI answers only requests that name a loopback host (DNS
        // rebinding); one bound for other machines with --allow-remote answers all.
        let loopback_only = opts.host.is_loopback();
        http::serve(listener, loopback_only, move |req: &Request| {
            route(&runs, req)
        })
        .await;
        Ok(())
    })
}
