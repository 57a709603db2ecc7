use crate::data::Registry;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DatasetsArgs {
    /// Dataset registry to read instead of ./datasets.toml or the built-in one.
    #[arg(long, value_name = "FILE")]
    pub registry: Option<PathBuf>,
}

pub fn run(a: &DatasetsArgs) -> Result<()> {
    let reg = Registry::discover(a.registry.as_deref())?;
    println!("datasets from {} (default: {})", reg.origin, reg.default);
    for d in &reg.datasets {
        let (h, w) = d.image_size;
        let status = match d.availability() {
            Ok(()) => "available".to_string(),
            Err(why) => format!("NOT AVAILABLE — {why}"),
        };
        println!("\n  {:<20} {}", d.name, d.title);
        println!(
            "  {:<20} {} · {h}×{w}×{} · {} classes · {status}",
            "",
            d.source_kind(),
            d.channels,
            d.classes
        );
        if !d.description.is_empty() {
            println!("  {:<20} {}", "", d.description);
        }
    }
    Ok(())
}
