"""Fetching NAB: manifest, safe paths, checksums, atomic writes, resume, progress.

Every download comes from a local HTTP server on 127.0.0.1 serving a copy of
``shared/datasets/nab`` in the upstream layout (``data/<subset>/<f>``, ``labels/<f>``, ``LICENSE``);
the real upstream host is never contacted.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from benchbench.cli import cli
from benchbench.data.fetch import (
    DATASETS_FETCHABLE,
    NAB_COMMIT,
    FetchError,
    FetchFailed,
    FetchProgress,
    TextProgress,
    UnsafePathError,
    fetch,
    main,
    manifest_commit,
    manifest_text,
    parse_manifest,
    write_manifest,
)

SHARED_NAB = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"
NAB = DATASETS_FETCHABLE["nab"]
BIG = "realKnownCause/nyc_taxi.csv"  # 266 kB: several 64 kB chunks, so a drop lands mid-file
SMALL = ["artificialNoAnomaly/art_flatline.csv", "combined_windows.json"]
TIMEOUT = 10.0  # a hung test fails instead of blocking


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def needs_shared_copy() -> None:
    if not SHARED_NAB.is_dir():
        pytest.skip(f"the shared NAB copy is not at {SHARED_NAB} (expected next to the repo)")


@pytest.fixture(scope="module")
def upstream_tree(tmp_path_factory) -> Path:
    """The shared copy rearranged into the upstream layout, as a mirror would serve it."""
    needs_shared_copy()
    root = tmp_path_factory.mktemp("upstream")
    for entry in parse_manifest(manifest_text("nab")):
        target = root / entry.upstream
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_NAB / NAB.to_local(entry.upstream), target)
    return root


@dataclass
class Mirror:
    """What the test server does; handlers read it, tests set it and read its log."""

    root: Path
    prefix: str = "mirror/nab/"
    ranges: bool = True  # answer Range requests with 206 (else ignore them: 200, whole file)
    corrupt: set[str] = field(default_factory=set)  # upstream paths served with a flipped byte
    drop_once: set[str] = field(default_factory=set)  # first GET: full headers, half the body
    stall_once: set[str] = field(default_factory=set)  # first GET: half the body, then silence
    release: threading.Event = field(default_factory=threading.Event)
    log: list[tuple[str, str | None]] = field(default_factory=list)  # (upstream path, Range)
    url: str = ""


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        mirror: Mirror = self.server.mirror  # type: ignore[attr-defined]
        path = unquote(urlsplit(self.path).path).lstrip("/")
        if not path.startswith(mirror.prefix):
            self.send_error(404)
            return
        path = path[len(mirror.prefix):]
        rng = self.headers.get("Range")
        mirror.log.append((path, rng))
        file = (mirror.root / path).resolve()
        if not file.is_relative_to(mirror.root) or not file.is_file():
            self.send_error(404)
            return
        data = file.read_bytes()
        if path in mirror.corrupt:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0x20]) + data[middle + 1:]
        start, status = 0, 200
        if rng and mirror.ranges:
            start, status = int(re.fullmatch(r"bytes=(\d+)-", rng)[1]), 206
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        body = data[start:]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if path in mirror.drop_once or path in mirror.stall_once:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if path in mirror.stall_once:
                mirror.stall_once.discard(path)
                mirror.release.wait(TIMEOUT)
            mirror.drop_once.discard(path)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # a dropped client is expected
        pass


@pytest.fixture
def mirror(upstream_tree, monkeypatch):
    """A local mirror of NAB on 127.0.0.1 (no proxy), torn down after the test."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    state = Mirror(upstream_tree)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.mirror = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/{state.prefix}"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def get(mirror: Mirror, data_root: Path, **kwargs):
    kwargs.setdefault("progress", False)
    return fetch("nab", data_root, mirror=mirror.url, timeout=TIMEOUT, **kwargs)


def upstream_bytes(mirror: Mirror, local: str) -> bytes:
    return (mirror.root / next(e.upstream for e in parse_manifest(manifest_text("nab"))
                               if NAB.to_local(e.upstream) == local)).read_bytes()


def assert_verified(data_root: Path, locals_: list[str]) -> None:
    expected = {NAB.to_local(e.upstream): e.sha256 for e in parse_manifest(manifest_text("nab"))}
    for local in locals_:
        assert sha256((data_root / "nab" / local).read_bytes()) == expected[local], local


def part_files(data_root: Path) -> list[Path]:
    return sorted(data_root.rglob("*.part"))


# ------------------------------------------------------------------------------------ manifest

