"""`vitalgate program report` prints the funnel, balance table and KPIs of a simulated program; --csv the export."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.clinic import sim_start
from tests.support.program_sim import simulate
from vitalgate.app import cli_support
from vitalgate.app.cli import app
from vitalgate.programs.definitions import shipped_programs
from vitalgate.store.db import connect


async def _simulate(database_url: str, unique: str):
    conn = await connect(database_url)
    try:
        log = await simulate(
            conn,
            shipped_programs()["hypertension-12w"].model_copy(update={"id": f"htn-{unique}"}),
            patients=30,
            start=sim_start(130),
            unique=unique,
            p_answer=0.5,
        )
        await conn.commit()
        return log
    finally:
        await conn.close()


def test_program_report_tables_and_csv(
    database_url: str, unique: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = asyncio.run(_simulate(database_url, unique))
    # The same program under this test's id, as a file (the report loads a program by id or by path).
    shipped = resources.files("vitalgate.programs").joinpath("definitions/hypertension-12w.toml").read_text("utf-8")
    program_file = tmp_path / "program.toml"
    program_file.write_text(shipped.replace('id = "hypertension-12w"', f'id = "htn-{unique}"'), encoding="utf-8")
    monkeypatch.setenv("VITALGATE_DATABASE_URL", database_url)
    monkeypatch.setattr("vitalgate.app.cli_support.configure_logging", lambda *a, **k: None)
    monkeypatch.setattr(cli_support.console, "width", 220)
    runner = CliRunner()
    args = [
        "program",
        "report",
        "--program",
        str(program_file),
        "--from",
        f"{log.start:%Y-%m-%d}",
        "--to",
        f"{log.end:%Y-%m-%d}",
    ]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Enrolment funnel by channel" in out and "Baseline balance" in out and "follow-up acceptance" in out
    assert "wilson" in out and "order-statistic" in out and "welch" in out
    result = runner.invoke(app, [*args, "--csv", "--no-refresh"], catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "section,name,group,value,ci_low,ci_high,n,method,unit"
    invited = next(line for line in lines if line.startswith("funnel,reached invited,all,"))
    assert invited.split(",")[6] == str(len(log.invited))
    bad = runner.invoke(app, ["program", "report", "--program", "nope", "--from", "2026-01-01", "--to", "2026-02-01"])
    assert bad.exit_code == 2
