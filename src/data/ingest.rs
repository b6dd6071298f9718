//! Kaggle CSV ingest: streams plain or gzip files, rejects bad rows with reasons, drops exact
//! duplicates, builds time-sorted sessions and their next-event windows.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::core::event::{Event, EventKind};
use crate::core::kaggle_csv::KaggleRow;
use crate::data::error::Result;
use crate::data::rows::{Next, Reader};
pub use crate::data::rows::{Rejects, EXAMPLES_PER_REASON};

/// Gap that ends a session for rows without a `user_session`.
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;

/// A shopper session: one user's events, sorted by time.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: u64,
    pub events: Vec<Event>,
}

impl Session {
    pub fn start_ms(&self) -> i64 {
        self.events.first().map_or(0, |e| e.time_ms)
    }
    /// Windows of this session: prefix lengths 1..n, each labelled with the next event's kind.
    pub fn windows(&self) -> impl Iterator<Item = (usize, EventKind)> + '_ {
        (1..self.events.len()).map(move |k| (k, self.events[k].kind))
    }
}

/// What ingest read, kept, dropped and rejected. Always `accepted + duplicates + rejected == rows_read`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub files: Vec<(String, u64)>,
    pub rows_read: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<&'static str, Rejects>,
    pub sessions: u64,
    pub sessions_without_id: u64,
    pub single_event_sessions: u64,
    pub windows: u64,
    pub first_event_ms: i64,
    pub last_event_ms: i64,
}

impl IngestReport {
    /// Whether the counts add up.
    pub fn balanced(&self) -> bool {
        self.accepted + self.duplicates + self.rejected == self.rows_read
    }
}

impl std::fmt::Display for IngestReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "rows read     {:>12}", self.rows_read)?;
        writeln!(f, "  accepted    {:>12}", self.accepted)?;
        writeln!(
            f,
            "  duplicates  {:>12}  (exact duplicate rows, dropped)",
            self.duplicates
        )?;
        writeln!(f, "  rejected    {:>12}", self.rejected)?;
        crate::data::rows::write_rejects(f, &self.rejected_by_reason)?;
        writeln!(
            f,
            "sessions      {:>12}  ({} from rows without user_session, {} single-event)",
            self.sessions, self.sessions_without_id, self.single_event_sessions
        )?;
        write!(f, "windows       {:>12}", self.windows)
    }
}

/// Sessions plus the report of how they were built.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub sessions: Vec<Session>,
    pub report: IngestReport,
}

/// A session's events while reading, each with its `category_id` (part of a row's identity
/// when dropping exact duplicates).
type Pending = Vec<(Event, Option<u64>)>;

#[derive(Default)]
struct Builder {
    by_session: HashMap<(u64, Arc<str>), usize>,
    sessions: Vec<(u64, Pending)>,
    without_id: HashMap<u64, Pending>,
    report: IngestReport,
}

impl Builder {
    fn add(&mut self, row: KaggleRow) {
        let item = (row.event, row.category_id);
        match row.user_session {
            Some(s) => {
                let next = self.sessions.len();
                let idx = *self.by_session.entry((row.user_id, s)).or_insert(next);
                if idx == next {
                    self.sessions.push((row.user_id, Vec::new()));
                }
                self.sessions[idx].1.push(item);
            }
            None => self.without_id.entry(row.user_id).or_default().push(item),
        }
    }

