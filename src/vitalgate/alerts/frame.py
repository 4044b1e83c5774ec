"""Columnar readings of many patients (numpy arrays sorted by patient, then time) and group helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vitalgate.domain import MeasurementKind

KIND_CODES = {MeasurementKind.GLUCOSE: 0, MeasurementKind.BLOOD_PRESSURE: 1}
FIELDS = ("glucose_mg_dl", "systolic_mmhg", "diastolic_mmhg", "map_mmhg", "pulse_bpm")
DAY = 86_400.0
# Local parts of the day for home-BP protocols (ESH 2021 / AHA 2019: measure in the morning before
# medication and in the evening, seated, twice): generous windows on the patient's wall clock.
PART_OF_DAY_HOURS = {"morning": (4, 12), "evening": (17, 24)}


@dataclass(frozen=True, slots=True)
class ReadingFrame:
    """Readings as aligned arrays; `t` is epoch seconds (UTC); NaN where a value is absent."""

    patient: np.ndarray  # int64
    t: np.ndarray  # float64
    kind: np.ndarray  # int8, KIND_CODES
    values: dict[str, np.ndarray]
    meal: np.ndarray  # object: str or None
    is_new: np.ndarray  # bool: in the batch being evaluated
    ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))  # optional reading ids
    universe: np.ndarray | None = None  # sorted patients the frame was loaded for (all rows belong to them)
    # Per row: ">" / "<" when the value is a meter's HI/LO reporting limit, else None (empty: none anywhere).
    comparator: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    # The patient's wall clock as epoch-like seconds (t + UTC offset in the zone valid at t); = t if unknown.
    local_t: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))

    def __post_init__(self) -> None:
        if self.local_t.shape != self.t.shape:
            object.__setattr__(self, "local_t", self.t)

    def __len__(self) -> int:
        return int(self.patient.shape[0])

    @classmethod
    def empty(cls) -> ReadingFrame:
        return cls.from_columns([], [], [], {}, [], [])

    @classmethod
    def from_columns(
        cls, patient, t, kind, values, meal, is_new, ids=None, comparator=None, local_t=None
    ) -> ReadingFrame:
        """Build a frame from sequences and sort it by (patient, t)."""
        p = np.asarray(patient, dtype=np.int64)
        tt = np.asarray(t, dtype=np.float64)
        order = np.lexsort((tt, p))
        n = p.shape[0]
        vals = {f: np.asarray(values.get(f, np.full(n, np.nan)), dtype=np.float64)[order] for f in FIELDS}
        meal_arr = np.asarray(meal if len(meal) else [None] * n, dtype=object)
        ids_arr = np.asarray(ids, dtype=object)[order] if ids is not None else np.full(n, None, dtype=object)
        comp = np.asarray(comparator, dtype=object)[order] if comparator is not None and len(comparator) else None
        return cls(
            p[order],
            tt[order],
            np.asarray(kind, dtype=np.int8)[order],
            vals,
            meal_arr[order],
            np.asarray(is_new if len(is_new) else np.zeros(n, bool), dtype=bool)[order],
            ids_arr,
            comparator=comp if comp is not None else np.full(n, None, dtype=object),
            local_t=np.asarray(local_t, dtype=np.float64)[order] if local_t is not None else tt[order],
        )

    def select(self, mask: np.ndarray) -> ReadingFrame:
        """Rows where mask is True (order kept; the result has no universe)."""
        return ReadingFrame(
            self.patient[mask],
            self.t[mask],
            self.kind[mask],
            {f: v[mask] for f, v in self.values.items()},
            self.meal[mask],
            self.is_new[mask],
            self.ids[mask] if len(self.ids) else self.ids,
            comparator=self.comparator[mask] if len(self.comparator) else self.comparator,
            local_t=self.local_t[mask],
        )

    def with_universe(self, patients: np.ndarray) -> ReadingFrame:
        """The same frame, declared to hold exactly the readings of these (sorted) patients."""
        return ReadingFrame(
            self.patient,
            self.t,
            self.kind,
            self.values,
            self.meal,
            self.is_new,
            self.ids,
            np.asarray(patients, dtype=np.int64),
            self.comparator,
            self.local_t,
        )


def dense_index(patients: np.ndarray, frame_patients: np.ndarray) -> np.ndarray:
    """Position of each row's patient in the sorted `patients` array (rows must be members)."""
    return np.searchsorted(patients, frame_patients)


def rank_from_end(group: np.ndarray, groups: int) -> np.ndarray:
    """For rows sorted by group: 0 for each group's last row, 1 for the one before, ..."""
    if group.size == 0:
        return np.empty(0, dtype=np.int64)
    counts = np.bincount(group, minlength=groups)
    ends = np.cumsum(counts)
    return ends[group] - np.arange(group.size) - 1


def split_by_group(positions: np.ndarray, group: np.ndarray) -> dict[int, np.ndarray]:
    """Row positions (sorted by group) split into {group: positions}."""
    if positions.size == 0:
        return {}
    g = group[positions]
    cuts = np.flatnonzero(np.diff(g)) + 1
    return {int(part[0]): pos for part, pos in zip(np.split(g, cuts), np.split(positions, cuts), strict=True)}


def compare(values: np.ndarray, op: str, limit: float) -> np.ndarray:
    """values <op> limit, NaN never true."""
    with np.errstate(invalid="ignore"):
        if op == "<":
            return values < limit
        if op == "<=":
            return values <= limit
        if op == ">":
            return values > limit
        return values >= limit


def local_day(local_t: np.ndarray) -> np.ndarray:
    """The patient's local calendar day number (days since 1970-01-01 on their wall clock)."""
    return np.floor(local_t / DAY).astype(np.int64)


def local_hour(local_t: np.ndarray) -> np.ndarray:
    """Hour of the patient's local day, 0-23."""
    return (np.floor(local_t / 3600.0) % 24).astype(np.int64)


def part_of_day_mask(local_t: np.ndarray, parts: Sequence[str] | None) -> np.ndarray:
    """Readings taken in any of the named local parts of the day (None: all)."""
    if parts is None:
        return np.ones(local_t.shape, dtype=bool)
    hour = local_hour(local_t)
    mask = np.zeros(local_t.shape, dtype=bool)
    for part in parts:
        lo, hi = PART_OF_DAY_HOURS[part]
        mask |= (hour >= lo) & (hour < hi)
    return mask
