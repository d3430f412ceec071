//! Names the field behind a request-body parse failure. poem-openapi says only which schema
//! failed ("occurred while parsing \"RegisterIn\""); this finds the missing or mistyped field
//! by checking the body against that schema in the service's own OpenAPI document, so the
//! document stays the one source of truth.

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

/// The request schemas of an OpenAPI document, by name.
#[derive(Debug, Default, Clone)]
pub struct PayloadSchemas {
    schemas: HashMap<String, Vec<Field>>,
}

impl PayloadSchemas {
    /// Reads `components.schemas` of an OpenAPI document (JSON text).
    pub fn from_spec(spec_json: &str) -> Self {
        let spec: Value = serde_json::from_str(spec_json).unwrap_or(Value::Null);
        let mut schemas = HashMap::new();
        if let Some(all) = spec.pointer("/components/schemas").and_then(Value::as_object) {
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
        PayloadSchemas { schemas }
    }

    /// A message naming the offending field of `body`, given poem-openapi's parse error text.
    pub fn explain(&self, poem_message: &str, body: &[u8]) -> Option<String> {
        let schema = poem_message
            .split("occurred while parsing \"")
            .nth(1)?
            .split('"')
            .next()?;
        let fields = self.schemas.get(schema)?;
        let value: Value = serde_json::from_slice(body).ok()?;
        let Value::Object(obj) = value else {
            return Some("body: must be a JSON object".to_owned());
        };
        fields.iter().find_map(|f| check(f, &obj))
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
        assert_eq!(explain(r#"{"participants":[]}"#).as_deref(), Some("name: is required"));
        assert_eq!(explain(r#"{"name":5,"participants":[]}"#).as_deref(), Some("name: must be a string"));
        assert_eq!(explain(r#"{"name":"x","participants":"1"}"#).as_deref(), Some("participants: must be an array"));
        assert_eq!(explain(r#"{"name":"x","participants":["a"]}"#).as_deref(), Some("participants: must be a list of integers"));
        assert_eq!(explain(r#"[1]"#).as_deref(), Some("body: must be a JSON object"));
        assert_eq!(explain(r#"{"name":"x","participants":[1],"note":null}"#), None);
        assert_eq!(explain("not json"), None);
    }
}
