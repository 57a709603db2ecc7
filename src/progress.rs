//! Progress reports from loaders, for a progress bar in the CLI or the app.

type Sink = dyn Fn(&str, usize, usize) + Send + Sync;

/// Receives (what, done, total); `Progress::none()` ignores them.
pub struct Progress {
    sink: Box<Sink>,
}

impl Progress {
    pub fn new(f: impl Fn(&str, usize, usize) + Send + Sync + 'static) -> Self {
        Self { sink: Box::new(f) }
    }

    pub fn none() -> Self {
        Self::new(|_, _, _| {})
    }

    pub fn report(&self, what: &str, done: usize, total: usize) {
        (self.sink)(what, done, total)
    }
}
