//! Icicle Explorer: image clustering with IcicleGCN, as a library shared by the CLI and the GUI.
pub mod atomic;
pub mod baseline;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod data;
pub mod export;
pub mod graph;
pub mod messages;
pub mod metrics;
pub mod model;
pub mod progress;
pub mod runtime;
pub mod train;
pub mod worker;
