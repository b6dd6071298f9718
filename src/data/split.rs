//! The evaluation split by session start time: the Kaggle months rule (train Oct–Dec 2019,
//! validate January, test February) when the data spans them, otherwise by time fractions.
//! A session belongs to the set where it starts, so sessions never cross sets.

use crate::data::ingest::Dataset;

/// Indices of sessions in the train, validation and test sets, split by session start time.
#[derive(Debug, Clone, Default)]
pub struct Split {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
    pub valid_from_ms: i64,
    pub test_from_ms: i64,
}

/// The evaluation split: with data spanning the Kaggle months (Oct 2019 – Feb 2020), train
/// on Oct–Dec, validate on January, test on February; otherwise [`split_by_time`] with the
/// last 20 % of the time span as test and the 10 % before it as validation. Sessions that
/// start on 29 February may run past midnight: events up to 1 March 23:59 still count as
/// the Kaggle span (the session belongs to the set where it starts).
pub fn split(ds: &Dataset) -> Split {
    const JAN: i64 = 1_577_836_800_000;
    const FEB: i64 = 1_580_515_200_000;
    const OCT: i64 = 1_569_888_000_000;
    const MAR: i64 = 1_583_020_800_000;
    let r = &ds.report;
    if r.first_event_ms >= OCT
        && r.first_event_ms < JAN
        && r.last_event_ms >= FEB
        && r.last_event_ms < MAR + 86_400_000
    {
        let mut s = Split {
            valid_from_ms: JAN,
            test_from_ms: FEB,
            ..Default::default()
        };
        for (i, sess) in ds.sessions.iter().enumerate() {
            match sess.start_ms() {
                t if t >= FEB => s.test.push(i),
                t if t >= JAN => s.valid.push(i),
                _ => s.train.push(i),
            }
        }
        s
    } else {
        split_by_time(ds, 0.1, 0.2)
    }
}

/// Splits by time: the last `test_frac` of the time span is test, the `valid_frac` before it
/// validation, the rest training. A session belongs to the set where it starts.
pub fn split_by_time(ds: &Dataset, valid_frac: f64, test_frac: f64) -> Split {
    let (t0, t1) = (ds.report.first_event_ms, ds.report.last_event_ms);
    let span = (t1 - t0) as f64;
    let test_from = t1 - (span * test_frac) as i64;
    let valid_from = t1 - (span * (test_frac + valid_frac)) as i64;
    let mut s = Split {
        valid_from_ms: valid_from,
        test_from_ms: test_from,
        ..Default::default()
    };
    for (i, sess) in ds.sessions.iter().enumerate() {
        let t = sess.start_ms();
        if t >= test_from {
            s.test.push(i)
        } else if t >= valid_from {
            s.valid.push(i)
        } else {
            s.train.push(i)
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ingest::ingest;
    use crate::data::ingest::tests::{tempdir, write, H};

    #[test]
    fn split_never_cuts_a_session_and_follows_time() {
        let dir = tempdir();
        let mut body = H.to_string();
        for d in 1..=10 {
            body += &format!("2019-10-{d:02} 00:00:00 UTC,view,1,1,,,1.0,{d},s{d}\n2019-10-{d:02} 00:01:00 UTC,cart,1,1,,,1.0,{d},s{d}\n");
        }
        let ds = ingest(&[write(&dir, "t.csv", &body)], false).unwrap();
        let s = split_by_time(&ds, 0.1, 0.2);
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), 10);
        let last_train = s
            .train
            .iter()
            .map(|&i| ds.sessions[i].start_ms())
            .max()
            .unwrap();
        let first_test = s
            .test
            .iter()
            .map(|&i| ds.sessions[i].start_ms())
            .min()
            .unwrap();
        assert!(last_train < first_test);
        assert_eq!(s.test.len(), 2);
    }

    #[test]
    fn kaggle_months_split_tolerates_a_session_spilling_into_march() {
        let dir = tempdir();
        let row = |t: &str, s: &str| format!("{t} UTC,view,1,1,,,1.0,7,{s}\n");
        let mut body = H.to_string();
        body += &row("2019-10-01 00:00:00", "oct");
        body += &row("2019-12-31 23:00:00", "dec");
        body += &row("2020-01-15 12:00:00", "jan");
        body += &row("2020-02-29 23:58:00", "feb");
        body += &row("2020-03-01 00:05:00", "feb");
        let ds = ingest(&[write(&dir, "m.csv", &body)], false).unwrap();
        let s = split(&ds);
        assert_eq!(s.test_from_ms, 1_580_515_200_000, "months rule");
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (2, 1, 1));
        // Data running well into March is not the Kaggle span: split by time.
        body += &row("2020-03-05 00:00:00", "mar");
        let ds = ingest(&[write(&dir, "m2.csv", &body)], false).unwrap();
        assert_ne!(split(&ds).test_from_ms, 1_580_515_200_000);
    }
}

/// The real sample's split by the month a session starts in: `fit` (Oct–Nov 2019), `dev`
/// (December 2019, held out from fitting; every development decision is made on it) and
/// `test` (Jan–Feb 2020, evaluated only by `ship` and the CI gate, never used to choose).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RealMonths {
    pub fit: Vec<usize>,
    pub dev: Vec<usize>,
    pub test: Vec<usize>,
}

/// 2019-12-01 and 2020-01-01 (UTC), epoch ms.
pub const DEC_2019: i64 = 1_575_158_400_000;
pub const JAN_2020: i64 = 1_577_836_800_000;

/// Sessions by the month they start in (see [`RealMonths`]); sessions before October or
/// after February 2020 go nowhere.
pub fn real_months(ds: &Dataset) -> RealMonths {
    const OCT: i64 = 1_569_888_000_000;
    const MAR: i64 = 1_583_020_800_000;
    let mut r = RealMonths::default();
    for (i, s) in ds.sessions.iter().enumerate() {
        match s.start_ms() {
            t if (OCT..DEC_2019).contains(&t) => r.fit.push(i),
            t if (DEC_2019..JAN_2020).contains(&t) => r.dev.push(i),
            t if (JAN_2020..MAR).contains(&t) => r.test.push(i),
            _ => {}
        }
    }
    r
}
