//! Experiment tracking against a real MLflow server (feature `train`): a tiny training run and
//! a tiny comparison (parent run, one child per model and seed, metrics logged live per epoch)
//! are logged over REST, then read back over REST — params, metric histories, artifact lists. Uses `MLFLOW_TRACKING_URI` when it is set (`.ci/test` starts a server);
//! otherwise starts `mlflow server` itself (SQLite backend, local artifact root) and fails with
//! instructions when `mlflow` is not installed.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nextevent::data::tracking::{Mlflow, Tracker};
use nextevent::training::compare::{compare, CompareOptions, Variant};
use nextevent::training::net::Arch;
use nextevent::training::{card::run_record, pipeline::run};
use serde_json::Value;

struct Server {
    uri: String,
    child: Option<Child>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn server() -> Server {
    if let Ok(uri) = std::env::var("MLFLOW_TRACKING_URI") {
        if uri.starts_with("http") {
            return Server { uri, child: None };
        }
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("nextevent-mlflow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let child = Command::new("mlflow")
        .args(["server", "--host", "127.0.0.1", "--port", &port.to_string(), "--workers", "1"])
        .arg("--backend-store-uri")
        .arg(format!("sqlite:///{}", dir.join("mlflow.db").display()))
        .arg("--artifacts-destination")
        .arg(dir.join("artifacts"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("this test needs a real MLflow server: set MLFLOW_TRACKING_URI, or install mlflow (`pip install mlflow`; .ci/setup does) so the test can start one");
    let uri = format!("http://127.0.0.1:{port}");
    let s = Server {
        uri: uri.clone(),
        child: Some(child),
    };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(120) {
        if let Ok(r) = ureq::get(&format!("{uri}/health")).call() {
            if r.status() == 200 {
                return s;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("mlflow server did not answer on {uri}/health within 120 s");
}

#[test]
fn a_training_run_is_logged_to_a_real_mlflow_server_and_read_back_over_rest() {
    let srv = server();
    let out = std::env::temp_dir().join(format!("nextevent-tracking-{}", std::process::id()));
    let opts = common::tiny_pipeline(5, 2, &out, "tracked");
    let report = run(&opts).unwrap();

    let experiment = format!("nextevent-test-{}", std::process::id());
    let tracker = Tracker::Mlflow(Mlflow::connect(&srv.uri, &experiment).unwrap());
    let parent = tracker
        .log_run(&nextevent::data::tracking::RunRecord {
            name: "comparison (test parent)".into(),
            ..Default::default()
        })
        .unwrap();
    let mut rec = run_record(&report, &opts, "cnn_bigru seed 5");
    rec.parent = Some(parent.run_id.clone());
    let logged = tracker.log_run(&rec).unwrap();

    // Read it back with a fresh client, over REST.
    let m = Mlflow::connect(&srv.uri, &experiment).unwrap();
    let got = m
        .get("runs/get", &[("run_id", logged.run_id.as_str())], false)
        .unwrap()
        .unwrap();
    let run = &got["run"];
    assert_eq!(run["info"]["status"], "FINISHED");
    let params: Vec<(&str, &str)> = run["data"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["key"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    let spec_version = nextevent::core::spec::SPEC_VERSION.to_string();
    for (k, v) in [
        ("architecture", "cnn_bigru"),
        ("seed", "5"),
        ("hidden", "8"),
        ("spec_version", spec_version.as_str()),
        ("data_file_0", "cosmetics-sample.csv"),
        ("data_file_0_rows", "4995"),
    ] {
        assert!(
            params.contains(&(k, v)),
            "param {k}={v} missing from {params:?}"
        );
    }
    let tags = run["data"]["tags"].as_array().unwrap();
    assert!(tags
        .iter()
        .any(|t| t["key"] == "mlflow.parentRunId" && t["value"] == parent.run_id.as_str()));

    let hist = m
        .get(
            "metrics/get-history",
            &[
                ("run_id", logged.run_id.as_str()),
                ("metric_key", "valid_macro_f1"),
            ],
            false,
        )
        .unwrap()
        .unwrap();
    let steps: Vec<(i64, f64)> = hist["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["step"].as_i64().unwrap(), x["value"].as_f64().unwrap()))
        .collect();
    let want: Vec<(i64, f64)> = report
        .history
        .iter()
        .map(|h| (h.epoch as i64, h.valid_macro_f1))
        .collect();
    assert_eq!(steps.len(), want.len(), "one value per epoch");
    for ((s, v), (ws, wv)) in steps.iter().zip(&want) {
        assert_eq!(s, ws);
        assert!((v - wv).abs() < 1e-9);
    }
    let test_acc: Value = m
        .get(
            "metrics/get-history",
            &[
                ("run_id", logged.run_id.as_str()),
                ("metric_key", "test_accuracy"),
            ],
            false,
        )
        .unwrap()
        .unwrap();
    assert!(
        (test_acc["metrics"][0]["value"].as_f64().unwrap() - report.test_int8.accuracy).abs()
            < 1e-9
    );

    let list = m
        .get(
            "artifacts/list",
            &[("run_id", logged.run_id.as_str())],
            false,
        )
        .unwrap()
        .unwrap();
    let mut files: Vec<(String, u64)> = list["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["file_size"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    files.sort();
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "tracked.card.json",
            "tracked.card.md",
            "tracked.confusion.svg",
            "tracked.curves.svg",
            "tracked.fp32.onnx",
            "tracked.onnx",
            "tracked.reliability.svg"
        ]
    );
    let onnx = files.iter().find(|f| f.0 == "tracked.onnx").unwrap();
    assert_eq!(
        onnx.1,
        std::fs::metadata(out.join("tracked.onnx")).unwrap().len()
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn a_comparison_logs_a_parent_run_with_one_live_child_per_model_and_seed() {
    let srv = server();
    let out =
        std::env::temp_dir().join(format!("nextevent-tracking-compare-{}", std::process::id()));
    let base = common::tiny_pipeline(0, 2, &out, "unused");
    let opts = CompareOptions {
        inputs: base.inputs.clone(),
        out_dir: out.clone(),
        name: "comparison".into(),
        title: "Test comparison".into(),
        variants: Variant::archs(&[Arch::CnnBiGru, Arch::Lstm]),
        seeds: vec![1, 2],
        train: base.train.clone(),
        provenance: "the real sample (test)".into(),
        timing_windows: 20,
        command: "test".into(),
    };
    let experiment = format!("nextevent-compare-test-{}", std::process::id());
    let tracker = Tracker::Mlflow(Mlflow::connect(&srv.uri, &experiment).unwrap());
    let report = compare(&opts, &tracker).unwrap();
    assert_eq!(report.runs.len(), 4);
    assert_eq!(report.summary.len(), 2);
    assert!(report.summary.iter().all(|s| s.macro_f1.n == 2));
    let md = std::fs::read_to_string(out.join("COMPARISON.md")).unwrap();
    assert!(md.contains("| CNN+BiGRU |") && md.contains("| LSTM |") && md.contains(&report.answer));
    assert!(std::fs::read_to_string(out.join("comparison.svg"))
        .unwrap()
        .contains("Test macro-F1"));

    let m = Mlflow::connect(&srv.uri, &experiment).unwrap();
    let parent = report.parent_run.clone().unwrap();
    let found = m
        .post(
            "runs/search",
            &serde_json::json!({
                "experiment_ids": [m.experiment_id],
                "filter": format!("tags.mlflow.parentRunId = '{parent}'"),
                "max_results": 100
            }),
        )
        .unwrap();
    let children = found["runs"].as_array().unwrap();
    assert_eq!(children.len(), 4, "one child per model and seed");
    let mut names: Vec<&str> = children
        .iter()
        .map(|r| r["info"]["run_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cnn_bigru seed 1",
            "cnn_bigru seed 2",
            "lstm seed 1",
            "lstm seed 2"
        ]
    );
    for r in &report.runs {
        let id = r.run_id.as_deref().unwrap();
        // Per-epoch metrics were logged as each epoch ended, before the test evaluation.
        let hist = |key: &str| -> Vec<(i64, i64)> {
            m.get(
                "metrics/get-history",
                &[("run_id", id), ("metric_key", key)],
                false,
            )
            .unwrap()
            .unwrap()["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x["step"].as_i64().unwrap(),
                        x["timestamp"].as_i64().unwrap(),
                    )
                })
                .collect()
        };
        let epochs = hist("valid_macro_f1");
        assert_eq!(epochs.len(), r.epochs_run, "{id}");
        let tested = hist("test_macro_f1")[0].1;
        assert!(
            epochs.iter().all(|(_, t)| *t < tested),
            "{epochs:?} vs {tested}"
        );
        let arts = m
            .get("artifacts/list", &[("run_id", id)], false)
            .unwrap()
            .unwrap();
        assert_eq!(
            arts["files"][0]["path"],
            format!("{}-s{}.onnx", r.variant, r.seed)
        );
    }
    let arts = m
        .get("artifacts/list", &[("run_id", parent.as_str())], false)
        .unwrap()
        .unwrap();
    let mut files: Vec<&str> = arts["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["COMPARISON.md", "comparison.json", "comparison.svg"]
    );
    std::fs::remove_dir_all(&out).ok();
}
