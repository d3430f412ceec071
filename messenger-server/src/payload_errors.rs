//! Checks request bodies against the service's own OpenAPI document before the handler runs,
//! and names the field behind any parse failure. poem-openapi accepts a number where a string
//! is declared and says only which schema failed ("occurred while parsing \"RegisterIn\"") or
//! which path parameter (`param0`); the document, the one source of truth, knows the names.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// One property of a request schema.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    ty: Option<String>,
    items: Option<String>,
    required: bool,
}

/// One operation of the document: its path template, body schema and path parameters.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    /// Path segments; `None` stands for a parameter.
    segments: Vec<Option<String>>,
    body_schema: Option<String>,
    path_params: Vec<String>,
}

impl Operation {
    fn matches(&self, method: &str, path: &str) -> bool {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.method.eq_ignore_ascii_case(method)
            && parts.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(&parts)
                .all(|(seg, part)| seg.as_deref().is_none_or(|s| s == *part))
    }
}

/// The request schemas and operations of an OpenAPI document.
#[derive(Debug, Default, Clone)]
pub struct PayloadSchemas {
    schemas: HashMap<String, Vec<Field>>,
    operations: Vec<Operation>,
}

impl PayloadSchemas {
    /// Reads `components.schemas` of an OpenAPI document (JSON text).
    pub fn from_spec(spec_json: &str) -> Self {
        let spec: Value = serde_json::from_str(spec_json).unwrap_or(Value::Null);
        let mut schemas = HashMap::new();
        if let Some(all) = spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for (name, schema) in all {
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let fields = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|props| {
                        props
                            .iter()
                            .map(|(field, p)| Field {
                                name: field.clone(),
                                ty: p.get("type").and_then(Value::as_str).map(str::to_owned),
                                items: p
                                    .pointer("/items/type")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned),
                                required: required.contains(&field.as_str()),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                schemas.insert(name.clone(), fields);
            }
        }
        let mut operations = Vec::new();
        if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
            for (template, methods) in paths {
                let segments = template
                    .trim_matches('/')
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                    .collect::<Vec<_>>();
                for (method, op) in methods.as_object().into_iter().flatten() {
                    let body_schema = op
                        .pointer("/requestBody/content")
                        .and_then(Value::as_object)
                        .and_then(|c| c.values().next())
                        .and_then(|c| c.pointer("/schema/$ref"))
                        .and_then(Value::as_str)
                        .and_then(|r| r.rsplit('/').next())
                        .map(str::to_owned);
                    let path_params = op
                        .get("parameters")
                        .and_then(Value::as_array)
                        .map(|ps| {
                            ps.iter()
                                .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
                                .filter_map(|p| p.get("name").and_then(Value::as_str))
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    operations.push(Operation {
                        method: method.clone(),
                        segments: segments.clone(),
                        body_schema,
                        path_params,
                    });
                }
            }
        }
        PayloadSchemas {
            schemas,
            operations,
        }
    }

    fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.matches(method, path))
    }

    /// Why a JSON `body` does not fit the schema of the operation at `method path`, naming the
    /// field; `None` when it fits (or is not JSON, which the handler reports).
    pub fn check_body(&self, method: &str, path: &str, body: &[u8]) -> Option<String> {
        let schema = self.operation(method, path)?.body_schema.as_deref()?;
        self.check_against(schema, body)
    }

    /// `message` with poem's positional path parameter names (`param0`) replaced by the
    /// document's names (`id`).
    pub fn name_path_params(&self, method: &str, path: &str, message: &str) -> String {
        let Some(op) = self.operation(method, path) else {
            return message.to_owned();
        };
        op.path_params
            .iter()
            .enumerate()
            .fold(message.to_owned(), |msg, (i, name)| {
                msg.replace(&format!("`param{i}`"), &format!("`{name}`"))
            })
    }

    fn check_against(&self, schema: &str, body: &[u8]) -> Option<String> {
        let fields = self.schemas.get(schema)?;
        let value: Value = serde_json::from_slice(body).ok()?;
        let Value::Object(obj) = value else {
            return Some("body: must be a JSON object".to_owned());
        };
        fields.iter().find_map(|f| check(f, &obj))
    }

