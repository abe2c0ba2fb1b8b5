"""Progress display for a run: bars with an ETA on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    """Reports a run's progress: jobs (with ETA) and the epochs inside the running job.

    On a terminal it draws a job bar and an epoch bar (tqdm); elsewhere (CI logs, files) it prints
    one plain line per finished job. ``quiet`` prints nothing.
    """

    def __init__(self, stream: TextIO | None = None, quiet: bool = False,
                 interactive: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.interactive = (self.stream.isatty() if interactive is None else interactive)
        self._jobs_bar: Any = None
        self._epoch_bar: Any = None
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._job_label = ""

    def start(self, total: int, skipped: int = 0) -> None:
        self._total, self._done, self._started = total, 0, time.monotonic()
        if self.quiet:
            return
        if skipped:
            self._line(f"resuming: {skipped} job(s) already recorded, {total} to run")
        if self.interactive:
            from tqdm import tqdm

            self._jobs_bar = tqdm(total=total, desc="jobs", unit="job", file=self.stream,
                                  dynamic_ncols=True, position=0)
        else:
            self._line(f"{total} job(s) to run")

    def job_started(self, job: Any) -> None:
        self._job_label = self._describe(vars(job))
        if self._jobs_bar is not None:
            self._jobs_bar.set_postfix_str(self._job_label, refresh=True)

    def epoch(self, epoch: int, n_epochs: int, losses: dict[str, float]) -> None:
        if self.quiet or not self.interactive:
            return
        from tqdm import tqdm

        if self._epoch_bar is None or self._epoch_bar.total != n_epochs:
            if self._epoch_bar is not None:
                self._epoch_bar.close()
            self._epoch_bar = tqdm(total=n_epochs, desc="  epochs", unit="ep", leave=False,
                                   file=self.stream, dynamic_ncols=True, position=1)
        self._epoch_bar.n = epoch + 1
        self._epoch_bar.set_postfix({k: f"{v:.4g}" for k, v in losses.items()}, refresh=True)

    def job_finished(self, record: dict[str, Any]) -> None:
        self._done += 1
        if self._epoch_bar is not None:
            self._epoch_bar.close()
            self._epoch_bar = None
        if self.quiet:
            return
        if record.get("status") == "ok":
            f1 = record.get("metrics", {}).get("overlap", {}).get("f1")
            took = (record.get("fit_seconds") or 0) + (record.get("score_seconds") or 0)
            outcome = f"ok  F1 {f1:.3f}  {took:.1f} s" if f1 is not None else "ok"
        else:
            outcome = f"{str(record.get('status') or 'failed').upper()}  {record.get('error', '')}"
        if self._jobs_bar is not None:
            self._jobs_bar.update(1)
            if record.get("status") != "ok":
                self._jobs_bar.write(f"{self._describe(record)}: {outcome}", file=self.stream)
        else:
            elapsed = time.monotonic() - self._started
            eta = elapsed / self._done * (self._total - self._done)
            self._line(f"[{self._done}/{self._total}] {self._describe(record)}: {outcome}"
                       f"  (eta {eta:.0f} s)")

    @staticmethod
    def _describe(record: dict[str, Any]) -> str:
        rep = record.get("repetition") or 0
        return (f"{record['detector']} on {record['dataset']}/{record['signal']} "
                f"seed {record['seed']}" + (f" rep {rep}" if rep else ""))

    def close(self) -> None:
        for bar in (self._epoch_bar, self._jobs_bar):
            if bar is not None:
                bar.close()
        self._epoch_bar = self._jobs_bar = None

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
