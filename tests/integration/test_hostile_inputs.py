"""The hostile-input table: every route and every mutation that applies to it gets a 4xx with a JSON `error`,
never a 5xx, and nothing is queued or written.

Cases are generated, not written out: a table of mutations (wrong types, huge strings, unicode oddities,
null bytes, duplicate keys, deep nesting, NaN/Infinity, 1e400, booleans as numbers, empty and truncated
bodies, wrong content types, header injection, oversize, bad timestamps, over-long emails…) applied to each
route's valid, properly signed document at the paths that route keeps its email, number, time and id in.
Bodies are signed after they are mutated, so each mutation is judged past the signature; the control test
at the end shows the unmutated documents are accepted, so a refusal here is the mutation's doing.

Requests go in-process through the local API Gateway front (routing, the v2 event, the real handler).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from leadscore.sources.registry import SOURCES
from local.stack import EmulatedStack
from tests.integration.conftest import a_submission, sign
from tests.providers import BY_NAME, HOST, Credentials, sample

Path = tuple[str | int, ...]
RAW = "__RAW_LITERAL__"  # placeholder replaced by a raw JSON literal after serialising (NaN, 1e400, …)


# ---- routes: a valid document and where it keeps what the mutations aim at ----------------------------------
@dataclass(frozen=True)
class Route:
    name: str
    document: Callable[[], Any]
    email: Path
    event: Path  # the object holding the event (replaced by wrong types)
    required: tuple[Path, ...]
    number: Path | None = None  # a field that must hold a number
    time: Path | None = None  # a field that must hold a time
    ident: Path | None = None  # the event's id
    signature_header: str | None = None  # None: the signature lives in the body (Mailgun)
    timestamp_header: str | None = None
    signs_body: bool = True


def _index(items: list[dict[str, Any]], **match: Any) -> int:
    return next(i for i, item in enumerate(items) if all(item.get(k) == v for k, v in match.items()))


def _typeform() -> Any:
    document = json.loads(sample("typeform_form_response.json"))
    answers = document["form_response"]["answers"]
    size = _index(answers, type="choice")
    answers[size] = {"type": "number", "number": 250, "field": {**answers[size]["field"], "type": "number"}}
    document["form_response"]["submitted_at"] = "2026-11-30T10:00:00Z"
    return document


def _webflow() -> Any:
    document = json.loads(sample("webflow_form_submission.json"))
    document["payload"]["data"]["Company size"] = 250
    return document


TYPEFORM_ANSWERS = json.loads(sample("typeform_form_response.json"))["form_response"]["answers"]
TALLY_FIELDS = json.loads(sample("tally_form_response.json"))["data"]["fields"]
TYPEFORM_EMAIL = _index(TYPEFORM_ANSWERS, type="email")
TYPEFORM_SIZE = _index(TYPEFORM_ANSWERS, type="choice")
TALLY_EMAIL = _index(TALLY_FIELDS, type="INPUT_EMAIL")
TALLY_SIZE = _index(TALLY_FIELDS, label="Company size")

ROUTES = [
    Route("forms", a_submission, ("email",), (), (("email",), ("submission_id",), ("form_id",)),
          number=("company_size",), time=("submitted_at",), ident=("submission_id",),
          signature_header="X-Leadscore-Signature", timestamp_header="X-Leadscore-Timestamp"),
    Route("sendgrid", lambda: json.loads(sample("sendgrid_events.json")), (1, "email"), (1,),
          ((1, "email"), (1, "sg_event_id"), (1, "timestamp"), (1, "event")),
          number=(1, "timestamp"), time=(1, "timestamp"), ident=(1, "sg_event_id"),
          signature_header="x-twilio-email-event-webhook-signature",
          timestamp_header="x-twilio-email-event-webhook-timestamp"),
    Route("mailgun", lambda: json.loads(sample("mailgun_opened.json")), ("event-data", "recipient"), ("event-data",),
          (("event-data",), ("event-data", "id"), ("event-data", "recipient"), ("event-data", "timestamp"),
           ("signature",), ("event-data", "event")),
          number=("event-data", "timestamp"), time=("event-data", "timestamp"), ident=("event-data", "id"),
          signs_body=False),
    Route("postmark", lambda: json.loads(sample("postmark_open.json")), ("Recipient",), (),
          (("MessageID",), ("RecordType",), ("Recipient",)),
          number=("ID",), time=("ReceivedAt",), ident=("MessageID",),
          signature_header="authorization", signs_body=False),
    Route("typeform", _typeform, ("form_response", "answers", TYPEFORM_EMAIL, "email"), ("form_response",),
          (("form_response",), ("event_id",), ("form_response", "token"), ("form_response", "submitted_at"),
           ("event_type",)),
          number=("form_response", "answers", TYPEFORM_SIZE, "number"), time=("form_response", "submitted_at"),
          ident=("form_response", "token"), signature_header="typeform-signature"),
    Route("tally", lambda: json.loads(sample("tally_form_response.json")),
          ("data", "fields", TALLY_EMAIL, "value"), ("data",),
          (("data",), ("eventId",), ("data", "responseId"), ("data", "createdAt"), ("eventType",)),
          number=("data", "fields", TALLY_SIZE, "value"), time=("data", "createdAt"), ident=("data", "responseId"),
          signature_header="tally-signature"),
    Route("webflow", _webflow, ("payload", "data", "email"), ("payload",),
          (("payload",), ("triggerType",), ("payload", "id"), ("payload", "submittedAt")),
          number=("payload", "data", "Company size"), time=("payload", "submittedAt"), ident=("payload", "id"),
          signature_header="x-webflow-signature", timestamp_header="x-webflow-timestamp"),
    Route("hubspot", lambda: json.loads(sample("hubspot_workflow_contact.json")),
          ("properties", "email", "value"), ("properties",), (("properties", "email"),),
          number=("properties", "numemployees", "value"),  # HubSpot dates fall back to receipt time by design
          signature_header="x-hubspot-signature-v3", timestamp_header="x-hubspot-request-timestamp"),
]  # fmt: skip
BY_ROUTE = {route.name: route for route in ROUTES}
assert set(BY_ROUTE) == set(SOURCES), "every webhook route is in the table"


# ---- signing: each provider's own scheme (tests/providers.py), keys made per run -------------------------------
@dataclass
class Keys:
    forms: str
    providers: dict[str, Credentials] = field(default_factory=dict)


def _mailgun_signature(key: str, now: int) -> dict[str, str]:
    token = secrets.token_hex(25)
    digest = hmac.new(key.encode(), f"{now}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": str(now), "token": token, "signature": digest}


def signed_document(route: Route, keys: Keys, now: int) -> Any:
    """The route's valid document; Mailgun's signature goes inside it (it signs timestamp + token only)."""
    document = route.document()
    if route.name == "mailgun":
        document["signature"] = _mailgun_signature(keys.providers["mailgun"].signing, now)
    return document


def headers_for(route: Route, keys: Keys, body: bytes, now: int) -> dict[str, str]:
    if route.name == "forms":
        return sign(keys.forms, body, now)
    if route.name == "mailgun":
        return {"content-type": "application/json"}
    url = f"https://{HOST}/webhooks/{route.name}"
    headers = BY_NAME[route.name].sign(keys.providers[route.name], body, now, url).headers
    return {**headers, "host": HOST}


# ---- mutations -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Mutation:
    name: str
    build: Callable[[Route, Keys, int], Request | None]  # None: does not apply to this route
    status: frozenset[int] = frozenset()  # the 4xx expected, where every route answers the same


def _set(document: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


def _delete(document: Any, path: Path) -> Any:
    target = document
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return document


def _dump(document: Any, raw: str | None = None) -> bytes:
    text = json.dumps(document, ensure_ascii=False)
    if raw is not None:
        text = text.replace(json.dumps(RAW), raw, 1)
    return text.encode("utf-8", "surrogatepass")


def body_mutation(name: str, change: Callable[[bytes], bytes], *status: int) -> Mutation:
    """Change the serialised body, then sign what is sent."""

    def build(route: Route, keys: Keys, now: int) -> Request:
        body = change(_dump(signed_document(route, keys, now)))
        return Request(body, headers_for(route, keys, body, now))

    return Mutation(name, build, frozenset(status))


def value_mutation(name: str, slot: str, value: Any, *status: int, raw: str | None = None,
                   skip: frozenset[str] = frozenset()) -> Mutation:  # fmt: skip
    """Put `value` (or the raw JSON literal `raw`) where the route keeps its `slot` (email, number, time…)."""

    def build(route: Route, keys: Keys, now: int) -> Request | None:
        path: Path | None = getattr(route, slot)
        if path is None or route.name in skip:
            return None
        document = _set(signed_document(route, keys, now), path, RAW if raw is not None else copy.deepcopy(value))
        body = _dump(document, raw)
        return Request(body, headers_for(route, keys, body, now))

    return Mutation(f"{slot}: {name}", build, frozenset(status))


def header_mutation(name: str, change: Callable[[Route, dict[str, str]], dict[str, str] | None], *status: int,
                    ) -> Mutation:  # fmt: skip
    def build(route: Route, keys: Keys, now: int) -> Request | None:
        body = _dump(signed_document(route, keys, now))
        headers = change(route, dict(headers_for(route, keys, body, now)))
        return None if headers is None else Request(body, headers)

    return Mutation(name, build, frozenset(status))


def _replace(name: str, value: str) -> Callable[[Route, dict[str, str]], dict[str, str] | None]:
    def change(route: Route, headers: dict[str, str]) -> dict[str, str] | None:
        header = route.signature_header if name == "signature" else route.timestamp_header
        if header is None:
            return None
        headers = {k: v for k, v in headers.items() if k.lower() != header.lower()}
        if value != "<omit>":
            headers[header] = value
        return headers

    return change


def _content_type(value: str | None) -> Callable[[Route, dict[str, str]], dict[str, str]]:
    def change(route: Route, headers: dict[str, str]) -> dict[str, str]:
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return headers if value is None else {**headers, "Content-Type": value}

    return change


def _in_first_string(body: bytes, insert: bytes) -> bytes:
    return body.replace(b'"', b'"' + insert, 1)


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def _nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def nesting_in_event(name: str, fragment: str) -> Mutation:
    """A deep structure as the value of an extra key inside the event object (signed, so it is parsed)."""

    def build(route: Route, keys: Keys, now: int) -> Request:
        document = signed_document(route, keys, now)
        event = document
        for step in route.event:
            event = event[step]
        event["zz_nested"] = RAW
        body = _dump(document, fragment)
        return Request(body, headers_for(route, keys, body, now))

    return Mutation(name, build, frozenset({400}))


def duplicate_key(slot: str) -> Mutation:
    """The key at the end of the route's `slot` path twice in its object: the last would silently win."""

    def build(route: Route, keys: Keys, now: int) -> Request | None:
        path: Path | None = getattr(route, slot)
        if path is None or not isinstance(path[-1], str):
            return None
        document = _set(signed_document(route, keys, now), path, RAW)
        body = _dump(document, f'"first", {json.dumps(path[-1])}: "second"')
        return Request(body, headers_for(route, keys, body, now))

    return Mutation(f"{slot}: duplicate key", build, frozenset({400}))


