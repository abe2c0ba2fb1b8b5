"""glibc malloc tuning for training jobs (benchbench.run.allocator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from benchbench.plugins import load_registries
from benchbench.run import allocator
from benchbench.run.jobs import Job
from benchbench.run.pipeline import run_job

GLIBC = allocator._glibc() is not None


class FakeLibc:
    """Records mallopt calls; refuses the parameters in ``refuse``."""

    def __init__(self, refuse=()):
        self.calls = []
        self.refuse = set(refuse)

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return 0 if param in self.refuse else 1


@pytest.fixture
def fresh(monkeypatch):
    """A process in which tune_malloc has not run yet (restored afterwards)."""
    monkeypatch.setattr(allocator, "_state", None)
    monkeypatch.delenv(allocator.ENV_VAR, raising=False)


def test_tune_sets_each_setting_once_per_process(fresh, monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(allocator, "_glibc", lambda: libc)
    assert allocator.malloc_state() == "default (not tuned)"
    assert allocator.tune_malloc() == "tuned"
    assert sorted(libc.calls) == sorted([
        (allocator.M_MMAP_THRESHOLD, 64 << 20), (allocator.M_TRIM_THRESHOLD, 512 << 20),
        (allocator.M_TOP_PAD, 64 << 20)])
    assert allocator.tune_malloc() == "tuned" and len(libc.calls) == 3
    assert allocator.malloc_state() == "tuned"


def test_refused_settings_are_named(fresh, monkeypatch):
    monkeypatch.setattr(allocator, "_glibc", lambda: FakeLibc(refuse={allocator.M_TOP_PAD}))
    assert allocator.tune_malloc() == "partly tuned (glibc refused top_pad)"


def test_env_var_and_other_c_libraries_leave_malloc_alone(fresh, monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(allocator, "_glibc", lambda: libc)
    monkeypatch.setenv(allocator.ENV_VAR, "Default")
    assert allocator.tune_malloc() == "default (BENCHBENCH_MALLOC=default)"
    assert libc.calls == []
    monkeypatch.setattr(allocator, "_state", None)
    monkeypatch.delenv(allocator.ENV_VAR)
    monkeypatch.setattr(allocator, "_glibc", lambda: None)
    assert allocator.tune_malloc() == "default (not glibc)"


def test_a_job_in_the_callers_process_leaves_its_malloc_alone(tmp_path, fresh):
    job = Job("synthetic:spikes_1", "spikes_1", "zscore", 0, 1, data_dir=str(tmp_path))
    result = run_job(job, load_registries(load_entry_points=False))
    assert result.record["status"] == "ok", result.record["error"]
    assert result.record["malloc"] == "default (not tuned)" == allocator.malloc_state()


@pytest.mark.skipif(not GLIBC, reason="malloc tuning applies to glibc (Linux) only")
def test_jobs_in_the_harnesss_worker_processes_run_tuned(tmp_path, fresh):
    from benchbench.run.executors.process import ProcessExecutor

    jobs = [Job("synthetic:spikes_1", "spikes_1", "zscore", 0, 1, data_dir=str(tmp_path))]
    (result,) = ProcessExecutor(workers=1).run(jobs, run_job)
    assert result.record["status"] == "ok", result.record["error"]
    assert result.record["malloc"] == "tuned"
    assert allocator.malloc_state() == "default (not tuned)"  # this process: untouched


FAULTS = """
import ctypes, json, resource
from benchbench.run.allocator import tune_malloc
state = tune_malloc()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
n = 40_000_000  # a 40 MB buffer made, written and freed, as a training step's activations are
faults = []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    p = libc.malloc(n)
    ctypes.memset(p, 1, n)
    libc.free(p)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps({"state": state, "faults": faults}))
"""


def _faults(env_value: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != allocator.ENV_VAR}
    if env_value is not None:
        env[allocator.ENV_VAR] = env_value
    out = subprocess.run([sys.executable, "-c", FAULTS], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="malloc tuning applies to glibc (Linux) only")
def test_tuned_malloc_reuses_freed_memory_instead_of_faulting_it_in_again():
    default = _faults("default")
    tuned = _faults(None)
    assert default["state"].startswith("default") and tuned["state"] == "tuned"
    # glibc's defaults: 40 MB is above the mmap threshold's 32 MiB ceiling, so each buffer is
    # fresh pages (9,766 faults) handed back on free; tuned: the freed block is reused. (Torch
    # takes its tensors from posix_memalign, whose alignment padding can keep an exact-size freed
    # block from fitting, so a toy loop of tensors settles only after a few rounds; a training
    # loop's many sizes settle within its first steps, as the figures in the module say.)
    pages = 40_000_000 // 4096
    assert min(default["faults"][1:]) > pages * 9 // 10, default
    assert max(tuned["faults"][1:]) < pages // 20, tuned
