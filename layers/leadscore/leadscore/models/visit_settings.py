"""Settings of the website path: /track and the scorer's stitching (environment variables, parsed once)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from leadscore.models.settings import _Settings

LINKED_VISITOR_DAYS = 395  # the snippet's cookie lifetime: a linked visitor stays known as long as its cookie


class TrackSettings(_Settings):
    visitors_table: str = Field(alias="VISITORS_TABLE_NAME")
    queue_url: str = Field(alias="LEAD_EVENTS_QUEUE_URL")
    token_secret_id: str = Field(alias="LEAD_TOKEN_SECRET_ID")
    allowed_origins: str = Field(alias="TRACK_ALLOWED_ORIGINS")  # comma-separated, as the template parameter
    visitor_ttl_days: Annotated[int, Field(ge=1, le=395)] = Field(30, alias="VISITOR_TTL_DAYS")
    ip_per_minute: Annotated[int, Field(ge=1, le=100_000)] = Field(120, alias="TRACK_IP_PER_MINUTE")
    visitor_per_minute: Annotated[int, Field(ge=1, le=10_000)] = Field(30, alias="TRACK_VISITOR_PER_MINUTE")
    # instance: counters in the function's memory (free); dynamodb: one shared counter write per beacon (exact)
    rate_limit_store: Literal["instance", "dynamodb"] = Field("instance", alias="TRACK_RATE_LIMIT_STORE")

    def origins(self) -> frozenset[str]:
        return frozenset(origin.strip().rstrip("/") for origin in self.allowed_origins.split(",") if origin.strip())


class StitchSettings(_Settings):
    visitors_table: str | None = Field(None, alias="VISITORS_TABLE_NAME")  # unset: the website is not wired
    visitor_ttl_days: Annotated[int, Field(ge=1, le=395)] = Field(30, alias="VISITOR_TTL_DAYS")
