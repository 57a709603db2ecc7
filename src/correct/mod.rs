//! Corrections a person makes to a run's clusters (issue 19): stored as facts about images
//! (`facts`), checked for contradictions before anything trains, and previewed by label
//! spreading over the run's k-NN graph (`spread`) and a linear classifier on its features
//! (`linear`); "More like these" ranks the images a move left behind for the person to check
//! (`alike`).
pub mod alike;
pub mod constraints;
pub mod facts;
pub mod linear;
pub mod split;
pub mod spread;

pub use alike::more_like;
pub use constraints::constrained_knn;
pub use facts::{Corrections, ImageFact};
pub use split::split_in_two;
pub use spread::{Basis, Features, Preview, preview, preview_with};