    fn finish(mut self) -> Dataset {
        let mut out = Vec::with_capacity(self.sessions.len() + self.without_id.len());
        let mut dups = 0u64;
        let mut finish_one =
            |user: u64, mut ev: Vec<(Event, Option<u64>)>, out: &mut Vec<Session>| {
                ev.sort_by_key(|(e, _)| e.time_ms); // stable: same-second events keep file order
                let before = ev.len();
                let mut kept: Vec<(Event, Option<u64>)> = Vec::with_capacity(ev.len());
                let mut run_start = 0;
                for item in ev {
                    if kept.last().is_none_or(|(l, _)| l.time_ms != item.0.time_ms) {
                        run_start = kept.len();
                    }
                    if !kept[run_start..].contains(&item) {
                        kept.push(item);
                    }
                }
                dups += (before - kept.len()) as u64;
                out.push(Session {
                    user_id: user,
                    events: kept.into_iter().map(|(e, _)| e).collect(),
                });
            };
        for (user, ev) in std::mem::take(&mut self.sessions) {
            finish_one(user, ev, &mut out);
        }
        let named = out.len();
        let mut users: Vec<_> = std::mem::take(&mut self.without_id).into_iter().collect();
        users.sort_by_key(|(u, _)| *u);
        for (user, mut ev) in users {
            ev.sort_by_key(|(e, _)| e.time_ms);
            let mut cur: Vec<(Event, Option<u64>)> = Vec::new();
            for item in ev {
                if cur
                    .last()
                    .is_some_and(|(l, _)| item.0.time_ms - l.time_ms >= SESSION_GAP_MS)
                {
                    finish_one(user, std::mem::take(&mut cur), &mut out);
                }
                cur.push(item);
            }
            if !cur.is_empty() {
                finish_one(user, cur, &mut out);
            }
        }
        out.sort_by_key(|s| (s.start_ms(), s.user_id));
        let r = &mut self.report;
        r.duplicates = dups;
        r.accepted = r.rows_read - r.rejected - dups;
        r.sessions = out.len() as u64;
        r.sessions_without_id = (out.len() - named) as u64;
        r.single_event_sessions = out.iter().filter(|s| s.events.len() == 1).count() as u64;
        r.windows = out.iter().map(|s| s.events.len() as u64 - 1).sum();
        r.first_event_ms = out.iter().map(|s| s.start_ms()).min().unwrap_or(0);
        r.last_event_ms = out
            .iter()
            .filter_map(|s| s.events.last())
            .map(|e| e.time_ms)
            .max()
            .unwrap_or(0);
        Dataset {
            sessions: out,
            report: self.report,
        }
    }
}

/// Reads Kaggle-schema CSV files (plain or `.gz`), streamed row by row.
pub fn ingest(paths: &[PathBuf], show_progress: bool) -> Result<Dataset> {
    let mut b = Builder::default();
    let mut reader = Reader::default();
    let bar = show_progress.then(|| {
        let p = indicatif::ProgressBar::new_spinner();
        p.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} ingest {pos} rows ({per_sec}) {msg}",
            )
            .expect("template"),
        );
        p
    });
    reader.read(paths, bar.as_ref(), &mut |row, _| {
        b.add(row);
        Ok(Next::Continue)
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let t = reader.tally;
    b.report.files = t.files;
    b.report.rows_read = t.rows_read;
    b.report.rejected = t.rejected;
    b.report.rejected_by_reason = t.rejected_by_reason;
    Ok(b.finish())
}

/// A window: session index and prefix length; its label is the kind of event `len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRef {
    pub session: u32,
    pub len: u32,
}

/// All windows of the given sessions, in session order.
pub fn windows_of(ds: &Dataset, sessions: &[usize]) -> Vec<WindowRef> {
    let mut out = Vec::new();
    for &s in sessions {
        for k in 1..ds.sessions[s].events.len() {
            out.push(WindowRef {
                session: s as u32,
                len: k as u32,
            });
        }
    }
    out
}

/// A pause in the data longer than this separates two blocks of coverage (the real sample is
/// five blocks of 30–90 minutes, one per month; a full export is one block).
pub const COVERAGE_BREAK_MS: i64 = 6 * 3_600_000;

impl Dataset {
    /// The events of a window (the prefix) and its label.
    pub fn window(&self, w: WindowRef) -> (&[Event], EventKind) {
        let ev = &self.sessions[w.session as usize].events;
        (&ev[..w.len as usize], ev[w.len as usize].kind)
    }

