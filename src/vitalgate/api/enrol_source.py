"""Which reader an uploaded enrolment file needs: FHIR R4 Bundle JSON or CSV (UTF-8)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vitalgate.api.enrol_import import read_csv

MAX_BYTES = 50 * 1024 * 1024  # 10,000 rows of CSV are ~2 MB; a Bundle of them ~20 MB


def read_source(data: bytes, filename: str = "") -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Rows of a CSV or Bundle (ValueError when the file as a whole cannot be read)."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"file larger than {MAX_BYTES // 1024 // 1024} MB: split it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError("the file is not UTF-8 text") from exc
    if filename.lower().endswith(".json") or text.lstrip().startswith("{"):
        from vitalgate.api.enrol_fhir import read_bundle

        return read_bundle(text)
    return read_csv(text)
