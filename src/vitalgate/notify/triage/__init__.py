"""Inbound triage: classify a patient's or family member's free text and route it to the right person."""

from vitalgate.notify.triage.category import TriageCategory, TriageResult
from vitalgate.notify.triage.classifier import classify
from vitalgate.notify.triage.routing import RoutingDecision, reroute, route_message

__all__ = ["RoutingDecision", "TriageCategory", "TriageResult", "classify", "reroute", "route_message"]
