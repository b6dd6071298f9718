//! The Kaggle-schema row reader shared by ingest and the streaming scorer: files (plain or
//! gzip) one after the other, columns by header name, brands and categories interned, every
//! rejected row counted by reason with its first row numbers. Rows are handed to a callback as
//! they are read, so a caller decides what it keeps.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::core::kaggle_csv::{KaggleColumns, KaggleRow, RejectReason};
use crate::data::error::{Error, Result};
use crate::data::files::open;

/// How many example row numbers are kept per reject reason.
pub const EXAMPLES_PER_REASON: usize = 5;

/// Rejected rows of one reason.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Rejects {
    pub count: u64,
    /// First rows as `file:row` (1-based data rows) with the detail.
    pub examples: Vec<String>,
}

/// What the reader read and rejected.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Each file and the data rows read from it.
    pub files: Vec<(String, u64)>,
    pub rows_read: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<&'static str, Rejects>,
    /// Every rejected row, when asked for (`Reader::keeping_rejects`): for callers that hand
    /// rejects back row by row, such as the Python package.
    #[serde(skip)]
    pub every_reject: Option<Vec<Reject>>,
}

/// One rejected row: 1-based data row, the field, the reason and its detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reject {
    pub row: u64,
    pub field: &'static str,
    pub reason: &'static str,
    pub detail: String,
}

impl Tally {
    fn reject(
        &mut self,
        file: &str,
        row: u64,
        field: &'static str,
        reason: RejectReason,
        detail: &str,
    ) {
        self.rejected += 1;
        if let Some(all) = self.every_reject.as_mut() {
            all.push(Reject {
                row,
                field,
                reason: reason.as_str(),
                detail: detail.to_string(),
            });
        }
        let r = self.rejected_by_reason.entry(reason.as_str()).or_default();
        r.count += 1;
        if r.examples.len() < EXAMPLES_PER_REASON {
            r.examples.push(format!("{file}:{row} {detail}"));
        }
    }
}

/// What the callback says after a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// Stop reading (e.g. the rows have passed a cut-off time); the tally counts rows up to
    /// and including this one.
    Stop,
}

/// The rejected rows by reason, one line each with examples (in the ingest and score
/// summaries).
pub fn write_rejects(
    f: &mut std::fmt::Formatter<'_>,
    by_reason: &BTreeMap<&'static str, Rejects>,
) -> std::fmt::Result {
    for (reason, r) in by_reason {
        writeln!(
            f,
            "    {reason:<32} {:>8}  e.g. {}",
            r.count,
            r.examples.join("; ")
        )?;
    }
    Ok(())
}

/// Where a row came from: the file's index in the list and its 1-based data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowAt {
    pub file: usize,
    pub row: u64,
}

/// Reads Kaggle-schema rows; interns repeated brand and category strings (and session ids,
/// unless [`Reader::streaming`]).
#[derive(Default)]
pub struct Reader {
    strings: HashMap<Box<str>, Arc<str>>,
    /// Session ids are not interned: a streaming reader must not remember every id it saw.
    streaming: bool,
    pub tally: Tally,
}

impl Reader {
    /// A reader that keeps every rejected row, not only the first examples per reason.
    pub fn keeping_rejects() -> Self {
        let mut r = Reader::default();
        r.tally.every_reject = Some(Vec::new());
        r
    }

