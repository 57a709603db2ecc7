//! `--set key=value`: change one field of a config by its name (dotted for nested tables),
//! with the value written as in config.toml. Unknown keys and wrong types name the key.
use super::Config;
use anyhow::{Context, Result, bail};

pub fn apply_override(config: &Config, assignment: &str) -> Result<Config> {
    let (key, raw) = assignment
        .split_once('=')
        .with_context(|| format!("--set {assignment}: expected key=value"))?;
    let (key, raw) = (key.trim(), raw.trim());
    let mut doc: toml::Table = toml::from_str(&config.to_toml()).expect("config round-trips");
    let path: Vec<&str> = key.split('.').collect();
    let (last, parents) = path.split_last().expect("split gives one part");
    let mut table = &mut doc;
    for p in parents {
        table = table
            .get_mut(*p)
            .and_then(|v| v.as_table_mut())
            .with_context(|| format!("--set {key}: there is no section {p}"))?;
    }
    let Some(old) = table.get(*last) else {
        let known: Vec<&String> = table.keys().collect();
        bail!(
            "--set {key}: unknown field (known: {})",
            known
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    // Parse as a TOML value; bare words (preset names, "true") fall back to a string.
    let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let value = match (old, value) {
        (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(i as f64),
        (_, v) => v,
    };
    if std::mem::discriminant(old) != std::mem::discriminant(&value) {
        bail!(
            "--set {key}={raw}: expected a {} like {old}",
            old.type_str()
        );
    }
    table.insert(last.to_string(), value);
    let text = toml::to_string(&doc).expect("table serialises");
    Config::from_toml(&text).map_err(|e| anyhow::anyhow!("--set {key}={raw}: {e}"))
}
