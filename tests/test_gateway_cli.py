"""`vitalgate gateway scan/pair/devices/forget/status/schema` against bumble virtual devices (--virtual)."""

from __future__ import annotations

import json

import io

import pytest
import structlog
from typer.testing import CliRunner

from contract import claim_code
from vitalgate import cli_support
from vitalgate.cli import app

METER, CUFF = "C0:DE:00:00:00:01", "C0:DE:00:00:00:02"


@pytest.fixture
def cli(tmp_path, monkeypatch, unique):
    monkeypatch.setenv("VITALGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VITALGATE_GATEWAY_ID", f"gw-cli-{unique}")
    monkeypatch.delenv("VITALGATE_GATEWAY_RADIO", raising=False)
    monkeypatch.setenv("VITALGATE_GATEWAY_CONNECT_TIMEOUT_S", "1")
    # vitalgate.logs binds structlog to the sys.stderr of its first call; CliRunner swaps and closes
    # stderr per invocation, so log to a stream of our own here.
    log_stream = io.StringIO()
    monkeypatch.setattr("vitalgate.cli_support.configure_logging", lambda *a, **k: None)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=log_stream), cache_logger_on_first_use=False)
    monkeypatch.setattr(cli_support.console, "width", 200)  # tables must not truncate addresses
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["gateway", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return " ".join(result.output.split())  # rich wraps lines at the terminal width

    yield invoke
    structlog.reset_defaults()


def test_scan_lists_the_virtual_meter_and_cuff(cli) -> None:
    out = cli("scan", "--virtual", "--timeout", "0.4")
    assert "VG Meter 1" in out and METER in out and "glucose (0x1808)" in out
    assert "VG Cuff 1" in out and CUFF in out and "blood pressure (0x1810)" in out


def test_pair_devices_forget_round_trip(cli, tmp_path) -> None:
    out = cli("pair", "--virtual", METER)
    assert "serial VGM-DEMO-001" in out and claim_code("VGM-DEMO-001") in out
    out = cli("pair", "--virtual", CUFF)
    assert "bp_cuff" in out and claim_code("VGC-DEMO-001") in out
    assert (tmp_path / "hub.sqlite").exists()
    listing = cli("devices")
    assert METER in listing and CUFF in listing and "glucose_meter" in listing
    assert "forgot" in cli("forget", CUFF)
    listing = cli("devices")
    assert METER in listing and CUFF not in listing
    assert "not paired" in cli("forget", CUFF, code=1)


def test_pair_unknown_address_fails_with_advice(cli) -> None:
    out = cli("pair", "--virtual", "C0:DE:00:00:00:99", code=1)
    assert "pairing failed" in out


def test_env_selects_the_virtual_radio_and_status_reports(cli, monkeypatch) -> None:
    monkeypatch.setenv("VITALGATE_GATEWAY_RADIO", "virtual")
    cli("pair", METER)
    doc = json.loads(cli("status", "--json"))
    assert doc["backlog"] == 0 and doc["dropped"] == 0
    assert [d["serial"] for d in doc["devices"]] == ["VGM-DEMO-001"]
    assert "backlog: 0" in cli("status")


def test_schema_check_passes_on_the_committed_files(cli) -> None:
    assert "current" in cli("schema", "--check")
