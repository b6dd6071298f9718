//! The streaming scorer against the in-memory reference (feature `data`): on the real sample and
//! on files built to stress the stream (a session across gzip members and read buffers,
//! same-second ties, exact duplicates, ids that come back), every scored row equals the
//! predictor run on that session's last window from ingest; `--at` hides later events;
//! counts add up; bad input and a model of another spec are refused; threads do not change
//! the output; Parquet read back equals CSV (feature `parquet`).

mod common;

use std::io::Write;
use std::path::PathBuf;

use nextevent::core::event::{format_time, parse_time};
use nextevent::core::predict::Predictor;
use nextevent::core::spec::WINDOW;
use nextevent::data::ingest::ingest;
use nextevent::data::score::{score, ScoreOptions, Scored};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nextevent-score-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(
    files: &[PathBuf],
    opts: ScoreOptions,
) -> (Vec<Scored>, nextevent::data::score::ScoreSummary) {
    let p = Predictor::embedded().unwrap();
    let mut rows = Vec::new();
    let s = score(
        &p,
        &ScoreOptions {
            files: files.to_vec(),
            ..opts
        },
        &mut |r| {
            rows.push(r.clone());
            Ok(())
        },
    )
    .unwrap();
    (rows, s)
}

/// Every row equals the predictor on its session's last window from ingest (≤ 1e-6), and every
/// session of ingest has exactly one row.
fn assert_equals_ingest(files: &[PathBuf], rows: &[Scored], at: Option<i64>) {
    let p = Predictor::embedded().unwrap();
    let ds = ingest(files, false).unwrap();
    let sessions: Vec<_> = ds
        .sessions
        .iter()
        .map(|s| {
            let ev: Vec<_> = s
                .events
                .iter()
                .filter(|e| at.is_none_or(|t| e.time_ms <= t))
                .cloned()
                .collect();
            (s.user_id, ev)
        })
        .filter(|(_, ev)| !ev.is_empty())
        .collect();
    assert_eq!(rows.len(), sessions.len(), "one row per session");
    let mut unmatched: Vec<&Scored> = rows.iter().collect();
    for (user, ev) in &sessions {
        let last = format_time(ev.last().unwrap().time_ms);
        let i = unmatched
            .iter()
            .position(|r| {
                r.user_id == *user && r.last_event_time == last && r.events == ev.len() as u64
            })
            .unwrap_or_else(|| {
                panic!(
                    "no row for user {user}'s session ending {last} ({} events)",
                    ev.len()
                )
            });
        let r = unmatched.remove(i);
        let want = p.predict(&ev[ev.len().saturating_sub(WINDOW)..]).unwrap();
        for (a, b) in [r.p_view, r.p_cart, r.p_remove_from_cart, r.p_purchase]
            .iter()
            .zip(want.probabilities)
        {
            assert!((a - b).abs() <= 1e-6, "user {user}: {a} vs {b}");
        }
        if let (Some(a), Some(b)) = (r.conversion, want.conversion) {
            assert!((a - b).abs() <= 1e-6);
        }
    }
}

#[test]
fn streamed_rows_equal_ingest_on_the_real_sample() {
    let sample = common::shared_data("cosmetics-sample.csv");
    let (rows, s) = run(std::slice::from_ref(&sample), ScoreOptions::default());
    assert!(s.balanced(), "{s}");
    assert_eq!(s.reopened, 0);
    assert_equals_ingest(std::slice::from_ref(&sample), &rows, None);
    // At most the sessions of one month slice are open at once: memory follows open sessions.
    assert!(s.peak_open_sessions < s.sessions as usize / 2, "{s}");
    // The same with two threads: the same rows in the same order.
    let (two, _) = run(
        &[sample],
        ScoreOptions {
            threads: 2,
            ..ScoreOptions::default()
        },
    );
    assert_eq!(two, rows);
}

