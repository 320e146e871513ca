"""Every webhook source by route name. Adding a provider: one module, one line here, one route, samples."""

from __future__ import annotations

from leadscore.sources import forms
from leadscore.sources.base import WebhookSource

SOURCES: dict[str, WebhookSource] = {source.name: source for source in (forms.SOURCE,)}
