"""A process's peak resident memory while a block runs, sampled (Linux), for the benchmarks."""

from __future__ import annotations

import os
import resource
import threading


def resident_bytes() -> int:
    """This process's resident set size now; on a system without ``/proc``, its lifetime peak."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakMemory:
    """Highest resident set size seen while the ``with`` block runs, sampled every ``interval``
    seconds; ``start_bytes`` is the size when it began."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.start_bytes = 0
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, resident_bytes())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self.start_bytes = self.peak_bytes = resident_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, resident_bytes())
