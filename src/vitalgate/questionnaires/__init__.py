"""Questionnaires and scales: FHIR R4 Questionnaire definitions, answering, scoring, extraction, export."""
