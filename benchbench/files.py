"""Files the harness writes: atomic writes, JSON that survives numpy values, file-safe names."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(raw: str, max_len: int = 150) -> str:
    """A file-safe, unique version of ``raw`` (job ids, plot file names).

    Characters outside ``[A-Za-z0-9._-]`` become ``_``; when that changed the name, or it is
    longer than ``max_len``, it is cut to ``max_len - 10`` characters and ``-`` and 8 hex digits
    of the original's SHA-256 are appended, so distinct names stay distinct files. A name that
    needs no change is returned as it is.
    """
    safe = _UNSAFE.sub("_", raw)
    if safe in {"", ".", ".."}:
        safe = "_" * max(1, len(safe))
    if safe != raw or len(safe) > max_len:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
        safe = f"{safe[:max_len - 10]}-{digest}"
    return safe


def atomic_write(path: Path, write: Callable[[Any], None], mode: str = "w") -> None:
    """Write ``path`` via ``write(fileobj)`` into a temporary file, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(_jsonable(data), indent=2, sort_keys=True) + "\n"
    atomic_write(path, lambda fh: fh.write(text))


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