def signed_with_another_key() -> Mutation:
    def build(route: Route, keys: Keys, now: int) -> Request:
        other = Keys(secrets.token_urlsafe(32), {name: BY_NAME[name].credentials() for name in keys.providers})
        body = _dump(signed_document(route, other, now))
        return Request(body, headers_for(route, other, body, now))

    return Mutation("signed with another key", build, frozenset({401}))


def signed_at(name: str, offset: int) -> Mutation:
    def build(route: Route, keys: Keys, now: int) -> Request | None:
        if route.timestamp_header is None and route.name != "mailgun":
            return None  # Postmark, Typeform and Tally sign no time
        body = _dump(signed_document(route, keys, now + offset))
        return Request(body, headers_for(route, keys, body, now + offset))

    return Mutation(name, build, frozenset({401}))


def body_changed_after_signing() -> Mutation:
    def build(route: Route, keys: Keys, now: int) -> Request | None:
        if not route.signs_body:
            return None  # Postmark and Mailgun sign no body: their other checks are in the table
        body = _dump(signed_document(route, keys, now))
        return Request(body[:-1] + b" " + body[-1:], headers_for(route, keys, body, now))

    return Mutation("body changed after signing", build, frozenset({401}))


def oversized(name: str, size_of: Callable[[Route], int]) -> Mutation:
    def build(route: Route, keys: Keys, now: int) -> Request:
        document = signed_document(route, keys, now)
        body = _dump(document)
        padded = body[:-1] + b" " * (size_of(route) - len(body)) + body[-1:]  # whitespace keeps it valid JSON
        return Request(padded, headers_for(route, keys, padded, now))

    return Mutation(name, build, frozenset({413}))


