//! datasets.toml: the list of datasets the CLI and the app offer.
use super::embedded;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The project's own datasets.toml, compiled in so the binary works from any directory.
const BUILTIN: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/datasets.toml"));

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Embedded(String),
    Idx(Vec<IdxPart>),
    Folder(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdxPart {
    pub images: PathBuf,
    pub labels: PathBuf,
}

/// One validated entry of the registry; paths are absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetEntry {
    pub name: String,
    pub title: String,
    pub description: String,
    pub source: Source,
    pub image_size: (usize, usize),
    pub channels: usize,
    pub classes: usize,
    pub class_names: Vec<String>,
    pub install: Option<String>,
    pub license: Option<String>,
}

impl DatasetEntry {
    /// `Ok` when the data can be loaded here; otherwise what is missing and how to get it.
    pub fn availability(&self) -> Result<(), String> {
        let missing: Vec<&Path> = match &self.source {
            Source::Embedded(_) => vec![],
            Source::Idx(parts) => parts
                .iter()
                .flat_map(|p| [p.images.as_path(), p.labels.as_path()])
                .filter(|p| !p.is_file())
                .collect(),
            Source::Folder(path) => vec![path.as_path()]
                .into_iter()
                .filter(|p| !p.is_dir())
                .collect(),
        };
        if missing.is_empty() {
            return Ok(());
        }
        let mut msg = format!("missing {}", missing[0].display());
        if missing.len() > 1 {
            msg.push_str(&format!(" (and {} more)", missing.len() - 1));
        }
        if let Some(hint) = &self.install {
            msg.push_str(&format!("; install with: {hint}"));
        }
        Err(msg)
    }

    pub fn source_kind(&self) -> &'static str {
        match self.source {
            Source::Embedded(_) => "embedded",
            Source::Idx(_) => "idx",
            Source::Folder(_) => "folder",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Registry {
    pub default: String,
    pub datasets: Vec<DatasetEntry>,
    /// Where the registry came from, for messages.
    pub origin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    default: Option<String>,
    #[serde(default)]
    dataset: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    title: Option<String>,
    #[serde(default)]
    description: String,
    source: String,
    embedded: Option<String>,
    parts: Option<Vec<IdxPart>>,
    path: Option<PathBuf>,
    image_size: [usize; 2],
    channels: usize,
    #[serde(default)]
    classes: usize,
    #[serde(default)]
    class_names: Vec<String>,
    install: Option<String>,
    license: Option<String>,
}

impl Registry {
    /// The registry compiled into the binary, paths relative to the source checkout.
    pub fn builtin() -> Result<Self> {
        Self::parse(
            BUILTIN,
            Path::new(env!("CARGO_MANIFEST_DIR")),
            "built-in datasets.toml",
        )
    }

    /// A datasets.toml on disk; relative paths are taken from its folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read dataset registry {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        Self::parse(&text, base, &path.display().to_string())
    }

    /// `explicit`, else $ICICLE_DATASETS, else ./datasets.toml, else the built-in one.
    pub fn discover(explicit: Option<&Path>) -> Result<Self> {
        if let Some(p) = explicit {
            return Self::load(p);
        }
        if let Some(p) = std::env::var_os("ICICLE_DATASETS") {
            return Self::load(Path::new(&p));
        }
        let local = Path::new("datasets.toml");
        if local.is_file() {
            return Self::load(local);
        }
        Self::builtin()
    }

    pub fn parse(text: &str, base: &Path, origin: &str) -> Result<Self> {
        let raw: RawRegistry = toml::from_str(text).map_err(|e| {
            // toml's message already names line and column; keep it on one line.
            let msg = e.to_string().lines().next().unwrap_or_default().to_string();
            anyhow::anyhow!("{origin}: {msg}: {}", e.message())
        })?;
        let mut datasets = Vec::new();
        for entry in raw.dataset {
            let line = line_of_name(text, &entry.name);
            let name = entry.name.clone();
            let ds = validate(entry, base)
                .map_err(|e| anyhow::anyhow!("{origin}, line {line}, dataset \"{name}\": {e}"))?;
            if datasets.iter().any(|d: &DatasetEntry| d.name == ds.name) {
                bail!("{origin}, line {line}: dataset name \"{name}\" is used twice");
            }
            datasets.push(ds);
        }
        if datasets.is_empty() {
            bail!("{origin}: no [[dataset]] entries");
        }
        let default = raw.default.unwrap_or_else(|| datasets[0].name.clone());
        if !datasets.iter().any(|d| d.name == default) {
            bail!("{origin}: default = \"{default}\" names no dataset in the file");
        }
        Ok(Self {
            default,
            datasets,
            origin: origin.to_string(),
        })
    }

    pub fn get(&self, name: &str) -> Result<&DatasetEntry> {
        self.datasets
            .iter()
            .find(|d| d.name == name)
            .with_context(|| {
                let names: Vec<&str> = self.datasets.iter().map(|d| d.name.as_str()).collect();
                format!(
                    "no dataset named \"{name}\" in {} (known: {})",
                    self.origin,
                    names.join(", ")
                )
            })
    }

    pub fn default_entry(&self) -> &DatasetEntry {
        self.get(&self.default)
            .expect("default is checked when parsing")
    }
}

fn line_of_name(text: &str, name: &str) -> usize {
    let quoted = format!("\"{name}\"");
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with("name") && l.contains(&quoted)
        })
        .map_or(0, |i| i + 1)
}

fn validate(e: RawEntry, base: &Path) -> Result<DatasetEntry> {
    if e.name.is_empty() || e.name.contains(char::is_whitespace) {
        bail!("field name: must be non-empty and without spaces");
    }
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let source = match e.source.as_str() {
        "embedded" => {
            let key = e
                .embedded
                .context("field embedded: required when source = \"embedded\"")?;
            if embedded::get(&key).is_none() {
                bail!(
                    "field embedded: no embedded asset \"{key}\" (known: {})",
                    embedded::KEYS.join(", ")
                );
            }
            Source::Embedded(key)
        }
        "idx" => {
            let parts = e
                .parts
                .context("field parts: required when source = \"idx\"")?;
            if parts.is_empty() {
                bail!("field parts: needs at least one {{ images, labels }} pair");
            }
            Source::Idx(
                parts
                    .into_iter()
                    .map(|p| IdxPart {
                        images: resolve(&p.images),
                        labels: resolve(&p.labels),
                    })
                    .collect(),
            )
        }
        "folder" => Source::Folder(resolve(
            &e.path
                .context("field path: required when source = \"folder\"")?,
        )),
        other => bail!("field source: \"{other}\" is not one of embedded, idx, folder"),
    };
    let [h, w] = e.image_size;
    if h == 0 || w == 0 || h > 1024 || w > 1024 {
        bail!("field image_size: [{h}, {w}] must be between 1 and 1024 on each side");
    }
    if e.channels != 1 && e.channels != 3 {
        bail!(
            "field channels: {} must be 1 (gray) or 3 (colour)",
            e.channels
        );
    }
    if !e.class_names.is_empty() && e.class_names.len() != e.classes {
        bail!(
            "field class_names: {} names for classes = {}",
            e.class_names.len(),
            e.classes
        );
    }
    Ok(DatasetEntry {
        title: e.title.unwrap_or_else(|| e.name.clone()),
        name: e.name,
        description: e.description,
        source,
        image_size: (h, w),
        channels: e.channels,
        classes: e.classes,
        class_names: e.class_names,
        install: e.install,
        license: e.license,
    })
}
