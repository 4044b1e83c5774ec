"""`python -m benchmarks [NAME [ARGS...]]` (or `make bench ARGS="NAME ..."`): run every benchmark, or one by name.

Each benchmark runs as its own child process (`python -m benchmarks.<module>`), so peak-RSS figures
are that run's alone and one failing benchmark does not stop the others. `--list` prints the names.
"""

from __future__ import annotations

import subprocess
import sys
import time

# name -> (module, what it measures)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "ingest": ("ingest_bench", "ingest readings/s vs row-by-row INSERT vs the raw broker rate; peak RSS"),
    "gateway": ("gateway_bench", "20 virtual devices syncing through one hub: readings/s and peak RSS"),
    "alerts": ("alerts_bench", "all rules for 10,000 patients x 90 days; incremental batch; vs a naive loop"),
    "api": (
        "api_bench",
        "page, statistics, series, PDF, FHIR and worklist (10,000 patients) latency; 20 staff sessions",
    ),
    "clinical": ("clinical_bench", "simulated type-1 patients through rules and follow-up: sensitivity, alarm burden"),
    "chaos": ("chaos", "SIGKILL ingest/scheduler/API/broker at random while hubs publish: 0 lost, 0 doubled"),
    "triage": ("triage_bench", "inbound message triage: per-class precision/recall, urgent recall vs keyword-only"),
    "notify": ("notify_bench", "delivery ledger messages/s to a local signed webhook vs one-at-a-time; triage table"),
    "program": ("program_bench", "program dashboard for 10,000 patients and a year of events (< 1 s) vs raw readings"),
    "questionnaire": (
        "questionnaire_bench",
        "completing the enrolment intake vs saving it partially; rule evaluation with/without questionnaire rules",
    ),
    "import": ("import_bench", "enrolling 10,000 CSV patients: COPY batches vs row-by-row INSERT; idempotent re-run"),
}


def _usage() -> str:
    lines = ["usage: python -m benchmarks [--list] [NAME [ARGS...]]", "", "benchmarks:"]
    lines += [f"  {name:<8} {description}" for name, (_, description) in BENCHMARKS.items()]
    lines += ["", "Without NAME every benchmark runs in turn with its defaults; ARGS go to the one named."]
    return "\n".join(lines)


def _module(name: str) -> str | None:
    """The module of a benchmark given by short name (`ingest`) or module name (`ingest_bench`)."""
    if name in BENCHMARKS:
        return BENCHMARKS[name][0]
    return name if name in {module for module, _ in BENCHMARKS.values()} else None


def _run(module: str, args: list[str]) -> int:
    print(f"== benchmarks.{module} {' '.join(args)}".rstrip(), flush=True)
    started = time.monotonic()
    code = subprocess.call([sys.executable, "-m", f"benchmarks.{module}", *args])
    print(f"== benchmarks.{module}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
    return code


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help", "--list"):
        print(_usage())
        return 0
    if argv:
        module = _module(argv[0])
        if module is None:
            print(f"unknown benchmark {argv[0]!r}\n\n{_usage()}", file=sys.stderr)
            return 2
        return _run(module, argv[1:])
    failed = [name for name, (module, _) in BENCHMARKS.items() if _run(module, []) != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
