"""Words of the worklist at scale (filters, data-gap reasons, row context), translated when shown."""

from __future__ import annotations

from vitalgate.i18n import LazyText, lazy
from vitalgate.store.worklist_rows import DataGapReason

GAP_REASON: dict[str, LazyText] = {
    DataGapReason.DEVICE_UNPAIRED: lazy("Data stopped: the device was unpaired"),
    DataGapReason.HUB_OFFLINE: lazy("Data stopped: the hub is offline"),
    DataGapReason.HUB_BACKLOG: lazy("Data stopped: readings are waiting in the hub's backlog"),
    DataGapReason.STOPPED_MEASURING: lazy("Data stopped: the patient stopped measuring"),
}
RULE_KIND: dict[str, LazyText] = {
    "threshold": lazy("Threshold"),
    "consecutive": lazy("Repeated readings"),
    "trend": lazy("Trend"),
    "forecast": lazy("Forecast"),
    "missing_data": lazy("Data gap"),
}
ASSIGNEE: dict[str, LazyText] = {
    "mine": lazy("Mine"),
    "all": lazy("Everyone's"),
    "unassigned": lazy("Unassigned"),
}
