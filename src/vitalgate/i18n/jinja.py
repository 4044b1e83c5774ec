"""Templates: `{{ _("Worklist") }}`, `{{ _("{n} urgent", n=count) }}`, `{{ _n("{n} reading", "{n} readings", k) }}`.

`install(env)` (or the `I18n` extension) adds `_`, `_n` and the current `lang` as globals, so
macros imported without context translate too. The language is the one set by `using(...)` around
the rendering (vitalgate.api.web_common.render does that for every page).
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.ext import Extension

from vitalgate.i18n.translate import _, _n, current_language


def install(env: Environment) -> None:
    """Make the translate calls available to every template of env."""
    env.globals.update({"_": _, "_n": _n, "current_language": current_language})


class I18n(Extension):
    """The same as `install`, for environments built with extensions=[...]."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        install(environment)
