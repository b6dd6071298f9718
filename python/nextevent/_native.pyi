"""Type stubs of the native module (src/python/), checked by `mypy.stubtest`."""

import os
from typing import Any, Mapping, Optional, Sequence, Union, final

__version__: str
__all__ = ["Predictor", "NextEventError", "churn_columns", "feature_spec", "embedded_onnx", "__version__"]

class NextEventError(ValueError):
    """Bad input or a bad model: the message names the event, row, column or graph node."""

@final
class Predictor:
    def __new__(cls, *, threshold: Optional[float] = None) -> Predictor: ...
    @staticmethod
    def from_onnx(
        model: Union[str, os.PathLike[str], bytes, bytearray], *, threshold: Optional[float] = None
    ) -> Predictor: ...
    def predict(self, events: Sequence[Mapping[str, Any]], *, influence: bool = False) -> dict[str, Any]: ...
    def predict_batch(self, sequences: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]: ...
    def _score_csv(
        self,
        data: bytes,
        *,
        name: str = "table",
        at: Optional[int] = None,
        end: Optional[int] = None,
        per_user: bool = False,
        open_only: bool = False,
        horizon_minutes: int = 120,
        threads: Optional[int] = None,
    ) -> tuple[dict[str, list[Any]], dict[str, int], list[tuple[int, str, str, str]]]: ...
    @property
    def threshold(self) -> Optional[float]: ...
    @property
    def has_conversion(self) -> bool: ...
    @property
    def info(self) -> dict[str, Any]: ...

def churn_columns() -> list[str]: ...
def feature_spec() -> dict[str, Any]: ...
def embedded_onnx() -> bytes: ...