def test_manifest_covers_nab_and_matches_the_shared_copy(tmp_path):
    needs_shared_copy()
    text = manifest_text("nab")
    assert manifest_commit(text) == NAB_COMMIT
    assert NAB_COMMIT in NAB.base_url and NAB.base_url.startswith("https://raw.githubusercontent")
    upstream = [e.upstream for e in parse_manifest(text)]
    csvs = [p for p in upstream if p.endswith(".csv")]
    assert len(csvs) == 58 and all(re.fullmatch(r"data/\w+/[^/]+\.csv", p) for p in csvs)
    assert {"labels/combined_windows.json", "labels/combined_labels.json", "LICENSE",
            "data/README.md"} <= set(upstream)
    assert {p.relative_to(SHARED_NAB).as_posix() for p in SHARED_NAB.glob("*/*.csv")} == {
        NAB.to_local(p) for p in csvs}
    # Regenerating it from the shared copy (the upstream commit, unmodified) gives the same file.
    regenerated = write_manifest("nab", SHARED_NAB, tmp_path / "nab.sha256")
    assert regenerated.read_text(encoding="utf-8") == text


def test_upstream_to_local_mapping():
    assert NAB.to_local("data/realTweets/Twitter_volume_FB.csv") == (
        "realTweets/Twitter_volume_FB.csv")
    assert NAB.to_local("labels/combined_windows.json") == "combined_windows.json"
    assert NAB.to_local("LICENSE") == "LICENSE-NAB"
    assert NAB.to_local("data/README.md") == "README-NAB-data.md"
    assert NAB.to_local("results/numenta/x.csv") is None
    assert NAB.to_upstream("README.md") is None  # the shared copy's own README is not upstream


# --------------------------------------------------------------------------------------- fetch

def test_full_fetch_then_a_second_fetch_downloads_nothing(mirror, tmp_path):
    entries = parse_manifest(manifest_text("nab"))
    result = get(mirror, tmp_path)
    assert result.ok and len(result.downloaded) == len(entries) == 62 and not result.skipped
    assert len(mirror.log) == 62
    root = tmp_path / "nab"
    assert (root / "realTweets" / "Twitter_volume_AAPL.csv").is_file()
    assert (root / "combined_windows.json").is_file() and (root / "LICENSE-NAB").is_file()
    assert len(list(root.glob("*/*.csv"))) == 58
    assert_verified(tmp_path, [NAB.to_local(e.upstream) for e in entries])
    assert not part_files(tmp_path)
    assert result.bytes_downloaded == sum(p.stat().st_size for p in root.rglob("*") if p.is_file())

    mirror.log.clear()
    again = get(mirror, tmp_path)
    assert again.ok and again.downloaded == [] and len(again.skipped) == 62
    assert mirror.log == []  # nothing requested at all
    assert "0 downloaded" in again.summary() and "62 already present" in again.summary()


