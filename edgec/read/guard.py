"""The last guard of a layer's read: whatever a reader raises on an answer no check of its own
foresaw is a failed read of that layer (exit 1, naming the layer), never an internal error, and
never a layer read as empty."""

from __future__ import annotations

from typing import Callable, TypeVar

from edgec.read.budget import ReadError

T = TypeVar("T")


def guarded(layer: str, read: Callable[[], T]) -> T:
    try:
        return read()
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 (the layer's last line of defence)
        detail = (str(exc).splitlines() or [""])[0]
        raise ReadError(layer, f"an answer edgec did not expect ({type(exc).__name__}: {detail})") from exc
