//! Scripted launches (`icicle gui --train-at/--tab-at/--screenshot/--quit-after/…`): what the
//! automation asks for at each moment, and the frame-time log written at exit.
use super::*;

impl IcicleApp {
    pub(super) fn automate(&mut self, ctx: &egui::Context) {
        let t = self.launched.elapsed().as_secs_f64();
        if let Some((at, path)) = self.automation.screenshots.get(self.shots_taken).cloned() {
            if t >= at {
                self.shots_taken += 1;
                ctx.request_screenshot(move |image| {
                    let [w, h] = image.size;
                    let buf: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
                    let saved = image::RgbaImage::from_raw(w as u32, h as u32, buf)
                        .map(|img| img.save(&path));
                    if let Some(Err(e)) = saved {
                        eprintln!("screenshot {}: {e}", path.display());
                    }
                });
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(at - t));
            }
        }
        while let Some(&(at, tab)) = self.automation.tab_at.first() {
            if t >= at {
                self.tab = tab;
                self.automation.tab_at.remove(0);
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(at - t));
                break;
            }
        }
        if let Some(at) = self.automation.train_at {
            if t >= at {
                self.automation.train_at = None;
                self.start_training();
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(at - t));
            }
        }
        if let Some(at) = self.automation.suggest_k_at {
            if t >= at && self.dataset.is_some() {
                self.automation.suggest_k_at = None;
                self.start_suggest_k();
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64((at - t).max(0.1)));
            }
        }
        if let Some(at) = self.automation.preview_at {
            if t >= at && !self.session.clusters.is_empty() {
                self.automation.preview_at = None;
                self.start_preview();
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64((at - t).max(0.1)));
            }
        }
        if !self.automation.moves.is_empty()
            && self.run_dataset.is_some()
            && !self.session.clusters.is_empty()
            && !self.training()
        {
            let n = self.run_dataset.as_ref().map_or(0, |d| d.len());
            let k = self.session.config.clusters;
            for (images, c) in std::mem::take(&mut self.automation.moves) {
                if let Some(bad) = images.iter().find(|&&i| i >= n) {
                    self.notice = Some(format!("--move: image {bad} does not exist ({n} images)"));
                } else if c >= k {
                    self.notice = Some(format!("--move: cluster {c} does not exist (K = {k})"));
                } else {
                    self.apply(Action::Correct(crate::ui::corrections::Edit::MoveTo(
                        images, c,
                    )));
                }
            }
        }
        if let Some(at) = self.automation.more_like_at {
            if t >= at && !self.session.clusters.is_empty() {
                self.automation.more_like_at = None;
                self.more_like_the_corrections();
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64((at - t).max(0.1)));
            }
        }
        if let Some(q) = self.automation.quit_after {
            if t >= q {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            } else {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(q - t));
            }
        }
    }

    /// "More like these" for the images moved into the cluster the corrections sent most to.
    fn more_like_the_corrections(&mut self) {
        if let Some(m) = self.session.corrections.last_move.clone() {
            self.apply(Action::MoreLikeThese(m));
            return;
        }
        let required = self.session.corrections.facts.required();
        let mut counts = std::collections::BTreeMap::<usize, usize>::new();
        for &c in required.values() {
            *counts.entry(c).or_default() += 1;
        }
        let Some((&to, _)) = counts
            .iter()
            .max_by_key(|&(c, n)| (*n, std::cmp::Reverse(*c)))
        else {
            self.notice = Some("--more-like-at: the run has no moved images".into());
            return;
        };
        let examples: Vec<usize> = required
            .iter()
            .filter(|&(_, &c)| c == to)
            .map(|(&i, _)| i)
            .collect();
        // Where the run put them: the move is from there.
        match crate::ui::corrections::Move::of(
            &examples,
            to,
            &run_put(&examples, &self.session.clusters),
        ) {
            Some(m) => self.apply(Action::MoreLikeThese(m)),
            None => {
                self.notice = Some("--more-like-at: the moved images were there already".into())
            }
        }
    }

    pub(super) fn write_frame_log(&self) {
        let Some(path) = &self.automation.frame_log else {
            return;
        };
        let summary = |name: &str, mut v: Vec<f32>| {
            v.sort_by(f32::total_cmp);
            let pct = |p: f64| {
                v.get(((v.len() as f64 - 1.0) * p).round() as usize)
                    .copied()
                    .unwrap_or(0.0)
            };
            format!(
                "{name}: frames {} p50_ms {:.2} p95_ms {:.2} p99_ms {:.2} max_ms {:.2}\n",
                v.len(),
                pct(0.5),
                pct(0.95),
                pct(0.99),
                v.last().copied().unwrap_or(0.0)
            )
        };
        let points = self
            .panels
            .embedding
            .map
            .as_ref()
            .map_or(0, |e| e.items.len());
        let mut text = String::new();
        for (what, frames) in [
            ("UI build", &self.frame_ms),
            (
                "whole frame (build, tessellate, paint)",
                &self.frame_total_ms,
            ),
        ] {
            text += &summary(
                &format!("{what}, all frames"),
                frames.iter().map(|f| f.0).collect(),
            );
            text += &summary(
                &format!("{what}, training with {points} points in the embedding view"),
                frames.iter().filter(|f| f.1).map(|f| f.0).collect(),
            );
        }
        if let Err(e) = crate::atomic::write(path, text.as_bytes()) {
            eprintln!("frame log: {e:#}");
        }
    }
}

/// Where the run put `images` (no correction applied).
fn run_put(images: &[usize], clusters: &[i64]) -> Vec<i64> {
    crate::correct::Corrections::default().assigned(images, clusters)
}
