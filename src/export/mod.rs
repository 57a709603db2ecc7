//! Writing results: run-directory files, JSON assignments, features, per-cluster image folders.
pub mod cluster_folders;
pub mod npy;
pub mod results;

pub use cluster_folders::{FolderExport, export_cluster_folders};
pub use results::{
    Annotations, write_assignments, write_assignments_json, write_confusion, write_json,
};
