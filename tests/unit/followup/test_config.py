"""Follow-up configuration: escalation chain and SOP chain selection by severity and segment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vitalgate.core.clock import SimulatedClock
from vitalgate.followup.config import FollowupConfigError, default_followup, parse_followup
from vitalgate.followup.escalation import plan_escalation

CONFIG = """
[[escalation]]
id = "spanish-high"
segment = "lang:es and not risk:low"
severities = ["high"]
steps = [{ name = "mensaje", channel = "message", template = "es-check-in", after_minutes = 0 }]

[[escalation]]
id = "default"
steps = [{ name = "message", channel = "message", template = "check-in", after_minutes = 0 },
         { name = "call", channel = "phone", template = "call", after_minutes = 30 }]

[[sop]]
id = "visit-es"
purpose = "visit"
segment = "lang:es"
steps = [{ name = "T-1", channel = "message", template = "es-visit", offset_hours = -24 }]

[[sop]]
id = "visit"
purpose = "visit"
steps = [{ name = "T-1", channel = "message", template = "visit", offset_hours = -24 }]
"""


def test_chains_are_chosen_by_name_then_severity_and_segment():
    cfg = parse_followup(CONFIG)
    assert cfg.escalation_chain(None, "high", ["lang:es"]).id == "spanish-high"
    assert cfg.escalation_chain(None, "high", ["lang:es", "risk:low"]).id == "default"
    assert cfg.escalation_chain(None, "urgent", ["lang:es"]).id == "default"
    assert cfg.escalation_chain("spanish-high", "routine", []).id == "spanish-high"
    assert cfg.sop_chain("visit", ["lang:es"]).id == "visit-es"
    assert cfg.sop_chain("visit", ["lang:en"]).id == "visit"
    with pytest.raises(LookupError):
        cfg.sop_chain("lab-draw", [])


def test_escalation_timers_accumulate_from_the_previous_step():
    chain = default_followup().escalation_chain(None, "high", [])
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    planned = plan_escalation(chain, start)
    assert [p.channel for p in planned] == ["message", "questionnaire", "voice", "phone", "doctor"]
    assert [p.due_at - start for p in planned] == [timedelta(minutes=m) for m in (0, 60, 120, 180, 240)]


@pytest.mark.parametrize(
    "bad",
    [
        '[[escalation]]\nid="x"\nsteps=[{name="a", channel="sms", template="t", after_minutes=0}]',
        '[[escalation]]\nid="x"\nsteps=[]',
        '[[sop]]\nid="x"\npurpose="visit"\nsteps=[{name="a", channel="message", template="t", offset_hours=1},'
        ' {name="b", channel="message", template="t", offset_hours=-1}]',
        '[[sop]]\nid="x"\npurpose="visit"\nsegment="(a"\nsteps=[{name="a", channel="message", template="t", offset_hours=1}]',
    ],
)
def test_bad_followup_files_are_rejected(bad):
    with pytest.raises(FollowupConfigError):
        parse_followup(bad)


def test_simulated_clock_refuses_naive_times_and_moves_only_when_told():
    with pytest.raises(ValueError):
        SimulatedClock(datetime(2026, 1, 1))
    clock = SimulatedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    assert clock.advance(timedelta(days=30)) == datetime(2026, 1, 31, tzinfo=UTC)