#[test]
fn at_hides_later_events_and_marks_open_sessions() {
    let sample = common::shared_data("cosmetics-sample.csv");
    let at = parse_time("2020-01-01 00:40:00 UTC").unwrap();
    let (rows, s) = run(
        std::slice::from_ref(&sample),
        ScoreOptions {
            at: Some(at),
            ..ScoreOptions::default()
        },
    );
    assert!(s.stopped_at_cutoff);
    assert!(rows
        .iter()
        .all(|r| parse_time(&r.last_event_time).unwrap() <= at));
    assert_equals_ingest(std::slice::from_ref(&sample), &rows, Some(at));
    let open: Vec<&Scored> = rows.iter().filter(|r| r.open).collect();
    assert!(!open.is_empty());
    assert!(open
        .iter()
        .all(|r| at - parse_time(&r.last_event_time).unwrap() < 30 * 60_000));
    let (only, _) = run(
        &[sample],
        ScoreOptions {
            at: Some(at),
            open_only: true,
            ..ScoreOptions::default()
        },
    );
    assert_eq!(only.len(), open.len());
}

const H: &str =
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n";

fn row(t: i64, kind: &str, product: u64, user: u64, session: &str) -> String {
    format!(
        "{},{kind},{product},1,,runail,2.50,{user},{session}\n",
        format_time(t)
    )
}

