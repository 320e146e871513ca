"""Builds tracker/leadscore.min.js from tracker/leadscore.js (`make tracker`; rjsmin, no Node needed).

The minified file is committed so a site (and `make serve`) never needs a build step; a unit test rebuilds it
and fails when the committed copy is stale or its gzipped size reaches 3 KiB.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import rjsmin  # type: ignore[import-untyped]  # no stubs; one function used

TRACKER_DIR = Path(__file__).resolve().parent.parent / "tracker"
SOURCE = TRACKER_DIR / "leadscore.js"
MINIFIED = TRACKER_DIR / "leadscore.min.js"


def minify(source: str) -> str:
    """The minified script: comments and whitespace out, the `/*! … */` licence banner kept."""
    minified: str = rjsmin.jsmin(source, keep_bang_comments=True)
    return minified.strip() + "\n"


def gzipped_size(text: str) -> int:
    """Bytes on the wire when a server gzips the script at the highest level."""
    return len(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def main() -> None:
    minified = minify(SOURCE.read_text(encoding="utf-8"))
    MINIFIED.write_text(minified, encoding="utf-8")
    size = len(minified.encode("utf-8"))
    print(f"{MINIFIED.name}: {size} bytes minified, {gzipped_size(minified)} bytes gzipped")


if __name__ == "__main__":
    main()
