"""MetricsWriter / read_metrics: strict JSON lines, types, non-finite values, append on resume."""

import json
import math

import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.train import MetricsWriter, read_metrics


def strict_loads(line):
    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(line, parse_constant=refuse)


def test_lines_are_strict_json_with_converted_values(tmp_path):
    with MetricsWriter(tmp_path) as writer:
        writer.write(
            jnp.int32(10),
            {"loss": jnp.float32(0.5), "eval": {"map": np.float64(0.75), "rank": 3}},
            count=np.int64(7),
            ok=jnp.bool_(True),
            norms=jnp.array([1.0, jnp.nan]),
            note="warmup",
        )
        writer.write(11, loss=float("nan"), grad=jnp.inf, low=-np.inf)
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2
    first, second = (strict_loads(line) for line in lines)
    assert first["step"] == 10 and isinstance(first["step"], int)
    assert first["loss"] == 0.5 and first["eval/map"] == 0.75 and first["eval/rank"] == 3
    assert first["count"] == 7 and first["ok"] is True and first["note"] == "warmup"
    assert first["norms"] == [1.0, "nan"]
    assert first["time"] >= 0 and first["unix_time"] > 1e9
    assert second["loss"] == "nan" and second["grad"] == "inf" and second["low"] == "-inf"

    rows = read_metrics(tmp_path)
    assert math.isnan(rows[1]["loss"]) and rows[1]["grad"] == math.inf and rows[1]["low"] == -math.inf
    assert rows[0]["note"] == "warmup" and math.isnan(rows[0]["norms"][1])


def test_flushed_per_line_and_appends_on_reopen(tmp_path):
    writer = MetricsWriter(tmp_path)
    writer.write(1, loss=1.0)
    assert len(read_metrics(tmp_path / "metrics.jsonl")) == 1  # readable before close
    writer.write(2, loss=0.5)
    writer.close()
    writer.close()
    with MetricsWriter(tmp_path) as resumed:
        resumed.write(3, loss=0.25)
    rows = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert [r["loss"] for r in rows] == [1.0, 0.5, 0.25]


def test_partial_last_line_of_a_killed_run(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "lo')
    with MetricsWriter(tmp_path) as writer:
        writer.write(2, loss=0.5)
    with pytest.warns(UserWarning, match=r"metrics.jsonl:2"):
        rows = read_metrics(tmp_path)
    assert [r["step"] for r in rows] == [1, 2]


def test_bad_metrics_are_rejected(tmp_path):
    with MetricsWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="reserved"):
            writer.write(1, time=3.0)
        with pytest.raises(TypeError, match="object"):
            writer.write(1, thing=object())


def test_disabled_writer_writes_nothing(tmp_path):
    with MetricsWriter(tmp_path / "w", enabled=False) as writer:
        writer.write(1, loss=1.0)
    assert not (tmp_path / "w" / "metrics.jsonl").exists()
