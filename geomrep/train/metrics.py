"""``WORKDIR/metrics.jsonl``: one JSON object per logged step, appended and flushed line by line.

Each line is ``{"step": int, "time": float, "unix_time": float, <name>: <value>, ...}``:

- ``time`` is seconds since this :class:`MetricsWriter` was created (i.e. since the current process
  started logging; a resumed run starts again from 0), ``unix_time`` is ``time.time()``.
- Values may be Python/NumPy/JAX scalars (written as int/float/bool), arrays (written as nested lists),
  strings, or nested mappings (flattened with ``/``: ``{"eval": {"map": 0.9}}`` → ``"eval/map"``).
- Non-finite floats are written as the strings ``"nan"``, ``"inf"`` and ``"-inf"`` so that every line is
  strict JSON (readable by ``json.loads``, jq, JavaScript); :func:`read_metrics` turns them back into
  floats.

Re-opening a workdir appends, so a resumed run keeps the history of the interrupted one (lines logged
after its last checkpoint appear twice, with the same step numbers).
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np

METRICS_FILENAME = "metrics.jsonl"
_RESERVED = ("step", "time", "unix_time")
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _float_to_json(x: float) -> float | str:
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _to_json_value(value: Any) -> Any:
    """Converts a scalar/array/string to something ``json.dumps`` writes as strict JSON."""
    if isinstance(value, str | bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _float_to_json(value)
    if isinstance(value, jax.Array | np.ndarray | np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind == "b":
            return arr.tolist()
        if arr.dtype.kind in "iu":
            return arr.tolist()
        if arr.dtype.kind == "f":
            if arr.ndim == 0:
                return _float_to_json(float(arr))
            return jax.tree.map(_float_to_json, arr.astype(np.float64).tolist())
        raise TypeError(f"cannot write an array of dtype {arr.dtype} as a metric")
    if isinstance(value, list | tuple):
        return [_to_json_value(v) for v in value]
    raise TypeError(f"cannot write a value of type {type(value).__name__} as a metric")


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in values.items():
        full = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, full + "/"))
        else:
            flat[full] = value
    return flat


class MetricsWriter:
    """Appends metric lines to ``WORKDIR/metrics.jsonl`` (see the module docstring for the format).

    Args:
      workdir: the run's directory (created if missing).
      enabled: whether this process writes; default: only JAX process 0 (multi-host runs log once).

    Example:
      >>> with MetricsWriter(workdir) as writer:                         # doctest: +SKIP
      ...     writer.write(100, loss=0.25, max_norm=jnp.float32(0.99))
      >>> read_metrics(Path(workdir) / "metrics.jsonl")[-1]["loss"]      # doctest: +SKIP
      0.25
    """

    def __init__(self, workdir: str | os.PathLike, *, enabled: bool | None = None):
        self.path = Path(workdir) / METRICS_FILENAME
        self.enabled = jax.process_index() == 0 if enabled is None else enabled
        self._start = time.perf_counter()
        self._file = None
        if self.enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
            # A run killed mid-line leaves a partial last line: start ours on a fresh line.
            if self._file.tell() > 0:
                with open(self.path, "rb") as f:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        self._file.write("\n")

    def write(self, step: int, metrics: Mapping[str, Any] | None = None, /, **values: Any) -> None:
        """Appends one line ``{"step", "time", "unix_time", **metrics, **values}`` and flushes it.

        Args:
          step: the training step (anything ``int()`` accepts, e.g. ``state.step``).
          metrics: a mapping of names to values (nested mappings are flattened with ``/``).
          **values: more values by keyword.

        Raises:
          ValueError: a metric is named ``step``, ``time`` or ``unix_time``.
          TypeError: a value is not a scalar, array, string or mapping.
        """
        items = _flatten({**(metrics or {}), **values})
        clash = [name for name in _RESERVED if name in items]
        if clash:
            raise ValueError(f"metric names {clash} are reserved for the line's own fields")
        line = {"step": int(step), "time": time.perf_counter() - self._start, "unix_time": time.time()}
        line.update({name: _to_json_value(value) for name, value in items.items()})
        if self._file is None:
            return
        self._file.write(json.dumps(line, allow_nan=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Closes the file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> MetricsWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _decode_nonfinite(value: Any) -> Any:
    if isinstance(value, str):
        return _NONFINITE.get(value, value)
    if isinstance(value, list):
        return [_decode_nonfinite(v) for v in value]
    return value


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Reads a ``metrics.jsonl`` (or the workdir that holds one) into a list of dicts, in file order.

    The strings ``"nan"``, ``"inf"``, ``"-inf"`` become floats again. A line that does not parse (e.g.
    the partial last line of a killed run) is skipped with a warning naming ``path:line``.
    """
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILENAME
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as err:
                warnings.warn(f"{path}:{lineno}: skipping a line that is not JSON ({err})", stacklevel=2)
                continue
            rows.append({name: _decode_nonfinite(value) for name, value in row.items()})
    return rows
