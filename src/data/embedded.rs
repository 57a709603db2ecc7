//! Datasets compiled into the binary, so the app and the tests work with nothing installed.

/// Gzip-compressed IDX images and labels of one embedded dataset.
pub struct EmbeddedIdx {
    pub images: &'static [u8],
    pub labels: &'static [u8],
}

macro_rules! asset {
    ($dir:literal, $file:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/datasets/",
            $dir,
            "/",
            $file
        ))
    };
}

/// The embedded dataset with this key, if there is one.
pub fn get(key: &str) -> Option<EmbeddedIdx> {
    Some(match key {
        "digits" => EmbeddedIdx {
            images: asset!("digits", "images-idx3-ubyte.gz"),
            labels: asset!("digits", "labels-idx1-ubyte.gz"),
        },
        "mnist-test" => EmbeddedIdx {
            images: asset!("mnist-test", "t10k-images-idx3-ubyte.gz"),
            labels: asset!("mnist-test", "t10k-labels-idx1-ubyte.gz"),
        },
        "fashion-mnist-test" => EmbeddedIdx {
            images: asset!("fashion-mnist-test", "t10k-images-idx3-ubyte.gz"),
            labels: asset!("fashion-mnist-test", "t10k-labels-idx1-ubyte.gz"),
        },
        _ => return None,
    })
}

pub const KEYS: &[&str] = &["digits", "mnist-test", "fashion-mnist-test"];
