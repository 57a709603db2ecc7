//! Writing results: run-directory files now; per-cluster image folders come with the app.
pub mod results;

pub use results::{write_assignments, write_confusion, write_json};
