//! k-NN graphs over feature vectors, the input of the multi-scale GCN.
pub mod adjacency;
pub mod knn;
pub mod partition;
pub mod stats;

pub use adjacency::{Adjacency, Neighbours, Normalization};
pub use knn::{Knn, knn};
pub use stats::{GraphStats, edge_purity, graph_stats, neighbour_vote};
