//! Experiment tracking: an MLflow tracking server over its REST API when
//! `MLFLOW_TRACKING_URI` is set, otherwise a local run folder holding the same params,
//! metrics, tags and artifacts in plain files (`params.json`, `metrics.csv`, `tags.json`,
//! `artifacts/`), so tracking never needs anything running.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use crate::data::error::{Error, Result};

/// MLflow's `runs/log-batch` limits: 1,000 items in all, 100 params per call. (Tags, at most
/// a handful, are sent with `runs/create`.)
const BATCH_ITEMS: usize = 1000;
const BATCH_PARAMS: usize = 100;
/// MLflow truncates nothing for us: params longer than this are refused by the server.
const PARAM_VALUE_MAX: usize = 6000;

/// One metric value at a step (epoch), as MLflow stores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    pub step: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
}

/// Everything one run logs.
#[derive(Debug, Clone, Default)]
pub struct RunRecord {
    pub name: String,
    pub params: Vec<(String, String)>,
    pub metrics: Vec<Metric>,
    pub tags: Vec<(String, String)>,
    /// Files uploaded as artifacts, under their file names.
    pub artifacts: Vec<PathBuf>,
    /// The parent run's id, for child runs (MLflow tag `mlflow.parentRunId`).
    pub parent: Option<String>,
}

impl RunRecord {
    pub fn param(&mut self, k: impl Into<String>, v: impl ToString) {
        self.params.push((k.into(), v.to_string()));
    }
    pub fn metric(&mut self, k: impl Into<String>, value: f64, step: i64) {
        self.metrics.push(Metric {
            key: k.into(),
            value,
            step,
            timestamp: now_ms(),
        });
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Where a run landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub run_id: String,
    /// The server's run URL or the local folder.
    pub location: String,
}

/// Where runs go.
#[derive(Debug, Clone)]
pub enum Tracker {
    Mlflow(Mlflow),
    /// A folder per run under `root/<experiment>/`.
    Local {
        root: PathBuf,
        experiment: String,
    },
}

impl Tracker {
    /// MLflow when `MLFLOW_TRACKING_URI` is an http(s) URL; otherwise the local folder
    /// (`MLFLOW_TRACKING_URI` may also name a local folder, as a path or `file:` URI).
    pub fn from_env(experiment: &str, local_root: &Path) -> Result<Tracker> {
        match std::env::var("MLFLOW_TRACKING_URI") {
            Ok(uri) if uri.starts_with("http://") || uri.starts_with("https://") => {
                Ok(Tracker::Mlflow(Mlflow::connect(&uri, experiment)?))
            }
            Ok(uri) if !uri.trim().is_empty() => Ok(Tracker::Local {
                root: PathBuf::from(
                    uri.trim_start_matches("file://")
                        .trim_start_matches("file:"),
                ),
                experiment: experiment.into(),
            }),
            _ => Ok(Tracker::Local {
                root: local_root.into(),
                experiment: experiment.into(),
            }),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Tracker::Mlflow(m) => format!("MLflow at {} (experiment {})", m.base, m.experiment_id),
            Tracker::Local { root, experiment } => {
                format!("local run folders in {}", root.join(experiment).display())
            }
        }
    }

