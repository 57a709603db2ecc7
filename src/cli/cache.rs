//! `icicle cache`: what the cache folder holds, and emptying it.
use crate::data::cache_budget::{self, human};
use anyhow::{Context, Result};
use clap::Args;

#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Remove every decoded folder and every cached feature set (they are rebuilt when next
    /// needed).
    #[arg(long)]
    pub clear: bool,
}

pub fn run(a: &CacheArgs) -> Result<()> {
    let dir = crate::data::cache::default_dir()
        .context("no cache folder: set ICICLE_CACHE_DIR, XDG_CACHE_HOME or HOME")?;
    let budget = cache_budget::budget()?;
    if a.clear {
        let p = cache_budget::clear(&dir)?;
        println!(
            "removed {} entr{} ({}) from {}",
            p.removed,
            if p.removed == 1 { "y" } else { "ies" },
            human(p.bytes),
            dir.display()
        );
        return Ok(());
    }
    let all = cache_budget::entries(&dir);
    let sum = |decoded: bool| {
        let e: Vec<_> = all.iter().filter(|e| e.decoded == decoded).collect();
        (e.len(), e.iter().map(|e| e.bytes).sum::<u64>())
    };
    let (nd, bd) = sum(true);
    let (nf, bf) = sum(false);
    println!("cache folder {}", dir.display());
    println!("  decoded folders   {nd:>5}  {}", human(bd));
    println!("  frozen features   {nf:>5}  {}", human(bf));
    println!(
        "  budget            {} (least recently used entries go first; {}=GB to change, 0 for none)",
        budget.map_or("none".to_string(), human),
        cache_budget::ENV
    );
    Ok(())
}
