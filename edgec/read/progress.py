"""What reads tell about their progress, per layer: when a layer's read starts (with a way to count its
calls so far) and when it is done. The renderers decide what a person sees (edgec/render/progress.py);
this one tells nobody."""

from __future__ import annotations

from typing import Callable


class Progress:
    def started(self, layer: str, calls: Callable[[], int]) -> None:
        """`layer` (as people write it: AWS) is being read; `calls()` counts its API calls so far."""

    def finished(self, layer: str, failed: bool) -> None:
        """`layer`'s read is over (`failed`: it failed)."""


SILENT = Progress()
