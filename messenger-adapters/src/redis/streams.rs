//! Reading stream replies (`XREAD`, `XRANGE`, `XREADGROUP`, `XAUTOCLAIM`) out of raw values.

use fred::types::Value;
use std::collections::HashMap;

/// One stream entry: its id and fields.
pub type Entry = (String, HashMap<String, String>);

fn text(v: &Value) -> Option<String> {
    v.as_string()
}

/// Entries of an `XRANGE`-shaped reply: `[[id, [field, value, …]], …]`.
pub fn entries(v: Value) -> Vec<Entry> {
    let Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|item| {
            let Value::Array(mut pair) = item else {
                return None;
            };
            if pair.len() < 2 {
                return None;
            }
            let fields = pair.pop()?;
            let id = text(&pair[0])?;
            let mut map = HashMap::new();
            match fields {
                Value::Array(flat) => {
                    for kv in flat.chunks(2) {
                        if let [k, v] = kv {
                            map.insert(text(k)?, text(v)?);
                        }
                    }
                }
                Value::Map(m) => {
                    for (k, v) in m.inner() {
                        map.insert(k.as_str()?.to_owned(), text(&v)?);
                    }
                }
                // A pending entry whose data was trimmed away: no fields.
                _ => {}
            }
            Some((id, map))
        })
        .collect()
}

/// Streams of an `XREAD`-shaped reply: `[[key, entries], …]` (or a map of key to entries).
pub fn streams(v: Value) -> Vec<(String, Vec<Entry>)> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| {
                let Value::Array(mut pair) = item else {
                    return None;
                };
                if pair.len() != 2 {
                    return None;
                }
                let list = pair.pop()?;
                Some((text(&pair[0])?, entries(list)))
            })
            .collect(),
        Value::Map(m) => m
            .inner()
            .into_iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), entries(v))))
            .collect(),
        _ => Vec::new(),
    }
}

/// The position encoded in an entry id `123-0`.
pub fn seq_of(id: &str) -> Option<i64> {
    id.split('-').next()?.parse().ok()
}
