"""Progress display for long loops: a tqdm bar on a terminal, a few plain log lines otherwise."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm


def _format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _format_rate(rate: float, unit: str) -> str:
    if not math.isfinite(rate) or rate <= 0:
        return f"? {unit}/s"
    if rate >= 100:
        return f"{rate:.0f} {unit}/s"
    if rate >= 1:
        return f"{rate:.2f} {unit}/s"
    return f"{1 / rate:.3g} s/{unit}"


def _format_value(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if isinstance(value, int | bool) or (hasattr(value, "dtype") and value.dtype.kind in "iub"):
        return str(int(number))
    return f"{number:.4g}"


class PlainProgress:
    """A progress reporter for logs (no terminal): at most ``max_lines`` evenly spaced lines, then a final
    one from ``close()`` (call it, or use ``with``).

    Each line reads ``desc: 40/100 epoch (40%) | 12.5 epoch/s | elapsed 00:03 | ETA 00:05 | loss=0.25``.
    The rate counts only the progress made since this reporter was created, so a resumed run
    (``initial > 0``) reports its own speed. Same methods as the tqdm bar: ``update``, ``set_postfix``,
    ``close``, context manager.
    """

    def __init__(
        self,
        total: int,
        *,
        desc: str = "",
        initial: int = 0,
        unit: str = "epoch",
        file: TextIO | None = None,
        max_lines: int = 20,
    ):
        self.total = int(total)
        self.n = int(initial)
        self.desc = desc
        self.unit = unit
        self.file = file
        self._initial = self.n
        self._start = time.perf_counter()
        self._postfix: dict[str, Any] = {}
        self._interval = max(self.total / max(max_lines, 1), 1.0)
        self._next_mark = (math.floor(self.n / self._interval) + 1) * self._interval
        self._last_printed: tuple[int, str] | None = None
        self._closed = False

    def update(self, n: int = 1) -> None:
        """Advances by ``n``; prints a line on crossing a new ``total / max_lines`` mark below ``total``."""
        self.n += int(n)
        if self.n < self.total and self.n >= self._next_mark:
            self._print()
            self._next_mark = (math.floor(self.n / self._interval) + 1) * self._interval

    def set_postfix(self, ordered_dict: dict[str, Any] | None = None, refresh: bool = True, **kwargs) -> None:
        """Sets ``name=value`` pairs shown at the end of the following lines (like ``tqdm.set_postfix``)."""
        self._postfix = {**(ordered_dict or {}), **kwargs}

    def line(self) -> str:
        """The current status line (without printing it)."""
        elapsed = time.perf_counter() - self._start
        done = self.n - self._initial
        rate = done / elapsed if elapsed > 0 else math.nan
        remaining = (self.total - self.n) / rate if rate > 0 else math.nan
        percent = 100.0 * self.n / self.total if self.total else 100.0
        parts = [
            f"{self.desc + ': ' if self.desc else ''}{self.n}/{self.total} {self.unit} ({percent:.0f}%)",
            _format_rate(rate, self.unit),
            f"elapsed {_format_duration(elapsed)}",
            f"ETA {_format_duration(remaining)}",
        ]
        if self._postfix:
            parts.append(" ".join(f"{k}={_format_value(v)}" for k, v in self._postfix.items()))
        return " | ".join(parts)

    def _print(self) -> None:
        print(self.line(), file=self.file or sys.stderr, flush=True)
        self._last_printed = (self.n, repr(self._postfix))

    def close(self) -> None:
        """Prints the final line (unless the same count and postfix were just printed); idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._last_printed != (self.n, repr(self._postfix)):
            self._print()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def progress_bar(
    total: int,
    *,
    desc: str = "",
    initial: int = 0,
    unit: str = "epoch",
    file: TextIO | None = None,
    tty: bool | None = None,
    max_lines: int = 20,
) -> Any:
    """A progress display: a tqdm bar (rate, ETA) on a terminal, :class:`PlainProgress` lines otherwise.

    Args:
      total: the count at completion (e.g. the number of epochs or steps).
      desc: a label printed first.
      initial: where a resumed run starts (e.g. the restored step).
      unit: the name of one count.
      file: where to write (default ``sys.stderr``).
      tty: force the tqdm bar (True) or the plain lines (False); default: whether ``file`` is a TTY.
      max_lines: the plain reporter's line budget (plus the final line).

    Returns:
      an object with ``update(n=1)``, ``set_postfix(**values)``, ``close()``, usable in ``with``.

    Example:
      >>> with progress_bar(100, desc="train", unit="step", tty=False) as bar:  # doctest: +SKIP
      ...     for step in range(100):
      ...         bar.update(1)
      ...         bar.set_postfix(loss=0.1)
    """
    stream = file or sys.stderr
    if tty is None:
        tty = bool(getattr(stream, "isatty", lambda: False)())
    if tty:
        return tqdm(
            total=total, desc=desc or None, initial=initial, unit=unit, file=stream, dynamic_ncols=True
        )
    return PlainProgress(total, desc=desc, initial=initial, unit=unit, file=file, max_lines=max_lines)
