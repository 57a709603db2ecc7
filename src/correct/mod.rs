//! Corrections a person makes to a run's clusters (issue 19): stored as facts about images
//! (`facts`), checked for contradictions before anything trains, and previewed by label
//! spreading over the run's k-NN graph (`spread`) and a linear classifier on its features
//! (`linear`).
pub mod constraints;
pub mod facts;
pub mod linear;
pub mod split;
pub mod spread;

pub use constraints::constrained_knn;
pub use facts::{Corrections, ImageFact};
pub use split::split_in_two;
pub use spread::{Preview, preview};
