"""`vitalgate gateway scan/pair/devices/forget/status/schema` against bumble virtual devices (--virtual)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys

import pytest
import structlog
from typer.testing import CliRunner

from vitalgate.app import cli_support
from vitalgate.app.cli import app

METER, CUFF, PASSKEY_METER = "C0:DE:00:00:00:01", "C0:DE:00:00:00:02", "C0:DE:00:00:00:03"
PASSKEY = 123456
# What `gateway pair` prints: a random code (contract.claim.new_claim_code), shown once.
CLAIM_CODE = re.compile(r"claim code: [0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


@pytest.fixture
def cli(tmp_path, monkeypatch, unique):
    monkeypatch.setenv("VITALGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VITALGATE_GATEWAY_ID", f"gw-cli-{unique}")
    monkeypatch.delenv("VITALGATE_GATEWAY_RADIO", raising=False)
    monkeypatch.setenv("VITALGATE_GATEWAY_CONNECT_TIMEOUT_S", "1")
    # vitalgate.logs binds structlog to the sys.stderr of its first call; CliRunner swaps and closes
    # stderr per invocation, so log to a stream of our own here.
    log_stream = io.StringIO()
    monkeypatch.setattr("vitalgate.app.cli_support.configure_logging", lambda *a, **k: None)
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
    assert "serial VGM-DEMO-001" in out and CLAIM_CODE.search(out)
    out = cli("pair", "--virtual", CUFF)
    assert "bp_cuff" in out and CLAIM_CODE.search(out)
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


@pytest.fixture
def passkey_meter(monkeypatch):
    """The demo fleet plus a meter that displays PASSKEY and refuses Just Works (like an Accu-Chek Guide)."""
    import vitalgate.app.fleet as fleet
    from vitalgate.devices.virtual import VirtualGlucoseMeter

    demo = fleet.add_demo_fleet

    async def with_passkey_meter(radio, **kwargs):
        addresses = await demo(radio, **kwargs)
        meter = VirtualGlucoseMeter(name="VG Passkey Meter", serial="VGM-PASSKEY-1", passkey=PASSKEY)
        return [*addresses, await radio.add(meter)]

    monkeypatch.setattr(fleet, "add_demo_fleet", with_passkey_meter)


def test_pair_with_passkey_option(cli, passkey_meter) -> None:
    out = cli("pair", "--virtual", PASSKEY_METER, "--passkey", str(PASSKEY))
    assert "serial VGM-PASSKEY-1" in out and CLAIM_CODE.search(out)
    assert PASSKEY_METER in cli("devices")


def test_pair_with_wrong_passkey_fails_with_advice(cli, passkey_meter) -> None:
    out = cli("pair", "--virtual", PASSKEY_METER, "--passkey", "654321", code=1)
    assert "pairing failed" in out and "did not match" in out
    assert PASSKEY_METER not in cli("devices")


def test_passkey_meter_without_passkey_off_a_terminal_fails_with_advice(cli, passkey_meter) -> None:
    out = cli("pair", "--virtual", PASSKEY_METER, code=1)  # CliRunner's stdin is no TTY: no prompt
    assert "AUTHENTICATION_REQUIREMENTS" in out and "--passkey" in out


def test_terminal_user_is_asked_only_when_the_device_displays_a_passkey(cli, passkey_meter, monkeypatch) -> None:
    asked: list[str] = []

    async def typed() -> int:
        asked.append("asked")
        return PASSKEY

    monkeypatch.setattr("vitalgate.app.commands.gateway.stdin_is_tty", lambda: True)
    monkeypatch.setattr("vitalgate.app.commands.gateway.ask_passkey", typed)
    assert "serial VGM-DEMO-001" in cli("pair", "--virtual", METER)  # Just Works meter: no question
    assert asked == []
    assert "serial VGM-PASSKEY-1" in cli("pair", "--virtual", PASSKEY_METER)
    assert asked == ["asked"]


@pytest.mark.parametrize(
    ("typed", "expected"), [("123456\n", 123456), ("012345\n", 12345), ("12ab56\n", -1), ("1234\n", -1)]
)
def test_passkey_prompt_reads_a_line_from_stdin(monkeypatch, typed: str, expected: int) -> None:
    from vitalgate.app.commands.gateway import ask_passkey

    read_fd, write_fd = os.pipe()
    os.write(write_fd, typed.encode())
    with os.fdopen(read_fd) as fake_stdin:
        monkeypatch.setattr(sys, "stdin", fake_stdin)
        assert asyncio.run(ask_passkey()) == expected
    os.close(write_fd)
