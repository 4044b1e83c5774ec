"""Inbound triage: classify a patient's or family member's free text and route it to the right person."""

from vitalgate.notify.triage.category import TriageCategory, TriageResult
from vitalgate.notify.triage.classifier import classify

__all__ = ["TriageCategory", "TriageResult", "classify"]