    /// A message naming the offending field of `body`, given poem-openapi's parse error text.
    pub fn explain(&self, poem_message: &str, body: &[u8]) -> Option<String> {
        let schema = poem_message
            .split("occurred while parsing \"")
            .nth(1)?
            .split('"')
            .next()?;
        self.check_against(schema, body)
    }
}

fn check(field: &Field, obj: &Map<String, Value>) -> Option<String> {
    let name = &field.name;
    match obj.get(name) {
        None | Some(Value::Null) if field.required => Some(format!("{name}: is required")),
        None | Some(Value::Null) => None,
        Some(v) => {
            let ty = field.ty.as_deref()?;
            if fits(ty, v) {
                if let (Some(items), Value::Array(elems)) = (field.items.as_deref(), v) {
                    if !elems.iter().all(|e| fits(items, e)) {
                        return Some(format!("{name}: must be a list of {items}s"));
                    }
                }
                None
            } else {
                Some(format!("{name}: must be {}", article(ty)))
            }
        }
    }
}

fn fits(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "integer" => v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

fn article(ty: &str) -> String {
    match ty {
        "integer" | "array" | "object" => format!("an {ty}"),
        other => format!("a {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"{"components":{"schemas":{"CreateChatIn":{"type":"object","required":["name","participants"],
        "properties":{"name":{"type":"string"},"participants":{"type":"array","items":{"type":"integer"}},"note":{"type":"string"}}}}}}"#;

    fn explain(body: &str) -> Option<String> {
        PayloadSchemas::from_spec(SPEC).explain(
            "parse request payload error: Expected input type \"string\", found null. (occurred while parsing \"CreateChatIn\")",
            body.as_bytes(),
        )
    }

    #[test]
    fn names_missing_and_mistyped_fields() {
        assert_eq!(
            explain(r#"{"participants":[]}"#).as_deref(),
            Some("name: is required")
        );
        assert_eq!(
            explain(r#"{"name":5,"participants":[]}"#).as_deref(),
            Some("name: must be a string")
        );
        assert_eq!(
            explain(r#"{"name":"x","participants":"1"}"#).as_deref(),
            Some("participants: must be an array")
        );
        assert_eq!(
            explain(r#"{"name":"x","participants":["a"]}"#).as_deref(),
            Some("participants: must be a list of integers")
        );
        assert_eq!(
            explain(r#"[1]"#).as_deref(),
            Some("body: must be a JSON object")
        );
        assert_eq!(
            explain(r#"{"name":"x","participants":[1],"note":null}"#),
            None
        );
        assert_eq!(explain("not json"), None);
    }

    const ROUTES: &str = r##"{"paths":{"/chats/{id}/participants/{user_id}":{"delete":{"parameters":[
        {"name":"id","in":"path"},{"name":"user_id","in":"path"}]}},
        "/chats":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/CreateChatIn"}}}}}}},
        "components":{"schemas":{"CreateChatIn":{"required":["name"],"properties":{"name":{"type":"string"}}}}}}"##;

    #[test]
    fn checks_bodies_by_route_and_names_path_parameters() {
        let s = PayloadSchemas::from_spec(ROUTES);
        assert_eq!(
            s.check_body("POST", "/chats", br#"{"name":5}"#).as_deref(),
            Some("name: must be a string")
        );
        assert_eq!(s.check_body("POST", "/chats", br#"{"name":"x"}"#), None);
        assert_eq!(s.check_body("GET", "/chats", br#"{"name":5}"#), None);
        assert_eq!(
            s.name_path_params(
                "DELETE",
                "/chats/1/participants/bob",
                "failed to parse path `param1`: bad"
            ),
            "failed to parse path `user_id`: bad"
        );
        assert_eq!(
            s.name_path_params("DELETE", "/chats/1/other", "`param1`"),
            "`param1`"
        );
    }
}
