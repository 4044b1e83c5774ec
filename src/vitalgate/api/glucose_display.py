"""Glucose in the viewer's unit: stored in mg/dL, shown in mg/dL (whole numbers) or mmol/L (one decimal).

1 mmol/L = 18.0156 mg/dL (vitalgate.devices.units); mmol/L is rounded half up to one decimal, the
precision meters and guidelines use (54 mg/dL = 3.0, 70 = 3.9, 180 = 10.0 mmol/L).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal

from vitalgate.devices.units import mg_dl_to_mmol_l
from vitalgate.domain import GlucoseUnit, Language
from vitalgate.i18n import format_number

DECIMALS: dict[GlucoseUnit, int] = {GlucoseUnit.MG_DL: 0, GlucoseUnit.MMOL_L: 1}
# The five ranges of the 2019 international consensus on time in range (Battelino et al., Diabetes
# Care 42:1593), as it writes them in each unit (not converted: 181 mg/dL is 10.05, written 10.1).
TIR_BOUNDS: dict[GlucoseUnit, tuple[str, str, str, str, str]] = {
    GlucoseUnit.MG_DL: ("< 54", "54–69", "70–180", "181–250", "> 250"),
    GlucoseUnit.MMOL_L: ("< 3.0", "3.0–3.8", "3.9–10.0", "10.1–13.9", "> 13.9"),
}


def as_unit(unit: GlucoseUnit | str | None) -> GlucoseUnit:
    try:
        return GlucoseUnit(unit) if unit else GlucoseUnit.MG_DL
    except ValueError:
        return GlucoseUnit.MG_DL


def glucose_in(mg_dl: float, unit: GlucoseUnit | str | None) -> float:
    """The value in the unit, rounded as shown (half up: 2.95 mmol/L shows as 3.0, not 2.9)."""
    target = as_unit(unit)
    return _rounded(mg_dl if target == GlucoseUnit.MG_DL else mg_dl_to_mmol_l(mg_dl), _STEP[target])


_STEP = {unit: Decimal(1).scaleb(-places) for unit, places in DECIMALS.items()}


def _rounded(value: float, step: Decimal) -> float:
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def format_glucose(mg_dl: float | None, unit: GlucoseUnit | str | None, language: Language | str | None) -> str:
    """The number alone ('3.0', '54'), in the language's separators; '—' for no value."""
    if mg_dl is None:
        return "—"
    target = as_unit(unit)
    return format_number(glucose_in(mg_dl, target), language, DECIMALS[target])


def glucose_series(values: list[float | None], unit: GlucoseUnit | str | None) -> list[float | None]:
    """A chart series in the unit (unrounded beyond the display precision)."""
    # Unit and step looked up once: a chart has up to ~2,000 values (measured: a tenth of the page's time).
    target = as_unit(unit)
    step = _STEP[target]
    if target == GlucoseUnit.MG_DL:
        return [None if v is None else _rounded(v, step) for v in values]
    return [None if v is None else _rounded(mg_dl_to_mmol_l(v), step) for v in values]


_page_unit: ContextVar[GlucoseUnit] = ContextVar("vitalgate_glucose_unit", default=GlucoseUnit.MG_DL)


@contextmanager
def showing_unit(unit: GlucoseUnit) -> Iterator[None]:
    """Glucose in stored texts (task titles, alert summaries) is shown in this unit inside the block."""
    token = _page_unit.set(unit)
    try:
        yield
    finally:
        _page_unit.reset(token)


def current_unit() -> GlucoseUnit:
    return _page_unit.get()