def test_checksum_mismatch_is_reported_and_the_bad_file_not_kept(mirror, tmp_path):
    bad = "data/artificialNoAnomaly/art_flatline.csv"
    mirror.corrupt.add(bad)
    with pytest.raises(FetchFailed) as info:
        get(mirror, tmp_path, only=[*SMALL, BIG])
    message = str(info.value)
    data = bytearray(upstream_bytes(mirror, SMALL[0]))
    data[len(data) // 2] ^= 0x20
    expected = next(e.sha256 for e in parse_manifest(manifest_text("nab")) if e.upstream == bad)
    assert "checksum mismatch" in message and SMALL[0] in message
    assert expected in message and sha256(bytes(data)) in message
    assert not (tmp_path / "nab" / SMALL[0]).exists() and not part_files(tmp_path)
    result = info.value.result
    assert [f.kind for f in result.failed] == ["checksum"]
    assert sorted(result.downloaded) == sorted([SMALL[1], BIG])  # the others went on
    assert_verified(tmp_path, [SMALL[1], BIG])

    mirror.corrupt.clear()  # a fixed mirror: the rerun fetches just that file
    rerun = get(mirror, tmp_path, only=[*SMALL, BIG])
    assert rerun.downloaded == [SMALL[0]] and len(rerun.skipped) == 2


def test_dropped_connection_leaves_a_part_and_a_rerun_resumes(mirror, tmp_path):
    mirror.drop_once.add(f"data/{BIG}")
    with pytest.raises(FetchFailed) as info:
        get(mirror, tmp_path, only=[BIG, *SMALL])
    assert "rerun" in str(info.value) and BIG in str(info.value)
    assert [f.kind for f in info.value.result.failed] == ["network"]
    size = len(upstream_bytes(mirror, BIG))
    target = tmp_path / "nab" / BIG
    part = target.with_name(target.name + ".part")
    assert not target.exists() and part.stat().st_size == size // 2
    assert_verified(tmp_path, SMALL)  # the files after it were still fetched

    mirror.log.clear()
    result = get(mirror, tmp_path, only=[BIG, *SMALL])
    assert result.ok and result.downloaded == [BIG] and len(result.skipped) == 2
    assert mirror.log == [(f"data/{BIG}", f"bytes={size // 2}-")]  # resumed, not restarted
    assert result.bytes_downloaded == size - size // 2
    assert_verified(tmp_path, [BIG, *SMALL]) and not part_files(tmp_path)


def test_a_server_without_range_support_restarts_the_file(mirror, tmp_path):
    mirror.drop_once.add(f"data/{BIG}")
    with pytest.raises(FetchFailed):
        get(mirror, tmp_path, only=[BIG])
    mirror.ranges = False
    result = get(mirror, tmp_path, only=[BIG])
    assert result.ok and result.bytes_downloaded == len(upstream_bytes(mirror, BIG))
    assert_verified(tmp_path, [BIG]) and not part_files(tmp_path)


def test_a_stale_part_is_downloaded_again_from_zero(mirror, tmp_path):
    part = tmp_path / "nab" / (BIG + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"not the start of nyc_taxi.csv\n" * 100)
    result = get(mirror, tmp_path, only=[BIG])
    assert result.ok
    assert [rng for _, rng in mirror.log] == ["bytes=3000-", None]  # resumed, failed, restarted
    assert_verified(tmp_path, [BIG]) and not part_files(tmp_path)


def test_a_complete_part_is_verified_and_moved_into_place(mirror, tmp_path):
    part = tmp_path / "nab" / (SMALL[0] + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(upstream_bytes(mirror, SMALL[0]))  # the server answers 416 to its Range
    result = get(mirror, tmp_path, only=[SMALL[0]])
    assert result.ok and result.downloaded == [SMALL[0]] and result.bytes_downloaded == 0
    assert_verified(tmp_path, [SMALL[0]]) and not part_files(tmp_path)


def test_a_local_file_that_does_not_match_is_replaced(mirror, tmp_path):
    target = tmp_path / "nab" / SMALL[1]
    target.parent.mkdir(parents=True)
    target.write_text("{}")
    result = get(mirror, tmp_path, only=[SMALL[1]])
    assert result.downloaded == [SMALL[1]]
    assert_verified(tmp_path, [SMALL[1]])


def test_a_stalled_download_times_out_and_keeps_its_part(mirror, tmp_path):
    mirror.stall_once.add(f"data/{BIG}")
    with pytest.raises(FetchFailed) as info:
        fetch("nab", tmp_path, mirror=mirror.url, progress=False, only=[BIG], timeout=0.5)
    mirror.release.set()
    assert "rerun" in str(info.value) and info.value.result.failed[0].kind == "network"
    assert (tmp_path / "nab" / (BIG + ".part")).stat().st_size > 0


def test_network_errors_in_a_row_stop_the_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("no_proxy", "*")
    with socket.socket() as sock:  # a port nobody listens on: connections are refused at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    only = [e.upstream for e in parse_manifest(manifest_text("nab"))][:5]
    with pytest.raises(FetchFailed) as info:
        fetch("nab", tmp_path, mirror=f"http://127.0.0.1:{port}", progress=False, only=only,
              timeout=TIMEOUT)
    result = info.value.result
    assert len(result.failed) == 3 and len(result.not_attempted) == 2 and not result.downloaded
    assert "not attempted" in str(info.value) and "rerun" in str(info.value)


def test_a_missing_file_on_the_mirror_is_an_http_error(mirror, tmp_path):
    mirror.prefix = "elsewhere/"
    with pytest.raises(FetchFailed) as info:
        get(mirror, tmp_path, only=[SMALL[0]])
    assert "HTTP 404" in str(info.value) and not (tmp_path / "nab" / SMALL[0]).exists()


# ---------------------------------------------------------------------------------- safe paths

@pytest.mark.parametrize("upstream", [
    "data/../../evil.csv",
    "labels/../../../evil.json",
    "data//tmp/evil.csv",
    "/etc/evil.csv",
    "data/realTweets/..\\..\\evil.csv",
    "results/evil.csv",  # not a path this project knows where to put
])
def test_a_manifest_entry_escaping_the_data_root_is_refused(mirror, tmp_path, upstream):
    good = parse_manifest(manifest_text("nab"))[0]
    manifest = tmp_path / "crafted.sha256"
    manifest.write_text(f"{good.sha256}  {good.upstream}\n{'0' * 64}  {upstream}\n")
    data_root = tmp_path / "data"
    with pytest.raises(UnsafePathError, match=re.escape(repr(upstream))):
        get(mirror, data_root, manifest=manifest)
    assert not data_root.exists() and mirror.log == []  # nothing written, nothing requested


def test_a_symlink_leading_out_of_the_data_root_is_refused(mirror, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "data" / "nab").mkdir(parents=True)
    (tmp_path / "data" / "nab" / "realTweets").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="outside"):
        get(mirror, tmp_path / "data", only=["realTweets/Twitter_volume_FB.csv"])
    assert list(outside.iterdir()) == [] and mirror.log == []


def test_a_symlinked_dataset_folder_itself_is_allowed(mirror, tmp_path):
    elsewhere = tmp_path / "big-disk" / "nab"
    elsewhere.mkdir(parents=True)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "nab").symlink_to(elsewhere, target_is_directory=True)
    assert get(mirror, tmp_path / "data", only=[SMALL[0]]).ok
    assert (elsewhere / SMALL[0]).is_file()


