"""What the killable scripts share: SIGKILL at the k-th node execution, and one marker file per
finished execution (``<PHASE>-<node>-<pid>-<n>`` in MARKERS), which the tests count."""

from __future__ import annotations

import itertools
import os
import signal
from pathlib import Path


class KillSwitch:
    """Call ``executing()`` first and ``finished(name)`` last in every node."""

    def __init__(self, markers: str, phase: str, kill_at: str) -> None:
        self.markers = markers
        self.phase = phase
        self.kill_at = int(kill_at)  # 0: never
        self._count = itertools.count(1)
        self._seq = itertools.count()

    def executing(self) -> None:
        """The ``kill_at``-th call kills the process."""
        if next(self._count) == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def finished(self, name: str) -> None:
        """One marker file per finished execution."""
        Path(self.markers, f"{self.phase}-{name}-{os.getpid()}-{next(self._seq)}").touch()
