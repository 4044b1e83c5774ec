"""Stratified permuted-block randomisation, reproducible from a recorded seed (pure).

Patients are grouped into strata by their declared covariates (continuous ones by cut points);
within each stratum arms are dealt from permuted blocks (each block holds every arm equally
often). Block b of stratum s is the permutation drawn from SHA-256(seed, s, b), so the n-th
patient of a stratum gets the same arm whatever happens in other strata and whoever recomputes
it: the allocation list can be audited from the seed alone.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vitalgate.programs.definitions import CovariateSpec

MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Draw:
    arm: str
    block_index: int
    position: int


def stratum_of(covariates: Mapping[str, Any], specs: Sequence[CovariateSpec]) -> str:
    """The stratum label, e.g. `age_band=65-74|sex=female|baseline_systolic_mmhg=<135`."""
    parts = []
    for spec in specs:
        if not spec.stratify:
            continue
        value = covariates.get(spec.name)
        if value is None:
            label = MISSING
        elif spec.kind == "continuous":
            label = band_label(float(value), spec.cutpoints)
        else:
            label = str(value)
        parts.append(f"{spec.name}={label}")
    return "|".join(parts) or "all"


def band_label(value: float, cutpoints: Sequence[float]) -> str:
    """`<c0`, `c0-c1`, ..., `>=cN`: the band a continuous value falls in."""
    if not cutpoints:
        return "all"
    i = bisect.bisect_right(list(cutpoints), value)
    if i == 0:
        return f"<{cutpoints[0]:g}"
    if i == len(cutpoints):
        return f">={cutpoints[-1]:g}"
    return f"{cutpoints[i - 1]:g}-{cutpoints[i]:g}"


def block(seed: int, stratum: str, block_index: int, arms: Sequence[str], block_size: int) -> list[str]:
    """The arms of one block, in order (a permutation with block_size / len(arms) of each)."""
    if block_size % len(arms):
        raise ValueError(f"block size {block_size} is not a multiple of the {len(arms)} arms")
    digest = hashlib.sha256(f"{seed}\x1f{stratum}\x1f{block_index}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:16], "big"))
    cards = [arm for arm in arms for _ in range(block_size // len(arms))]
    rng.shuffle(cards)
    return cards


def draw(seed: int, stratum: str, sequence: int, arms: Sequence[str], block_size: int) -> Draw:
    """The arm of the `sequence`-th (0-based) patient allocated in this stratum."""
    index, position = divmod(sequence, block_size)
    return Draw(block(seed, stratum, index, arms, block_size)[position], index, position)


def allocate_all(
    seed: int,
    patients: Iterable[tuple[int, Mapping[str, Any]]],
    specs: Sequence[CovariateSpec],
    arms: Sequence[str],
    block_size: int,
) -> dict[int, tuple[str, str, Draw]]:
    """{patient: (arm, stratum, draw)} for patients in enrolment order: the same as allocating one by one."""
    counts: dict[str, int] = {}
    out: dict[int, tuple[str, str, Draw]] = {}
    for patient_id, covariates in patients:
        stratum = stratum_of(covariates, specs)
        d = draw(seed, stratum, counts.get(stratum, 0), arms, block_size)
        counts[stratum] = counts.get(stratum, 0) + 1
        out[patient_id] = (d.arm, stratum, d)
    return out
