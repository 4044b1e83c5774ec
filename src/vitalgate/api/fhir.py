"""FHIR R4 Observations following the HL7 Personal Health Device (PHD) IG conventions (pure functions)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from vitalgate.domain import MeasurementKind
from vitalgate.store.rows import Reading

LOINC = "http://loinc.org"
# ISO/IEEE 11073-10101 nomenclature (MDC) as used by the PHD IG.
MDC = "urn:iso:std:iso:11073:10101"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PHD = "http://hl7.org/fhir/uv/phd/StructureDefinition"
READING_ID_SYSTEM = "urn:ietf:rfc:3986"
DEVICE_SERIAL_SYSTEM = "urn:vitalgate:device-serial"
# Pulse is its own Observation derived from a BP reading: its id is a UUIDv5 of the reading id.
_PULSE_NAMESPACE = uuid.UUID("6f0c1d52-8a55-4f7e-9f4e-4b1a0c3b2e71")
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _quantity(value: float | None, unit: str) -> dict[str, Any]:
    if value is None:  # callers make Observations only of values that are present
        raise ValueError(f"no value in {unit}")
    return {"value": round(float(value), 2), "unit": unit, "system": UCUM, "code": unit}


def device_id(serial: str) -> str:
    """A FHIR id for a device serial (serials outside the id alphabet are hashed)."""
    return serial if _FHIR_ID.match(serial) else "serial-" + uuid.uuid5(_PULSE_NAMESPACE, serial).hex


def _base(obs_id: str, reading: Reading, patient_id: int, profile: str, category: str | None) -> dict[str, Any]:
    measured: datetime = reading.measured_at
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": obs_id,
        "meta": {"profile": [f"{PHD}/{profile}"]},
        "identifier": [{"system": READING_ID_SYSTEM, "value": f"urn:uuid:{obs_id}"}],
        "status": "final",
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": measured.isoformat(),
        "device": {"reference": f"Device/{device_id(reading.device_serial)}", "display": reading.device_serial},
    }
    if category:
        body["category"] = [{"coding": [_coding(OBS_CATEGORY, category, "Vital Signs")]}]
    return body


def glucose_observation(reading: Reading, patient_id: int) -> dict[str, Any]:
    """Capillary blood glucose: LOINC 41653-7 (by glucometer) + MDC 160184, mg/dL."""
    obs = _base(str(reading.id), reading, patient_id, "PhdNumericObservation", None)
    obs["code"] = {
        "coding": [
            _coding(MDC, "160184", "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD"),
            _coding(LOINC, "41653-7", "Glucose [Mass/volume] in Capillary blood by Glucometer"),
        ]
    }
    obs["valueQuantity"] = _quantity(reading.glucose_mg_dl, "mg/dL")
    return obs


def bp_observation(reading: Reading, patient_id: int) -> dict[str, Any]:
    """Blood-pressure panel: LOINC 85354-9 + MDC 150020, components systolic/diastolic (and mean)."""
    obs = _base(str(reading.id), reading, patient_id, "PhdCompoundNumericObservation", "vital-signs")
    obs["code"] = {
        "coding": [
            _coding(MDC, "150020", "MDC_PRESS_BLD_NONINV"),
            _coding(LOINC, "85354-9", "Blood pressure panel with all children optional"),
        ]
    }
    components = [
        ("systolic_mmhg", "150021", "MDC_PRESS_BLD_NONINV_SYS", "8480-6", "Systolic blood pressure"),
        ("diastolic_mmhg", "150022", "MDC_PRESS_BLD_NONINV_DIA", "8462-4", "Diastolic blood pressure"),
        ("map_mmhg", "150023", "MDC_PRESS_BLD_NONINV_MEAN", "8478-0", "Mean blood pressure"),
    ]
    obs["component"] = [
        {
            "code": {"coding": [_coding(MDC, mdc, mdc_name), _coding(LOINC, loinc, loinc_name)]},
            "valueQuantity": _quantity(value, "mm[Hg]"),
        }
        for column, mdc, mdc_name, loinc, loinc_name in components
        if (value := getattr(reading, column)) is not None
    ]
    return obs


def pulse_observation(reading: Reading, patient_id: int) -> dict[str, Any]:
    """Pulse rate measured by the cuff: LOINC 8867-4 + MDC 149546, /min; derived from the BP reading."""
    obs_id = str(uuid.uuid5(_PULSE_NAMESPACE, str(reading.id)))
    obs = _base(obs_id, reading, patient_id, "PhdNumericObservation", "vital-signs")
    obs["code"] = {"coding": [_coding(MDC, "149546", "MDC_PULS_RATE_NON_INV"), _coding(LOINC, "8867-4", "Heart rate")]}
    obs["valueQuantity"] = _quantity(reading.pulse_bpm, "/min")
    obs["derivedFrom"] = [{"reference": f"Observation/{reading.id}"}]
    return obs


def observations(reading: Reading, patient_id: int) -> list[dict[str, Any]]:
    """All Observations of one stored reading."""
    if reading.kind == MeasurementKind.GLUCOSE:
        return [glucose_observation(reading, patient_id)] if reading.glucose_mg_dl is not None else []
    out = [bp_observation(reading, patient_id)]
    if reading.pulse_bpm is not None:
        out.append(pulse_observation(reading, patient_id))
    return out


def searchset(
    base_url: str, self_url: str, resources: list[dict[str, Any]], resource_type: str = "Observation"
) -> dict[str, Any]:
    """A searchset Bundle of one resource type (Observations by default)."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {"fullUrl": f"{base_url}/{resource_type}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }
