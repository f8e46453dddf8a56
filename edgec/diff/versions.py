"""One version of a spec, for `edgec diff`: a path on disk, or REV:PATH read from git (the YAML files
below PATH at REV, and the files they name, exported to a temporary folder so that `include:` finds
them and a client certificate is read as it was at REV)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import replace

from edgec.spec.loader import LOCAL_FILE_FIELD, YAML_SUFFIXES, load_spec, local_files
from edgec.spec.validate import Validation, validate

GIT_TIMEOUT = 120  # seconds; a local git command that takes longer is stuck


def load_version(target: str, repo_dir: str = ".", ignore_files: tuple[str, ...] = ()) -> Validation:
    """Validate one version of a spec: a file or folder (relative to `repo_dir`), or `REV:PATH` read
    from git in `repo_dir`, with extra ignore-rule files (paths on disk). An existing path wins over the
    git form, so 'a:b.yaml' on disk is a file.

    Raises ValueError, with what to do, when `target` is neither."""
    local = os.path.normpath(os.path.join(repo_dir, target))
    if os.path.exists(local):
        return validate(local, ignore_files)
    rev, colon, path = target.partition(":")
    if not colon:
        raise ValueError(f"'{target}' is not a file or folder; give a spec path, or REV:PATH to read it from "
                         "git (e.g. main:edge.yaml, HEAD~1:examples/multi-team/)")
    if not rev or not path:
        raise ValueError(f"'{target}' is not a file or folder, nor REV:PATH with both a git revision and a "
                         "path (e.g. main:edge.yaml)")
    return _load_from_git(rev, path, repo_dir, target, ignore_files)


def _git(repo_dir: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", repo_dir, *args], input=stdin, capture_output=True,
                              timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise ValueError("git is not installed, so REV:PATH cannot be read; give a spec path instead") from None
    except subprocess.TimeoutExpired:
        raise ValueError(f"git did not answer within {GIT_TIMEOUT}s in {repo_dir}") from None


def _git_text(repo_dir: str, *args: str) -> str | None:
    """A git command's output, or None when it fails (the caller says what that means)."""
    done = _git(repo_dir, *args)
    return done.stdout.decode().strip() if done.returncode == 0 else None


def _resolve_in_git(rev: str, path: str, repo_dir: str, target: str) -> tuple[str, str, str]:
    """(commit, path from the top of the repository, object type), or a ValueError saying what is wrong."""
    prefix = _git_text(repo_dir, "rev-parse", "--show-prefix")
    if prefix is None:
        raise ValueError(f"'{target}' is not a file or folder, and {os.path.abspath(repo_dir)} is not in a git "
                         "repository, so it cannot be read as REV:PATH")
    commit = _git_text(repo_dir, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if commit is None:
        raise ValueError(f"'{target}': '{rev}' is not a git revision here (try a branch, a tag, a commit or "
                         "HEAD~1; fetch it first if it is remote-only)")
    # As git does: REV:./x and REV:../x are relative to the current folder, REV:x to the top.
    full = os.path.normpath(os.path.join(prefix, path) if path.startswith(("./", "../")) else path)
    full = "" if full == "." else full
    outside = full == ".." or full.startswith("../")
    kind = None if outside else _git_text(repo_dir, "cat-file", "-t", f"{commit}:{full}")
    if kind not in ("blob", "tree"):
        raise ValueError(f"'{target}': '{full}' does not exist at {rev} (paths are from the top of the "
                         f"repository; list them with: git ls-tree -r --name-only {rev})")
    return commit, full, kind


def _export_yaml(repo_dir: str, commit: str, folder: str, into: str, also: str = "") -> bool:
    """Write the YAML files below `folder` at `commit` (and `also`, the spec file whatever its name) into
    `into`, keeping their layout, so `include:` finds its files. Two git calls whatever their number.
    True when some file names a local file (a client certificate) that must be exported too."""
    suffixes = YAML_SUFFIXES
    written = _export(repo_dir, commit, [folder] if folder else [], into,
                      lambda name: name.endswith(suffixes) or name == also)
    return any(LOCAL_FILE_FIELD.encode() in content for content in written)


def _export_named_files(repo_dir: str, commit: str, spec_path: str, into: str) -> None:
    """Write the local files the spec names (client certificates) as they are at `commit`, so they are
    read at the same revision as the spec."""
    names = [os.path.relpath(path, into) for path in local_files(load_spec(spec_path).data)
             if os.path.realpath(path).startswith(os.path.realpath(into) + os.sep)]
    if names:
        _export(repo_dir, commit, names, into, lambda name: True)


def _export(repo_dir: str, commit: str, paths: list[str], into: str, keep) -> list[bytes]:
    """Write the blobs at `paths` (files, or every file below folders) at `commit` whose name `keep`
    accepts into `into`, keeping their layout; returns their contents."""
    listing = _git(repo_dir, "ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths)
    entries = [line.split(b"\t", 1) for line in listing.stdout.split(b"\0") if line]
    wanted = [(meta.split()[2], os.fsdecode(name)) for meta, name in entries
              if meta.startswith((b"100644 blob", b"100755 blob")) and keep(os.fsdecode(name))]
    batch = _git(repo_dir, "cat-file", "--batch", stdin=b"".join(sha + b"\n" for sha, _ in wanted)).stdout
    written = []
    for _, name in wanted:
        header, batch = batch.split(b"\n", 1)
        size = int(header.split()[2])
        content, batch = batch[:size], batch[size + 1:]
        destination = os.path.join(into, name)
        if not os.path.realpath(destination).startswith(os.path.realpath(into) + os.sep):
            continue  # git refuses such names; never write outside the temporary folder anyway
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        with open(destination, "wb") as fh:
            fh.write(content)
        written.append(content)
    return written


def _load_from_git(rev: str, path: str, repo_dir: str, target: str, ignore_files: tuple[str, ...]) -> Validation:
    """Validate PATH as it is at REV, from a temporary copy; diagnostics name it `REV:PATH`."""
    commit, full, kind = _resolve_in_git(rev, path, repo_dir, target)
    with tempfile.TemporaryDirectory(prefix="edgec-diff-") as tmp:
        if kind == "tree":
            names_files = _export_yaml(repo_dir, commit, full, tmp)
            os.makedirs(os.path.join(tmp, full), exist_ok=True)  # one without YAML: the loader says so
        else:
            names_files = _export_yaml(repo_dir, commit, os.path.dirname(full), tmp, also=full)
        if names_files:
            _export_named_files(repo_dir, commit, os.path.join(tmp, full), tmp)
        return _relabel(validate(os.path.join(tmp, full), ignore_files), tmp, rev, target)


def _relabel(validation: Validation, tmp: str, rev: str, target: str) -> Validation:
    """Name files `REV:path/from/top` instead of the temporary copy, which is gone once loaded.
    (The source map keeps the temporary paths: later stages do not run on a diffed version.)"""
    def name(file: str) -> str:
        return f"{rev}:{os.path.relpath(file, tmp)}" if file.startswith(tmp + os.sep) else file

    diagnostics = [replace(d, location=replace(d.location, file=name(d.location.file)),
                           message=d.message.replace(tmp + os.sep, f"{rev}:")) for d in validation.diagnostics]
    return replace(validation, target=target, files=[name(f) for f in validation.files], diagnostics=diagnostics)