# ------------------------------------------------------------------------- names and arguments

def test_unknown_and_non_redistributable_names():
    with pytest.raises(ValueError, match="fetchable: nab"):
        fetch("nope", "/nonexistent")
    with pytest.raises(ValueError, match="(?s)redistributed.*Webscope"):
        fetch("yahoo", "/nonexistent")
    with pytest.raises(ValueError, match="mirror"):
        fetch("nab", "/nonexistent", mirror="ftp://example.invalid/nab")


def test_only_rejects_unknown_files(tmp_path):
    with pytest.raises(ValueError, match="no file"):
        fetch("nab", tmp_path, mirror="http://127.0.0.1:9/", only=["realTweets/nope.csv"],
              progress=False)
    assert not (tmp_path / "nab").exists()


# ------------------------------------------------------------------------------------ progress

def test_progress_events_and_text(mirror, tmp_path, capsys):
    events: list[FetchProgress] = []
    get(mirror, tmp_path, only=SMALL, progress=events.append)
    kinds = [e.event for e in events]
    assert kinds.count("downloaded") == 2 and kinds[-1] == "finished" and "bytes" in kinds
    done = [e for e in events if e.event == "downloaded"]
    assert [(e.index, e.total) for e in done] == [(1, 2), (2, 2)]
    assert all(e.bytes_done == e.bytes_total > 0 for e in done)

    stream = io.StringIO()
    printer = TextProgress(stream, interactive=False)
    get(mirror, tmp_path / "again", only=SMALL, progress=printer)
    assert re.findall(r"\[(\d)/2\] downloaded", stream.getvalue()) == ["1", "2"]
    get(mirror, tmp_path / "quiet", only=SMALL, progress=False)
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------------------- CLI

def test_bench_datasets_fetch_command(mirror, tmp_path):
    # A complete local copy: the command verifies it, requests nothing and exits 0.
    shutil.copytree(SHARED_NAB, tmp_path / "nab", copy_function=shutil.copyfile)
    result = CliRunner().invoke(cli, ["datasets", "fetch", "nab", "--mirror", mirror.url,
                                      "--data-dir", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "62 already present" in result.output and mirror.log == []

    (tmp_path / "nab" / SMALL[1]).unlink()
    mirror.corrupt.add(f"labels/{SMALL[1]}")
    result = CliRunner().invoke(cli, ["datasets", "fetch", "nab", "--mirror", mirror.url,
                                      "--data-dir", str(tmp_path), "--quiet"])
    assert result.exit_code == 1 and "checksum mismatch" in result.output

    result = CliRunner().invoke(cli, ["datasets", "fetch", "yahoo", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "Webscope" in result.output


def test_module_entry_point(mirror, tmp_path, capsys):
    shutil.copytree(SHARED_NAB, tmp_path / "nab", copy_function=shutil.copyfile)
    (tmp_path / "nab" / SMALL[0]).unlink()
    assert main(["nab", "--data-dir", str(tmp_path), "--mirror", mirror.url, "-q"]) == 0
    assert "1 downloaded" in capsys.readouterr().out
    assert issubclass(FetchFailed, FetchError) and not issubclass(FetchError, ValueError)
