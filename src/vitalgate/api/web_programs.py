"""The program dashboard: funnel, KPI trends, arm comparison and balance table as server-rendered SVG, and CSV.

Staff only. The page shows aggregates (no patient is named); each view and export is audited.
Period: ?from=YYYY-MM-DD&to=YYYY-MM-DD (UTC days, `to` exclusive); default the last 90 days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from vitalgate.api import program_charts as charts
from vitalgate.api.auth import Principal
from vitalgate.api.deps import Conn, audit
from vitalgate.api.web_common import login_redirect, render, web_principal
from vitalgate.core.clock import clock_from_env
from vitalgate.domain import STAFF_ROLES, Role
from vitalgate.i18n import N_, _
from vitalgate.programs import report as program_report
from vitalgate.programs.content_library import language_for, shipped_library
from vitalgate.programs.definitions import Program, shipped_programs
from vitalgate.programs.funnel import FORWARD
from vitalgate.programs.stats import Estimate
from vitalgate.store import content_sends, program_modules
from vitalgate.store.content_sends import patient_profile_facts
from vitalgate.store.record_vocab import Language as ContentLanguage

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 90
_STEP_LABELS = {
    "invited": N_("invited"),
    "consented": N_("consented"),
    "enrolled": N_("enrolled"),
    "active": N_("active"),
}


def _program(program_id: str) -> Program:
    program = shipped_programs().get(program_id)
    if program is None:
        raise HTTPException(status_code=404, detail=N_("no such program"))
    return program


def _period(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    try:
        to_day = date.fromisoformat(end) if end else clock_from_env().now().date() + timedelta(days=1)
        from_day = date.fromisoformat(start) if start else to_day - timedelta(days=DEFAULT_DAYS)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=N_("dates are YYYY-MM-DD")) from exc
    if from_day >= to_day:
        raise HTTPException(status_code=400, detail=N_("the period must end after it starts"))
    midnight = datetime.min.time()
    return datetime.combine(from_day, midnight, tzinfo=UTC), datetime.combine(to_day, midnight, tzinfo=UTC)


async def _staff(request: Request, conn: Conn) -> Principal | None:
    principal = await web_principal(request, conn)
    if principal is not None and principal.role not in STAFF_ROLES and principal.role != Role.ADMIN:
        raise HTTPException(status_code=403, detail=N_("staff only"))
    return principal


@router.get("/ui/programs", response_class=HTMLResponse)
async def programs_page(request: Request, conn: Conn) -> Response:
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    return render(request, "programs.html", principal, programs=list(shipped_programs().values()))


@router.get("/ui/programs/{program_id}", response_class=HTMLResponse)
async def program_page(
    program_id: str, request: Request, conn: Conn, start: str | None = None, end: str | None = None
) -> Response:
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    program = _program(program_id)
    period = _period(request.query_params.get("from", start), request.query_params.get("to", end))
    rep = await program_report.build(conn, program, *period)
    await audit(conn, principal, request, "read:program_report", None, {"program": program.id})
    return render(request, "program.html", principal, rep=rep, charts=_charts(rep), period=period)


def _charts(rep: program_report.ProgramReport) -> dict[str, object]:
    """The page's SVGs, built when the template calls them (so inside the page's language)."""
    total = next(f for f in rep.funnel_by_channel if f.group == "all")
    arms = rep.program.arm_names
    by_arm: dict[str, list[tuple[str, Estimate]]] = {}
    for k in rep.kpis:
        if k.group.startswith("arm="):
            by_arm.setdefault(k.name, []).append((k.group.removeprefix("arm="), k.estimate))
    compared = [
        N_("follow-up acceptance (answered / sent)"),
        N_("reach rate (tasks reached / contacted)"),
        N_("questionnaire completion (check-ins completed / sent)"),
    ]
    return {
        "funnel": lambda: charts.funnel(
            _("Enrolment funnel"),
            [(_(_STEP_LABELS[s]), st.reached) for s, st in zip(FORWARD, total.stages, strict=True)],
        ),
        "trends": lambda: [(name, charts.trend(_(name), groups)) for name, groups in rep.trends.items()],
        "arms": lambda: [
            (name, charts.arms(_(name), [(a, e) for a, e in by_arm.get(name, []) if a in arms])) for name in compared
        ],
        "smd": lambda: charts.smd_plot(_("Standardized mean difference by covariate"), rep.balance),
    }


@router.get("/ui/programs/{program_id}/export.csv")
async def program_csv(program_id: str, request: Request, conn: Conn) -> Response:
    principal = await _staff(request, conn)
    if principal is None:
        return login_redirect(request)
    program = _program(program_id)
    period = _period(request.query_params.get("from"), request.query_params.get("to"))
    rep = await program_report.build(conn, program, *period)
    await audit(conn, principal, request, "export:program_report", None, {"program": program.id, "format": "csv"})
    name = f"{program.id}_{period[0]:%Y%m%d}_{period[1]:%Y%m%d}.csv"
    return Response(
        program_report.to_csv(rep),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/ui/me/education/{item_id}", response_class=HTMLResponse)
async def education_page(item_id: int, request: Request, conn: Conn) -> Response:
    """A patient opens this week's education item from the message link: shown in their language, opening recorded."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    item = await program_modules.get(conn, item_id)
    if item is None or item.patient_id != principal.patient_id or item.sent_at is None or item.item_kind != "education":
        raise HTTPException(status_code=404, detail=N_("no such reading"))
    await program_modules.mark_opened(conn, item.id, clock_from_env().now())
    return await _reading(request, conn, principal, item.patient_id, item.item_key)


@router.get("/ui/me/content/{send_id}", response_class=HTMLResponse)
async def content_page(send_id: int, request: Request, conn: Conn) -> Response:
    """An education item chosen by tag matching, opened from its message link (first opening recorded)."""
    principal = await web_principal(request, conn)
    if principal is None:
        return login_redirect(request)
    send = await content_sends.get(conn, send_id)
    if send is None or send.patient_id != principal.patient_id or send.sent_at is None:
        raise HTTPException(status_code=404, detail=N_("no such reading"))
    await content_sends.mark_opened(conn, send.id, clock_from_env().now())
    return await _reading(request, conn, principal, send.patient_id, send.item_key)


async def _reading(request: Request, conn: Conn, principal: Principal, patient_id: int, key: str) -> Response:
    content = shipped_library().get(key)
    facts = await patient_profile_facts(conn, patient_id)
    language = language_for(content, facts[3] if facts else "en") or ContentLanguage.EN
    await audit(conn, principal, request, "read:education", patient_id, {"item": key})
    return render(
        request,
        "education.html",
        principal,
        title=content.title.get(language, ""),
        body=content.body.get(language),
        link=content.link.get(language),
        language=language,
    )
