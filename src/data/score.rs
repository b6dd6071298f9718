//! The churn list, streamed: Kaggle-schema exports (time-sorted, as Kaggle ships them) are
//! read row by row with ingest's reader and session rule; a session is closed and scored once
//! it has been idle longer than the horizon, so memory holds only open sessions and does not
//! grow with the file. Scoring runs in batches on worker threads (one predictor each, the
//! any-batch plan) and rows are written in a deterministic order (by session close).
//!
//! Policies: a `user_session` id that shows up again within [`REMEMBER_MS`] of its session's
//! close is reopened — scored again as a session of its own, its earlier row kept — and
//! counted as `reopened`; after that it is simply a new session. Rows without a session id
//! are grouped by user with the 30-minute gap, as ingest does. Input that goes back in time is
//! refused with the row and how to sort the file.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::core::encode::Batch;
use crate::core::event::{format_time, Event};
use crate::core::insight;
use crate::core::kaggle_csv::KaggleRow;
use crate::core::predict::{Prediction, Predictor};
use crate::core::spec::WINDOW;
use crate::core::visit::VisitState;
use crate::data::error::{Error, Result};
use crate::data::ingest::SESSION_GAP_MS;
use crate::data::rows::{Next, Reader, RowAt, Tally};

/// A closed session id is remembered this long (data time) to detect reappearance.
pub const REMEMBER_MS: i64 = 24 * 3_600_000;
/// Windows per prediction batch.
pub const BATCH: usize = 256;

/// What `score` is asked for.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    pub files: Vec<PathBuf>,
    /// Score sessions as they stood at this time (epoch ms); `None`: the end of the data.
    pub at: Option<i64>,
    /// One row per user: their latest session.
    pub per_user: bool,
    /// Only sessions whose last event is within the session gap of `at`.
    pub open_only: bool,
    /// Idle time after which a session is closed while streaming (at least the gap).
    pub horizon_ms: i64,
    pub threads: usize,
    /// One churn threshold for every stage (default: the model's).
    pub threshold: Option<f32>,
    pub progress: bool,
    /// The end of the data when these rows are only part of it (the Spark job scores one
    /// user's rows at a time against the global end): decides `open` when `at` is not set.
    pub end: Option<i64>,
    /// Keep every rejected row in the summary (`tally.every_reject`), not only examples: for
    /// callers that report rejects row by row (the Python package).
    pub keep_rejects: bool,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            files: vec![],
            at: None,
            per_user: false,
            open_only: false,
            horizon_ms: 2 * 3_600_000,
            threads: 1,
            threshold: None,
            progress: false,
            end: None,
            keep_rejects: false,
        }
    }
}

/// One row of the churn list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub user_id: u64,
    /// The `user_session` id; empty for a session rebuilt from rows without one.
    pub user_session: String,
    /// Events of the session up to `--at` (after dropping exact duplicates).
    pub events: u64,
    pub last_event_time: String,
    pub p_view: f32,
    pub p_cart: f32,
    pub p_remove_from_cart: f32,
    pub p_purchase: f32,
    pub next: &'static str,
    pub confidence: f32,
    /// P(a purchase later in this visit); empty for a one-output model.
    pub conversion: Option<f32>,
    pub stage: &'static str,
    pub churn_risk: bool,
    pub threshold: Option<f32>,
    pub favourite_brand: String,
    pub intervention: String,
    /// The last event is within the session gap of `--at` (the shopper may still be there).
    pub open: bool,
}

/// What `score` read, wrote and skipped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScoreSummary {
    pub tally: Tally,
    pub accepted: u64,
    pub duplicates: u64,
    /// Rows after `--at` were not read (the input is time-sorted).
    pub stopped_at_cutoff: bool,
    pub sessions: u64,
    pub written: u64,
    pub at_risk: u64,
    pub open: u64,
    pub reopened: u64,
    pub peak_open_sessions: usize,
}

