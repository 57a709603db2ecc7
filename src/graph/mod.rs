//! k-NN graphs over feature vectors, the input of the multi-scale GCN.
pub mod adjacency;
pub mod knn;
pub mod stats;

pub use adjacency::{Adjacency, Normalization};
pub use knn::{Knn, knn};
pub use stats::{GraphStats, edge_purity, graph_stats};
