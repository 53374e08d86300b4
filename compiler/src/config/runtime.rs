//! The settings of a checked `kiln.toml` as the runtime's model client takes them
//! ([`kiln_runtime::model::Config`]), defaults filled in (docs/models.md). Only the *name*
//! of the API key's variable is carried; the key is read by the client when a run starts.

use kiln_runtime::model::{Config, ModelConfig, Structured};
use std::time::Duration;
use toml::de::{DeTable, DeValue};

/// The base URL of `provider = "openai"` when `base_url` is not given.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

fn int(v: &DeValue<'_>) -> Option<i64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

fn float(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Float(f) => f.as_str().parse().ok(),
        DeValue::Integer(_) => int(v).map(|n| n as f64),
        _ => None,
    }
}

fn count(v: &DeValue<'_>) -> Option<u64> {
    int(v).and_then(|n| u64::try_from(n).ok())
}

/// Reads the models and budget of `text`, a kiln.toml `kiln check` accepts. `shown` names
/// the file in messages. A model without `model` cannot be called: that is an error here.
pub fn runtime_config(text: &str, shown: &str) -> Result<Config, String> {
    let doc =
        DeTable::parse(text).map_err(|e| format!("{shown} is not valid TOML: {}", e.message()))?;
    let mut config = Config::default();
    for (k, v) in doc.get_ref().iter() {
        match (k.get_ref().as_ref(), v.get_ref()) {
            ("models", DeValue::Table(t)) => {
                for (name, m) in t.iter() {
                    let DeValue::Table(m) = m.get_ref() else { continue };
                    config.models.push(model(name.get_ref(), m, shown)?);
                }
            }
            ("budget", DeValue::Table(t)) => {
                for (k, v) in t.iter() {
                    match k.get_ref().as_ref() {
                        "max_calls" => config.budget.max_calls = count(v.get_ref()),
                        "max_tokens" => config.budget.max_tokens = count(v.get_ref()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(config)
}

fn model(name: &str, t: &DeTable<'_>, shown: &str) -> Result<ModelConfig, String> {
    let mut m = ModelConfig::new(name, OPENAI_BASE_URL, "");
    for (k, v) in t.iter() {
        let v = v.get_ref();
        let s = || v.as_str().map(str::to_string);
        match k.get_ref().as_ref() {
            "base_url" => m.base_url = s().unwrap_or(m.base_url),
            "model" => m.model = s().unwrap_or_default(),
            "api_key_env" => m.api_key_env = s(),
            "max_concurrency" => {
                m.max_concurrency = count(v).map_or(m.max_concurrency, |n| n.max(1) as usize)
            }
            "timeout_s" => m.timeout = count(v).map_or(m.timeout, Duration::from_secs),
            "retries" => m.retries = count(v).map_or(m.retries, |n| n.min(100) as u32),
            "max_retry_wait_s" => {
                m.max_retry_wait = count(v).map_or(m.max_retry_wait, Duration::from_secs)
            }
            "fallback" => m.fallback = s(),
            "temperature" => m.temperature = float(v),
            "max_tokens" => m.max_tokens = count(v),
            "structured_output" => {
                m.structured_output = match v.as_str() {
                    Some("json_object") => Structured::JsonObject,
                    Some("prompt") => Structured::Prompt,
                    _ => Structured::JsonSchema,
                }
            }
            _ => {}
        }
    }
    if m.model.trim().is_empty() {
        return Err(format!(
            "{shown}: `[models.{name}]` has no `model`: name the model its endpoint serves, e.g. `model = \"gpt-4o-mini\"`"
        ));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_and_defaults() {
        let c = runtime_config(
            r#"
[models.default]
base_url = "http://127.0.0.1:9/v1"
model = "m"
api_key_env = "K"
max_concurrency = 16
timeout_s = 5
retries = 0
fallback = "b"
temperature = 0
max_tokens = 512
structured_output = "prompt"
[models.b]
model = "x"
[budget]
max_calls = 10
"#,
            "kiln.toml",
        )
        .unwrap();
        let d = &c.models[0];
        assert_eq!((d.max_concurrency, d.retries, d.timeout), (16, 0, Duration::from_secs(5)));
        assert_eq!((d.temperature, d.max_tokens), (Some(0.0), Some(512)));
        assert_eq!(d.structured_output, Structured::Prompt);
        assert_eq!(d.fallback.as_deref(), Some("b"));
        assert_eq!(c.models[1].base_url, OPENAI_BASE_URL);
        assert_eq!(c.budget.max_calls, Some(10));
        let e = runtime_config("[models.x]\nbase_url = \"http://a/v1\"\n", "k.toml").unwrap_err();
        assert!(e.contains("`[models.x]` has no `model`"), "{e}");
    }
}
