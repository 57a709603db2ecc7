//! indicatif progress bars fed by the library's `Progress` reports (hidden when not a TTY).
use crate::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

pub struct Bar {
    pub progress: Progress,
    bar: ProgressBar,
}

impl Bar {
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

pub fn loader() -> Bar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len} ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let b = bar.clone();
    let progress = Progress::new(move |what, done, total| {
        b.set_message(what.to_string());
        b.set_length(total as u64);
        b.set_position(done as u64);
    });
    Bar { progress, bar }
}