impl ScoreSummary {
    /// Every read row is accepted, a duplicate or rejected.
    pub fn balanced(&self) -> bool {
        self.accepted + self.duplicates + self.tally.rejected == self.tally.rows_read
    }
}

impl std::fmt::Display for ScoreSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "rows read     {:>12}{}",
            self.tally.rows_read,
            if self.stopped_at_cutoff {
                "  (stopped at --at)"
            } else {
                ""
            }
        )?;
        writeln!(f, "  accepted    {:>12}", self.accepted)?;
        writeln!(
            f,
            "  duplicates  {:>12}  (exact duplicate rows, dropped)",
            self.duplicates
        )?;
        writeln!(f, "  rejected    {:>12}", self.tally.rejected)?;
        crate::data::rows::write_rejects(f, &self.tally.rejected_by_reason)?;
        writeln!(
            f,
            "sessions      {:>12}  ({} reopened after being closed)",
            self.sessions, self.reopened
        )?;
        writeln!(
            f,
            "rows written  {:>12}  ({} at risk, {} open)",
            self.written, self.at_risk, self.open
        )?;
        write!(f, "peak open sessions {:>7}", self.peak_open_sessions)
    }
}

/// A session being read: what scoring needs, bounded by the window.
struct Open {
    user_id: u64,
    session: Option<Arc<str>>,
    /// The last `WINDOW` events.
    window: VecDeque<Event>,
    /// Events of the last timestamp with their category id, for exact-duplicate checks.
    same_second: Vec<(Event, Option<u64>)>,
    visit: VisitState,
    events: u64,
    last_ms: i64,
}

impl Open {
    fn new(user_id: u64, session: Option<Arc<str>>) -> Self {
        Open {
            user_id,
            session,
            window: VecDeque::with_capacity(WINDOW + 1),
            same_second: Vec::new(),
            visit: VisitState::default(),
            events: 0,
            last_ms: i64::MIN,
        }
    }

    /// Adds an event; `false` when it exactly duplicates one of the same second.
    fn push(&mut self, e: Event, category: Option<u64>) -> bool {
        if e.time_ms != self.last_ms {
            self.same_second.clear();
        }
        let item = (e, category);
        if self.same_second.contains(&item) {
            return false;
        }
        let e = item.0.clone();
        self.same_second.push(item);
        self.visit.observe(&e);
        self.last_ms = e.time_ms;
        self.events += 1;
        self.window.push_back(e);
        if self.window.len() > WINDOW {
            self.window.pop_front();
        }
        true
    }
}

/// The key of a session: its id, or the user for rows without one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Id(u64, Arc<str>),
    User(u64),
}

