"""A factor's words: what a salesperson reads, from the factor's key and a few details of the lead.

A factor is one rule or feature family (`features.feature_group`: 'eng:demo_request', 'size', 'grid'…). Its
label is the group's words (`features.group_description`: the rule's description, or the family's) and what
the lead's features say of it: how often and when (a rule), which band, cell or value (a one-hot family), how
many days (activity, history). Those few values are the factor's **details**; the label is a pure function
of (group, words, details), so the score item stores the key and the details and a reader words them again
(`factor_label`) exactly as the predictor did, from the rule model alone: no artefact needed, so an item
outlives the artefact version that wrote it.
"""

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from leadscore.predictive.features import (
    ACTIVITY_QUARTER_DAYS,
    RULE_RECENCY_DAYS,
    SIZE_BANDS,
    SIZE_UNKNOWN,
    group_description,
)

if TYPE_CHECKING:
    from leadscore.core.state import StoredFactor

LABEL_LIMIT = 80  # a factor's label as shown; longer ones are cut

# A factor's details: small counts and days (int), a band, cell or category (str), None when unknown.
Details = tuple[int | str | None, ...]


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def _ago(days: int) -> str:
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def _count(value: float | None) -> int:
    return 0 if not value else round(math.expm1(value))


def _days(value: float | None, scale: float) -> int | None:
    return None if not value or value <= 0 else round(-scale * math.log(value))


def _present(prefix: str, features: Mapping[str, float]) -> str | None:
    """The value part of the one indicator of a family that is set ('grid:A1' -> 'A1')."""
    for name, value in features.items():
        if value and name.startswith(prefix):
            return name[len(prefix) :]
    return None


def _size_band(features: Mapping[str, float]) -> str | None:
    for name, _ in SIZE_BANDS:
        if features.get(name):
            return name.split(":", 1)[1]
    return "unknown" if features.get(SIZE_UNKNOWN) else None


def factor_details(group: str, features: Mapping[str, float]) -> Details:
    """What the lead's `features` say of the factor `group`, as its label shows it (trailing Nones dropped)."""
    kind = group.split(":", 1)[0]
    details: Details
    if kind in {"eng", "auto"}:
        details = (_count(features.get(group + ":hits")), _days(features.get(group + ":recency"), RULE_RECENCY_DAYS))
    elif kind == "size":
        details = (_size_band(features),)
    elif kind == "attr":
        details = (_present(group + "=", features),)
    elif kind == "grid":
        details = (_present("grid:", features),)
    elif kind == "score":
        # As the label always showed them: points, rounded half to even (f"{x:.0f}")
        details = (round(features.get("score:fit", 0.0) * 100), round(features.get("score:engagement", 0.0) * 100))
    elif kind == "history":
        details = (_count(features.get("history:age")), 1 if features.get("history:alerted") else 0)
    elif kind == "activity":
        details = (_days(features.get("activity:quarter"), ACTIVITY_QUARTER_DAYS),)
    elif kind == "breadth":
        details = (_count(features.get("breadth")),)
    else:
        return ()  # a fit rule, webmail, title, decay, suppressed: the words alone
    while details and details[-1] is None:
        details = details[:-1]
    return details


def _int(details: Details, index: int) -> int | None:
    value = details[index] if index < len(details) else None
    return value if isinstance(value, int) else None


def _text(details: Details, index: int) -> str | None:
    value = details[index] if index < len(details) else None
    return value if isinstance(value, str) else None


def _rule_words(words: str, details: Details) -> str:
    count, days = _int(details, 0) or 0, _int(details, 1)
    if days is None:
        return f"{words}: {_times(count)}" if count else words
    return f"{words}: {_ago(days)}" if count <= 1 else f"{words}: {_times(count)}, last {_ago(days)}"


def _size_words(words: str, details: Details) -> str:
    band = _text(details, 0)
    return words if band is None else f"{words} unknown" if band == "unknown" else f"{words} {band} employees"


def _attribute_words(words: str, details: Details) -> str:
    value = _text(details, 0)
    return words if value is None else f"{words}: {value}"


def _grid_words(words: str, details: Details) -> str:
    cell = _text(details, 0)
    return words if cell is None else f"{words} {cell}"


def _score_words(words: str, details: Details) -> str:
    return f"{words}: fit {_int(details, 0) or 0}, engagement {_int(details, 1) or 0}"


def _history_words(words: str, details: Details) -> str:
    age = _int(details, 0) or 0
    known = f"known for {age} days" if age else "new"
    return f"Reached the sales threshold before; {known}" if _int(details, 1) else f"Lead {known}"


def _activity_words(words: str, details: Details) -> str:
    days = _int(details, 0)
    return words if days is None else f"{words} {_ago(days)}"


def _breadth_words(words: str, details: Details) -> str:
    count = _int(details, 0) or 0
    return f"Engaged with {count} kinds of content" if count else words


_WORDS = {
    "eng": _rule_words,
    "auto": _rule_words,
    "size": _size_words,
    "attr": _attribute_words,
    "grid": _grid_words,
    "score": _score_words,
    "history": _history_words,
    "activity": _activity_words,
    "breadth": _breadth_words,
}


def factor_words(group: str, words: str, details: Details) -> str:
    """The factor's label: its group's `words` with what `details` say (the words alone for a fit rule,
    webmail, a job title given, the inactivity penalty, suppression)."""
    say = _WORDS.get(group.split(":", 1)[0])
    return words if say is None else say(words, details)


def factor_label(group: str, details: Details, descriptions: Mapping[str, str]) -> str:
    """A stored factor's label, worded from the rule model's `descriptions` as `leadscore train` words the
    artefact's groups (`features.group_description`), so it needs no artefact."""
    return factor_words(group, group_description(group, descriptions), details)


def stored_factor_label(factor: "StoredFactor", descriptions: Mapping[str, str]) -> str:
    """The words of a factor read from a score item: worded from its key, or as stored by an older item."""
    label = factor.label if not factor.feature else factor_label(factor.feature, factor.details, descriptions)
    return label[:LABEL_LIMIT]
