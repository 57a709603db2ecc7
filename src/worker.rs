//! The background training thread: `Command`s in, `Event`s out over crossbeam channels.
//! The UI and the CLI only ever talk to it through these messages.
use crate::messages::{Command, Event};
use crate::priority::Priority;
use crate::train::{self, Stop};
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::thread::JoinHandle;

pub struct Worker {
    pub commands: Sender<Command>,
    pub events: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread; it waits for `Command::Start` and runs one job at a time.
    /// `wake` is called after every event (the app passes a repaint request). The app asks
    /// for `Priority::Background` so training never starves the UI thread of CPU.
    pub fn spawn(priority: Priority, wake: impl Fn() + Send + 'static) -> Self {
        let (cmd_tx, cmd_rx) = unbounded::<Command>();
        let (ev_tx, ev_rx) = unbounded::<Event>();
        let thread = std::thread::Builder::new()
            .name("icicle-trainer".into())
            .spawn(move || {
                crate::threads::flush_denormals();
                if let Err(e) = priority.apply_to_current_thread() {
                    eprintln!("training thread keeps normal priority: {e}");
                }
                serve(cmd_rx, ev_tx, wake)
            })
            .expect("spawn training thread");
        Self {
            commands: cmd_tx,
            events: ev_rx,
            thread: Some(thread),
        }
    }

    pub fn send(&self, c: Command) {
        // The thread only ends when this handle is dropped, so sending cannot fail before.
        let _ = self.commands.send(c);
    }
}

impl Drop for Worker {
    /// Cancels a running job and waits for the thread, so nothing is left half-written.
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Cancel);
        let (dead_tx, _) = unbounded();
        self.commands = dead_tx;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(rx: Receiver<Command>, tx: Sender<Event>, wake: impl Fn()) {
    let emit = |e: Event| {
        let _ = tx.send(e);
        wake();
    };
    while let Ok(cmd) = rx.recv() {
        let Command::Start(job) = cmd else { continue };
        // A panic inside libtorch code must not take the app down: report it as a failure.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            train::run(&job, &rx, &emit)
        }));
        match outcome {
            Ok(Ok(result)) => emit(Event::Finished(Box::new(result))),
            Ok(Err(Stop::Cancelled { checkpoint })) => emit(Event::Cancelled { checkpoint }),
            Ok(Err(Stop::Failed(e))) => emit(Event::Failed(format!("{e:#}"))),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                emit(Event::Failed(format!("internal error: {msg}")));
            }
        }
    }
}
