//! The JSON Schema of a Kiln type: what a typed prompt (LANGUAGE.md §4.1) asks its model
//! for. Records list every field as required and allow no others (the form OpenAI's strict
//! `json_schema` mode accepts); an optional `T?` is `T` or `null`.

use super::types::Ty;
use serde_json::{Map, Value, json};

/// The schema of values of type `ty`.
pub fn schema(ty: &Ty) -> Value {
    match ty {
        Ty::Int => json!({ "type": "integer" }),
        Ty::Float => json!({ "type": "number" }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Str => json!({ "type": "string" }),
        Ty::Null => json!({ "type": "null" }),
        Ty::List(t) => json!({ "type": "array", "items": schema(t) }),
        Ty::Vec(n) => json!({
            "type": "array",
            "items": { "type": "number" },
            "minItems": n,
            "maxItems": n,
        }),
        Ty::Optional(t) => json!({ "anyOf": [schema(t), { "type": "null" }] }),
        Ty::Record(fields) => {
            let mut props = Map::new();
            for f in fields.iter() {
                props.insert(f.name.to_string(), schema(&f.ty));
            }
            let required: Vec<Value> =
                fields.iter().map(|f| Value::String(f.name.to_string())).collect();
            json!({
                "type": "object",
                "properties": props,
                "required": required,
                "additionalProperties": false,
            })
        }
        // Not a type a prompt can return: anything.
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::types::Field;
    use std::rc::Rc;

    #[test]
    fn records_lists_optionals_and_vectors() {
        let t = Ty::Record(Rc::from(vec![
            Field { name: Rc::from("label"), ty: Ty::Str },
            Field { name: Rc::from("confidence"), ty: Ty::Float },
            Field { name: Rc::from("tags"), ty: Ty::Optional(Rc::new(Ty::list(Ty::Str))) },
            Field { name: Rc::from("v"), ty: Ty::Vec(2) },
        ]));
        assert_eq!(
            schema(&t).to_string(),
            r#"{"type":"object","properties":{"label":{"type":"string"},"confidence":{"type":"number"},"tags":{"anyOf":[{"type":"array","items":{"type":"string"}},{"type":"null"}]},"v":{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":2}},"required":["label","confidence","tags","v"],"additionalProperties":false}"#
        );
    }
}
