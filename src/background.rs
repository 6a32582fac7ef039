//! A sink on a thread of its own: rendering and writing a trace off the
//! emulator's vCPU thread.
//!
//! What a backend must do at a call (read registers and guest memory, pair
//! the return with its enter) happens on the vCPU thread, because only
//! there is the guest's state readable. What happens after it (rendering an
//! [`Event`] as an strace line or as JSON, and writing it) does not need the
//! guest: [`Background`] hands each event to a writer thread over a bounded
//! channel and the vCPU runs on. Events stay in order; when the writer falls
//! behind by [`Background::DEPTH`] batches the vCPU waits for it, so memory
//! stays bounded and nothing is dropped.
//!
//! ```
//! use syscalls2::background::Background;
//! use syscalls2::session::{Sink, StraceSink};
//!
//! let sink = Background::new(StraceSink::new(std::io::sink()));
//! # let _: &dyn Sink = &sink;
//! ```

use crate::event::{Event, Summary};
use crate::session::{Record, Sink};
use std::io;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;
use syscalls2_core::{Abi, SyscallInfo};

/// What crosses to the writer thread.
enum Message {
    /// Events in order, with their table entries and ABIs.
    Events(Vec<(Event, Option<&'static SyscallInfo>, Abi)>),
    /// The session ended.
    Finish(Box<Summary>),
}

/// A [`Sink`] that runs another sink on a thread of its own (see the
/// [module documentation](self)).
pub struct Background {
    batch: Vec<(Event, Option<&'static SyscallInfo>, Abi)>,
    to_writer: Option<SyncSender<Message>>,
    writer: Option<JoinHandle<io::Result<()>>>,
}

impl Background {
    /// Events handed over at once: one channel operation per batch.
    pub const BATCH: usize = 64;
    /// Batches the writer may be behind before the vCPU waits.
    pub const DEPTH: usize = 64;

    /// Runs `sink` on a new thread named `syscalls2-writer`.
    ///
    /// # Panics
    ///
    /// If the operating system cannot start a thread.
    pub fn new(mut sink: impl Sink + 'static) -> Background {
        let (to_writer, from_session) = sync_channel::<Message>(Self::DEPTH);
        let writer = std::thread::Builder::new()
            .name("syscalls2-writer".into())
            .spawn(move || {
                let mut first_error = None;
                for message in from_session {
                    match message {
                        Message::Events(events) => {
                            for (event, info, abi) in &events {
                                let record = Record {
                                    event,
                                    info: *info,
                                    abi: *abi,
                                };
                                if let Err(e) = sink.event(&record) {
                                    first_error.get_or_insert(e);
                                }
                            }
                        }
                        Message::Finish(summary) => {
                            if let Err(e) = sink.finish(&summary) {
                                first_error.get_or_insert(e);
                            }
                            break;
                        }
                    }
                }
                first_error.map_or(Ok(()), Err)
            })
            .expect("a thread for the trace writer");
        Background {
            batch: Vec::with_capacity(Self::BATCH),
            to_writer: Some(to_writer),
            writer: Some(writer),
        }
    }

    fn send(&mut self, message: Message) -> io::Result<()> {
        let gone = || io::Error::other("the trace writer thread stopped");
        self.to_writer
            .as_ref()
            .ok_or_else(gone)?
            .send(message)
            .map_err(|_| gone())
    }

    fn send_batch(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(Self::BATCH));
        self.send(Message::Events(batch))
    }
}

impl Sink for Background {
    fn event(&mut self, record: &Record<'_>) -> io::Result<()> {
        self.batch
            .push((record.event.clone(), record.info, record.abi));
        if self.batch.len() >= Self::BATCH {
            self.send_batch()?;
        }
        Ok(())
    }

    /// Hands over what is left and the summary, and waits for the writer
    /// to finish; its first error (a full disk) is the result.
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let sent = self
            .send_batch()
            .and_then(|()| self.send(Message::Finish(Box::new(summary.clone()))));
        self.to_writer = None;
        let written = match self.writer.take() {
            Some(writer) => writer
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the trace writer thread panicked"))),
            None => Ok(()),
        };
        written.and(sent)
    }
}

impl Drop for Background {
    /// A session dropped without [`Sink::finish`]: what was handed over is
    /// still written.
    fn drop(&mut self) {
        let _ = self.send_batch();
        self.to_writer = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::JsonlSink;
    use std::sync::{Arc, Mutex};

    /// A `Write` whose bytes the test can read (shared with the writer thread).
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn events() -> Vec<Event> {
        let text = include_str!("../xtask/tests/fixtures/aarch64-killed-in-openat.jsonl");
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn summary() -> Summary {
        serde_json::from_str(r#"{"v":1,"profile":"linux_arm64","enters":2,"returns":1,"unknown":0,"noreturn":0,"evicted":0,"restarted":0,"exec_succeeded":0,"late_returns":0,"decode_errors":0,"events":3,"pending":[],"backend":{}}"#).unwrap()
    }

    fn write_all(sink: &mut dyn Sink, events: &[Event], times: usize) {
        for _ in 0..times {
            for e in events {
                sink.event(&Record::of(e).unwrap()).unwrap();
            }
        }
    }

    /// Many batches, in order, and the same bytes as the sink run in place.
    #[test]
    fn the_same_output_as_in_place_in_order() {
        let (direct, threaded) = (Shared::default(), Shared::default());
        let events = events();
        let mut sink = JsonlSink::new(direct.clone());
        write_all(&mut sink, &events, 500);
        sink.finish(&summary()).unwrap();
        let mut sink = Background::new(JsonlSink::new(threaded.clone()));
        write_all(&mut sink, &events, 500);
        sink.finish(&summary()).unwrap();
        let (a, b) = (direct.0.lock().unwrap(), threaded.0.lock().unwrap());
        assert_eq!(a.iter().filter(|&&c| c == b'\n').count(), 1500);
        assert!(*a == *b, "the threaded output differs");
    }

    /// A writer that fails (a full disk) is reported at the end.
    #[test]
    fn a_write_error_is_the_result_of_finish() {
        struct Full;
        impl io::Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut sink = Background::new(JsonlSink::new(Full));
        write_all(&mut sink, &events(), 1);
        let e = sink.finish(&summary()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
    }

    /// Dropped without `finish`: what was handed over is written.
    #[test]
    fn dropping_writes_what_was_handed_over() {
        let out = Shared::default();
        let mut sink = Background::new(JsonlSink::new(out.clone()));
        write_all(&mut sink, &events(), 1);
        drop(sink);
        assert_eq!(
            out.0
                .lock()
                .unwrap()
                .iter()
                .filter(|&&c| c == b'\n')
                .count(),
            3
        );
    }
}
