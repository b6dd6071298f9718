//! A nextevent model as an MLflow model directory, logged with a training run: the `MLmodel`
//! file of a pyfunc in the `loader_module` form (loader `nextevent.mlflow`, data the ONNX
//! file) beside the ONNX file itself. Rust cannot write a pickled Python model; this form
//! needs none, and the Python package's `nextevent.mlflow.log_model` writes the same layout.

use std::path::Path;

use crate::data::error::{Error, Result};
use crate::data::tracking::ActiveRun;

/// The artifact folder of the model in a run (`runs:/<run id>/model`).
pub const ARTIFACT: &str = "model";
/// The ONNX file's name inside the model directory (what `MLmodel`'s `data` names).
pub const DATA_FILE: &str = "nextevent.onnx";

/// The `MLmodel` text for a run. No `python_version` or environment: the package is not on a
/// public index, so the model is served with `--env-manager local` in an environment that
/// has `nextevent` installed (README, "Serve it with MLflow").
pub fn mlmodel(run_id: &str, created_utc: &str, model_uuid: &str) -> String {
    format!(
        "artifact_path: {ARTIFACT}\n\
         flavors:\n\
         \x20 python_function:\n\
         \x20   data: {DATA_FILE}\n\
         \x20   loader_module: nextevent.mlflow\n\
         model_uuid: {model_uuid}\n\
         run_id: {run_id}\n\
         utc_time_created: '{created_utc}'\n"
    )
}

/// Logs `onnx` as the run's MLflow model (`model/MLmodel`, `model/nextevent.onnx`).
pub fn log_pyfunc_model(run: &ActiveRun, onnx: &Path) -> Result<()> {
    let dir = std::env::temp_dir().join(format!(
        "nextevent-mlflow-{}-{}",
        std::process::id(),
        run.run_id
    ));
    crate::data::files::create_dir(&dir)?;
    let now = time::OffsetDateTime::now_utc();
    let created = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    );
    // A fresh id per logged model, as MLflow's own loggers write (32 hex digits).
    let uuid = format!(
        "{:032x}",
        (now.unix_timestamp_nanos() as u128) ^ ((std::process::id() as u128) << 96)
    );
    let ml = dir.join("MLmodel");
    std::fs::write(&ml, mlmodel(&run.run_id, &created, &uuid)).map_err(|e| Error::write(&ml, e))?;
    let data = dir.join(DATA_FILE);
    std::fs::copy(onnx, &data).map_err(|e| Error::write(&data, e))?;
    let r = run
        .artifact_in(Some(ARTIFACT), &ml)
        .and_then(|()| run.artifact_in(Some(ARTIFACT), &data));
    let _ = std::fs::remove_dir_all(&dir);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlmodel_names_the_loader_and_the_data_file() {
        let t = mlmodel("abc", "2026-12-01 10:00:00.000000", "f00");
        assert!(t.contains("\n  python_function:\n    data: nextevent.onnx\n    loader_module: nextevent.mlflow\n"), "{t}");
        assert!(t.contains("run_id: abc\n") && t.starts_with("artifact_path: model\n"));
    }
}
