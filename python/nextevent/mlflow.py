"""nextevent as an MLflow model: a pyfunc in the ``loader_module`` form. The ``MLmodel`` names
this module as the loader and the ONNX file as its data, so a model logged from Rust
(``nextevent-train`` writes the same two files with its run) and one logged from Python
load the same way. ``predict`` takes a DataFrame of Kaggle-schema events and returns the
churn list (`Predictor.score`).

The package is not on a public index, so serve with the environment it is installed in::

    mlflow models serve -m runs:/<run id>/model --env-manager local
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Optional, Union

from . import Predictor

#: The artifact name nextevent uses for its model, from Rust and from Python.
ARTIFACT = "model"
#: The file name of the ONNX model inside the MLflow model directory.
DATA_FILE = "nextevent.onnx"
#: `predict` params: the `score` options a request may set.
PARAMS = ("at", "per_user", "open_only", "horizon_minutes")


class NextEventModel:
    """What MLflow's pyfunc wraps: `predict(DataFrame of events) -> churn list`."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    def predict(self, model_input: Any, params: Optional[dict[str, Any]] = None) -> Any:
        # An empty `at` is the signature's default: the end of the data.
        opts = {k: v for k, v in (params or {}).items() if k in PARAMS and v not in (None, "")}
        unknown = sorted(set(params or {}) - set(PARAMS))
        if unknown:
            from . import NextEventError

            raise NextEventError(f"unknown params {unknown}; nextevent takes {list(PARAMS)}")
        return self.predictor.score(model_input, **opts)


def _load_pyfunc(data_path: str) -> NextEventModel:
    """MLflow's loader hook: `data_path` is the ONNX file (or the folder holding it)."""
    path = os.path.join(data_path, DATA_FILE) if os.path.isdir(data_path) else data_path
    return NextEventModel(Predictor.from_onnx(path))


def log_model(
    onnx_path: Union[None, str, "os.PathLike[str]"] = None,
    name: str = ARTIFACT,
    **kwargs: Any,
) -> Any:
    """Logs a nextevent model (an exported ONNX file, default: the embedded model) as a
    pyfunc in the active run; extra keyword arguments go to `mlflow.pyfunc.log_model`
    (e.g. `registered_model_name`). Returns MLflow's `ModelInfo`."""
    import mlflow.pyfunc

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, DATA_FILE)
        if onnx_path is None:
            from ._native import embedded_onnx

            with open(data, "wb") as f:
                f.write(embedded_onnx())
        else:
            Predictor.from_onnx(onnx_path)  # refuse a bad file before logging it
            with open(onnx_path, "rb") as src, open(data, "wb") as dst:
                dst.write(src.read())
        kwargs.setdefault("pip_requirements", ["nextevent", "pyarrow", "pandas"])
        kwargs.setdefault("signature", _signature())
        return mlflow.pyfunc.log_model(
            name=name,
            loader_module="nextevent.mlflow",
            data_path=data,
            **kwargs,
        )


def _signature() -> Any:
    """Input: the Kaggle columns (`brand`, `category_id`, `category_code` optional); output:
    the churn list; params: the score options a request may set."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    inputs = Schema(
        [
            ColSpec("string", "event_time"),
            ColSpec("string", "event_type"),
            ColSpec("long", "product_id"),
            ColSpec("long", "category_id", required=False),
            ColSpec("string", "category_code", required=False),
            ColSpec("string", "brand", required=False),
            ColSpec("double", "price"),
            ColSpec("long", "user_id"),
            ColSpec("string", "user_session"),
        ]
    )
    params = ParamSchema(
        [
            ParamSpec("at", "string", ""),
            ParamSpec("per_user", "boolean", False),
            ParamSpec("open_only", "boolean", False),
            ParamSpec("horizon_minutes", "long", 120),
        ]
    )
    return ModelSignature(inputs=inputs, params=params)
