"""Download a public benchmark dataset at a pinned version, verifying every file's sha256.

``fetch("nab", data_root)`` downloads the NAB corpus (numenta/NAB at commit
``ea702d75cc2258d9d7dd35ca8e5e2539d71f3140``) file by file from
``https://raw.githubusercontent.com/numenta/NAB/<commit>/<upstream path>``, or from
``<mirror>/<upstream path>`` when a mirror serving the same upstream layout is given, into
``<data_root>/nab``::

    upstream path                     local path, under <data_root>/nab
    data/<subset>/<name>.csv      ->  <subset>/<name>.csv
    labels/combined_windows.json  ->  combined_windows.json
    labels/combined_labels.json   ->  combined_labels.json
    data/README.md                ->  README-NAB-data.md
    LICENSE                       ->  LICENSE-NAB

The files and their hashes are listed in ``benchbench/data/manifests/nab.sha256`` (``sha256sum``
format: hash, two spaces, upstream path; ``sha256sum -c`` checks a checkout of the commit against
it). ``python -m benchbench.data.fetch --write-manifest nab DIR`` regenerates it from a copy laid
out as above (the project's was made from ``shared/datasets/nab``, an unmodified copy of the
commit).

How a fetch behaves:

- Safe paths. Before anything is written, every manifest entry is mapped to its local path and
  resolved; an entry with no mapping, or one that would land outside ``<data_root>/nab`` (``..``,
  an absolute path, a symlink leading out), stops the fetch with :class:`UnsafePathError`. Files
  are fetched one by one, never unpacked from an archive, so no archive member can escape either.
- Skip. A file already in place with the manifest's hash is not downloaded again.
- Atomic. A file is downloaded to ``<target>.part``, fsynced, verified, then renamed into place:
  the target path holds nothing, the file that was there before, or a verified file.
- Resume. A ``.part`` left by an interrupted run is continued with an HTTP Range request; a server
  that answers 200 instead of 206 sends the whole file again, which restarts it. A resumed file
  that fails verification is downloaded once more from zero before it counts as a mismatch.
- Failures. A checksum mismatch deletes the download (nothing is renamed into place); a network
  error (connection dropped or refused, timeout) or an HTTP error keeps the ``.part`` for the next
  run when it holds bytes (an empty one is removed). Either way the fetch goes on with the other
  files, except that three network or HTTP errors in a row stop it (the rest are reported as not
  attempted). At the end, :class:`FetchFailed` lists every failed file (expected and actual hash
  for a mismatch) and says to rerun: to resume the ``.part`` files kept, when there are any, else
  to try again; the ``bench datasets fetch`` command then exits 1.
- Mirror layout. When a mirror has not got the first file asked of it (HTTP 404, or a missing
  ``file://`` path) before any file came from it, that failure also says which URL was tried and
  the layout a mirror must serve (``<mirror>/<upstream path>``, the table above).

Why not pooch (https://www.fatiando.org/pooch, checked at 1.9.0): ``Pooch.fetch`` and
``pooch.retrieve`` do a hash-checked download from a registry and skip a file already present with
the right hash, but not the rest of what is above. Pooch streams each download into a fresh
temporary file that it deletes on any error, and never sends a Range request, so an interrupted file
always starts again from zero (the resume, the 416 and 200 answers and the stale ``.part`` are what
the tests pin); its registry file is ``name hash``, not ``sha256sum`` order (the manifest would no
longer check a checkout with ``sha256sum -c``, and each renamed file would need its own URL entry);
it joins a registry name to the folder unchecked (``..`` included); it has no ``file://`` mirrors;
and it downloads through ``requests`` (not a dependency here), whose exceptions would have to be
mapped back to the network / HTTP / checksum failures reported above. What it would take over,
hashing a file and skipping one that matches, is a few lines here, so the module uses only the
standard library. Nothing happens at import.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TextIO
from urllib.error import HTTPError
from urllib.parse import quote, urlsplit
from urllib.request import Request, urlopen

NAB_COMMIT = "ea702d75cc2258d9d7dd35ca8e5e2539d71f3140"
NAB_BASE_URL = f"https://raw.githubusercontent.com/numenta/NAB/{NAB_COMMIT}/"

CHUNK = 64 * 1024
MAX_CONSECUTIVE_ERRORS = 3  # network/HTTP errors in a row before the remaining files are given up
DEFAULT_TIMEOUT = 30.0  # seconds without data before a download counts as a network error
USER_AGENT = "benchbench-fetch/1"


# --------------------------------------------------------------------------------------- errors

class FetchError(Exception):
    """A fetch could not complete; the message says what failed and what to do."""


class ManifestError(FetchError):
    """The manifest cannot be read or an entry is invalid; nothing was written."""


class UnsafePathError(ManifestError):
    """A manifest entry would be written outside the dataset folder; nothing was written."""


class FetchFailed(FetchError):
    """Some files failed; ``result`` holds what was downloaded, skipped, failed, not attempted."""

    def __init__(self, result: FetchResult) -> None:
        self.result = result
        super().__init__(result.failure_report())


class _FileError(Exception):
    kind = "http"
    not_found = False  # the source has no such file (HTTP 404, or a file:// path missing)


class _NotFound(_FileError):
    not_found = True


class _NetworkError(_FileError):
    kind = "network"


class _ChecksumMismatch(_FileError):
    kind = "checksum"


# ----------------------------------------------------------------------------- what is fetchable

@dataclass(frozen=True)
class FetchSpec:
    """A fetchable dataset: where it comes from and how its upstream paths map to local ones.

    ``to_local(upstream_path)`` is the path under ``<data_root>/<folder>`` (``None``: unmapped);
    ``to_upstream(local_path)`` is its inverse, used to write the manifest from a local copy
    (``None``: the file is not part of the upstream dataset).
    """

    name: str
    folder: str
    base_url: str
    commit: str
    manifest: str  # resource name in benchbench.data.manifests
    to_local: Callable[[str], str | None]
    to_upstream: Callable[[str], str | None]
    description: str = ""
    layout: str = ""  # the upstream -> local mapping in words, for the manifest header


_NAB_RENAMES = {"LICENSE": "LICENSE-NAB", "data/README.md": "README-NAB-data.md"}


def _nab_local(upstream: str) -> str | None:
    if upstream in _NAB_RENAMES:
        return _NAB_RENAMES[upstream]
    for prefix in ("data/", "labels/"):
        if upstream.startswith(prefix):
            return upstream[len(prefix):]
    return None


def _nab_upstream(local: str) -> str | None:
    for upstream, renamed in _NAB_RENAMES.items():
        if local == renamed:
            return upstream
    parts = local.split("/")
    if len(parts) == 2 and parts[1].endswith(".csv"):
        return f"data/{local}"
    if len(parts) == 1 and re.fullmatch(r"combined_\w+\.json", local):
        return f"labels/{local}"
    return None


DATASETS_FETCHABLE: dict[str, FetchSpec] = {
    "nab": FetchSpec(
        name="nab",
        folder="nab",
        base_url=NAB_BASE_URL,
        commit=NAB_COMMIT,
        manifest="nab.sha256",
        to_local=_nab_local,
        to_upstream=_nab_upstream,
        description="Numenta Anomaly Benchmark: 58 labelled signals with anomaly windows",
        layout="data/<subset>/<f> -> <subset>/<f>, labels/<f> -> <f>, LICENSE -> LICENSE-NAB, "
               "data/README.md -> README-NAB-data.md",
    ),
}

NOT_FETCHABLE: dict[str, str] = {
    "yahoo": (
        "the Yahoo S5 benchmark cannot be redistributed, so it cannot be fetched: request it "
        "from Yahoo Webscope (https://webscope.sandbox.yahoo.com/, dataset S5 'A Labeled Anomaly "
        "Detection Dataset') and unpack it under the data root yourself"
    ),
}


def _spec(name: str) -> FetchSpec:
    key = name.strip().lower()
    if key in DATASETS_FETCHABLE:
        return DATASETS_FETCHABLE[key]
    fetchable = ", ".join(sorted(DATASETS_FETCHABLE))
    if key in NOT_FETCHABLE:
        raise ValueError(f"{name}: {NOT_FETCHABLE[key]} (fetchable: {fetchable})")
    raise ValueError(f"cannot fetch unknown dataset {name!r}; fetchable: {fetchable}")


def _base_url(spec: FetchSpec, mirror: str | None) -> str:
    if mirror is None:
        return spec.base_url
    parts = urlsplit(mirror)
    if parts.scheme not in ("http", "https", "file") or (parts.scheme != "file"
                                                          and not parts.netloc):
        raise ValueError(f"--mirror must be an http(s):// or file:// URL, got {mirror!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"--mirror must be a base URL without query or fragment, got {mirror!r}")
    return mirror if mirror.endswith("/") else mirror + "/"


# ------------------------------------------------------------------------------------- manifest

@dataclass(frozen=True)
class ManifestEntry:
    sha256: str
    upstream: str


_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")


def parse_manifest(text: str, source: str = "manifest") -> list[ManifestEntry]:
    """The entries of a ``sha256sum``-format manifest (``#`` comments and blank lines skipped)."""
    entries: list[ManifestEntry] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.fullmatch(line.rstrip("\r"))
        if match is None:
            raise ManifestError(f"{source}, line {number}: expected '<sha256>  <path>', "
                                f"got {line!r}")
        entry = ManifestEntry(match[1].lower(), match[2])
        if entry.upstream in seen:
            raise ManifestError(f"{source}, line {number}: {entry.upstream} is listed twice")
        seen.add(entry.upstream)
        entries.append(entry)
    if not entries:
        raise ManifestError(f"{source} lists no files")
    return entries


def manifest_commit(text: str) -> str | None:
    """The commit named by a ``# commit: <sha>`` header line, if any."""
    match = re.search(r"^#\s*commit:\s*([0-9a-fA-F]{7,40})\s*$", text, re.MULTILINE)
    return match[1].lower() if match else None


def manifest_text(name: str) -> str:
    """The manifest shipped with the package for dataset ``name``."""
    from importlib.resources import files

    spec = _spec(name)
    return files("benchbench.data.manifests").joinpath(spec.manifest).read_text(encoding="utf-8")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(name: str, source: Path | str, output: Path | str | None = None) -> Path:
    """Write the manifest of dataset ``name`` from a local copy in the fetched layout.

    Every file of ``source`` that maps to an upstream path is hashed (others, such as the copy's
    own README.md, are left out). ``output`` defaults to the packaged manifest file.
    """
    from benchbench.files import atomic_write

    spec = _spec(name)
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is not a folder")
    lines = []
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        local = path.relative_to(source).as_posix()
        upstream = spec.to_upstream(local)
        if upstream is None:
            continue
        if spec.to_local(upstream) != local:
            raise ManifestError(f"{local}: maps to {upstream}, which does not map back")
        lines.append((upstream, sha256_file(path)))
    lines.sort()
    header = [
        f"# sha256 manifest of {spec.name} ({spec.description}) at the commit below",
        f"# commit: {spec.commit}",
        "# format: sha256, two spaces, path in the upstream repository (sha256sum -c checks a "
        "checkout)",
        f"# fetched from {spec.base_url}<path>, or <mirror>/<path>",
        f"# local layout under <data_root>/{spec.folder}: {spec.layout}",
        f"# regenerate: python -m benchbench.data.fetch --write-manifest {spec.name} DIR "
        "(DIR: a copy in the local layout)",
    ]
    text = "\n".join(header + [f"{sha}  {upstream}" for upstream, sha in lines]) + "\n"
    if output is None:
        output = Path(__file__).resolve().parent / "manifests" / spec.manifest
    output = Path(output)
    atomic_write(output, lambda fh: fh.write(text))
    return output


# ------------------------------------------------------------------------------ plan (safe paths)

def _check_relative(relpath: str, inside: str) -> list[str]:
    """The segments of a plain relative POSIX path; anything else raises UnsafePathError.

    Refused: empty, absolute or drive paths, backslashes, NUL, ``.``/``..``/empty segments.
    """
    parts = relpath.split("/")
    if (not relpath or "\\" in relpath or "\x00" in relpath
            or PurePosixPath(relpath).is_absolute() or PureWindowsPath(relpath).anchor
            or any(part in ("", ".", "..") for part in parts)):
        raise UnsafePathError(f"unsafe path {relpath!r}: it must be relative to {inside} and "
                              "stay inside it")
    return parts


def safe_target(root: Path, relpath: str) -> Path:
    """``root / relpath``, refusing anything that would land outside ``root`` (already resolved):
    the paths :func:`_check_relative` refuses, and paths (or their ``.part``) that resolve through
    a symlink to outside ``root``."""
    target = root.joinpath(*_check_relative(relpath, str(root)))
    for path in (target, target.with_name(target.name + ".part")):
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError) as exc:
            raise UnsafePathError(f"{relpath}: cannot resolve {path}: {exc}") from exc
        if resolved == root or not resolved.is_relative_to(root):
            raise UnsafePathError(f"{relpath}: {path} resolves to {resolved}, outside {root} "
                                  "(a symlink?); refusing to write there")
    return target


