"""What each registered dataset is: signals, whether it is on disk, license and citation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchbench.plugins import Registries


@dataclass
class DatasetInfo:
    """One registered dataset, as ``bench datasets list`` shows it.

    Attributes:
        signals: the planned signals (every one its corpus lists, present or not); ``None`` when
            the data is not on disk.
        present_signals: how many of them have their files on disk (``None`` likewise).
        state: ``present`` (every planned signal on disk), ``incomplete`` (some listed files
            are missing: a run records a failed job for each) or ``not present``.
        problem: why listing the signals failed, if it did.
    """

    name: str
    plugin: str
    description: str
    present: bool
    signals: int | None
    license: str
    citation: str
    problem: str = ""
    present_signals: int | None = None
    state: str = "not present"


def describe_datasets(registries: Registries, data_dir: Path) -> list[DatasetInfo]:
    """One :class:`DatasetInfo` per registered dataset; never raises for a broken dataset.

    The present count comes from the dataset's ``missing_signals()`` where it has one (the
    built-in loaders: listed files missing on disk); a dataset without it counts every signal
    it lists as present.
    """
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
                names = list(dataset.signal_names())
                missing_signals = getattr(dataset, "missing_signals", None)
                missing = set(missing_signals()) if callable(missing_signals) else set()
                info.signals = len(names)
                info.present_signals = sum(name not in missing for name in names)
                info.state = "present" if info.present_signals == info.signals else "incomplete"
        except Exception as exc:  # noqa: BLE001 - a listing reports problems, it does not fail
            info.problem = f"{type(exc).__name__}: {exc}"
        infos.append(info)
    return infos
