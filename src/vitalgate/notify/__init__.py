"""Reaching patients, caregivers and staff, and hearing back (issue 15). See README.md.

Producers (follow-up touchpoints, staff alerts, programs) put messages in the delivery ledger with
`vitalgate.store.deliveries.enqueue`; `vitalgate notify run` sends them through the program's
channels (Apprise, signed webhook, SMTP) with text from `vitalgate.notify.templates`.
"""
