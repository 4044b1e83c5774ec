"""What a finding does to a patient's episode of a rule: open, update, restart or nothing (pure).

The table is in alerts/README.md ("Episodes"). In short: an episode is one clinical event.
Reading rules (threshold, consecutive, forecast) know their events by the readings: after a person
closed the previous episode, a breaching reading measured after the closure, or newly ingested,
is a new event and opens a new episode at once, whatever the cooldown; a run of breaching readings
that began after the open episode's run ended (a reading in between was not beyond) is a new event
too. Statistic rules (trend, missing data) have no readings of their own: while the statistic
stays beyond, it is the same event, and a person's closure holds for the rule's `cooldown_hours`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from vitalgate.alerts.finding import Finding
from vitalgate.store.alerts import OpenEpisode

# Questionnaire rules are event rules too: a response completed after a closure is a new event.
READING_RULE_KINDS = frozenset({"threshold", "consecutive", "forecast", "questionnaire"})
Action = Literal["open", "update", "restart", "skip"]


def decide(
    rule: Any, finding: Finding, episode: OpenEpisode | None, closed_at: datetime | None, now: datetime
) -> Action:
    """The episode action for an active finding (see the module docstring)."""
    reading_rule = rule.kind in READING_RULE_KINDS
    if episode is not None:
        if (
            reading_rule
            and finding.event_start is not None
            and episode.event_start is not None
            and finding.event_start > episode.event_start
        ):
            return "restart"  # the old run ended (a reading in between was not beyond): a new event
        return "update"
    if closed_at is None:
        return "open"
    if reading_rule:
        newer = finding.latest_at is not None and finding.latest_at > closed_at.timestamp()
        return "open" if finding.has_new or newer else "skip"
    return "open" if now - closed_at >= timedelta(hours=rule.cooldown_hours) else "skip"


def worsened(rule: Any, finding: Finding, episode: OpenEpisode | None) -> bool:
    """True when an updated threshold episode's worst value moved further beyond the limit."""
    if episode is None or episode.worst is None or finding.value is None or rule.kind != "threshold":
        return False
    low = rule.conditions[0].op in ("<", "<=")
    return finding.value < episode.worst if low else finding.value > episode.worst
