"""Point clouds from .npy or .csv files, with optional class labels; errors name the file and line."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


class PointFileError(ValueError):
    """A point-cloud file that cannot be read; the message names the file and, where it applies, the line."""


def _number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def load_points(path) -> tuple[np.ndarray, np.ndarray | None]:
    """(points (n, d) float64, labels (n,) str or None).

    - ``.npy``: an (n, d) numeric array; no labels.
    - ``.csv`` (comma-separated): an optional header line (a first line that is not all numbers), then rows of
      numbers; a last column that is not numeric on every row is taken as the class label.
    """
    path = Path(path)
    if not path.is_file():
        raise PointFileError(f"{path}: no such file")
    if path.suffix == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except ValueError as err:
            raise PointFileError(f"{path}: not a numeric .npy array ({err})") from None
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
            raise PointFileError(
                f"{path}: expected a numeric (n, d) array; got shape {x.shape}, dtype {x.dtype}"
            )
        return x.astype(np.float64), None
    if path.suffix != ".csv":
        raise PointFileError(f"{path}: point clouds are read from .npy or .csv files")
    with open(path, newline="", encoding="utf-8") as f:
        rows = [
            (i + 1, [t.strip() for t in r])
            for i, r in enumerate(csv.reader(f))
            if r and any(t.strip() for t in r)
        ]
    if rows:
        first = rows[0][1]
        if any(_number(t) is None for t in (first[:-1] if len(first) > 1 else first)):
            rows = rows[1:]  # a header: labels only ever occupy the last column
    if len(rows) < 2:
        raise PointFileError(f"{path}: fewer than 2 data rows")
    width = len(rows[0][1])
    labelled = any(_number(r[-1]) is None for _, r in rows)
    values, labels = [], []
    for line, r in rows:
        if len(r) != width:
            raise PointFileError(f"{path}:{line}: {len(r)} columns, expected {width}")
        numeric = r[:-1] if labelled else r
        parsed = [_number(t) for t in numeric]
        if any(p is None for p in parsed) or not numeric:
            bad = next((t for t, p in zip(numeric, parsed, strict=True) if p is None), "")
            raise PointFileError(f"{path}:{line}: {bad!r} is not a number")
        values.append(parsed)
        if labelled:
            labels.append(r[-1])
    return np.asarray(values, np.float64), (np.asarray(labels) if labelled else None)
