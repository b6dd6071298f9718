//! `nextevent evaluate` (feature `data`) on real rows that choose nothing: the sample's
//! December evaluated with baselines fitted on October–November (never Jan–Feb, which is
//! held out). The report's counts agree with ingest, every interval holds its value, the
//! per-week table adds up to the windows, the files are written, and a bad row is counted
//! as rejected (never dropped silently) while an empty evaluation is a typed error.

use std::path::{Path, PathBuf};

use nextevent::core::predict::Predictor;
use nextevent::data::evaluate::{evaluate, markdown};
use nextevent::data::ingest::ingest;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nextevent-evaluate-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The sample's rows whose time starts with one of `months` ("2019-12"), header kept.
fn months(out: &Path, months: &[&str]) -> PathBuf {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cosmetics-sample.csv");
    let text = std::fs::read_to_string(&sample).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the real sample is read from ../shared/data/)",
            sample.display()
        )
    });
    let mut lines = text.lines();
    let mut s = format!("{}\n", lines.next().unwrap());
    for l in lines.filter(|l| months.iter().any(|m| l.starts_with(m))) {
        s.push_str(l);
        s.push('\n');
    }
    std::fs::write(out, s).unwrap();
    out.to_path_buf()
}

#[test]
fn december_against_october_november_baselines() {
    let d = dir("dec");
    let dec = months(&d.join("dec.csv"), &["2019-12"]);
    let fit = months(&d.join("octnov.csv"), &["2019-10", "2019-11"]);
    let p = Predictor::embedded().unwrap();
    let out = d.join("out");
    let e = evaluate(&p, std::slice::from_ref(&dec), &[fit], &out, "dec", false).unwrap();
    let ds = ingest(&[dec], false).unwrap();
    assert_eq!(e.ingest.rows_read, ds.report.rows_read);
    assert_eq!(e.heldout.windows as u64, ds.report.windows);
    assert!(e.heldout.windows > 300, "{} windows", e.heldout.windows);
    // The model, then "repeat the last kind", Markov-1, Markov-2, majority.
    assert_eq!(e.heldout.rows.len(), 5);
    for row in &e.heldout.rows {
        for (metric, i) in &row.figures {
            assert!(
                i.low <= i.value && i.value <= i.high && i.value.is_finite(),
                "{} {metric}: {i:?}",
                row.name
            );
        }
    }
    assert_eq!(
        e.weeks.iter().map(|w| w.windows).sum::<usize>(),
        e.heldout.windows
    );
    for f in [
        "dec.md",
        "dec.json",
        "dec.reliability.svg",
        "dec.confusion.svg",
    ] {
        let path = out.join(f);
        assert!(
            std::fs::metadata(&path)
                .map(|m| m.len() > 100)
                .unwrap_or(false),
            "{f}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("dec.json")).unwrap()).unwrap();
    assert_eq!(json["heldout"]["windows"], e.heldout.windows);
    let md = markdown(&e, "dec");
    assert!(
        md.contains("repeat the last kind") && md.contains("Per week"),
        "{md}"
    );
    assert!(
        md.contains("octnov.csv"),
        "the table says what the baselines were fitted on"
    );
}

#[test]
fn bad_rows_are_counted_and_no_windows_is_an_error() {
    let d = dir("bad");
    let dec = months(&d.join("dec.csv"), &["2019-12"]);
    let mut text = std::fs::read_to_string(&dec).unwrap();
    text.push_str("2019-12-31 23:59:00 UTC,view,5809910,1602943681873052386,,grattol,NaN,1,s\n");
    text.push_str(
        "2019-12-31 23:59:01 UTC,teleport,5809910,1602943681873052386,,grattol,5.24,1,s\n",
    );
    std::fs::write(&dec, text).unwrap();
    let p = Predictor::embedded().unwrap();
    let e = evaluate(&p, &[dec], &[], &d.join("out"), "bad", false).unwrap();
    assert_eq!(e.ingest.rejected, 2, "{:?}", e.ingest.rejected_by_reason);
    assert_eq!(
        e.ingest.accepted + e.ingest.duplicates + e.ingest.rejected,
        e.ingest.rows_read
    );
    let md = markdown(&e, "bad");
    assert!(md.contains("2 rejected"), "{md}");

    let one = d.join("one.csv");
    std::fs::write(
        &one,
        "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n\
         2019-12-01 10:00:00 UTC,view,5809910,1602943681873052386,,grattol,5.24,1,s\n",
    )
    .unwrap();
    let err = evaluate(&p, &[one], &[], &d.join("out1"), "one", false).unwrap_err();
    assert!(
        err.to_string()
            .contains("no session with two or more events"),
        "{err}"
    );
}