/// Scores every session of `opts.files` with `model`, handing rows (in close order) to `out`.
pub fn score(
    model: &Predictor,
    opts: &ScoreOptions,
    out: &mut dyn FnMut(&Scored) -> Result<()>,
) -> Result<ScoreSummary> {
    let bar = opts.progress.then(|| {
        let p = indicatif::ProgressBar::new_spinner();
        p.set_style(
            indicatif::ProgressStyle::with_template("{spinner} score {pos} rows ({per_sec}) {msg}")
                .expect("template"),
        );
        p
    });
    let summary = score_rows(model, opts, &opts.files, out, &mut |reader, each| {
        reader.read(&opts.files, bar.as_ref(), each)
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    summary
}

/// Scores Kaggle-schema CSV text held in memory (`name` names it in errors): a table handed
/// over from Python, one user's rows in the Spark job. Same reader, rules and output as
/// [`score`].
pub fn score_text(
    model: &Predictor,
    opts: &ScoreOptions,
    name: &Path,
    text: Vec<u8>,
    out: &mut dyn FnMut(&Scored) -> Result<()>,
) -> Result<ScoreSummary> {
    let names = [name.to_path_buf()];
    let mut text = Some(text);
    score_rows(model, opts, &names, out, &mut |reader, each| {
        let bytes = text.take().unwrap_or_default();
        let source: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(bytes));
        Ok(reader.read_source(name, source, 0, None, each)? == Next::Stop)
    })
}

/// A row source: reads every row into the callback; `true` when the callback stopped it.
type ReadRows<'a> =
    dyn FnMut(&mut Reader, &mut dyn FnMut(KaggleRow, RowAt) -> Result<Next>) -> Result<bool> + 'a;

fn score_rows(
    model: &Predictor,
    opts: &ScoreOptions,
    names: &[PathBuf],
    out: &mut dyn FnMut(&Scored) -> Result<()>,
    read: &mut ReadRows<'_>,
) -> Result<ScoreSummary> {
    if opts.horizon_ms < SESSION_GAP_MS {
        return Err(Error::Settings(format!(
            "the horizon ({} min) must be at least the session gap ({} min)",
            opts.horizon_ms / 60_000,
            SESSION_GAP_MS / 60_000
        )));
    }
    let mut reader = if opts.keep_rejects {
        Reader::keeping_rejects()
    } else {
        Reader::default()
    }
    .streaming();
    let mut s = Scorer::new(model, opts);
    let mut last_seen = i64::MIN;
    let mut at_row: Option<(usize, u64)> = None;
    let stopped = read(&mut reader, &mut |row: KaggleRow, at: RowAt| {
        let t = row.event.time_ms;
        if t < last_seen {
            return Err(Error::Input {
                path: names[at.file].clone(),
                reason: format!(
                    "row {}: {} is earlier than an earlier row's {}; score streams time-sorted \
                     exports (as Kaggle ships them, files in time order). Sort it first, e.g. \
                     `(head -n 1 f.csv; tail -n +2 f.csv | sort -t, -k1,1) > sorted.csv`",
                    at.row,
                    format_time(t),
                    format_time(last_seen)
                ),
            });
        }
        last_seen = t;
        if opts.at.is_some_and(|cut| t > cut) {
            at_row = Some((at.file, at.row));
            return Ok(Next::Stop);
        }
        s.add(row, out)?;
        Ok(Next::Continue)
    })?;
    // The row past `--at` was read but not seen: it is neither accepted nor rejected.
    let cutoff_row = u64::from(at_row.is_some());
    let end = opts.at.or(opts.end).unwrap_or(last_seen);
    let mut summary = s.finish(end, out)?;
    summary.tally = reader.tally;
    summary.tally.rows_read -= cutoff_row;
    summary.stopped_at_cutoff = stopped;
    Ok(summary)
}

struct Scorer<'a> {
    model: &'a Predictor,
    opts: &'a ScoreOptions,
    open: HashMap<Key, Open>,
    /// Keys by last activity, to find idle sessions (lazy: stale entries are skipped).
    idle: VecDeque<(i64, Key)>,
    /// Recently closed session ids (data time of close), to count reappearances.
    closed: HashSet<(u64, Arc<str>)>,
    closed_order: VecDeque<(i64, (u64, Arc<str>))>,
    /// Closed sessions waiting to be scored together.
    pending: Vec<Open>,
    /// Per user: their latest scored session (for `--per-user`).
    latest: HashMap<u64, Scored>,
    summary: ScoreSummary,
}

impl<'a> Scorer<'a> {
    fn new(model: &'a Predictor, opts: &'a ScoreOptions) -> Self {
        Scorer {
            model,
            opts,
            open: HashMap::new(),
            idle: VecDeque::new(),
            closed: HashSet::new(),
            closed_order: VecDeque::new(),
            pending: Vec::new(),
            latest: HashMap::new(),
            summary: ScoreSummary::default(),
        }
    }

