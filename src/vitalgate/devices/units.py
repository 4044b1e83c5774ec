"""Unit conversions for glucose and blood-pressure values (no rounding here)."""

from __future__ import annotations

__all__ = [
    "MG_DL_PER_KG_L",
    "MG_DL_PER_MMOL_L",
    "MMHG_PER_KPA",
    "MMOL_L_PER_MOL_L",
    "kg_per_l_to_mg_dl",
    "kpa_to_mmhg",
    "mg_dl_to_mmol_l",
    "mmhg_to_kpa",
    "mmol_l_to_mg_dl",
    "mol_per_l_to_mmol_l",
]

# Glucose molar mass 180.156 g/mol: 1 mmol/L = 180.156 mg/L = 18.0156 mg/dL.
MG_DL_PER_MMOL_L = 18.0156
# 1 kg/L = 1e6 mg / 10 dL.
MG_DL_PER_KG_L = 100_000
MMOL_L_PER_MOL_L = 1000
# 1 kPa = 1000 Pa / 133.322 Pa per mmHg.
MMHG_PER_KPA = 7.50062


def kg_per_l_to_mg_dl(kg_per_l: float) -> float:
    """GLS kg/L to mg/dL.

    >>> round(kg_per_l_to_mg_dl(0.0012), 2)
    120.0
    """
    return kg_per_l * MG_DL_PER_KG_L


def mol_per_l_to_mmol_l(mol_per_l: float) -> float:
    """GLS mol/L to mmol/L.

    >>> round(mol_per_l_to_mmol_l(0.0055), 3)
    5.5
    """
    return mol_per_l * MMOL_L_PER_MOL_L


def mmol_l_to_mg_dl(mmol_l: float) -> float:
    """mmol/L to mg/dL.

    >>> round(mmol_l_to_mg_dl(5.5), 2)
    99.09
    >>> mmol_l_to_mg_dl(float("inf"))
    inf
    """
    return mmol_l * MG_DL_PER_MMOL_L


def mg_dl_to_mmol_l(mg_dl: float) -> float:
    """mg/dL to mmol/L.

    >>> round(mg_dl_to_mmol_l(120), 2)
    6.66
    """
    return mg_dl / MG_DL_PER_MMOL_L


def kpa_to_mmhg(kpa: float) -> float:
    """kPa to mmHg.

    >>> round(kpa_to_mmhg(17.1), 2)
    128.26
    >>> kpa_to_mmhg(float("-inf"))
    -inf
    """
    return kpa * MMHG_PER_KPA


def mmhg_to_kpa(mmhg: float) -> float:
    """mmHg to kPa.

    >>> round(mmhg_to_kpa(120), 2)
    16.0
    """
    return mmhg / MMHG_PER_KPA
