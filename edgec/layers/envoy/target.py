"""A gateway's dynamic config on disk, as `edgec apply --layer envoy` keeps it (docs/envoy.md):

    <dir>/<gateway>/bootstrap.yaml
    <dir>/<gateway>/lds/lds.yaml   -> ../versions/lds-<version>.yaml   (a symlink Envoy watches through lds/)
    <dir>/<gateway>/cds/cds.yaml   -> ../versions/cds-<version>.yaml
    <dir>/<gateway>/versions/      every version kept, complete: the current one and the one before it
    <dir>/sds/<certificate>.yaml

A version file is written whole under a temporary name, flushed, then renamed into versions/; a swap
renames a new symlink over <kind>.yaml. Both renames are atomic, so Envoy only ever reads a complete
version, whenever edgec is stopped. What an interrupted run leaves (temporary names) is removed by the next.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import re

import yaml

TEMP_PREFIX = ".edgec-tmp-"
_VERSION_FILE = re.compile(r"^(lds|cds)-([0-9a-f]+)\.yaml$")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class GatewayFolder:
    def __init__(self, root: pathlib.Path, gateway: str):
        self.root, self.gateway = root, gateway
        self.path = root / gateway
        self.versions = self.path / "versions"

    def live_file(self, kind: str) -> pathlib.Path:
        return self.path / kind / f"{kind}.yaml"

    @contextlib.contextmanager
    def locked(self):
        """One apply at a time per gateway folder (the lock goes with the process, however it ends)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".edgec-lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RuntimeError(f"another edgec apply is delivering to {self.path}; wait for it") from None
            yield

    def remove_leftovers(self) -> None:
        for folder in (self.path, self.path / "lds", self.path / "cds", self.versions, self.root / "sds"):
            for entry in folder.glob(TEMP_PREFIX + "*") if folder.is_dir() else ():
                entry.unlink()

    def current(self, kind: str) -> tuple[str, str] | None:
        """(version, text) of what <kind>.yaml holds now, or None when there is none."""
        live = self.live_file(kind)
        if not live.exists():
            return None
        text = live.read_text(encoding="utf-8")
        match = _VERSION_FILE.match(os.path.basename(os.readlink(live))) if live.is_symlink() else None
        if match:
            return match.group(2), text
        # a plain file (as `edgec compile --envoy-form dynamic` writes it): its version is inside
        return str((yaml.load(text, Loader=_Loader) or {}).get("version_info", "")), text

    def keep(self, kind: str, version: str, text: str) -> None:
        """versions/<kind>-<version>.yaml, written whole (a version's content never changes: kept if there)."""
        target = self.versions / f"{kind}-{version}.yaml"
        if not target.exists():
            write_atomically(target, text)

    def swap(self, kind: str, version: str) -> None:
        """Point <kind>.yaml at the kept version, in one rename into the folder Envoy watches."""
        live = self.live_file(kind)
        live.parent.mkdir(parents=True, exist_ok=True)
        temporary = live.parent / f"{TEMP_PREFIX}{kind}"
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        os.symlink(f"../versions/{kind}-{version}.yaml", temporary)
        os.rename(temporary, live)

    def prune(self, keep: set[tuple[str, str]]) -> None:
        """Remove kept versions other than `keep` ({(kind, version)})."""
        for entry in self.versions.glob("*.yaml"):
            match = _VERSION_FILE.match(entry.name)
            if match and (match.group(1), match.group(2)) not in keep:
                entry.unlink()


def write_atomically(target: pathlib.Path, text: str) -> bool:
    """Write `text` to `target` by a rename, unless it holds that already; True when written."""
    if target.exists() and not target.is_symlink() and target.read_text(encoding="utf-8") == text:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f"{TEMP_PREFIX}{target.name}"
    with open(temporary, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(temporary, target)
    return True