@dataclass(frozen=True)
class _Item:
    upstream: str
    local: str
    target: Path
    sha256: str
    url: str

    @property
    def part(self) -> Path:
        return self.target.with_name(self.target.name + ".part")


def _plan(spec: FetchSpec, entries: list[ManifestEntry], root: Path, base: str) -> list[_Item]:
    """Map and check every entry before anything is written."""
    items: list[_Item] = []
    by_local: dict[str, str] = {}
    for entry in entries:
        local = spec.to_local(entry.upstream)
        if local is None:
            raise UnsafePathError(f"manifest entry {entry.upstream!r}: not a {spec.name} path "
                                  "this project knows where to put; refusing the manifest")
        try:
            target = safe_target(root, local)
            _check_relative(entry.upstream, base)  # the URL stays under the base
        except UnsafePathError as exc:
            raise UnsafePathError(f"manifest entry {entry.upstream!r}: {exc}") from None
        if local in by_local:
            raise ManifestError(f"{entry.upstream} and {by_local[local]} both map to {local}")
        by_local[local] = entry.upstream
        items.append(_Item(entry.upstream, local, target, entry.sha256,
                           base + quote(entry.upstream)))
    return items


# ------------------------------------------------------------------------------------- progress

@dataclass(frozen=True)
class FetchProgress:
    """One progress event: ``event`` is start, bytes, downloaded, skipped or failed for a file,
    then finished once at the end."""

    event: str
    index: int  # 1-based position of the file
    total: int  # files in this fetch
    path: str  # local path under the dataset folder
    bytes_done: int = 0
    bytes_total: int | None = None
    message: str = ""


