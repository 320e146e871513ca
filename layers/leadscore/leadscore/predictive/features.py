"""What a predictive model sees of a lead: features computed from the score item alone (no extra read).

`lead_features` reads only what a rule model's ScoreState holds: per-rule points (after decay), hit counts
and last days (`rule_days`), the fit rules that hold, the fit attributes, the inactivity penalty, the last
activity and suppression. The SAME function builds the training examples (`leadscore train`, on states
replayed to a reference time) and serves (the scorer, on the state it just wrote), so what was learned is
what is served.

Values are sparse: a feature that is absent is 0. Each is already transformed (the artefact names the
transform), so inference is a dot product:

- `eng:<rule>:points`   signed log1p of the rule's points now (decay has faded them: recency and weight);
- `eng:<rule>:hits`     log1p of how often the rule matched (page categories are rules of their own);
- `eng:<rule>:recency`  exp(-days since the rule last matched / 30): a buying episode, then silence;
- `auto:<rule>:hits`    log1p of machine activity (privacy-proxy opens, link scanners): usually noise,
                        so it gets a weight of its own instead of counting as interest;
- `fit:<rule>`          1 when the fit rule holds (seniority words, company size, industry, webmail…);
- `size:<band>`         1 for the company-size band (from `core.bands.parse_size`), `size:unknown` else;
- `webmail`             1 for a free webmail domain (a fixed list, independent of the model's rules);
- `title:known`         1 when the lead told us a job title;
- `activity:week`, `activity:quarter`   exp(-days since the last activity / 7 and / 90);
- `decay:inactivity`    the inactivity penalty decay added (in tens of points);
- `decay:recycled`      exp(-days since decay took the lead back down a stage / 30);
- `history:alerted`     1 when the lead reached the sales threshold before; `history:age` log1p(days known);
- `breadth`             log1p of how many different engagement rules the lead matched;
- `suppressed`          1 when we may no longer email the lead (bounce, complaint, unsubscribe);
- `score:fit`, `score:engagement`   the rule model's scores now (points / 100, decay applied), and
  `score:fit_x_engagement` their product / 10,000 when both are positive (fit and interest together);
- `grid:<cell>`         1 for the rule model's fit x engagement grid cell ('A1' … 'C3');
- `attr:<field>=<value>` 1 for a categorical fit attribute's value (industry, country…), so the model can
                        learn what the rules do not list (training keeps the values common enough).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadscore.core.rules import CompiledModel
    from leadscore.core.state import ScoreState

FEATURE_SET_VERSION = 1

DAY_SECONDS = 86_400
RULE_RECENCY_DAYS = 30.0
ACTIVITY_WEEK_DAYS = 7.0
ACTIVITY_QUARTER_DAYS = 90.0
INACTIVITY_RULE = "inactivity"  # leadscore.models.scoring_model.INACTIVITY_RULE (not imported: no pydantic here)
AUTOMATED_SUFFIX = ":automated"
COMPANY_SIZE = "company_size"
JOB_TITLE = "job_title"
EMAIL_DOMAIN = "email_domain"

WEBMAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "hotmail.com", "hotmail.co.uk",
        "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
        "protonmail.com", "pm.me", "gmx.de", "gmx.net", "gmx.com", "web.de", "mail.ru", "yandex.ru", "yandex.com",
        "zoho.com", "fastmail.com", "tutanota.com", "qq.com", "163.com", "naver.com", "free.fr", "orange.fr",
        "libero.it", "t-online.de", "seznam.cz", "wp.pl", "rediffmail.com", "mail.com",
    }
)  # fmt: skip

# Company-size bands by head count (the usual firmographic bands), lowest first: (name, lowest head count).
SIZE_BANDS: tuple[tuple[str, int], ...] = (
    ("size:1-9", 0),
    ("size:10-49", 10),
    ("size:50-199", 50),
    ("size:200-999", 200),
    ("size:1000-4999", 1000),
    ("size:5000+", 5000),
)
SIZE_UNKNOWN = "size:unknown"
# Fit attributes that are not a short list of categories: free text, numbers, or one value per company.
NOT_CATEGORICAL = frozenset({JOB_TITLE, EMAIL_DOMAIN, COMPANY_SIZE, "annual_revenue", "company", "name", "website"})
MAX_CATEGORY_LENGTH = 40

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class _Table(dict[int, float]):
    """f(n) for whole numbers 0 <= n < _TABLE_SIZE, each computed on first use (filling 4 x 731 entries at
    import cost most of this module's import time; a container meets a few dozen of them)."""

    __slots__ = ("_of",)

    def __init__(self, of: Callable[[int], float]) -> None:
        super().__init__()
        self._of = of

    def __missing__(self, n: int) -> float:
        value = self[n] = self._of(n)
        return value


# Tables for the small integers features are made of (days, counts): a lookup instead of exp/log1p.
_TABLE_SIZE = 731
_RULE_RECENCY = _Table(lambda days: math.exp(-days / RULE_RECENCY_DAYS))
_WEEK_RECENCY = _Table(lambda days: math.exp(-days / ACTIVITY_WEEK_DAYS))
_QUARTER_RECENCY = _Table(lambda days: math.exp(-days / ACTIVITY_QUARTER_DAYS))
_LOG1P = _Table(math.log1p)


def _recency(table: _Table, days: int, scale: float) -> float:
    return table[days] if days < _TABLE_SIZE else math.exp(-days / scale)


def _log1p(count: int) -> float:
    return _LOG1P[count] if count < _TABLE_SIZE else math.log1p(count)


_DAY_OF_CODE: dict[int, int] = {}


def epoch_day_of_code(code: int) -> int:
    """The epoch day of a stored yymmdd rule day (cached: a lead's rules share a handful of days)."""
    day = _DAY_OF_CODE.get(code)
    if day is None:
        try:
            day = date(2000 + code // 10_000, code // 100 % 100, code % 100).toordinal() - _EPOCH_ORDINAL
        except ValueError:
            day = 0  # not a day (a hand-edited item): as long ago as it gets
        if len(_DAY_OF_CODE) < 65_536:
            _DAY_OF_CODE[code] = day
    return day


_SIZE_OF_TEXT: dict[str, str] = {}


def size_band(value: str | Decimal | None) -> str:
    """The feature name of a company-size answer's band ('51-200' by its midpoint, '5000+' by its bound)."""
    if value is None:
        return SIZE_UNKNOWN
    if isinstance(value, str):
        band_name = _SIZE_OF_TEXT.get(value)  # forms send a handful of dropdown texts: parse each once
        if band_name is None:
            band_name = _size_band(value)
            if len(_SIZE_OF_TEXT) < 4096:
                _SIZE_OF_TEXT[value] = band_name
        return band_name
    return _size_band(value)


def _size_band(value: str | Decimal) -> str:
    if isinstance(value, Decimal):
        position: float | None = float(value)
    else:
        from leadscore.core.bands import parse_size  # noqa: PLC0415 - its patterns compile at import: on first use

        band = parse_size(value)
        position = None if band is None else float(band.position)
    if position is None or position < 1:
        return SIZE_UNKNOWN
    name = SIZE_BANDS[0][0]
    for band_name, lowest in SIZE_BANDS:
        if position >= lowest:
            name = band_name
    return name


class _ModelKeys:
    """Per model: which stored rule ids are engagement rules and which fit rules, and their feature names."""

    __slots__ = (
        "automated", "categorical", "engagement", "engagement_bands", "fit", "fit_bands", "model", "uses_size",
        "uses_title",
    )  # fmt: skip

    def __init__(self, model: CompiledModel) -> None:
        self.model = model  # held so the id() key of the cache cannot be reused while cached
        self.engagement = {
            rule: (f"eng:{rule}:points", f"eng:{rule}:hits", f"eng:{rule}:recency") for rule in model.engagement_ids
        }
        self.automated = {f"{rule}{AUTOMATED_SUFFIX}": f"auto:{rule}:hits" for rule in model.engagement_ids}
        self.fit = {rule.id: f"fit:{rule.id}" for rule in model.fit_rules}
        self.uses_size = COMPANY_SIZE in model.fit_fields
        self.uses_title = JOB_TITLE in model.fit_fields
        self.categorical = tuple(sorted(model.fit_fields - NOT_CATEGORICAL))
        bands = model.model.bands
        self.fit_bands = tuple((band.min, band.name) for band in bands.fit)
        self.engagement_bands = tuple((band.min, band.name) for band in bands.engagement)

    def grid(self, fit: Decimal, engagement: Decimal) -> str:
        """The model's grid cell, fit letter then engagement digit ('A1'), as `core.stages.band_for` says."""
        return f"grid:{_band(fit, self.fit_bands)}{_band(engagement, self.engagement_bands)}"


def _band(score: Decimal, bands: tuple[tuple[Decimal | None, str], ...]) -> str:
    for lowest, name in bands:
        if lowest is None or score >= lowest:
            return name
    return bands[-1][1]


_KEYS: dict[int, _ModelKeys] = {}


def _keys(model: CompiledModel) -> _ModelKeys:
    keys = _KEYS.get(id(model))
    if keys is None or keys.model is not model:
        if len(_KEYS) > 64:
            _KEYS.clear()
        keys = _KEYS[id(model)] = _ModelKeys(model)
    return keys


def lead_features(state: ScoreState, model: CompiledModel, at: int) -> dict[str, float]:
    """The lead's features at epoch second `at` (sparse: absent means 0), from its state under `model`.

    `at` must not precede the state's events: the features are what was known at `at`. Days are whole UTC
    days, as `rule_days` stores them.
    """
    keys = _keys(model)
    today = at // DAY_SECONDS
    features: dict[str, float] = {}
    # The rule model's own view: its scores now and its fit x engagement grid cell (the hand-set rules
    # are prior knowledge worth keeping; the model learns how much to trust them).
    if state.fit:
        features["score:fit"] = float(state.fit) / 100.0
    if state.engagement:
        features["score:engagement"] = float(state.engagement) / 100.0
        if state.fit > 0 and state.engagement > 0:  # fit and interest together: the grid's diagonal
            features["score:fit_x_engagement"] = float(state.fit * state.engagement) / 10_000.0
    features[keys.grid(state.fit, state.engagement)] = 1.0
    _activity_features(state, keys, today, features)
    _fit_features(state, keys, features)
    if state.last_activity_at is not None:
        days = max(0, today - state.last_activity_at // DAY_SECONDS)
        features["activity:week"] = _recency(_WEEK_RECENCY, days, ACTIVITY_WEEK_DAYS)
        features["activity:quarter"] = _recency(_QUARTER_RECENCY, days, ACTIVITY_QUARTER_DAYS)
    inactivity = state.points.get(INACTIVITY_RULE)
    if inactivity:
        features["decay:inactivity"] = -float(inactivity) / 10.0
    if state.recycled_at is not None:  # it reached a stage once, then decay took it back down
        days = max(0, today - state.recycled_at // DAY_SECONDS)
        features["decay:recycled"] = _recency(_RULE_RECENCY, days, RULE_RECENCY_DAYS)
    if state.alerts_sent:
        features["history:alerted"] = 1.0  # it reached the sales threshold before
    if state.created_at is not None:
        features["history:age"] = _log1p(max(0, today - state.created_at // DAY_SECONDS))
    if state.suppressed:
        features["suppressed"] = 1.0
    return features


def _activity_features(state: ScoreState, keys: _ModelKeys, today: int, features: dict[str, float]) -> None:
    engagement = keys.engagement
    automated = keys.automated
    points = state.points
    rule_days = state.rule_days
    day_of_code = _DAY_OF_CODE
    breadth = 0
    for rule, count in state.hits.items():
        if count <= 0:
            continue
        names = engagement.get(rule)
        if names is not None:
            breadth += 1
            features[names[1]] = _LOG1P[count] if count < _TABLE_SIZE else math.log1p(count)
            value = points.get(rule)
            if value:
                number = float(value)
                features[names[0]] = math.log1p(number) if number >= 0 else -math.log1p(-number)
            code = rule_days.get(rule)
            if code:
                day = day_of_code.get(code)
                days = max(0, today - (epoch_day_of_code(code) if day is None else day))
                features[names[2]] = _RULE_RECENCY[days] if days < _TABLE_SIZE else math.exp(-days / RULE_RECENCY_DAYS)
        else:
            name = automated.get(rule)
            if name is not None:
                features[name] = _log1p(count)
    if breadth:
        features["breadth"] = _LOG1P[breadth]


def _fit_features(state: ScoreState, keys: _ModelKeys, features: dict[str, float]) -> None:
    points = state.points
    for rule, name in keys.fit.items():
        if points.get(rule):
            features[name] = 1.0
    attributes = state.attributes
    if keys.uses_size:
        features[size_band(attributes.get(COMPANY_SIZE))] = 1.0
    if keys.uses_title and attributes.get(JOB_TITLE):
        features["title:known"] = 1.0
    domain = attributes.get(EMAIL_DOMAIN)
    if isinstance(domain, str) and domain.casefold() in WEBMAIL_DOMAINS:
        features["webmail"] = 1.0
    for name in keys.categorical:  # the values themselves (industry, country…): what the rules do not list
        value = attributes.get(name)
        if isinstance(value, str) and len(value) <= MAX_CATEGORY_LENGTH:
            feature = _CATEGORY_NAMES.get((name, value))
            if feature is None:
                feature = f"attr:{name}={value.strip().casefold()}"
                if len(_CATEGORY_NAMES) < 65_536:
                    _CATEGORY_NAMES[(name, value)] = feature
            features[feature] = 1.0


_CATEGORY_NAMES: dict[tuple[str, str], str] = {}


def feature_group(name: str) -> str:
    """The factor a feature explains under: one per rule ('eng:demo_request') or attribute
    ('attr:industry'), else its family ('size', 'activity')."""
    if name.startswith(("eng:", "auto:")):
        return name.rsplit(":", 1)[0]
    if name.startswith("fit:"):
        return name
    if name.startswith("attr:"):
        return name.split("=", 1)[0]
    return name.split(":", 1)[0]


_TRANSFORMS = {
    ":points": "sign(points) * log1p(|points|), points after decay",
    ":hits": "log1p(matches)",
    ":recency": f"exp(-days since last match / {RULE_RECENCY_DAYS:g})",
    "activity:week": f"exp(-days since last activity / {ACTIVITY_WEEK_DAYS:g})",
    "activity:quarter": f"exp(-days since last activity / {ACTIVITY_QUARTER_DAYS:g})",
    "decay:inactivity": "-inactivity points / 10",
    "breadth": "log1p(distinct engagement rules matched)",
    "decay:recycled": f"exp(-days since the lead fell back a stage / {RULE_RECENCY_DAYS:g})",
    "history:age": "log1p(days since the lead was first scored)",
    "score:fit": "the rule model's fit / 100",
    "score:engagement": "the rule model's engagement / 100 (decay applied)",
    "score:fit_x_engagement": "fit x engagement / 10,000 when both are positive",
}


def feature_transform(name: str) -> str:
    """How the feature's value was computed (written into the artefact for readers)."""
    for suffix, transform in _TRANSFORMS.items():
        if name.endswith(suffix):
            return transform
    return "indicator (1 when true)"


_FAMILY_LABELS = {
    "size": "Company size",
    "webmail": "Free webmail address",
    "title": "Gave a job title",
    "activity": "Last active",
    "decay": "Quiet for a while (inactivity penalty)",
    "breadth": "Kinds of content engaged with",
    "suppressed": "Cannot be emailed (bounce, complaint or unsubscribe)",
    "score": "Rule score",
    "grid": "Fit x engagement grid",
    "history": "History",
}


def group_description(group: str, descriptions: Mapping[str, str] | None = None) -> str:
    """The words a factor's label starts from: the rule's description, or the feature family's."""
    descriptions = descriptions or {}
    if group.startswith("eng:") or group.startswith("fit:"):
        rule = group.split(":", 1)[1]
        return descriptions.get(rule) or rule.replace("_", " ").capitalize()
    if group.startswith("attr:"):
        return group.split(":", 1)[1].replace("_", " ").capitalize()
    if group.startswith("auto:"):
        rule = group.split(":", 1)[1]
        text = descriptions.get(rule) or rule.replace("_", " ").capitalize()
        return f"{text} (automated, not a person)"
    return _FAMILY_LABELS.get(group, group.replace("_", " ").capitalize())
