"""Stratified block randomisation: balance on 1,000 simulated patients, reproducibility from the seed, blocks."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from vitalgate.programs.balance import SMD_TARGET, balance_table
from vitalgate.programs.definitions import CovariateSpec, ProgramConfigError, RandomisationSpec, parse_program
from vitalgate.programs.randomise import allocate_all, band_label, block, draw, stratum_of

SPECS = [
    CovariateSpec(name="age_band"),
    CovariateSpec(name="sex"),
    CovariateSpec(name="condition_stage"),
    CovariateSpec(name="baseline_systolic_mmhg", cutpoints=[135, 150]),
    CovariateSpec(name="baseline_tir_pct", cutpoints=[50, 70]),
]
ARMS = ["experiment", "control"]


def simulated_patients(n: int, seed: int) -> list[tuple[int, dict[str, object]]]:
    """A skewed population: more older patients, stage I most common, systolic ~ N(145, 16), some TIR missing."""
    rng = random.Random(seed)
    out = []
    for pid in range(1, n + 1):
        tir = None if rng.random() < 0.1 else min(100.0, max(0.0, rng.gauss(62, 18)))
        out.append(
            (
                pid,
                {
                    "age_band": rng.choices(["<45", "45-64", "65-74", ">=75"], [1, 3, 4, 2])[0],
                    "sex": rng.choice(["female", "male"]),
                    "condition_stage": rng.choices(["1", "2", "3"], [5, 3, 1])[0],
                    "baseline_systolic_mmhg": rng.gauss(145, 16),
                    "baseline_tir_pct": tir,
                },
            )
        )
    return out


@pytest.mark.parametrize("seed", [1, 20261130, 7312026, 99, 123456789])
def test_one_thousand_patients_are_balanced_on_every_covariate(seed: int) -> None:
    patients = simulated_patients(1000, seed=seed + 1)
    allocation = allocate_all(seed, patients, SPECS, ARMS, block_size=4)
    rows = [(allocation[pid][0], cov) for pid, cov in patients]
    table = balance_table(rows, SPECS, ARMS)
    assert {r.covariate for r in table} == {s.name for s in SPECS}
    worst = max(table, key=lambda r: abs(r.smd or 0))
    assert all(r.smd is not None and abs(r.smd) < SMD_TARGET for r in table), (worst.covariate, worst.level, worst.smd)
    arms = Counter(arm for arm, _ in rows)
    assert abs(arms["experiment"] - arms["control"]) <= 2 * len({allocation[p][1] for p, _ in patients})


def test_same_seed_same_allocation_and_another_seed_another() -> None:
    patients = simulated_patients(300, seed=5)
    first = allocate_all(42, patients, SPECS, ARMS, 4)
    again = allocate_all(42, patients, SPECS, ARMS, 4)
    other = allocate_all(43, patients, SPECS, ARMS, 4)
    assert first == again
    assert [first[p][0] for p, _ in patients] != [other[p][0] for p, _ in patients]


def test_a_stratum_arm_does_not_depend_on_other_strata() -> None:
    """The n-th patient of a stratum gets the same arm whoever was enrolled in between (auditable from the seed)."""
    patients = simulated_patients(200, seed=8)
    alone = [(p, c) for p, c in patients if stratum_of(c, SPECS) == stratum_of(patients[0][1], SPECS)]
    mixed = allocate_all(7, patients, SPECS, ARMS, 4)
    only = allocate_all(7, alone, SPECS, ARMS, 4)
    assert all(mixed[p][0] == only[p][0] for p, _ in alone)


def test_every_complete_block_deals_each_arm_equally() -> None:
    for b in range(50):
        dealt = block(3, "sex=female", b, ["a", "b", "c"], 6)
        assert Counter(dealt) == {"a": 2, "b": 2, "c": 2}
    assert [draw(3, "s", i, ARMS, 4).arm for i in range(4)] == block(3, "s", 0, ARMS, 4)
    assert draw(3, "s", 9, ARMS, 4).block_index == 2 and draw(3, "s", 9, ARMS, 4).position == 1
    with pytest.raises(ValueError):
        block(3, "s", 0, ARMS, 5)


def test_strata_bands_and_missing_values() -> None:
    assert band_label(120, [135, 150]) == "<135"
    assert band_label(135, [135, 150]) == "135-150"
    assert band_label(150, [135, 150]) == ">=150"
    label = stratum_of({"age_band": "65-74", "sex": None, "baseline_systolic_mmhg": 151.0}, SPECS[:2] + SPECS[3:4])
    assert label == "age_band=65-74|sex=missing|baseline_systolic_mmhg=>=150"


def test_balance_table_flags_an_imbalanced_allocation() -> None:
    rows = [("experiment", {"sex": "female", "baseline_systolic_mmhg": 160.0 + i % 3}) for i in range(50)]
    rows += [("control", {"sex": "male", "baseline_systolic_mmhg": 130.0 + i % 3}) for i in range(50)]
    table = balance_table(rows, [CovariateSpec(name="sex"), CovariateSpec(name="baseline_systolic_mmhg")], ARMS)
    assert not any(r.balanced for r in table)
    systolic = next(r for r in table if r.covariate == "baseline_systolic_mmhg")
    assert systolic.by_arm == {
        "experiment": pytest.approx(160.98, abs=0.01),
        "control": pytest.approx(130.98, abs=0.01),
    }
    assert systolic.unit == "mmHg"


def test_randomisation_and_program_files_are_validated() -> None:
    with pytest.raises(ValueError):
        RandomisationSpec(seed=1, block_size=5, arms=["a", "b"])
    with pytest.raises(ValueError):
        CovariateSpec(name="sex", cutpoints=[1])
    with pytest.raises(ProgramConfigError, match="after the program"):
        parse_program('id = "x-1"\nname = "x"\nduration_weeks = 2\n[[modules]]\nweek = 3\n')