    /// Starts a run (status RUNNING) that params and metrics can be logged into as they
    /// happen, e.g. once per epoch; [`ActiveRun::finish`] logs the rest and ends it.
    pub fn start(
        &self,
        name: &str,
        parent: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<ActiveRun> {
        let mut tags = tags.to_vec();
        if let Some(p) = parent {
            tags.push(("mlflow.parentRunId".into(), p.to_string()));
        }
        match self {
            Tracker::Mlflow(m) => m.start(name, &tags),
            Tracker::Local { root, experiment } => {
                start_local(&root.join(experiment), name, parent, &tags)
            }
        }
    }

    /// Logs a whole run (params, metrics, tags, artifacts) and marks it finished.
    pub fn log_run(&self, run: &RunRecord) -> Result<Logged> {
        let mut active = self.start(&run.name, run.parent.as_deref(), &run.tags)?;
        active.finish(run)
    }
}

/// A run that has started and not yet ended.
#[derive(Debug)]
pub struct ActiveRun {
    pub run_id: String,
    /// The server's run URL or the local folder.
    pub location: String,
    sink: Sink,
    /// (key, step) of the metrics logged so far, so `finish` does not log them twice.
    logged: std::collections::HashSet<(String, i64)>,
    params: Vec<(String, String)>,
}

#[derive(Debug)]
enum Sink {
    Mlflow { m: Mlflow, artifact_uri: String },
    Local { dir: PathBuf },
}

impl ActiveRun {
    /// Logs params and metrics now (MLflow: `runs/log-batch` within its limits; local:
    /// `params.json` rewritten, `metrics.csv` appended). A param already logged is skipped.
    pub fn log(&mut self, params: &[(String, String)], metrics: &[Metric]) -> Result<()> {
        let params: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| !self.params.iter().any(|(k2, _)| k2 == k))
            .cloned()
            .collect();
        for (k, v) in &params {
            if v.len() > PARAM_VALUE_MAX {
                return Err(tracking_err(format!(
                    "param {k} is {} characters; MLflow accepts at most {PARAM_VALUE_MAX}",
                    v.len()
                )));
            }
        }
        match &self.sink {
            Sink::Mlflow { m, .. } => {
                for body in batches(&self.run_id, &params, metrics) {
                    m.post("runs/log-batch", &body)?;
                }
            }
            Sink::Local { dir } => {
                let mut all = self.params.clone();
                all.extend(params.iter().cloned());
                write_json(&dir.join("params.json"), &obj(&all))?;
                let path = dir.join("metrics.csv");
                let fresh = !path.exists();
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| Error::write(&path, e))?;
                let mut w = csv::WriterBuilder::new()
                    .has_headers(fresh)
                    .from_writer(file);
                for m in metrics {
                    w.serialize(m).map_err(|source| Error::CsvWrite {
                        path: path.clone(),
                        source,
                    })?;
                }
                w.flush().map_err(|e| Error::write(&path, e))?;
            }
        }
        self.params.extend(params);
        self.logged
            .extend(metrics.iter().map(|m| (m.key.clone(), m.step)));
        Ok(())
    }

    /// Uploads files as artifacts under their file names.
    pub fn artifacts(&self, paths: &[PathBuf]) -> Result<()> {
        paths.iter().try_for_each(|a| self.artifact_in(None, a))
    }

    /// Uploads one file as an artifact under its file name, in the artifact folder `folder`
    /// (e.g. `model` for an MLflow model directory) or at the top.
    pub fn artifact_in(&self, folder: Option<&str>, a: &Path) -> Result<()> {
        match &self.sink {
            Sink::Mlflow { m, artifact_uri } => m.put_artifact(artifact_uri, folder, a),
            Sink::Local { dir } => {
                let name = a.file_name().ok_or_else(|| {
                    tracking_err(format!("artifact {} has no file name", a.display()))
                })?;
                let mut to = dir.join("artifacts");
                if let Some(f) = folder {
                    to = to.join(f);
                    crate::data::files::create_dir(&to)?;
                }
                let to = to.join(name);
                std::fs::copy(a, &to).map_err(|e| Error::write(&to, e))?;
                Ok(())
            }
        }
    }

    /// Logs what `run` holds that was not logged yet (params, metrics, artifacts) and ends
    /// the run: FINISHED, or FAILED (and the error) when logging failed.
    pub fn finish(&mut self, run: &RunRecord) -> Result<Logged> {
        let rest: Vec<Metric> = run
            .metrics
            .iter()
            .filter(|m| !self.logged.contains(&(m.key.clone(), m.step)))
            .cloned()
            .collect();
        let result = self
            .log(&run.params, &rest)
            .and_then(|()| self.artifacts(&run.artifacts));
        self.end(result.is_ok())?;
        result?;
        Ok(Logged {
            run_id: self.run_id.clone(),
            location: self.location.clone(),
        })
    }

