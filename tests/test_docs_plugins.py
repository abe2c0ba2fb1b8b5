"""docs/plugins.md stays true: every hook with its exact signature, every example runs.

Python blocks whose first line is ``# file: PATH`` are written to PATH in a scratch folder; the
other Python blocks then run in order, from that folder, in one shared namespace. TOML blocks must
parse.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchbench import hookspecs
from benchbench.testing import CHECKS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
FILE_MARK = re.compile(r"^# file: (\S+)\n")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(doc_text()) if lang == language]


def hook_functions() -> dict[str, object]:
    return {name: fn for name, fn in vars(hookspecs).items()
            if name.startswith("register_") and callable(fn)}


def test_every_hook_appears_with_its_exact_signature():
    doc = doc_text()
    hooks = hook_functions()
    assert set(hooks) == {"register_detectors", "register_datasets", "register_metrics",
                          "register_commands"}
    for name, fn in hooks.items():
        assert f"`{name}{inspect.signature(fn)}`" in doc, name
        # the register callback's signature, as the hookspec documents it
        for callback in re.findall(r"``(register\(.*?\))``", fn.__doc__ or ""):
            assert f"`{callback}`" in doc, f"{name}: {callback}"


def test_every_conformance_check_is_described():
    doc = doc_text()
    for name in CHECKS:
        assert f"| `{name}` |" in doc, name


def test_toml_blocks_parse_and_declare_the_entry_point():
    (pyproject,) = blocks("toml")
    data = tomllib.loads(pyproject)
    assert data["project"]["entry-points"]["benchbench"] == {"deviation": "deviation"}


def test_python_examples_run(tmp_path, monkeypatch):
    from benchbench.cli import cli, main

    files, snippets = {}, []
    for body in blocks("python"):
        mark = FILE_MARK.match(body)
        if mark:
            files[mark.group(1)] = body[mark.end():]
        else:
            snippets.append(body)
    assert {"plugins/deviation.py", "plugins/sines.py", "plugins/early.py", "plugins/hello.py",
            "tests/test_deviation.py"} <= set(files)
    assert len(snippets) >= 5
    for rel, source in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")

    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # the snippets import the example module `deviation`: forget it again afterwards
    monkeypatch.setitem(sys.modules, "deviation", None)
    del sys.modules["deviation"]
    namespace: dict = {"__name__": "docs_plugins"}
    for k, source in enumerate(snippets):
        try:
            exec(compile(source, f"docs/plugins.md python block {k}", "exec"), namespace)
        except Exception as exc:  # name the block in the failure
            raise AssertionError(f"docs/plugins.md python block {k} failed:\n{source}") from exc

    # the example test file passes under pytest, importing the plugin module
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "plugins"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_deviation.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"{len(CHECKS)} passed" in done.stdout

    # the command plugin: `bench --plugins-dir plugins hello benchbench`
    before = dict(cli.commands)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["--plugins-dir", "plugins", "hello", "benchbench"])
        assert exit_info.value.code == 0
    finally:
        cli.commands.clear()
        cli.commands.update(before)


def test_command_example_output(tmp_path, capsys):
    from benchbench.cli import cli, main

    (body,) = [b for b in blocks("python") if b.startswith("# file: plugins/hello.py")]
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "hello.py").write_text(body)
    before = dict(cli.commands)
    try:
        with pytest.raises(SystemExit):
            main(["--plugins-dir", str(folder), "hello", "benchbench"])
    finally:
        cli.commands.clear()
        cli.commands.update(before)
    assert capsys.readouterr().out == "hello, benchbench\n"
    assert "`bench --plugins-dir plugins hello benchbench` prints `hello, benchbench`" in doc_text()
