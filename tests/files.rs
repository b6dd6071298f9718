//! The files matrix (feature `train`): ingest of the real sample rewritten every way a CSV
//! arrives in practice — 1 % corrupt rows at random positions, CRLF, a BOM, quoted commas,
//! missing and extra columns, columns in another order, gzip (whole and truncated), empty.
//! Every case accounts for every row (accepted + duplicates + rejected = read) and names the
//! rejected rows, or fails with an error naming the file.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use nextevent::data::ingest::{ingest, Dataset, IngestReport};

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("nextevent-files-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn sample() -> (String, Vec<String>) {
    let text = std::fs::read_to_string(common::shared_data("cosmetics-sample.csv")).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

fn load(p: &Path) -> Dataset {
    let ds = ingest(&[p.to_path_buf()], false).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert!(ds.report.balanced(), "{}: {}", p.display(), ds.report);
    ds
}

/// What must not change when only the file's format changes.
fn essence(r: &IngestReport) -> (u64, u64, u64, u64, u64, u64) {
    (
        r.rows_read,
        r.accepted,
        r.duplicates,
        r.rejected,
        r.sessions,
        r.windows,
    )
}

fn events(ds: &Dataset) -> Vec<(i64, u64, Option<String>, u32)> {
    ds.sessions
        .iter()
        .flat_map(|s| &s.events)
        .map(|e| {
            (
                e.time_ms,
                e.product_id,
                e.brand.as_deref().map(str::to_string),
                e.price.to_bits(),
            )
        })
        .collect()
}

#[test]
fn format_variants_ingest_to_the_same_events() {
    let (header, rows) = sample();
    let lf = format!("{header}\n{}\n", rows.join("\n"));
    let base = load(&write("lf.csv", lf.as_bytes()));
    assert_eq!(base.report.rows_read, rows.len() as u64);

    let crlf = lf.replace('\n', "\r\n");
    let bom = format!("\u{feff}{lf}");
    let no_final_newline = lf.trim_end().to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(lf.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    for (name, bytes) in [
        ("crlf.csv", crlf.as_bytes()),
        ("bom.csv", bom.as_bytes()),
        ("no-final-newline.csv", no_final_newline.as_bytes()),
        ("sample.csv.gz", &gz[..]),
    ] {
        let ds = load(&write(name, bytes));
        assert_eq!(essence(&ds.report), essence(&base.report), "{name}");
        assert_eq!(events(&ds), events(&base), "{name}");
    }

    // Columns in another order, and an extra column: same events.
    let cols: Vec<&str> = header.split(',').collect();
    let order = [8, 7, 6, 5, 4, 3, 2, 1, 0];
    let shuffle = |line: &str| -> String {
        let f: Vec<&str> = line.split(',').collect();
        let mut out: Vec<&str> = order.iter().map(|&i| f[i]).collect();
        out.push("extra");
        out.join(",")
    };
    let mut text = order.iter().map(|&i| cols[i]).collect::<Vec<_>>().join(",") + ",note\n";
    for r in &rows {
        text += &shuffle(r);
        text.push('\n');
    }
    let ds = load(&write("reordered.csv", text.as_bytes()));
    assert_eq!(essence(&ds.report), essence(&base.report), "reordered");
    assert_eq!(events(&ds), events(&base), "reordered");

    // Optional columns missing (category_id, category_code, brand): rows still accepted.
    let keep = [0, 1, 2, 6, 7, 8];
    let mut text = keep.iter().map(|&i| cols[i]).collect::<Vec<_>>().join(",") + "\n";
    for r in &rows {
        let f: Vec<&str> = r.split(',').collect();
        text += &keep.iter().map(|&i| f[i]).collect::<Vec<_>>().join(",");
        text.push('\n');
    }
    let ds = load(&write("no-optional.csv", text.as_bytes()));
    assert_eq!(ds.report.rows_read, base.report.rows_read);
    assert_eq!(ds.report.rejected, 0);
    assert!(ds
        .sessions
        .iter()
        .flat_map(|s| &s.events)
        .all(|e| e.brand.is_none()));
}

#[test]
fn quoted_fields_keep_their_commas_and_quotes() {
    let h = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n";
    let body = format!(
        "{h}2019-10-01 00:00:00 UTC,view,1,10,\"beauty,nails\",\"O'Neil, \"\"Pro\"\"\",2.5,7,s1\n\
         2019-10-01 00:00:05 UTC,cart,1,10,\"beauty,nails\",\"O'Neil, \"\"Pro\"\"\",2.5,7,s1\n"
    );
    let ds = load(&write("quoted.csv", body.as_bytes()));
    assert_eq!((ds.report.accepted, ds.report.rejected), (2, 0));
    let e = &ds.sessions[0].events[0];
    assert_eq!(e.brand.as_deref(), Some("O'Neil, \"Pro\""));
    assert_eq!(e.category_code.as_deref(), Some("beauty,nails"));
}

/// A kind of dirt: the reason ingest reports, its detail, and how it spoils a row.
type Dirt = (&'static str, &'static str, fn(&str) -> Vec<u8>);

#[test]
fn one_percent_corrupt_rows_are_all_counted_by_reason_and_named() {
    let (header, rows) = sample();
    let clean = load(&write(
        "clean.csv",
        format!("{header}\n{}\n", rows.join("\n")).as_bytes(),
    ));
    // Corrupt ~1 % of the rows at seeded random positions, cycling through the kinds of dirt.
    let kinds: [Dirt; 7] = [
        ("unparsable time", "unparsable time", |r| {
            r.replacen("UTC", "ZZZ", 1).into_bytes()
        }),
        ("unknown type", "unknown event type", |r| {
            r.replacen(",cart,", ",teleport,", 1)
                .replacen(",view,", ",teleport,", 1)
                .replacen(",remove_from_cart,", ",teleport,", 1)
                .replacen(",purchase,", ",teleport,", 1)
                .into_bytes()
        }),
        ("NaN price", "non-numeric or non-finite price", |r| {
            let mut f: Vec<&str> = r.split(',').collect();
            f[6] = "NaN";
            f.join(",").into_bytes()
        }),
        ("negative price", "negative price", |r| {
            let mut f: Vec<String> = r.split(',').map(str::to_string).collect();
            f[6] = "-3.5".into();
            f.join(",").into_bytes()
        }),
        ("truncated row", "missing required column", |r| {
            r.split(',')
                .take(3)
                .collect::<Vec<_>>()
                .join(",")
                .into_bytes()
        }),
        ("non-numeric product", "non-numeric product_id", |r| {
            let mut f: Vec<&str> = r.split(',').collect();
            f[2] = "12ab";
            f.join(",").into_bytes()
        }),
        ("non-UTF-8 bytes", "malformed CSV record", |r| {
            let mut b = r.as_bytes().to_vec();
            b.splice(0..0, [0xff, 0xfe]);
            b
        }),
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let n_bad = rows.len() / 100;
    let mut bad: Vec<usize> = Vec::new();
    while bad.len() < n_bad {
        let i = (next() % rows.len() as u64) as usize;
        if !bad.contains(&i) {
            bad.push(i);
        }
    }
    let mut body = format!("{header}\n").into_bytes();
    let mut expected: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
    for (i, r) in rows.iter().enumerate() {
        if let Some(k) = bad.iter().position(|&b| b == i) {
            let (_, reason, corrupt) = kinds[k % kinds.len()];
            body.extend(corrupt(r));
            expected.entry(reason).or_default().push(i as u64 + 1);
        } else {
            body.extend(r.as_bytes());
        }
        body.push(b'\n');
    }
    let ds = load(&write("dirty.csv", &body));
    let r = &ds.report;
    assert_eq!(r.rows_read, rows.len() as u64, "every row is read");
    assert_eq!(
        r.rejected, n_bad as u64,
        "every corrupt row is rejected: {r}"
    );
    for (reason, at) in &expected {
        let got = r
            .rejected_by_reason
            .get(reason)
            .unwrap_or_else(|| panic!("no {reason:?} in {r}"));
        assert_eq!(got.count, at.len() as u64, "{reason}");
        // The first rows of each reason are named `file:row`, in file order.
        let mut want: Vec<u64> = at.clone();
        want.sort();
        for (ex, row) in got.examples.iter().zip(&want) {
            assert!(
                ex.starts_with(&format!("dirty.csv:{row} ")),
                "{reason}: {ex} vs row {row}"
            );
        }
    }
    // The clean rows are all still there (some corrupt rows were duplicates of clean ones).
    assert!(r.accepted + r.duplicates + n_bad as u64 == clean.report.rows_read);
    assert!(
        r.accepted <= clean.report.accepted && r.accepted + n_bad as u64 >= clean.report.accepted
    );
}

#[test]
fn broken_files_are_errors_that_name_the_file() {
    let (header, rows) = sample();
    let lf = format!("{header}\n{}\n", rows.join("\n"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(lf.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let no_session = lf.replacen("user_session", "session", 1);
    let no_price = lf.replacen(",price,", ",cost,", 1);
    for (name, bytes, want) in [
        ("truncated.csv.gz", &gz[..gz.len() * 2 / 3], "read failed"),
        ("empty.csv", &b""[..], "empty file"),
        ("not-gzip.csv.gz", lf.as_bytes(), "gzip"),
        ("no-session.csv", no_session.as_bytes(), "user_session"),
        ("no-price.csv", no_price.as_bytes(), "`price`"),
    ] {
        let p = write(name, bytes);
        let e = match ingest(&[p], false) {
            Ok(ds) => panic!("{name}: accepted as {} rows", ds.report.rows_read),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains(name),
            "{name}: error does not name the file: {e}"
        );
        assert!(e.contains(want), "{name}: {e}");
    }
}