ProgressCallback = Callable[[FetchProgress], None]


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


class TextProgress:
    """Progress on a stream: a live line per download on a terminal, one line per file otherwise.

    Files already present are only counted (shown on the live line on a terminal).
    """

    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._last = 0.0
        self._live = False

    def __call__(self, ev: FetchProgress) -> None:
        head = f"[{ev.index}/{ev.total}]"
        if ev.event == "bytes":
            if self.interactive and time.monotonic() - self._last >= 0.1:
                self._last = time.monotonic()
                size = f" of {_size(ev.bytes_total)}" if ev.bytes_total else ""
                self._status(f"{head} {ev.path}  {_size(ev.bytes_done)}{size}")
        elif ev.event == "start":
            if self.interactive:
                self._status(f"{head} {ev.path}")
        elif ev.event == "downloaded":
            self._line(f"{head} downloaded {ev.path} ({_size(ev.bytes_done)})")
        elif ev.event == "failed":
            self._line(f"{head} FAILED {ev.path}: {ev.message}")
        elif ev.event == "skipped" and self.interactive:
            self._status(f"{head} {ev.path} already present")
        elif ev.event == "finished" and self._live:
            self._status("")

    def _status(self, text: str) -> None:
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self._live = bool(text)

    def _line(self, text: str) -> None:
        prefix = "\r\x1b[K" if self.interactive and self._live else ""
        self._live = False
        self.stream.write(prefix + text + "\n")
        self.stream.flush()


