"""`python -m benchmarks`: lists every benchmark, refuses an unknown name, resolves short and module names."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.__main__ import BENCHMARKS, _module, main

ROOT = Path(__file__).resolve().parents[3]


def test_every_benchmark_module_is_listed() -> None:
    parts = {"worklist_bench"}  # measured inside `api` (api_bench imports it), not run on its own
    modules = ({p.stem for p in (ROOT / "benchmarks").glob("*_bench.py")} | {"chaos"}) - parts
    assert {module for module, _ in BENCHMARKS.values()} == modules
    assert _module("ingest") == "ingest_bench" and _module("ingest_bench") == "ingest_bench" and _module("x") is None


def test_list_and_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert all(f"  {name} " in listed for name in BENCHMARKS)
    assert main(["nope"]) == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().err