    /// Ends the run with FINISHED or FAILED.
    pub fn end(&self, ok: bool) -> Result<()> {
        let status = if ok { "FINISHED" } else { "FAILED" };
        match &self.sink {
            Sink::Mlflow { m, .. } => m
                .post(
                    "runs/update",
                    &json!({"run_id": self.run_id, "status": status, "end_time": now_ms()}),
                )
                .map(|_| ()),
            Sink::Local { dir } => {
                let path = dir.join("run.json");
                let mut v: Value = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_else(|| json!({}));
                v["status"] = json!(status);
                v["end_time"] = json!(now_ms());
                write_json(&path, &v)
            }
        }
    }
}

/// A name as a metric key: lower-case ASCII letters and digits, everything else `_`
/// ("last-event Markov (order 1)" → "last_event_markov__order_1_").
pub fn metric_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn tracking_err(what: impl std::fmt::Display) -> Error {
    Error::Tracking(what.to_string())
}

fn transport_err(what: String) -> impl FnOnce(ureq::Error) -> Error {
    move |source| Error::TrackingTransport { what, source }
}

fn obj(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn write_json(path: &Path, v: &Value) -> Result<()> {
    crate::data::files::write(path, serde_json::to_string_pretty(v).expect("json"))
}

fn start_local(
    dir: &Path,
    name: &str,
    parent: Option<&str>,
    tags: &[(String, String)],
) -> Result<ActiveRun> {
    let stamp = time::OffsetDateTime::now_utc();
    let base = format!(
        "{}-{:04}{:02}{:02}T{:02}{:02}{:02}-{:03}",
        sanitize(name),
        stamp.year(),
        stamp.month() as u8,
        stamp.day(),
        stamp.hour(),
        stamp.minute(),
        stamp.second(),
        stamp.millisecond()
    );
    // Runs started within the same millisecond (child runs of a quick comparison) stay apart.
    let mut run_id = base.clone();
    let mut n = 1;
    while dir.join(&run_id).exists() {
        n += 1;
        run_id = format!("{base}-{n}");
    }
    let d = dir.join(&run_id);
    crate::data::files::create_dir(&d.join("artifacts"))?;
    write_json(&d.join("params.json"), &json!({}))?;
    write_json(&d.join("tags.json"), &obj(tags))?;
    write_json(
        &d.join("run.json"),
        &json!({"run_id": run_id, "name": name, "parent": parent, "status": "RUNNING",
                "start_time": now_ms()}),
    )?;
    Ok(ActiveRun {
        location: d.display().to_string(),
        run_id,
        sink: Sink::Local { dir: d },
        logged: Default::default(),
        params: Vec::new(),
    })
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// An MLflow tracking server (REST API 2.0) and one experiment on it.
#[derive(Debug, Clone)]
pub struct Mlflow {
    agent: ureq::Agent,
    pub base: String,
    pub experiment_id: String,
}

impl Mlflow {
    /// Finds or creates the experiment.
    pub fn connect(uri: &str, experiment: &str) -> Result<Mlflow> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut m = Mlflow {
            agent,
            base: uri.trim_end_matches('/').to_string(),
            experiment_id: String::new(),
        };
        let found = m.get(
            "experiments/get-by-name",
            &[("experiment_name", experiment)],
            true,
        )?;
        m.experiment_id = match found {
            Some(v) => str_at(&v, &["experiment", "experiment_id"])?,
            None => {
                let v = m.post("experiments/create", &json!({ "name": experiment }))?;
                str_at(&v, &["experiment_id"])?
            }
        };
        Ok(m)
    }

    fn url(&self, api: &str) -> String {
        format!("{}/api/2.0/mlflow/{api}", self.base)
    }

    fn read(api: &str, mut resp: ureq::http::Response<ureq::Body>) -> Result<(u16, Value)> {
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(transport_err(format!("{api}: reading the response")))?;
        let v = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, v))
    }

    fn check(api: &str, status: u16, v: Value) -> Result<Value> {
        if (200..300).contains(&status) {
            Ok(v)
        } else {
            Err(tracking_err(format!("{api}: HTTP {status}: {v}")))
        }
    }

    /// GET; with `missing_ok`, a 404 `RESOURCE_DOES_NOT_EXIST` is `None`.
    pub fn get(
        &self,
        api: &str,
        query: &[(&str, &str)],
        missing_ok: bool,
    ) -> Result<Option<Value>> {
        let mut req = self.agent.get(&self.url(api));
        for (k, v) in query {
            req = req.query(*k, *v);
        }
        let resp = req
            .call()
            .map_err(transport_err(format!("GET {}", self.url(api))))?;
        let (status, v) = Self::read(api, resp)?;
        if missing_ok && status == 404 {
            return Ok(None);
        }
        Self::check(api, status, v).map(Some)
    }

    pub fn post(&self, api: &str, body: &Value) -> Result<Value> {
        let resp = self
            .agent
            .post(&self.url(api))
            .send_json(body)
            .map_err(transport_err(format!("POST {}", self.url(api))))?;
        let (status, v) = Self::read(api, resp)?;
        Self::check(api, status, v)
    }

    /// Uploads one file through the server's artifact proxy (`mlflow-artifacts:` runs).
    fn put_artifact(&self, artifact_uri: &str, folder: Option<&str>, path: &Path) -> Result<()> {
        let rel = artifact_uri
            .strip_prefix("mlflow-artifacts:")
            .map(|r| r.trim_start_matches('/'))
            .ok_or_else(|| {
                tracking_err(format!(
                    "the run's artifact location {artifact_uri:?} is not served by the tracking \
                     server; start it with artifact proxying (the default of `mlflow server`, or \
                     --serve-artifacts with --artifacts-destination)"
                ))
            })?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| tracking_err(format!("artifact {} has no file name", path.display())))?;
        let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
        let folder = folder.map_or(String::new(), |f| format!("{f}/"));
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{rel}/{folder}{name}",
            self.base
        );
        let resp = self
            .agent
            .put(&url)
            .header("Content-Type", "application/octet-stream")
            .send(&bytes[..])
            .map_err(transport_err(format!("PUT {url}")))?;
        let (status, v) = Self::read("mlflow-artifacts", resp)?;
        Self::check(&format!("upload {name}"), status, v).map(|_| ())
    }

    fn start(&self, name: &str, tags: &[(String, String)]) -> Result<ActiveRun> {
        let mut tags: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        tags.push(json!({"key": "mlflow.runName", "value": name}));
        tags.push(json!({"key": "mlflow.source.name", "value": "nextevent-train"}));
        let created = self.post(
            "runs/create",
            &json!({"experiment_id": self.experiment_id, "run_name": name,
                    "start_time": now_ms(), "tags": tags}),
        )?;
        let run_id = str_at(&created, &["run", "info", "run_id"])?;
        let artifact_uri = str_at(&created, &["run", "info", "artifact_uri"])?;
        Ok(ActiveRun {
            location: format!(
                "{}/#/experiments/{}/runs/{run_id}",
                self.base, self.experiment_id
            ),
            run_id,
            sink: Sink::Mlflow {
                m: self.clone(),
                artifact_uri,
            },
            logged: Default::default(),
            params: Vec::new(),
        })
    }
}