def _reporter(progress: bool | ProgressCallback) -> ProgressCallback:
    if callable(progress):
        return progress
    if progress:
        return TextProgress()
    return lambda ev: None


# --------------------------------------------------------------------------------------- result

@dataclass(frozen=True)
class FileFailure:
    path: str  # local path under the dataset folder
    upstream: str
    kind: str  # checksum | network | http
    message: str
    part_bytes: int = 0  # what its .part holds for a rerun to resume (0: no .part kept)


@dataclass
class FetchResult:
    """What one fetch did; paths are local, relative to ``root``."""

    name: str
    root: Path
    source: str
    downloaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    not_attempted: list[str] = field(default_factory=list)
    bytes_downloaded: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted

    @property
    def total(self) -> int:
        return (len(self.downloaded) + len(self.skipped) + len(self.failed)
                + len(self.not_attempted))

    def summary(self) -> str:
        parts = [f"{len(self.downloaded)} downloaded ({_size(self.bytes_downloaded)})",
                 f"{len(self.skipped)} already present"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.not_attempted:
            parts.append(f"{len(self.not_attempted)} not attempted")
        return f"{self.name}: {self.total} file(s) in {self.root}: " + ", ".join(parts)

    def failure_report(self, limit: int = 20) -> str:
        lines = [f"{self.name}: {len(self.failed)} of {self.total} file(s) failed "
                 f"({len(self.downloaded)} downloaded, {len(self.skipped)} already present, "
                 f"{len(self.not_attempted)} not attempted) from {self.source}"]
        lines += [f"  {f.path}: {f.message}" for f in self.failed[:limit]]
        if len(self.failed) > limit:
            lines.append(f"  ... and {len(self.failed) - limit} more")
        if self.not_attempted:
            lines.append(f"  stopped after {MAX_CONSECUTIVE_ERRORS} network/HTTP errors in a row; "
                         f"{len(self.not_attempted)} file(s) not attempted")
        if any(f.kind == "checksum" for f in self.failed):
            lines.append("A checksum mismatch means the source serves other bytes than the "
                         "pinned manifest expects; those downloads were deleted.")
        kept = sum(1 for f in self.failed if f.part_bytes)
        if kept:
            lines.append(f"{kept} partial download(s) kept as .part files: rerun the same command "
                         "to resume them.")
        elif any(f.kind != "checksum" for f in self.failed) or self.not_attempted:
            lines.append("To try the failed files again, rerun the same command.")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------ download

def _content_range_start(value: str | None) -> int | None:
    match = re.match(r"\s*bytes\s+(\d+)-", value or "")
    return int(match[1]) if match else None


def _download(item: _Item, offset: int, timeout: float,
              on_bytes: Callable[[int, int | None], None]) -> tuple[bool, int]:
    """Fetch ``item.url`` into its ``.part`` (appending from ``offset`` when the server agrees).

    Returns (resumed, bytes received). Raises _NetworkError (the .part is kept) or _FileError.
    """
    part = item.part
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urlopen(Request(item.url, headers=headers), timeout=timeout)
    except HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            return True, 0  # the .part may hold the whole file already; the caller verifies it
        error = _NotFound if exc.code == 404 else _FileError
        raise error(f"HTTP {exc.code} {exc.reason} for {item.url}") from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError, refused, timeout, reset
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, FileNotFoundError):  # a file:// mirror without that file
            raise _NotFound(f"not found: {item.url}") from exc
        raise _NetworkError(f"cannot reach {item.url}: {reason}") from exc
    with response:
        status = getattr(response, "status", None) or 200
        if status == 206:
            range_start = _content_range_start(response.headers.get("Content-Range"))
            if range_start != offset:
                if not offset:
                    raise _FileError(f"unexpected partial content for {item.url}")
                response.close()
                return False, _download(item, 0, timeout, on_bytes)[1]  # other range: restart
        elif status != 200:
            raise _FileError(f"unexpected HTTP {status} for {item.url}")
        resumed = status == 206
        start = offset if resumed else 0
        length_header = response.headers.get("Content-Length")
        length = int(length_header) if length_header and length_header.isdigit() else None
        total = start + length if length is not None else None
        received = 0
        on_bytes(start, total)
        with open(part, "ab" if resumed else "wb") as fh:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _NetworkError(f"connection lost after {start + received} bytes of "
                                        f"{item.url}: {exc or type(exc).__name__}") from exc
                if not chunk:
                    break
                fh.write(chunk)
                received += len(chunk)
                on_bytes(start + received, total)
            fh.flush()
            os.fsync(fh.fileno())
        if length is not None and received < length:
            raise _NetworkError(f"connection closed after {start + received} of {total} bytes "
                                f"of {item.url}")
    return resumed, received


