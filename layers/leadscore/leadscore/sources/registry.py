"""Every webhook source by route name. Adding a provider: one module, one line here, one route, samples."""

from __future__ import annotations

from leadscore.sources import forms, hubspot, mailgun, postmark, sendgrid, tally, typeform, webflow
from leadscore.sources.base import WebhookSource

SOURCES: dict[str, WebhookSource] = {
    source.name: source
    for source in (
        forms.SOURCE,
        sendgrid.SOURCE,
        mailgun.SOURCE,
        postmark.SOURCE,
        typeform.SOURCE,
        tally.SOURCE,
        webflow.SOURCE,
        hubspot.SOURCE,
    )
}