    fn add(&mut self, row: KaggleRow, out: &mut dyn FnMut(&Scored) -> Result<()>) -> Result<()> {
        let t = row.event.time_ms;
        self.close_idle(t, out)?;
        let key = match &row.user_session {
            Some(id) => Key::Id(row.user_id, id.clone()),
            None => Key::User(row.user_id),
        };
        // Rows without a session id: a pause of the gap starts the user's next session.
        if let Key::User(_) = key {
            if self
                .open
                .get(&key)
                .is_some_and(|o| t - o.last_ms >= SESSION_GAP_MS)
            {
                let o = self.open.remove(&key).expect("checked");
                self.close(o, t, out)?;
            }
        }
        let o = self.open.entry(key.clone()).or_insert_with(|| {
            if let Key::Id(u, id) = &key {
                if self.closed.remove(&(*u, id.clone())) {
                    self.summary.reopened += 1;
                }
            }
            self.summary.sessions += 1;
            Open::new(row.user_id, row.user_session.clone())
        });
        if o.push(row.event, row.category_id) {
            self.summary.accepted += 1;
        } else {
            self.summary.duplicates += 1;
        }
        self.idle.push_back((t, key));
        self.summary.peak_open_sessions = self.summary.peak_open_sessions.max(self.open.len());
        Ok(())
    }

    /// Closes sessions idle for the horizon at data time `now`.
    fn close_idle(&mut self, now: i64, out: &mut dyn FnMut(&Scored) -> Result<()>) -> Result<()> {
        while let Some((t, _)) = self.idle.front() {
            if now - *t < self.opts.horizon_ms {
                break;
            }
            let (t, key) = self.idle.pop_front().expect("front exists");
            // Stale entry: the session was active again later, or is already closed.
            if self.open.get(&key).is_some_and(|o| o.last_ms == t) {
                let o = self.open.remove(&key).expect("checked");
                if let Key::Id(u, id) = key {
                    self.closed.insert((u, id.clone()));
                    self.closed_order.push_back((t, (u, id)));
                }
                self.close(o, now, out)?;
            }
        }
        while self
            .closed_order
            .front()
            .is_some_and(|(t, _)| now - *t > REMEMBER_MS)
        {
            let (_, k) = self.closed_order.pop_front().expect("front exists");
            self.closed.remove(&k);
        }
        Ok(())
    }

    /// Queues a closed session for scoring; `now` is the data time it closes at.
    fn close(
        &mut self,
        o: Open,
        now: i64,
        out: &mut dyn FnMut(&Scored) -> Result<()>,
    ) -> Result<()> {
        self.pending.push(o);
        if self.pending.len() >= BATCH * self.opts.threads.max(1) * 4 {
            self.flush(now, out)?;
        }
        Ok(())
    }