    /// The data's blocks of coverage, `(first event, last event)` in time order: event times
    /// split wherever nothing happens for [`COVERAGE_BREAK_MS`].
    pub fn coverage(&self) -> Vec<(i64, i64)> {
        let mut times: Vec<i64> = self
            .sessions
            .iter()
            .flat_map(|s| s.events.iter().map(|e| e.time_ms))
            .collect();
        times.sort_unstable();
        let mut blocks: Vec<(i64, i64)> = Vec::new();
        for t in times {
            match blocks.last_mut() {
                Some(b) if t - b.1 <= COVERAGE_BREAK_MS => b.1 = t,
                _ => blocks.push((t, t)),
            }
        }
        blocks
    }

    /// How each session meets the data's edges: `(may have begun before the data, may go on
    /// after it)` — its first event within [`SESSION_GAP_MS`] of its block's start, its last
    /// within the gap of the block's end. What happened outside is unknown: a session that
    /// may go on must not teach "no purchase follows".
    pub fn censoring(&self) -> Vec<(bool, bool)> {
        let blocks = self.coverage();
        self.sessions
            .iter()
            .map(|s| {
                let (first, last) = match (s.events.first(), s.events.last()) {
                    (Some(f), Some(l)) => (f.time_ms, l.time_ms),
                    _ => return (true, true),
                };
                let block = blocks
                    .iter()
                    .find(|b| b.0 <= first && first <= b.1)
                    .copied()
                    .unwrap_or((first, last));
                (
                    first - block.0 < SESSION_GAP_MS,
                    block.1 - last < SESSION_GAP_MS,
                )
            })
            .collect()
    }

    /// The conversion label of a window: `Some(true)` when a purchase follows later in the
    /// session, `Some(false)` when none does and the session ended inside the data, `None`
    /// when none does but the session may have gone on past the data's edge (unknown).
    pub fn converts(&self, w: WindowRef, ends_cut: bool) -> Option<bool> {
        let ev = &self.sessions[w.session as usize].events;
        if ev[w.len as usize..]
            .iter()
            .any(|e| e.kind == EventKind::Purchase)
        {
            Some(true)
        } else if ends_cut {
            None
        } else {
            Some(false)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use std::path::Path;

    pub(crate) fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    pub(crate) const H: &str = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n";

    #[test]
    fn report_adds_up_with_duplicates_rejects_and_sessions() {
        let dir = tempdir();
        let body = format!(
            "{H}2019-10-01 00:00:02 UTC,cart,1,10,,runail,2.0,7,s1\n\
             2019-10-01 00:00:00 UTC,view,1,10,,runail,2.0,7,s1\n\
             2019-10-01 00:00:02 UTC,cart,1,10,,runail,2.0,7,s1\n\
             2019-10-01 00:00:03 UTC,purchase,1,10,,runail,-2.0,7,s1\n\
             2019-10-01 00:00:04 UTC,teleport,1,10,,runail,2.0,7,s1\n\
             bad time,view,1,10,,,2.0,7,s1\n\
             2019-10-01 00:00:05 UTC,view,x,10,,,2.0,7,s1\n\
             2019-10-01 00:00:00 UTC,view,2,10,,,1.0,8,\n\
             2019-10-01 00:10:00 UTC,cart,2,10,,,1.0,8,\n\
             2019-10-01 01:00:00 UTC,view,3,10,,,1.0,8,\n\
             2019-10-01 00:00:09 UTC,view,4\n"
        );
        let p = write(&dir, "a.csv", &body);
        let ds = ingest(&[p], false).unwrap();
        let r = &ds.report;
        assert!(r.balanced(), "{r}");
        assert_eq!((r.rows_read, r.duplicates, r.rejected), (11, 1, 5));
        assert_eq!(r.rejected_by_reason["negative price"].count, 1);
        assert_eq!(r.rejected_by_reason["unknown event type"].count, 1);
        assert_eq!(r.rejected_by_reason["unparsable time"].count, 1);
        assert_eq!(r.rejected_by_reason["non-numeric product_id"].count, 1);
        assert_eq!(r.rejected_by_reason["missing required column"].count, 1);
        assert!(r.rejected_by_reason["unknown event type"].examples[0].starts_with("a.csv:5 "));
        // s1 (view, cart) + user 8 split by the 30-minute gap into (view, cart) and (view).
        assert_eq!(r.sessions, 3);
        assert_eq!(r.sessions_without_id, 2);
        let s1 = ds.sessions.iter().find(|s| s.user_id == 7).unwrap();
        assert_eq!(
            s1.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            vec![EventKind::View, EventKind::Cart]
        );
        assert_eq!(r.windows, 2);
    }

    #[test]
    fn coverage_blocks_mark_sessions_cut_by_the_data_edges() {
        let dir = tempdir();
        let row = |t: &str, k: &str, s: &str| format!("{t} UTC,{k},1,1,,,1.0,7,{s}\n");
        let mut body = H.to_string();
        // Block 1: 00:00–01:00; "a" starts at the edge, "b" ends an hour before the edge.
        body += &row("2019-10-01 00:00:10", "view", "a");
        body += &row("2019-10-01 00:01:00", "cart", "b");
        body += &row("2019-10-01 00:02:00", "cart", "b");
        body += &row("2019-10-01 00:59:00", "view", "a");
        // Block 2 (a month later): "c" buys, then the data ends right after.
        body += &row("2019-11-01 00:00:00", "view", "x");
        body += &row("2019-11-01 01:00:00", "cart", "c");
        body += &row("2019-11-01 01:00:05", "purchase", "c");
        let ds = ingest(&[write(&dir, "edges.csv", &body)], false).unwrap();
        assert_eq!(ds.coverage().len(), 2);
        let cut = ds.censoring();
        let idx = |first: &str| {
            let t = crate::core::event::parse_time(first).unwrap();
            ds.sessions.iter().position(|s| s.start_ms() == t).unwrap()
        };
        let (a, b, c) = (
            idx("2019-10-01 00:00:10 UTC"),
            idx("2019-10-01 00:01:00 UTC"),
            idx("2019-11-01 01:00:00 UTC"),
        );
        assert_eq!(cut[a], (true, true));
        assert_eq!(cut[b], (true, false), "b ended 57 minutes before the edge");
        assert_eq!(cut[c], (false, true));
        let w = |s: usize| WindowRef {
            session: s as u32,
            len: 1,
        };
        assert_eq!(
            ds.converts(w(c), cut[c].1),
            Some(true),
            "a purchase followed"
        );
        assert_eq!(ds.converts(w(b), cut[b].1), Some(false));
        assert_eq!(ds.converts(w(a), cut[a].1), None, "may have gone on");
    }

    #[test]
    fn gzip_files_stream_and_truncated_gzip_is_an_error() {
        let dir = tempdir();
        let body = format!("{H}2019-10-01 00:00:00 UTC,view,1,10,,b,2.0,7,s1\n2019-10-01 00:00:01 UTC,cart,1,10,,b,2.0,7,s1\n");
        let p = dir.join("a.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        std::fs::write(&p, &bytes).unwrap();
        let ds = ingest(std::slice::from_ref(&p), false).unwrap();
        assert_eq!(ds.report.accepted, 2);
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let e = ingest(&[p], false).unwrap_err().to_string();
        assert!(e.contains("a.csv.gz"), "{e}");
        let empty = write(&dir, "empty.csv", "");
        assert!(ingest(&[empty], false)
            .unwrap_err()
            .to_string()
            .contains("empty"));
    }

    pub(crate) fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "nextevent-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