def mailgun_signature(name: str, change: Callable[[dict[str, str]], None]) -> Mutation:
    def build(route: Route, keys: Keys, now: int) -> Request | None:
        if route.name != "mailgun":
            return None
        document = signed_document(route, keys, now)
        change(document["signature"])
        body = _dump(document)
        return Request(body, headers_for(route, keys, body, now))

    return Mutation(f"mailgun signature: {name}", build, frozenset({401}))


FORM_TOOLS = frozenset({"typeform", "tally", "webflow", "hubspot"})
LONG_LOCAL = "a" * 65 + "@analytical.example"
LONG_ADDRESS = "ada@" + ".".join(["d" * 60] * 4) + ".example"

MUTATIONS: list[Mutation] = [
    # ---- transport: content type, signature and timestamp headers, header injection, size
    header_mutation("content type text/plain", _content_type("text/plain"), 415),
    header_mutation("content type missing", _content_type(None), 415),
    header_mutation("content type form-encoded", _content_type("application/x-www-form-urlencoded"),
                    415),
    header_mutation("content type multipart", _content_type("multipart/form-data; boundary=x"), 415),
    header_mutation("content type xml", _content_type("application/xml"), 415),
    header_mutation("content type with CRLF injection",
                    _content_type("application/json\r\nX-Injected: 1"), 415),
    header_mutation("signature header missing", _replace("signature", "<omit>"), 401),
    header_mutation("signature header empty", _replace("signature", ""), 401),
    header_mutation("signature header garbage", _replace("signature", "v1=zz%%"), 401),
    header_mutation("signature header with CRLF injection", _replace("signature", "v1=00\r\nX-Admin: true"), 401),
    header_mutation("signature header with a null byte", _replace("signature", "v1=\x00" + "0" * 63), 401),
    header_mutation("signature header of 8 KB", _replace("signature", "v1=" + "a" * 8192), 401),
    header_mutation("timestamp header missing", _replace("timestamp", "<omit>"), 401),
    header_mutation("timestamp header not a number", _replace("timestamp", "yesterday"), 401),
    header_mutation("timestamp header huge", _replace("timestamp", "9" * 400), 401),
    header_mutation("timestamp header negative", _replace("timestamp", "-1"), 401),
    signed_with_another_key(),
    signed_at("signed ten minutes ago", -600),
    signed_at("signed an hour ahead", 3600),
    body_changed_after_signing(),
    oversized("one byte over the route's limit", lambda route: SOURCES[route.name].max_body_bytes + 1),
    oversized("3 MiB body", lambda route: 3 * 1024 * 1024),
    mailgun_signature("wrong digest", lambda s: s.update(signature="0" * 64)),
    mailgun_signature("token too short", lambda s: s.update(token="abc")),
    mailgun_signature("timestamp not a number", lambda s: s.update(timestamp="soon")),
    mailgun_signature("stale timestamp", lambda s: s.update(timestamp=str(int(time.time()) - 3600))),
    # ---- the body as a whole: empty, truncated, not JSON, not UTF-8, wrong top-level types
    body_mutation("empty body", lambda body: b"", 400),
    body_mutation("whitespace only", lambda body: b" \n\t ", 400),
    body_mutation("truncated by three bytes", lambda body: body[:-3], 400),
    body_mutation("truncated in half", lambda body: body[: len(body) // 2], 400),
    body_mutation("form-encoded text", lambda body: b"email=ada%40example.com&submission_id=1", 400),
    body_mutation("plain text", lambda body: b"hello", 400),
    body_mutation("XML", lambda body: b"<lead><email>ada@example.com</email></lead>", 400),
    body_mutation("two JSON documents", lambda body: body + body, 400),
    body_mutation("trailing comma", lambda body: body[:-1] + b",]" if body.endswith(b"]") else body[:-1] + b",}", 400),
    body_mutation("single quotes", lambda body: body.replace(b'"', b"'"), 400),
    body_mutation("JSON null", lambda body: b"null"),
    body_mutation("JSON number", lambda body: b"42"),
    body_mutation("JSON string", lambda body: b'"hello"'),
    body_mutation("JSON true", lambda body: b"true"),
    body_mutation("empty object", lambda body: b"{}"),
    body_mutation("empty array", lambda body: b"[]"),
    body_mutation("wrapped in an array", lambda body: b"[" + body + b"]"),
    body_mutation("wrapped in an object", lambda body: b'{"data": ' + body + b"}"),
    body_mutation("UTF-8 byte order mark", lambda body: b"\xef\xbb\xbf" + body, 400),
    body_mutation("UTF-16 encoded", lambda body: body.decode("utf-8", "surrogatepass").encode("utf-16"), 400),
    body_mutation("Latin-1 byte", lambda body: _in_first_string(body, b"caf\xe9"), 400),
    body_mutation("overlong UTF-8", lambda body: _in_first_string(body, b"\xc1\xa5"), 400),
    body_mutation("raw null byte between tokens", lambda body: body[:1] + b"\x00" + body[1:], 400),
    body_mutation("raw control character in a string", lambda body: _in_first_string(body, b"a\x01b"), 400),
    body_mutation("NaN literal", lambda body: b'{"x": NaN}' if body.startswith(b"{") else b"[NaN]", 400),
    # ---- nesting: never a RecursionError, whatever the route
    body_mutation("10,000 nested arrays", lambda body: _nested(10_000).encode(), 400),
    body_mutation("10,000 nested objects", lambda body: _nested_objects(10_000).encode(), 400),
    body_mutation("100,000 unclosed brackets", lambda body: b"[" * 100_000, 400),
    body_mutation("65 nested arrays", lambda body: _nested(65).encode(), 400),
    body_mutation("brackets inside strings do not count, but 200 real ones do",
                  lambda body: ('{"s": "' + "[" * 500 + '", "n": ' + _nested(200) + "}").encode(), 400),
    nesting_in_event("10,000 nested arrays inside the signed event", _nested(10_000)),
    nesting_in_event("5,000 nested objects inside the signed event", _nested_objects(5_000)),
    nesting_in_event("100 nested arrays inside the signed event", _nested(100)),
    # ---- the event object replaced by the wrong type
    value_mutation("an array", "event", [], skip=frozenset({"forms", "postmark"})),
    value_mutation("a string", "event", "event", skip=frozenset({"forms", "postmark"})),
    value_mutation("a number", "event", 7, skip=frozenset({"forms", "postmark"})),
    value_mutation("null", "event", None, skip=frozenset({"forms", "postmark"})),
    value_mutation("true", "event", True, skip=frozenset({"forms", "postmark"})),
    # ---- the email: wrong types, over-long parts, unicode oddities, injection
    value_mutation("null", "email", None),
    value_mutation("a number", "email", 42),
    value_mutation("true", "email", True),
    value_mutation("an object", "email", {"address": "ada@analytical.example"}),
    value_mutation("empty", "email", ""),
    value_mutation("no @", "email", "ada.analytical.example"),
    value_mutation("two @", "email", "ada@lovelace@analytical.example"),
    value_mutation("no domain", "email", "ada@"),
    value_mutation("no local part", "email", "@analytical.example"),
    value_mutation("spaces", "email", "ada lovelace@analytical.example"),
    value_mutation("local part of 65 characters", "email", LONG_LOCAL, 422),
    value_mutation("address over 254 characters", "email", LONG_ADDRESS, 422),
    value_mutation("a 100 KB string", "email", "a" * 100_000 + "@analytical.example"),
    value_mutation("a null byte", "email", "ada\x00@analytical.example"),
    value_mutation("CRLF header injection", "email", "ada@analytical.example\r\nBcc: eve@evil.example"),
    value_mutation("a lone surrogate", "email", "ada\ud800@analytical.example", 400),
    value_mutation("U+FFFF", "email", "ada\uffff@analytical.example", 400),
    value_mutation("a right-to-left override", "email", "ada\u202e@analytical.example"),
    value_mutation("a zero-width space", "email", "ada\u200b@analytical.example"),
    value_mutation("an escaped lone surrogate", "email", None, 400, raw='"ada\\udc00@analytical.example"'),
    value_mutation("quoted local part", "email", '"ada lovelace"@analytical.example'),
    value_mutation("an IP literal domain", "email", "ada@[127.0.0.1]"),
    value_mutation("a dotless domain", "email", "ada@localhost"),
    value_mutation("a trailing dot", "email", "ada.@analytical.example"),
    duplicate_key("email"),
    # ---- numbers: booleans, NaN and infinities (as literals and as text), overflow, negatives, fractions
    value_mutation("true", "number", True, 422),
    value_mutation("false", "number", False, 422),
    value_mutation("1e400", "number", None, 422, raw="1e400"),
    value_mutation("-1e400", "number", None, 422, raw="-1e400"),
    value_mutation("NaN literal", "number", None, 400, raw="NaN"),
    value_mutation("Infinity literal", "number", None, 400, raw="Infinity"),
    value_mutation("-Infinity literal", "number", None, 400, raw="-Infinity"),
    value_mutation("an integer of 5,000 digits", "number", None, 400, raw="9" * 5000),
    value_mutation("'Infinity' as text", "number", "Infinity", 422, skip=frozenset({"postmark"})),
    value_mutation("'NaN' as text", "number", "NaN", 422, skip=frozenset({"postmark"})),
    value_mutation("'-inf' as text", "number", "-inf", 422, skip=frozenset({"postmark"})),
    value_mutation("negative", "number", -5, 422, skip=frozenset({"postmark"})),
    value_mutation("10^30", "number", 10**30, 422, skip=frozenset({"postmark"})),
    # (a form tool's answer of another shape is kept as a property, as free text is: only numbers are judged)
    value_mutation("an array", "number", [250], 422, skip=FORM_TOOLS | {"postmark"}),
    value_mutation("an object", "number", {"value": 250}, 422, skip=FORM_TOOLS | {"postmark"}),
    duplicate_key("number"),
    # ---- times
    value_mutation("not a time", "time", "yesterday", 422),
    value_mutation("an impossible date", "time", "2026-13-45T25:61:00Z", 422),
    value_mutation("empty", "time", "", 422),
    value_mutation("true", "time", True, 422),
    value_mutation("an array", "time", [], 422),
    value_mutation("an object", "time", {"at": "now"}, 422),
    value_mutation("1e400", "time", None, 422, raw="1e400"),
    # ---- ids
    value_mutation("empty", "ident", "", 422),
    value_mutation("300 characters", "ident", "i" * 300, 422),
    value_mutation("a number", "ident", 42, 422),
    value_mutation("null", "ident", None, 422),
    value_mutation("an array", "ident", ["x"], 422),
    value_mutation("true", "ident", True, 422),
    duplicate_key("ident"),
]  # fmt: skip


def _required(index: int) -> Mutation:
    def build(route: Route, keys: Keys, now: int) -> Request | None:
        if index >= len(route.required):
            return None
        body = _dump(_delete(signed_document(route, keys, now), route.required[index]))
        return Request(body, headers_for(route, keys, body, now))

    return Mutation(f"required field #{index + 1} missing", build)


MUTATIONS += [_required(index) for index in range(max(len(route.required) for route in ROUTES))]


@dataclass(frozen=True)
class Case:
    route: Route
    mutation: Mutation

    @property
    def id(self) -> str:
        return f"{self.route.name}: {self.mutation.name}"


def _cases() -> Iterator[Case]:
    probe = Keys("k", {name: BY_NAME[name].credentials() for name in BY_NAME})
    for route in ROUTES:
        for mutation in MUTATIONS:
            if mutation.build(route, probe, int(time.time())) is not None:
                yield Case(route, mutation)


CASES = list(_cases())


def test_the_table_covers_every_route_with_hundreds_of_cases() -> None:
    assert len(CASES) >= 300
    assert {case.route.name for case in CASES} == set(SOURCES)
    assert len({case.id for case in CASES}) == len(CASES)


# ---- running the table ------------------------------------------------------------------------------------------
def _keys(stack: EmulatedStack) -> Keys:
    keys = Keys(stack.forms_key())
    for name, provider in BY_NAME.items():
        keys.providers[name] = provider.credentials()
        stack.set_secret(provider.secret, {"current": keys.providers[name].stored, "previous": ""})
    return keys


def _send(stack: EmulatedStack, route: Route, request: Request) -> tuple[int, dict[str, Any]]:
    gateway = stack.gateway or stack.serve(port=0)
    try:
        status, _, raw = gateway.dispatch("POST", f"/webhooks/{route.name}", request.headers, request.body, "127.0.0.1")
    except Exception as exc:  # noqa: BLE001 - the handler crashed: what API Gateway answers then, a 500
        return 500, {"message": "Internal Server Error", "local_error": repr(exc)[:200]}
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {"unparsed": raw[:200].decode("utf-8", "replace")}
    return status, answer if isinstance(answer, dict) else {"not_an_object": answer}


@dataclass(frozen=True)
class Sent:
    answers: dict[str, tuple[int, dict[str, Any]]]
    written: dict[str, Any]  # what the queue and the tables held once every case was answered
    stack: EmulatedStack
    keys: Keys


@pytest.fixture(scope="module")
def hostile(session_stack: EmulatedStack) -> Sent:
    """Every case, sent once to one freshly built stack with every provider's secret set."""
    session_stack.reset()
    keys = _keys(session_stack)
    answers = {}
    for case in CASES:
        request = case.mutation.build(case.route, keys, int(time.time()))
        assert request is not None
        answers[case.id] = _send(session_stack, case.route, request)
    written = {
        "queued": session_stack.queue_depth("LeadEventsQueue"),
        "leads": session_stack.items("LeadsTable"),
        "idempotency": session_stack.items("IdempotencyTable"),
    }
    return Sent(answers, written, session_stack, keys)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_hostile_request_gets_a_4xx_that_names_the_error(case: Case, hostile: Sent) -> None:
    # Given the hostile request was sent / Then it was refused with a 4xx and a JSON error, never a 5xx
    status, answer = hostile.answers[case.id]
    assert 400 <= status < 500, (status, answer)
    assert answer.get("error"), answer
    if case.mutation.status:
        assert status in case.mutation.status, (status, answer)
    if status == 422:
        assert answer.get("details"), "a 422 names the fields that are wrong"


def test_nothing_was_queued_or_written_for_any_hostile_request(hostile: Sent) -> None:
    # Given every hostile request above was answered
    assert len(hostile.answers) == len(CASES)

    # Then no event reached the queue, and neither the leads table nor the idempotency table held anything
    assert hostile.written == {"queued": 0, "leads": [], "idempotency": []}


def test_the_unmutated_documents_are_accepted(hostile: Sent) -> None:
    # Given the same stack and keys the table used (what the table left behind was recorded before this)
    stack, keys, now = hostile.stack, hostile.keys, int(time.time())

    # When each route's valid document is sent, signed the same way as the mutated ones
    answers = {}
    for route in ROUTES:
        body = _dump(signed_document(route, keys, now))
        answers[route.name] = _send(stack, route, Request(body, headers_for(route, keys, body, now)))[0]

    # Then every route accepts it: the refusals above were the mutations' doing, not the signing's
    assert answers == dict.fromkeys(answers, 202)
