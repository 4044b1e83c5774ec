"""Per-patient facts the rules need besides the readings (monitoring start, UTC offset now, scores)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vitalgate.alerts.frame import DAY, local_day
from vitalgate.alerts.questionnaire_rule import ScoreInputs


@dataclass(frozen=True, slots=True)
class PatientContext:
    """Per-patient facts not in the readings: monitoring start (epoch s, NaN unknown), UTC offset now."""

    patients: np.ndarray  # sorted unique int64
    monitoring_start: np.ndarray  # float64 aligned with patients
    # Local minus UTC at `now` in each patient's zone (vitalgate.core.localtime.utc_offset_s); None = UTC.
    utc_offset_now_s: np.ndarray | None = None
    # Latest questionnaire scores (store.questionnaires.latest_scores), for questionnaire rules.
    scores: ScoreInputs | None = None
    # Local day number of the monitoring start in the zone in force then (NaN unknown); None = use
    # the offset at `now` (callers without zone histories, e.g. unit tests on a fixed offset).
    monitoring_start_local_day: np.ndarray | None = None

    def offsets(self, patients: np.ndarray) -> np.ndarray:
        """UTC offsets at `now` of the given (member) patients."""
        if self.utc_offset_now_s is None:
            return np.zeros(patients.size)
        return self.utc_offset_now_s[np.searchsorted(self.patients, patients)]

    def start_local_days(self, patients: np.ndarray) -> np.ndarray:
        """Local day number of each patient's monitoring start (NaN when unknown)."""
        at = np.searchsorted(self.patients, patients)
        if self.monitoring_start_local_day is not None:
            return self.monitoring_start_local_day[at]
        return np.floor((self.monitoring_start[at] + self.offsets(patients)) / DAY)

    def first_local_day(self, patients: np.ndarray, now: float, window_days: int) -> np.ndarray:
        """Local day number of the first of the last `window_days` local dates (today included)."""
        return local_day(now + self.offsets(patients)) - window_days + 1