    /// Scores the pending sessions on the worker threads and writes them in order; `now` is
    /// the data time (a session closed while streaming is past the gap, so not open).
    fn flush(&mut self, now: i64, out: &mut dyn FnMut(&Scored) -> Result<()>) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let sessions = std::mem::take(&mut self.pending);
        let preds = predict_parallel(self.model, &sessions, self.opts.threads)?;
        for (o, p) in sessions.iter().zip(preds) {
            let row = self.row(o, &p, now);
            if self.opts.per_user {
                match self.latest.get(&o.user_id) {
                    Some(prev) if prev.last_event_time > row.last_event_time => {}
                    _ => {
                        self.latest.insert(o.user_id, row);
                    }
                }
            } else {
                self.emit(&row, out)?;
            }
        }
        Ok(())
    }

    fn emit(&mut self, row: &Scored, out: &mut dyn FnMut(&Scored) -> Result<()>) -> Result<()> {
        if self.opts.open_only && !row.open {
            return Ok(());
        }
        self.summary.written += 1;
        self.summary.at_risk += row.churn_risk as u64;
        self.summary.open += row.open as u64;
        out(row)
    }

    fn row(&self, o: &Open, p: &Prediction, end: i64) -> Scored {
        let window: Vec<Event> = o.window.iter().cloned().collect();
        let stage = o.visit.stage();
        let risk = insight::risk(p, stage, self.model.info(), self.opts.threshold);
        let advice = insight::intervention(&window, &risk, stage);
        Scored {
            user_id: o.user_id,
            user_session: o.session.as_deref().unwrap_or("").to_string(),
            events: o.events,
            last_event_time: format_time(o.last_ms),
            p_view: p.probabilities[0],
            p_cart: p.probabilities[1],
            p_remove_from_cart: p.probabilities[2],
            p_purchase: p.probabilities[3],
            next: p.next.as_str(),
            confidence: p.confidence,
            conversion: p.conversion,
            stage: stage.as_str(),
            churn_risk: risk.at_risk,
            threshold: risk.threshold,
            favourite_brand: advice.favourite_brand.unwrap_or_default(),
            intervention: advice.message,
            open: end - o.last_ms < SESSION_GAP_MS,
        }
    }

    fn finish(
        mut self,
        end: i64,
        out: &mut dyn FnMut(&Scored) -> Result<()>,
    ) -> Result<ScoreSummary> {
        // Every session still open closes at the end of the data, in order of last activity.
        let mut rest: Vec<Open> = self.open.drain().map(|(_, o)| o).collect();
        rest.sort_by_key(|o| (o.last_ms, o.user_id, o.session.clone()));
        self.pending.extend(rest);
        // Scored with the real end time, which decides `open` for every row.
        self.flush(end, out)?;
        if self.opts.per_user {
            let mut rows: Vec<Scored> = std::mem::take(&mut self.latest).into_values().collect();
            rows.sort_by(|a, b| {
                a.last_event_time
                    .cmp(&b.last_event_time)
                    .then(a.user_id.cmp(&b.user_id))
            });
            for mut r in rows {
                r.open = parse_kaggle(&r.last_event_time).is_some_and(|t| end - t < SESSION_GAP_MS);
                self.emit(&r, out)?;
            }
        }
        Ok(self.summary)
    }
}

fn parse_kaggle(s: &str) -> Option<i64> {
    crate::core::event::parse_time(s).ok()
}

/// Predicts every session's last window: batches of [`BATCH`] spread over `threads` worker
/// threads, each with its own predictor; results in input order.
fn predict_parallel(
    model: &Predictor,
    sessions: &[Open],
    threads: usize,
) -> Result<Vec<Prediction>> {
    let mut tmp: Vec<Event> = Vec::with_capacity(WINDOW);
    let batches: Vec<Batch> = sessions
        .chunks(BATCH)
        .map(|chunk| {
            let mut b = Batch::with_capacity(chunk.len());
            for o in chunk {
                tmp.clear();
                tmp.extend(o.window.iter().cloned());
                b.push_with(&tmp, model.calendar());
            }
            b
        })
        .collect();
    Ok(run_batches(model, &batches, threads)?
        .into_iter()
        .flatten()
        .collect())
}

/// Runs encoded batches on `threads` worker threads (one predictor clone each, so each
/// thread has the any-batch plan to itself); results in batch order. The prediction stage of
/// `score`, and what its benchmark times.
pub fn run_batches(
    model: &Predictor,
    batches: &[Batch],
    threads: usize,
) -> Result<Vec<Vec<Prediction>>> {
    if threads <= 1 || batches.len() <= 1 {
        return batches.iter().map(|b| Ok(model.run(b)?)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Vec<Prediction>>>>> = batches
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let p = model.clone();
            let (next, results) = (&next, &results);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= batches.len() {
                    break;
                }
                let r = p.run(&batches[i]).map_err(Error::from);
                *results[i].lock().expect("not poisoned") = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .expect("not poisoned")
                .expect("every batch ran")
        })
        .collect()
}

/// The CSV header of the churn list.
pub const COLUMNS: [&str; 17] = [
    "user_id",
    "user_session",
    "events",
    "last_event_time",
    "p_view",
    "p_cart",
    "p_remove_from_cart",
    "p_purchase",
    "next",
    "confidence",
    "conversion",
    "stage",
    "churn_risk",
    "threshold",
    "favourite_brand",
    "intervention",
    "open",
];
