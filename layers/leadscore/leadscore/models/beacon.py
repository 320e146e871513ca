"""The body of POST /track (contract C1): what the browser snippet sends. Strict: unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

MAX_BEACON_BYTES = 16 * 1024
MAX_EVENTS = 20
VISITOR_ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"  # 128 random bits, base64url
EVENT_ID_PATTERN = r"^[A-Za-z0-9_-]{16,32}$"
# Epoch milliseconds between 2020-01-01 and 2100-01-01: anything else is a broken clock or a made-up value.
Millis = Annotated[StrictInt, Field(ge=1_577_836_800_000, le=4_102_444_800_000)]
Text = Annotated[StrictStr, Field(max_length=2048)]
ShortText = Annotated[StrictStr, Field(max_length=256)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Utm(_Strict):
    source: ShortText | None = None
    medium: ShortText | None = None
    campaign: ShortText | None = None
    term: ShortText | None = None
    content: ShortText | None = None


class PageView(_Strict):
    type: Literal["page_view"]
    id: Annotated[StrictStr, Field(pattern=EVENT_ID_PATTERN)]
    ts: Millis
    url: Text
    path: Annotated[StrictStr, Field(min_length=1, max_length=2048)]
    title: Annotated[StrictStr, Field(max_length=512)] | None = None
    referrer: Text | None = None
    utm: Utm | None = None


class Engagement(_Strict):
    type: Literal["engagement"]
    id: Annotated[StrictStr, Field(pattern=EVENT_ID_PATTERN)]
    ts: Millis
    page_id: Annotated[StrictStr, Field(pattern=EVENT_ID_PATTERN)]
    engaged_ms: Annotated[StrictInt, Field(ge=0, le=24 * 3600 * 1000)]
    scroll_depth: Annotated[StrictInt, Field(ge=0, le=100)] | None = None


TrackEvent = Annotated[PageView | Engagement, Field(discriminator="type")]


class Beacon(_Strict):
    v: Literal[1]
    visitor_id: Annotated[StrictStr, Field(pattern=VISITOR_ID_PATTERN)]
    token: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None
    events: Annotated[list[TrackEvent], Field(min_length=1, max_length=MAX_EVENTS)]

    @property
    def page_views(self) -> list[PageView]:
        return [event for event in self.events if isinstance(event, PageView)]