def _fetch_one(item: _Item, timeout: float,
               on_bytes: Callable[[int, int | None], None]) -> int:
    """Download, verify and move one file into place; returns the bytes received."""
    part = item.part
    if part.exists() and not part.is_file():
        raise _FileError(f"{part} exists and is not a file; remove it and rerun")
    item.target.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.exists() else 0
    try:
        resumed, received = _download(item, offset, timeout, on_bytes)
        actual = sha256_file(part)
        if actual != item.sha256 and resumed:  # a stale or foreign .part: start over once
            part.unlink()
            _, more = _download(item, 0, timeout, on_bytes)
            received += more
            actual = sha256_file(part)
    except _NetworkError as exc:
        kept = part.stat().st_size if part.is_file() else 0
        if not kept:
            part.unlink(missing_ok=True)
            raise
        raise _NetworkError(f"{exc}; {kept} bytes kept in {part.name}, rerun to resume") from exc
    if actual != item.sha256:
        part.unlink(missing_ok=True)
        raise _ChecksumMismatch(f"checksum mismatch: expected sha256 {item.sha256}, got {actual} "
                                f"from {item.url}; the download was deleted")
    os.replace(part, item.target)
    return received


def _layout_hint(spec: FetchSpec, base: str, item: _Item) -> str:
    """What a mirror must serve, for a mirror that lacks the first file asked of it."""
    return (f"a mirror must serve the upstream layout of {spec.name} at commit {spec.commit}: "
            f"<mirror>/<upstream path> for each path of the manifest, so {item.local} is "
            f"fetched from {base}{quote(item.upstream)} (upstream -> local: {spec.layout})")


