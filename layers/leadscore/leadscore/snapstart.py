"""Lambda SnapStart runtime hooks: prime before the snapshot, keep restored environments unique and fresh.

With SnapStart (template parameter `SnapStart`), Lambda runs a function's INIT once per published version,
runs the before-snapshot hooks, and snapshots the microVM; every new execution environment is a restore of
that snapshot. What INIT and the hooks did is not paid again, so the hooks do what the first event would
otherwise pay: the clients (botocore's service models and endpoint rules), the scoring models and predictive
artefacts, and the first pass through the code (pydantic schemas, email-validator's regexes, lazily imported
modules), run against in-memory fakes so no request is made and nothing is written.

Uniqueness and freshness (AWS: "Handling uniqueness with Lambda SnapStart", "Maximize Lambda SnapStart
performance"), what the shared hooks here do:
- before the snapshot, last: every client's connection pool is closed (a socket open in the snapshot would
  be shared by every restored environment and is dead after a restore anyway; priming makes no request, so
  there should be none) and Powertools' parameter caches are emptied, so the snapshot holds no secret;
- after a restore: `random` is re-seeded from the OS (its state was captured in the snapshot, so every restored
  environment would draw the same "random" numbers: botocore's retry jitter, our pause jitter). `uuid4`,
  `secrets` and `os.urandom` read the kernel's generator, which Lambda re-seeds on restore.
- Secrets are never fetched before the snapshot: the first event fetches them and caches them for
  SECRET_CACHE_SECONDS (a wall-clock expiry, so a restore days later fetches them again anyway).
- Credentials: on SnapStart Lambda serves them through the container credentials provider
  (AWS_CONTAINER_CREDENTIALS_FULL_URI), which botocore refreshes before they expire; a client created before
  the snapshot signs with fresh credentials after a restore.

The hooks are registered with `snapshot_restore_py`, which Lambda's Python runtimes (3.12+) ship and run.
Where it is absent (the local demo, `python -S` probes) they are kept in a list of our own that nothing
runs, so importing a handler works the same everywhere and costs nothing without SnapStart.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

try:  # in Lambda's managed Python runtimes (not in the layer: the runtime's copy is the one it calls)
    import snapshot_restore_py as _runtime  # type: ignore[import-untyped,unused-ignore]
except ImportError:  # pragma: no cover - exercised by the local demo and the probes without the library
    _runtime = None

# Where the runtime's library is absent: (function, args, kwargs), as the library keeps them.
_BEFORE: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
_AFTER: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []


def runtime_hooks_available() -> bool:
    return _runtime is not None


def before_snapshot[Hook: Callable[[], Any]](hook: Hook) -> Hook:
    """Decorator: run `hook` before Lambda snapshots the initialised environment (before this module's
    own clean-up, which is registered first: the runtime runs before-snapshot hooks in reverse order)."""
    if _runtime is not None:
        _runtime.register_before_snapshot(hook)
    else:
        _BEFORE.append((hook, (), {}))
    return hook


def after_restore[Hook: Callable[[], Any]](hook: Hook) -> Hook:
    """Decorator: run `hook` in each environment restored from the snapshot (after this module's own)."""
    if _runtime is not None:
        _runtime.register_after_restore(hook)
    else:
        _AFTER.append((hook, (), {}))
    return hook


def registered() -> tuple[list[Any], list[Any]]:
    """The registered (before-snapshot, after-restore) hooks, wherever they are kept."""
    if _runtime is not None:
        return list(_runtime.get_before_snapshot()), list(_runtime.get_after_restore())
    return list(_BEFORE), list(_AFTER)


def close_connections() -> int:
    """Close every shared client's connection pool (sockets must not outlive the snapshot); returns how many."""
    from leadscore.adapters.clients import _clients  # noqa: PLC0415 - the process's clients, if any exist

    closed = 0
    for made in list(_clients.values()):
        session = getattr(getattr(made, "_endpoint", None), "http_session", None)
        if session is not None:
            session.close()  # urllib3's pools are emptied; the next request opens a new connection
            closed += 1
    return closed


def forget_cached_parameters() -> int:
    """Empty the cached values (secrets) of Powertools' parameter providers, keeping the providers (ours is
    built on the shared client); returns how many providers were emptied. `parameters.clear_caches()` would
    drop the providers too, and the first event would build them again."""
    import sys  # noqa: PLC0415

    if "aws_lambda_powertools.utilities.parameters.constants" not in sys.modules:
        return 0  # the parameters utility was never loaded: nothing is cached
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS  # noqa: PLC0415

    for provider in DEFAULT_PROVIDERS.values():
        provider.clear_cache()
    return len(DEFAULT_PROVIDERS)


def _seal_snapshot() -> None:
    close_connections()
    forget_cached_parameters()


def _reseed() -> None:
    random.seed()  # from os.urandom: each restored environment gets its own sequence


# Registered at import, so before any handler's priming hook (which therefore runs first, see above).
before_snapshot(_seal_snapshot)
after_restore(_reseed)