#[test]
fn gzip_members_read_buffers_ties_duplicates_and_reopened_ids() {
    let d = dir("stress");
    let t0 = parse_time("2019-10-01 00:00:00 UTC").unwrap();
    let mut a = String::from(H);
    let mut b = String::new();
    // A long session "s1" runs across both gzip members; many others around it so the read
    // buffers (1 MiB) split rows mid-session.
    for i in 0..30_000i64 {
        let t = t0 + i * 100;
        let text = row(
            t,
            ["view", "cart", "view", "remove_from_cart"][(i % 4) as usize],
            5_000 + i as u64 % 7,
            100 + (i as u64 % 3_000),
            &format!("s{}", i % 3_000),
        );
        if i < 15_000 {
            a.push_str(&text)
        } else {
            b.push_str(&text)
        }
        if i % 1_000 == 0 {
            // An exact duplicate and a same-second tie of another kind.
            let dup = if i < 15_000 { &mut a } else { &mut b };
            dup.push_str(&text);
            dup.push_str(&row(
                t,
                "cart",
                9,
                100 + (i as u64 % 3_000),
                &format!("s{}", i % 3_000),
            ));
        }
    }
    // "late" comes back three hours after its close: reopened, two rows.
    b.push_str(&row(t0 + 3_100_000, "view", 1, 77, "late"));
    b.push_str(&row(t0 + 3_100_000 + 4 * 3_600_000, "cart", 1, 77, "late"));
    let p = d.join("two-members.csv.gz");
    let mut bytes = Vec::new();
    for part in [&a, &b] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(part.as_bytes()).unwrap();
        bytes.extend(gz.finish().unwrap());
    }
    std::fs::write(&p, bytes).unwrap();
    let (rows, s) = run(std::slice::from_ref(&p), ScoreOptions::default());
    assert!(s.balanced(), "{s}");
    assert_eq!(s.duplicates, 30, "{s}");
    assert_eq!(s.reopened, 1, "{s}");
    let late: Vec<&Scored> = rows.iter().filter(|r| r.user_session == "late").collect();
    assert_eq!(
        late.len(),
        2,
        "a reopened id is scored again as a session of its own"
    );
    // Without the reopened id the stream equals ingest (ingest joins the two visits of "late").
    let rest: Vec<Scored> = rows
        .into_iter()
        .filter(|r| r.user_session != "late")
        .collect();
    let plain = d.join("plain.csv");
    let mut text = a.clone();
    text.push_str(
        &b.lines()
            .filter(|l| !l.ends_with(",late"))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    );
    std::fs::write(&plain, text).unwrap();
    assert_equals_ingest(&[plain], &rest, None);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn counts_add_up_and_bad_input_is_refused_with_its_reason() {
    let d = dir("bad");
    let t0 = parse_time("2019-10-01 00:00:00 UTC").unwrap();
    let mut text = String::from(H);
    text += &row(t0, "view", 1, 1, "a");
    text += "not a time,view,1,1,,,1.0,1,a\n";
    text += &row(t0 + 1000, "wishlist", 1, 1, "a");
    text += &row(t0 + 2000, "cart", 1, 1, "a");
    let p = d.join("dirty.csv");
    std::fs::write(&p, &text).unwrap();
    let (rows, s) = run(std::slice::from_ref(&p), ScoreOptions::default());
    assert_eq!(
        (s.tally.rows_read, s.accepted, s.tally.rejected),
        (4, 2, 2),
        "{s}"
    );
    assert!(s.balanced());
    assert_eq!(rows.len(), 1);
    // Out of time order: refused, naming the row and how to sort.
    let unsorted = d.join("unsorted.csv");
    std::fs::write(
        &unsorted,
        format!(
            "{H}{}{}",
            row(t0 + 5000, "view", 1, 1, "a"),
            row(t0, "view", 1, 1, "a")
        ),
    )
    .unwrap();
    let e = score(
        &Predictor::embedded().unwrap(),
        &ScoreOptions {
            files: vec![unsorted],
            ..ScoreOptions::default()
        },
        &mut |_| Ok(()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("row 2") && e.contains("earlier than") && e.contains("sort"),
        "{e}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// The command line: a missing file, a file of another schema and a model of another spec
/// each exit non-zero with their message; a good run writes CSV with the documented header.
#[test]
fn the_score_command_reports_bad_input_and_writes_the_churn_list() {
    let bin = env!("CARGO_BIN_EXE_nextevent");
    let d = dir("cli");
    let run_cli = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    let o = run_cli(&["score", "--quiet", "no/such/file.csv"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no/such/file.csv"),
        "{o:?}"
    );
    let other = d.join("other.csv");
    std::fs::write(&other, "a,b\n1,2\n").unwrap();
    let o = run_cli(&["score", "--quiet", other.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("header lacks required column `event_time`"),
        "{o:?}"
    );
    let (_, foreign, want) = common::bad_models()
        .into_iter()
        .find(|m| m.0 == "other window")
        .unwrap();
    let model = d.join("foreign.onnx");
    std::fs::write(&model, foreign).unwrap();
    let sample = common::shared_data("cosmetics-sample.csv");
    let o = run_cli(&[
        "score",
        "--quiet",
        "--model",
        model.to_str().unwrap(),
        sample.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains(want), "{o:?}");
    let out = d.join("deep/new/churn.csv");
    let o = run_cli(&[
        "score",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        sample.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        nextevent::data::score::COLUMNS.join(",")
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("rows written"),
        "{o:?}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_read_back_equals_the_csv() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let d = dir("parquet");
    let sample = common::shared_data("cosmetics-sample.csv");
    let bin = env!("CARGO_BIN_EXE_nextevent");
    let csv = d.join("churn.csv");
    let pq = d.join("churn.parquet");
    for (out, fmt) in [(&csv, "csv"), (&pq, "parquet")] {
        let o = std::process::Command::new(bin)
            .args([
                "score",
                "--quiet",
                "--format",
                fmt,
                "--out",
                out.to_str().unwrap(),
                sample.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
    }
    let mut rdr = csv::Reader::from_path(&csv).unwrap();
    let csv_rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let reader = SerializedFileReader::new(std::fs::File::open(&pq).unwrap()).unwrap();
    let pq_rows: Vec<_> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(csv_rows.len(), pq_rows.len());
    for (c, p) in csv_rows.iter().zip(&pq_rows) {
        let cols: Vec<String> = p
            .get_column_iter()
            .map(|(_, f)| match f {
                parquet::record::Field::Null => String::new(),
                parquet::record::Field::Str(s) => s.clone(),
                parquet::record::Field::Float(x) => x.to_string(),
                parquet::record::Field::Bool(b) => b.to_string(),
                parquet::record::Field::ULong(u) => u.to_string(),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(c.len(), cols.len());
        for (a, b) in c.iter().zip(&cols) {
            // Floats: the same f32 (CSV prints the shortest round-trip form, Parquet's reader
            // Rust's own), everything else the same text.
            match (a.parse::<f32>(), b.parse::<f32>()) {
                (Ok(x), Ok(y)) => assert_eq!(x.to_bits(), y.to_bits(), "{a} vs {b}"),
                _ => assert_eq!(a, b),
            }
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}