def _present(item: _Item) -> bool:
    return item.target.is_file() and sha256_file(item.target) == item.sha256


# ---------------------------------------------------------------------------------------- fetch

def fetch(name: str, data_root: Path | str, mirror: str | None = None,
          progress: bool | ProgressCallback = True, *,
          only: Collection[str] | None = None, manifest: Path | str | None = None,
          timeout: float = DEFAULT_TIMEOUT) -> FetchResult:
    """Download dataset ``name`` into ``<data_root>/<name>``, verified against its manifest.

    Args:
        name: a key of :data:`DATASETS_FETCHABLE`; anything else raises ValueError (naming the
            fetchable datasets, and saying why for those that cannot be redistributed).
        data_root: the data root; the files go under ``<data_root>/<folder>`` (``nab``).
        mirror: base URL serving the upstream layout, instead of the public location.
        progress: True prints progress on stderr, False prints nothing, a callable receives
            :class:`FetchProgress` events.
        only: fetch just these files (upstream or local paths); unknown names raise ValueError.
        manifest: a manifest file to use instead of the packaged one.
        timeout: seconds without data before a download counts as a network error.

    Returns the :class:`FetchResult` when every file is in place and verified. Raises
    :class:`UnsafePathError`/:class:`ManifestError` before writing anything for a bad manifest,
    and :class:`FetchFailed` (carrying the result) after trying every file when some failed.
    """
    spec = _spec(name)
    base = _base_url(spec, mirror)
    if manifest is None:
        text, source = manifest_text(spec.name), f"manifest {spec.manifest}"
    else:
        try:
            text, source = Path(manifest).read_text(encoding="utf-8"), str(manifest)
        except OSError as exc:
            raise ManifestError(f"cannot read manifest {manifest}: {exc}") from exc
    root = Path(data_root) / spec.folder
    try:
        resolved_root = root.resolve()
    except (OSError, RuntimeError) as exc:
        raise UnsafePathError(f"cannot resolve the dataset folder {root}: {exc}") from exc
    items = _plan(spec, parse_manifest(text, source), resolved_root, base)
    if only is not None:
        wanted = set(only)
        known = {i.upstream for i in items} | {i.local for i in items}
        unknown = sorted(wanted - known)
        if unknown:
            raise ValueError(f"{spec.name} has no file(s) {', '.join(unknown)}")
        items = [i for i in items if i.upstream in wanted or i.local in wanted]

    report = _reporter(progress)
    result = FetchResult(spec.name, root, base)
    errors_in_a_row = 0
    hinted = False
    total = len(items)
    for index, item in enumerate(items, 1):
        if errors_in_a_row >= MAX_CONSECUTIVE_ERRORS:
            result.not_attempted.append(item.local)
            continue
        report(FetchProgress("start", index, total, item.local))
        if _present(item):
            item.part.unlink(missing_ok=True)
            result.skipped.append(item.local)
            report(FetchProgress("skipped", index, total, item.local))
            continue

        def on_bytes(done: int, size: int | None, index: int = index, item: _Item = item) -> None:
            report(FetchProgress("bytes", index, total, item.local, done, size))

        try:
            received = _fetch_one(item, timeout, on_bytes)
        except OSError as exc:  # local: disk full, permissions (network errors are _FileError)
            report(FetchProgress("finished", total, total, ""))
            raise FetchError(f"{item.local}: cannot write under {root}: {exc}") from exc
        except _FileError as exc:
            errors_in_a_row = 0 if isinstance(exc, _ChecksumMismatch) else errors_in_a_row + 1
            message = str(exc)
            if exc.not_found and mirror is not None and not hinted and not result.downloaded:
                hinted = True  # the first file tried is not there: the mirror's layout is off?
                message += "; " + _layout_hint(spec, base, item)
            kept = item.part.stat().st_size if item.part.is_file() else 0
            result.failed.append(FileFailure(item.local, item.upstream, exc.kind, message, kept))
            report(FetchProgress("failed", index, total, item.local, message=message))
            continue
        errors_in_a_row = 0
        result.downloaded.append(item.local)
        result.bytes_downloaded += received
        size = item.target.stat().st_size
        report(FetchProgress("downloaded", index, total, item.local, size, size))
    report(FetchProgress("finished", total, total, ""))
    if not result.ok:
        raise FetchFailed(result)
    return result


