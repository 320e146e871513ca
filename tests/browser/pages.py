"""What a visitor does to a tab, in the words the tests use (hide, show, leave, wait for the snippet)."""

from __future__ import annotations

from typing import Any

# The page view waits 2 s for company (C1); a little more than that lets its timer fire.
PAST_VIEW_DELAY_MS = 2_100
VISITOR_ID = r"[A-Za-z0-9_-]{22}"


def open_page(page: Any, url: str, **goto: Any) -> None:
    """Load `url` and wait until the snippet has replaced the command-queue stub with itself."""
    page.goto(url, **goto)
    page.wait_for_function("() => typeof window.leadscore === 'function' && !window.leadscore.q")


def hide(page: Any) -> None:
    """The tab goes to the background: the document says hidden and fires visibilitychange, as Chromium does."""
    page.evaluate(
        """() => {
          Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
          Object.defineProperty(document, 'hidden', {value: true, configurable: true});
          document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )


def show(page: Any) -> None:
    """The tab comes back to the front (the document's own visibility getters apply again)."""
    page.evaluate(
        """() => {
          delete document.visibilityState;
          delete document.hidden;
          document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )


def leave(page: Any) -> None:
    """The visitor leaves the site: a real navigation away, so Chromium runs pagehide/visibilitychange itself."""
    page.goto("about:blank")


def visitor_cookie(page: Any) -> dict[str, Any] | None:
    return next((cookie for cookie in page.context.cookies() if cookie["name"] == "ls_vid"), None)
