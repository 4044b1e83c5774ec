"""The patient's latest reading in plain words: what it means, its colour, and what to do now.

Glucose bands: ADA Standards of Care 2024 (level 2 hypoglycaemia < 54 mg/dL, level 1 54–69, target
70–180 mg/dL; above 250 the sick-day advice to check ketones). Home blood pressure: 135/85 mmHg home
threshold (ESH 2021), 180/120 mmHg a hypertensive crisis level (ACC/AHA 2017).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vitalgate.i18n import LazyText, lazy


class Level(StrEnum):
    SERIOUS_LOW = "serious-low"
    LOW = "low"
    OK = "ok"
    HIGH = "high"
    SERIOUS_HIGH = "serious-high"


@dataclass(frozen=True, slots=True)
class Explanation:
    level: Level
    headline: LazyText
    steps: tuple[LazyText, ...]  # what to do now (serious levels only)

    @property
    def serious(self) -> bool:
        return self.level in (Level.SERIOUS_LOW, Level.SERIOUS_HIGH)


_LOW_STEPS = (
    lazy("Eat or drink 15 g of fast sugar now: 4 glucose tablets, or half a glass (150 ml) of juice or regular soda."),
    lazy("Measure again in 15 minutes. If it is still below 70 mg/dL (3.9 mmol/L), take another 15 g."),
    lazy(
        "If you feel confused, drowsy or cannot swallow safely, call emergency services (120 / 911) or ask someone to."
    ),
)
_HIGH_GLUCOSE_STEPS = (
    lazy("Drink water and take your medicine as your care team told you."),
    lazy("If you have a ketone meter, check ketones. Measure again in 2 hours."),
    lazy("If you are vomiting, very thirsty, breathing fast or feel very unwell, call emergency services (120 / 911)."),
)
_CRISIS_BP_STEPS = (
    lazy("Sit quietly for 5 minutes and measure again."),
    lazy(
        "If it is still 180/120 or above, or you have chest pain, shortness of breath, weakness or trouble speaking, call emergency services (120 / 911) now."
    ),
)


def explain_glucose(mg_dl: float) -> Explanation:
    if mg_dl < 54:
        return Explanation(Level.SERIOUS_LOW, lazy("Your glucose is very low."), _LOW_STEPS)
    if mg_dl < 70:
        return Explanation(
            Level.LOW, lazy("Your glucose is low. Have 15 g of fast sugar and measure again in 15 minutes."), ()
        )
    if mg_dl <= 180:
        return Explanation(Level.OK, lazy("Your glucose is in your target range."), ())
    if mg_dl <= 250:
        return Explanation(Level.HIGH, lazy("Your glucose is above your target range."), ())
    return Explanation(Level.SERIOUS_HIGH, lazy("Your glucose is very high."), _HIGH_GLUCOSE_STEPS)


def explain_bp(systolic_mmhg: float, diastolic_mmhg: float) -> Explanation:
    if systolic_mmhg >= 180 or diastolic_mmhg >= 120:
        return Explanation(Level.SERIOUS_HIGH, lazy("Your blood pressure is very high."), _CRISIS_BP_STEPS)
    if systolic_mmhg >= 135 or diastolic_mmhg >= 85:
        return Explanation(Level.HIGH, lazy("Your blood pressure is above the home target of 135/85."), ())
    if systolic_mmhg < 90:
        return Explanation(Level.LOW, lazy("Your blood pressure is low. Sit or lie down if you feel dizzy."), ())
    return Explanation(Level.OK, lazy("Your blood pressure is in the home target range."), ())
