"""The committed tracker/leadscore.min.js: current with its source, small, and free of storage/fingerprinting APIs."""

from __future__ import annotations

import re

import pytest

from local.tracker_bundle import MINIFIED, SOURCE, gzipped_size, minify

SIZE_BUDGET_GZIPPED = 3072
# What a tracker that fingerprints or stores more than its one cookie would reach for.
FORBIDDEN_APIS = [
    "localStorage",
    "sessionStorage",
    "indexedDB",
    "getContext",  # canvas fingerprinting
    "AudioContext",
    "plugins",
    "hardwareConcurrency",
    "deviceMemory",
    "screen.",
    "userAgent",
    "getBattery",
]


def test_the_committed_minified_file_is_built_from_the_current_source() -> None:
    # Given the source and the committed minified file
    source = SOURCE.read_text(encoding="utf-8")

    # When the source is minified again
    rebuilt = minify(source)

    # Then the committed file is exactly that (run `make tracker` after editing tracker/leadscore.js)
    assert MINIFIED.read_text(encoding="utf-8") == rebuilt, "tracker/leadscore.min.js is stale: run `make tracker`"


def test_the_minified_snippet_stays_under_3_kib_gzipped() -> None:
    # Given the committed minified file / When gzipped as a server would / Then it stays within budget
    minified = MINIFIED.read_text(encoding="utf-8")
    assert gzipped_size(minified) < SIZE_BUDGET_GZIPPED
    assert len(minified) < len(SOURCE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("api", FORBIDDEN_APIS)
def test_the_snippet_uses_no_storage_or_fingerprinting_api(api: str) -> None:
    # Given the minified snippet (what browsers run) / Then none of these APIs appears in it
    assert re.search(re.escape(api), MINIFIED.read_text(encoding="utf-8")) is None


def test_the_licence_banner_survives_minification() -> None:
    assert MINIFIED.read_text(encoding="utf-8").startswith("/*! leadscore.js")
