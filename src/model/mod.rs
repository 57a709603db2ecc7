//! The paper's modules, one file each.
pub mod backbone;
pub mod efficientnet;
pub mod init;
pub mod ism;
pub mod jcslim;
pub mod mgcn;
pub mod pretrained;

pub use backbone::Backbone;
pub use ism::Projector;
pub use jcslim::{AeOut, AutoEncoder};
pub use mgcn::{Fusion, Mgcn};
