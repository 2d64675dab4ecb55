"""progress_bar: plain log lines off a terminal (bounded count, rate, ETA), tqdm on a terminal."""

import io
import re

from tqdm import tqdm

from geomrep.train import PlainProgress, progress_bar


def test_plain_lines_are_few_and_informative():
    out = io.StringIO()
    with progress_bar(1000, desc="train", unit="step", file=out) as bar:
        assert isinstance(bar, PlainProgress)
        for i in range(1000):
            bar.update(1)
            bar.set_postfix(loss=1.0 / (i + 1))
    lines = out.getvalue().splitlines()
    assert 15 <= len(lines) <= 21
    assert lines[-1].startswith("train: 1000/1000 step (100%)")
    for line in lines:
        assert re.search(r"\d+/1000 step", line)
        assert "step/s" in line and "ETA" in line and "loss=" in line
    steps = [int(re.search(r"(\d+)/1000", line).group(1)) for line in lines]
    assert steps == sorted(set(steps))


def test_plain_resume_close_and_big_updates():
    out = io.StringIO()
    bar = progress_bar(100, desc="fit", initial=40, tty=False, file=out)
    bar.update(30)
    bar.set_postfix({"map": 0.5})
    bar.close()
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("fit: 70/100 epoch (70%)")
    assert lines[1].startswith("fit: 70/100 epoch") and "map=0.5" in lines[1]

    out = io.StringIO()
    with progress_bar(5, tty=False, file=out) as bar:
        bar.update(5)
    assert len(out.getvalue().splitlines()) == 1  # the final line once, not again on close


def test_tty_gives_tqdm():
    class FakeTTY(io.StringIO):
        def isatty(self):
            return True

    out = FakeTTY()
    with progress_bar(10, desc="train", file=out) as bar:
        assert isinstance(bar, tqdm)
        bar.update(10)
    assert "10/10" in out.getvalue()
