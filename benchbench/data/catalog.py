"""What each registered dataset is: signals, whether it is on disk, license and citation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchbench.plugins import Registries


@dataclass
class DatasetInfo:
    name: str
    plugin: str
    description: str
    present: bool
    signals: int | None  # None when the data is not on disk
    license: str
    citation: str
    problem: str = ""


def describe_datasets(registries: Registries, data_dir: Path) -> list[DatasetInfo]:
    """One :class:`DatasetInfo` per registered dataset; never raises for a broken dataset."""
    infos = []
    for entry in registries.datasets.entries():
        info = DatasetInfo(entry.name, entry.plugin, entry.description, False, None,
                           str(getattr(entry.obj, "LICENSE", "") or ""),
                           str(getattr(entry.obj, "CITATION", "") or ""))
        try:
            dataset = entry.obj(Path(data_dir), None)
            present = getattr(dataset, "present", None)
            info.present = bool(present()) if callable(present) else True
            if info.present:
                info.signals = len(dataset.signal_names())
        except Exception as exc:  # noqa: BLE001 - a listing reports problems, it does not fail
            info.problem = f"{type(exc).__name__}: {exc}"
        infos.append(info)
    return infos
