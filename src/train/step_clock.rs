//! Where a training step's time goes: wall time between named laps, summed over steps. On a
//! CPU every operation has finished when it returns, so the laps are exact; on a GPU they
//! measure launches unless the clock synchronises the device at each lap (`synced`), which the
//! speed bench asks for and a normal run does not (it would slow the run it measures).
use std::time::{Duration, Instant};
use tch::Device;

/// The parts of a step that are the network's own arithmetic; everything else is overhead.
pub const NETWORK_PARTS: [&str; 4] = [
    "backbone forward",
    "heads and losses",
    "forward",
    "backward",
];

pub struct StepClock {
    sync: Option<Device>,
    last: Instant,
    parts: Vec<(&'static str, Duration)>,
    pub steps: usize,
}

impl StepClock {
    /// A clock that trusts the device to have finished (exact on a CPU).
    pub fn new() -> Self {
        Self {
            sync: None,
            last: Instant::now(),
            parts: Vec::new(),
            steps: 0,
        }
    }

    /// A clock that waits for `device` at every lap (exact everywhere, slower on a GPU).
    pub fn synced(device: Device) -> Self {
        Self {
            sync: matches!(device, Device::Cuda(_)).then_some(device),
            ..Self::new()
        }
    }

    fn wait(&self) {
        if let Some(Device::Cuda(i)) = self.sync {
            tch::Cuda::synchronize(i as i64);
        }
    }

    /// Starts timing (at the top of a step) without charging the time since the last lap.
    pub fn restart(&mut self) {
        self.wait();
        self.last = Instant::now();
    }

    /// Charges the time since the last lap to `part`.
    pub fn lap(&mut self, part: &'static str) {
        self.wait();
        let now = Instant::now();
        let spent = now - self.last;
        self.last = now;
        match self.parts.iter_mut().find(|(p, _)| *p == part) {
            Some((_, d)) => *d += spent,
            None => self.parts.push((part, spent)),
        }
    }

    /// Counts one finished step.
    pub fn step_done(&mut self) {
        self.steps += 1;
    }

    pub fn breakdown(&self) -> StepBreakdown {
        let total: f64 = self.parts.iter().map(|(_, d)| d.as_secs_f64()).sum();
        StepBreakdown {
            steps: self.steps,
            seconds: total,
            parts: self
                .parts
                .iter()
                .map(|(p, d)| (p.to_string(), d.as_secs_f64()))
                .collect(),
        }
    }
}

impl Default for StepClock {
    fn default() -> Self {
        Self::new()
    }
}

/// The summed time of each part over `steps` steps.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepBreakdown {
    pub steps: usize,
    pub seconds: f64,
    pub parts: Vec<(String, f64)>,
}

impl StepBreakdown {
    pub fn ms_per_step(&self) -> f64 {
        1000.0 * self.seconds / self.steps.max(1) as f64
    }

    /// The share of step time outside the network's forward and backward passes.
    pub fn overhead_share(&self) -> f64 {
        let network: f64 = self
            .parts
            .iter()
            .filter(|(p, _)| NETWORK_PARTS.contains(&p.as_str()))
            .map(|(_, s)| s)
            .sum();
        if self.seconds > 0.0 {
            1.0 - network / self.seconds
        } else {
            0.0
        }
    }

    /// One line: ms per step, then each part's ms per step and share.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|(p, s)| {
                format!(
                    "{p} {:.2} ms ({:.0} %)",
                    1000.0 * s / self.steps.max(1) as f64,
                    100.0 * s / self.seconds.max(1e-12)
                )
            })
            .collect();
        format!(
            "{:.2} ms per step over {} steps, {:.0} % outside forward and backward: {}",
            self.ms_per_step(),
            self.steps,
            100.0 * self.overhead_share(),
            parts.join(", ")
        )
    }
}