# ------------------------------------------------------------------------------------------ CLI

def main(argv: list[str] | None = None) -> int:
    """``python -m benchbench.data.fetch NAME [--data-dir DIR] [--mirror URL] [--quiet]``, or
    ``python -m benchbench.data.fetch --write-manifest NAME DIR [--output FILE]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchbench.data.fetch", description=__doc__
                                     .split("\n\n")[0])
    parser.add_argument("name", nargs="?", help="dataset to fetch")
    parser.add_argument("--data-dir", default=None, help="data root (default: $BENCHBENCH_DATA "
                        "or ./datasets)")
    parser.add_argument("--mirror", default=None, metavar="URL")
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--write-manifest", nargs=2, metavar=("NAME", "DIR"),
                        help="write NAME's manifest from a local copy DIR in the fetched layout")
    parser.add_argument("--output", default=None, help="with --write-manifest: the file to write")
    args = parser.parse_args(argv)
    if args.write_manifest:
        out = write_manifest(*args.write_manifest, output=args.output)
        print(f"wrote {out}")
        return 0
    if not args.name:
        parser.error("give a dataset name or --write-manifest NAME DIR")
    data_dir = args.data_dir or os.environ.get("BENCHBENCH_DATA") or "datasets"
    try:
        result = fetch(args.name, data_dir, mirror=args.mirror, progress=not args.quiet)
    except ValueError as exc:
        parser.error(str(exc))
    except FetchError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
