//! Tables for people, JSON for scripts.

use anyhow::bail;
use serde_json::{json, Value};

pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints rows as an aligned table (or the JSON value).
    pub fn table(&self, headers: &[&str], rows: Vec<Vec<String>>, value: Value) {
        if self.json {
            println!("{value}");
            return;
        }
        let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        println!(
            "{}",
            line(headers.iter().map(|h| h.to_uppercase()).collect())
        );
        for row in rows {
            println!("{}", line(row));
        }
    }

    /// Prints `key: value` lines (or the JSON value).
    pub fn record(&self, fields: &[(&str, String)], value: Value) {
        if self.json {
            println!("{value}");
            return;
        }
        let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in fields {
            println!("{k:<width$}  {v}");
        }
    }

    pub fn done(&self, what: &str) {
        if self.json {
            println!("{}", json!({"ok": true, "message": what}));
        } else {
            println!("{what}");
        }
    }
}

pub async fn health(out: &Output, url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let base = url.trim_end_matches('/');
    let mut rows = Vec::new();
    let mut all_ok = true;
    for path in ["/healthz", "/readyz"] {
        let status = match http.get(format!("{base}{path}")).send().await {
            Ok(resp) => resp.status().as_u16(),
            Err(e) => bail!("cannot reach {base}{path}: {e}"),
        };
        all_ok &= status == 200;
        rows.push((path, status));
    }
    out.table(
        &["check", "status"],
        rows.iter()
            .map(|(p, s)| vec![p.to_string(), s.to_string()])
            .collect(),
        json!(rows
            .iter()
            .map(|(p, s)| (p.trim_start_matches('/').to_owned(), json!(s)))
            .collect::<serde_json::Map<_, _>>()),
    );
    if !all_ok {
        bail!("the server is not ready");
    }
    Ok(())
}
