//! Classical clustering used by the baseline and by stage 2's initialisation.
pub mod kmeans;
pub mod refine;
pub mod spectral;
pub mod suggest_k;

pub use kmeans::{KMeans, KMeansConfig, kmeans};
