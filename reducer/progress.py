"""Progress lines with elapsed time and ETA for long stages (simulation, training).

Writes to stderr, at most every ``min_interval_s``; on a terminal the line is rewritten in
place, otherwise (CI logs, pipes) one line per update is printed, less often.
"""

from __future__ import annotations

import sys
import time


def _fmt_s(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


class Progress:
    """A progress counter: ``p = Progress(total, "simulate"); p.update(done, "extra info")``."""

    def __init__(self, total: float, label: str, min_interval_s: float | None = None, stream=None):
        self.total = float(total)
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.min_interval_s = min_interval_s if min_interval_s is not None else (
            0.5 if self.tty else 10.0)
        self.t0 = time.perf_counter()
        self._last = -1e9
        self.done = 0.0

    def update(self, done: float, info: str = "", force: bool = False) -> None:
        self.done = float(done)
        now = time.perf_counter()
        if not force and now - self._last < self.min_interval_s and done < self.total:
            return
        self._last = now
        elapsed = now - self.t0
        frac = self.done / self.total if self.total > 0 else 1.0
        eta = elapsed * (1.0 - frac) / frac if frac > 0 else float("nan")
        line = (f"[{self.label}] {100 * frac:5.1f}%  elapsed {_fmt_s(elapsed)}  "
                f"ETA {_fmt_s(eta)}" + (f"  {info}" if info else ""))
        if self.tty:
            self.stream.write("\r" + line.ljust(100))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, info: str = "") -> float:
        """Print the final line; return the elapsed seconds."""
        self.update(self.total, info, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
        return time.perf_counter() - self.t0


def log(msg: str) -> None:
    """A stage message on stderr (kept separate from results on stdout)."""
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()