/// Splits params and metrics into `runs/log-batch` bodies within MLflow's limits.
pub fn batches(run_id: &str, params: &[(String, String)], metrics: &[Metric]) -> Vec<Value> {
    let mut out = Vec::new();
    let (mut p, mut m) = (params, metrics);
    while !p.is_empty() || !m.is_empty() {
        let np = p.len().min(BATCH_PARAMS);
        let nm = m.len().min(BATCH_ITEMS - np);
        let params: Vec<Value> = p[..np]
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        let metrics: Vec<Value> = m[..nm]
            .iter()
            .map(|x| json!({"key": x.key, "value": x.value, "step": x.step, "timestamp": x.timestamp}))
            .collect();
        out.push(json!({"run_id": run_id, "params": params, "metrics": metrics, "tags": []}));
        p = &p[np..];
        m = &m[nm..];
    }
    out
}

fn str_at(v: &Value, path: &[&str]) -> Result<String> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k).ok_or_else(|| {
            tracking_err(format!(
                "unexpected MLflow response (no `{}`): {v}",
                path.join(".")
            ))
        })?;
    }
    cur.as_str()
        .map(str::to_string)
        .ok_or_else(|| tracking_err(format!("`{}` is not a string in {v}", path.join("."))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(n: usize) -> Vec<Metric> {
        (0..n)
            .map(|i| Metric {
                key: format!("m{}", i % 7),
                value: i as f64,
                step: i as i64,
                timestamp: 1,
            })
            .collect()
    }

    #[test]
    fn batches_respect_mlflow_limits_and_lose_nothing() {
        let params: Vec<(String, String)> =
            (0..250).map(|i| (format!("p{i}"), i.to_string())).collect();
        let m = metrics(2_345);
        let b = batches("r", &params, &m);
        let (mut np, mut nm) = (0, 0);
        for body in &b {
            let p = body["params"].as_array().unwrap().len();
            let x = body["metrics"].as_array().unwrap().len();
            assert!(p <= 100 && p + x <= 1000, "{p} params + {x} metrics");
            np += p;
            nm += x;
        }
        assert_eq!((np, nm), (250, 2_345));
        assert_eq!(b[0]["params"][0]["key"], "p0");
        assert_eq!(
            b.last().unwrap()["metrics"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()["step"],
            2_344
        );
        assert!(batches("r", &[], &[]).is_empty());
    }

    #[test]
    fn local_runs_hold_params_metrics_tags_and_artifacts_in_plain_files() {
        let dir = std::env::temp_dir().join(format!("nextevent-track-{}", std::process::id()));
        let art = dir.join("model.card.md");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&art, "# card").unwrap();
        let t = Tracker::Local {
            root: dir.clone(),
            experiment: "exp".into(),
        };
        let mut r = RunRecord {
            name: "cnn bigru/seed 1".into(),
            parent: Some("parent-1".into()),
            artifacts: vec![art],
            ..Default::default()
        };
        r.param("seed", 1);
        r.metric("valid_macro_f1", 0.5, 1);
        r.metric("valid_macro_f1", 0.6, 2);
        let logged = t.log_run(&r).unwrap();
        let d = PathBuf::from(&logged.location);
        assert!(d.starts_with(dir.join("exp")));
        let params: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("params.json")).unwrap()).unwrap();
        assert_eq!(params["seed"], "1");
        let tags: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("tags.json")).unwrap()).unwrap();
        assert_eq!(tags["mlflow.parentRunId"], "parent-1");
        let csv = std::fs::read_to_string(d.join("metrics.csv")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "key,value,step,timestamp");
        assert_eq!(lines.len(), 3);
        assert!(lines[2].starts_with("valid_macro_f1,0.6,2,"));
        assert_eq!(
            std::fs::read_to_string(d.join("artifacts/model.card.md")).unwrap(),
            "# card"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_live_local_run_shows_epochs_before_it_ends_and_logs_nothing_twice() {
        let dir = std::env::temp_dir().join(format!("nextevent-live-{}", std::process::id()));
        let t = Tracker::Local {
            root: dir.clone(),
            experiment: "exp".into(),
        };
        let mut run = t.start("live", None, &[]).unwrap();
        let d = PathBuf::from(&run.location);
        let status = |d: &Path| -> Value {
            serde_json::from_str(&std::fs::read_to_string(d.join("run.json")).unwrap()).unwrap()
        };
        assert_eq!(status(&d)["status"], "RUNNING");
        let mut rec = RunRecord {
            name: "live".into(),
            ..Default::default()
        };
        rec.param("seed", 3);
        rec.metric("valid_macro_f1", 0.4, 1);
        run.log(&rec.params, &rec.metrics).unwrap();
        let csv = std::fs::read_to_string(d.join("metrics.csv")).unwrap();
        assert_eq!(
            csv.lines().count(),
            2,
            "epoch 1 is visible while the run goes on"
        );
        rec.metric("valid_macro_f1", 0.5, 2);
        rec.metric("test_accuracy", 0.7, 0);
        run.finish(&rec).unwrap();
        let csv = std::fs::read_to_string(d.join("metrics.csv")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4, "{csv}");
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("valid_macro_f1,0.4,1"))
                .count(),
            1
        );
        assert_eq!(status(&d)["status"], "FINISHED");
        let params: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("params.json")).unwrap()).unwrap();
        assert_eq!(params, json!({"seed": "3"}));
        // A second run started in the same millisecond gets its own folder.
        let a = t.start("same", None, &[]).unwrap();
        let b = t.start("same", None, &[]).unwrap();
        assert_ne!(a.location, b.location);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
