"""Task titles and alert summaries as a person reads them: in their language, glucose in their unit.

Stored text is English (older rows, API clients); a page translates it when shown: the stored
English text is the msgid, so a title with a catalog entry reads in the viewer's language and one
without (a program's own rule title) stays as written.
"""

from __future__ import annotations

from typing import Protocol

from vitalgate.i18n import _


class Titled(Protocol):
    @property
    def title(self) -> str: ...


class Summarised(Protocol):
    @property
    def summary(self) -> str: ...


def task_title(task: Titled) -> str:
    return _(task.title)


def alert_text(alert: Summarised) -> str:
    return _(alert.summary)