    /// A reader for streaming (the scorer): memory does not grow with the sessions read.
    pub fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }

    fn intern(&mut self, field: &'static str, s: &str) -> Arc<str> {
        if self.streaming && field == "user_session" {
            return Arc::from(s);
        }
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(s.into(), a.clone());
        a
    }

    /// Reads `paths` in order, calling `each` with every accepted row; returns whether the
    /// callback stopped it early.
    pub fn read(
        &mut self,
        paths: &[std::path::PathBuf],
        progress: Option<&indicatif::ProgressBar>,
        each: &mut dyn FnMut(KaggleRow, RowAt) -> Result<Next>,
    ) -> Result<bool> {
        for (i, p) in paths.iter().enumerate() {
            if let Some(bar) = progress {
                bar.set_message(p.display().to_string());
            }
            if self.read_file(p, i, progress, each)? == Next::Stop {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn read_file(
        &mut self,
        path: &Path,
        index: usize,
        progress: Option<&indicatif::ProgressBar>,
        each: &mut dyn FnMut(KaggleRow, RowAt) -> Result<Next>,
    ) -> Result<Next> {
        self.read_source(path, open(path)?, index, progress, each)
    }

    /// Reads one source of Kaggle-schema CSV (a file, or text handed over in memory, e.g. a
    /// table from Python); `path` names it in errors and reject examples.
    pub fn read_source(
        &mut self,
        path: &Path,
        source: Box<dyn std::io::Read + Send>,
        index: usize,
        progress: Option<&indicatif::ProgressBar>,
        each: &mut dyn FnMut(KaggleRow, RowAt) -> Result<Next>,
    ) -> Result<Next> {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let file_err = |reason: String| Error::input(path, reason);
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(source);
        let header = rdr
            .headers()
            .map_err(|e| file_err(format!("cannot read the header: {e}")))?
            .clone();
        if header.is_empty() || (header.len() == 1 && header[0].trim().is_empty()) {
            return Err(file_err("empty file: no header".into()));
        }
        let cols = KaggleColumns::from_header(header.iter()).map_err(file_err)?;
        if !cols.has_sessions() {
            return Err(file_err(
                "header lacks `user_id` or `user_session`, which sessions need".into(),
            ));
        }
        let mut rec = csv::StringRecord::new();
        let mut row = 0u64;
        let mut next = Next::Continue;
        loop {
            row += 1;
            match rdr.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {
                    self.tally.rows_read += 1;
                    let mut intern = |field: &'static str, s: &str| self.intern(field, s);
                    match cols.parse(&rec, row, &mut intern) {
                        Ok(r) => {
                            next = each(r, RowAt { file: index, row })?;
                        }
                        Err(e) => self.tally.reject(&name, row, e.field, e.reason, &e.detail),
                    }
                }
                Err(e) => match e.kind() {
                    csv::ErrorKind::Io(_) => {
                        let csv::ErrorKind::Io(io) = e.into_kind() else {
                            unreachable!("matched an I/O error")
                        };
                        return Err(Error::read(
                            path,
                            std::io::Error::new(
                                io.kind(),
                                format!("read failed after row {}: {io}", row - 1),
                            ),
                        ));
                    }
                    _ => {
                        self.tally.rows_read += 1;
                        self.tally.reject(
                            &name,
                            row,
                            "record",
                            RejectReason::MalformedCsv,
                            &e.to_string(),
                        );
                    }
                },
            }
            if row.is_multiple_of(65_536) {
                if let Some(p) = progress {
                    p.set_position(self.tally.rows_read);
                }
            }
            if next == Next::Stop {
                break;
            }
        }
        let rows = if next == Next::Stop { row } else { row - 1 };
        self.tally.files.push((name, rows));
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2,000 sessions of one brand: a streaming reader keeps the brand, not the 2,000 ids
    /// (it once interned every session id, so the scorer's memory grew with the file).
    #[test]
    fn a_streaming_reader_does_not_keep_session_ids() {
        let dir = std::env::temp_dir().join(format!("nextevent-rows-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("many-sessions.csv");
        let mut text = String::from(
            "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n",
        );
        for i in 0..2000 {
            text.push_str(&format!(
                "2020-01-01 10:{:02}:{:02} UTC,view,5809910,1,,grattol,5.24,{},s-{i}\n",
                i / 60 % 60,
                i % 60,
                i + 1
            ));
        }
        std::fs::write(&path, text).unwrap();
        for (streaming, most) in [(true, 1), (false, 2001)] {
            let mut r = Reader::default();
            if streaming {
                r = r.streaming();
            }
            let mut n = 0;
            r.read(std::slice::from_ref(&path), None, &mut |_, _| {
                n += 1;
                Ok(Next::Continue)
            })
            .unwrap();
            assert_eq!(n, 2000);
            assert!(
                r.strings.len() <= most,
                "streaming {streaming}: {} strings kept",
                r.strings.len()
            );
            if !streaming {
                assert_eq!(r.strings.len(), 2001, "ingest shares every repeated string");
            }
        }
    }
}
