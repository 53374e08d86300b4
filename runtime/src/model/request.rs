//! The request body of an OpenAI-compatible `/v1/chat/completions` call, and the answer
//! read back from the response. The body's bytes are the cache key's input, so they are
//! built deterministically (fields in a fixed order, numbers printed one way).

use super::{ModelConfig, Settings, Structured};
use serde_json::{Map, Value, json};

/// What a typed prompt asks for: a JSON Schema, and a name for it.
#[derive(Clone, Debug)]
pub struct Schema {
    pub name: String,
    pub schema: Value,
}

/// The request body for `prompt` sent to model `m`, with `over` winning over the model's
/// settings.
pub fn body(m: &ModelConfig, prompt: &str, schema: Option<&Schema>, over: Settings) -> Vec<u8> {
    let mut content = prompt.to_string();
    let mut obj = Map::new();
    obj.insert("model".into(), Value::String(m.model.clone()));
    if let Some(s) = schema {
        match m.structured_output {
            Structured::JsonSchema => {
                obj.insert(
                    "response_format".into(),
                    json!({
                        "type": "json_schema",
                        "json_schema": { "name": s.name, "strict": true, "schema": s.schema },
                    }),
                );
            }
            Structured::JsonObject => {
                obj.insert("response_format".into(), json!({ "type": "json_object" }));
                content.push_str(&schema_text(s));
            }
            Structured::Prompt => content.push_str(&schema_text(s)),
        }
    }
    obj.insert("messages".into(), json!([{ "role": "user", "content": content }]));
    if let Some(t) = over.temperature.or(m.temperature) {
        obj.insert("temperature".into(), json!(t));
    }
    if let Some(n) = over.max_tokens.or(m.max_tokens) {
        obj.insert("max_tokens".into(), json!(n));
    }
    serde_json::to_vec(&Value::Object(obj)).unwrap_or_default()
}

/// The instruction added to a prompt when the schema goes in the text.
fn schema_text(s: &Schema) -> String {
    format!(
        "\n\nAnswer with one JSON value, and nothing else, that matches this JSON Schema:\n{}\n",
        serde_json::to_string(&s.schema).unwrap_or_default()
    )
}

/// A successful response, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// Reads `choices[0].message.content` and `usage` from a 2xx response body. A body that
/// is not JSON or has no content is an error (worth a retry: it may have been cut short).
pub fn answer(body: &str) -> Result<Answer, String> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| format!("the response is not JSON ({e}): {}", excerpt(body)))?;
    let usage = |k: &str| v.pointer(&format!("/usage/{k}")).and_then(Value::as_u64).unwrap_or(0);
    let (tokens_in, tokens_out) = (usage("prompt_tokens"), usage("completion_tokens"));
    let Some(choices) = v.get("choices").and_then(Value::as_array) else {
        return Err(format!("the response has no `choices`: {}", excerpt(body)));
    };
    let Some(first) = choices.first() else {
        return Err("the response's `choices` is empty".into());
    };
    match first.pointer("/message/content") {
        Some(Value::String(s)) => Ok(Answer { text: s.clone(), tokens_in, tokens_out }),
        _ => {
            Err(format!("the response has no `choices[0].message.content` text: {}", excerpt(body)))
        }
    }
}

/// The provider's message in an error body (`error.message`, or the body's start).
pub fn error_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        for p in ["/error/message", "/error", "/message", "/detail"] {
            if let Some(Value::String(s)) = v.pointer(p) {
                return excerpt(s);
            }
        }
    }
    excerpt(body)
}

/// At most 200 characters of `s`, on one line.
pub fn excerpt(s: &str) -> String {
    let one: String = s.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one.chars().count() > 200 {
        format!("{}...", one.chars().take(200).collect::<String>())
    } else if one.is_empty() {
        "(empty body)".into()
    } else {
        one
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_deterministic_and_carries_settings() {
        let mut m = ModelConfig::new("default", "http://x/v1", "m1");
        m.temperature = Some(0.0);
        m.max_tokens = Some(5);
        let b = String::from_utf8(body(&m, "hi", None, Settings::default())).unwrap();
        assert_eq!(
            b,
            r#"{"model":"m1","messages":[{"role":"user","content":"hi"}],"temperature":0.0,"max_tokens":5}"#
        );
        assert_eq!(m.endpoint(), "http://x/v1/chat/completions");
        let over = Settings { temperature: Some(0.5), max_tokens: None };
        let b = String::from_utf8(body(&m, "hi", None, over)).unwrap();
        assert!(b.ends_with(r#""temperature":0.5,"max_tokens":5}"#), "{b}");
    }

    #[test]
    fn structured_modes() {
        let mut m = ModelConfig::new("d", "http://x/v1", "m");
        let s = Schema { name: "answer".into(), schema: json!({"type": "integer"}) };
        let b = String::from_utf8(body(&m, "q", Some(&s), Settings::default())).unwrap();
        assert!(b.contains(r#""response_format":{"type":"json_schema""#), "{b}");
        m.structured_output = Structured::JsonObject;
        let b = String::from_utf8(body(&m, "q", Some(&s), Settings::default())).unwrap();
        assert!(b.contains(r#"{"type":"json_object"}"#) && b.contains("JSON Schema"), "{b}");
        m.structured_output = Structured::Prompt;
        let b = String::from_utf8(body(&m, "q", Some(&s), Settings::default())).unwrap();
        assert!(!b.contains("response_format") && b.contains(r#"{\"type\":\"integer\"}"#), "{b}");
    }

    #[test]
    fn answers() {
        let ok = r#"{"choices":[{"message":{"content":"yes"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#;
        assert_eq!(answer(ok).unwrap(), Answer { text: "yes".into(), tokens_in: 3, tokens_out: 1 });
        let no_usage = r#"{"choices":[{"message":{"content":"yes"}}]}"#;
        assert_eq!(answer(no_usage).unwrap().tokens_in, 0);
        assert!(answer(r#"{"usage":{}}"#).unwrap_err().contains("no `choices`"));
        assert!(answer(r#"{"choices":[{"mess"#).unwrap_err().contains("not JSON"));
        assert_eq!(error_message(r#"{"error":{"message":"bad model"}}"#), "bad model");
    }
}
