"""Cost per million events on AWS list prices, from counted requests and measured bytes and milliseconds.

Everything variable is measured by bench_cold_start's runs of the deployed artefact: the requests each
invocation made (counted at moto's side, with their payload bytes and DynamoDB write units priced by item
size), the log bytes the handler wrote at INFO, its milliseconds. What cannot be measured here (how fast
AWS answers, how full the scorer's batches are, how often a container is new) is a named assumption below.
The DynamoDB write units per scored event come from bench_dynamodb's realistic month when it ran.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from benchmarks.bench_cold_start import HandlerFigures, Invocation

# --- AWS list prices, us-east-1, on-demand, after free tiers (checked 2026-12-01) -------------------------
# https://aws.amazon.com/api-gateway/pricing/  HTTP APIs: $1.00 per million requests (first 300 M), each 512 KB
HTTP_API_PER_REQUEST = 1.00e-6
HTTP_API_METERING_BYTES = 512 * 1024
# https://aws.amazon.com/lambda/pricing/  arm64: $0.0000133334 per GB-second, $0.20 per million requests
LAMBDA_PER_GB_SECOND = 0.0000133334
LAMBDA_PER_REQUEST = 0.20e-6
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html  CPU is allocated in proportion to
# memory: 1,769 MB is the equivalent of one vCPU. Below it, a millisecond of CPU work takes 1769/MB ms of
# billed time; so the CPU part of a bill is the same at any size up to 1,769 MB and only waiting scales.
LAMBDA_MB_PER_VCPU = 1769
# https://aws.amazon.com/sqs/pricing/  standard queue: $0.40 per million requests, each 64 KB chunk a request
SQS_PER_REQUEST = 0.40e-6
SQS_CHUNK_BYTES = 64 * 1024
# https://aws.amazon.com/dynamodb/pricing/on-demand/  $0.625 per million write, $0.125 per million read units
DYNAMODB_PER_WRITE_UNIT = 0.625e-6
DYNAMODB_PER_READ_UNIT = 0.125e-6
# https://aws.amazon.com/secrets-manager/pricing/  $0.05 per 10,000 API calls
SECRETS_MANAGER_PER_CALL = 0.05 / 10_000
# https://aws.amazon.com/cloudwatch/pricing/  Logs, Standard class: $0.50 per GB ingested; every log event
# counts 26 bytes of metadata besides its message.
LOGS_PER_BYTE = 0.50 / 1024**3
LOGS_EVENT_OVERHEAD_BYTES = 26
# https://aws.amazon.com/xray/pricing/  $5.00 per million traces recorded
XRAY_PER_TRACE = 5.00e-6

# --- assumptions (not measurable offline) ---------------------------------------------------------------
# Lambda's sampling with Tracing: Active: 1 request/s plus 5 % of the rest; per event, at volume, 5 %; the
# 1/s reservoir is a fixed cost (at most 2.6 M traces a month per function). The Lambda developer guide
# (services-xray): "You can't configure the X-Ray sampling rate for your functions" - an X-Ray sampling rule
# (AWS::XRay::SamplingRule) steers the X-Ray SDK and API Gateway REST APIs, not Lambda's own decision, and
# an HTTP API passes no sampled trace header; so the template has none.
XRAY_FIXED_RATE = 0.05
# This box's CPU stands for one Lambda arm64 vCPU (Graviton): the probe's CPU milliseconds are taken as
# Lambda's at 1,769 MB. Not measurable here; a Graviton core is roughly as fast for this kind of Python.
# Memory sizes the cost table sweeps for the webhook (what a size change would do, from the same runs).
MEMORY_SWEEP_MB = (128, 256, 512, 1024)
# Lambda's own lines per invocation (text format): START, END, REPORT (with the X-Ray segment when sampled);
# none when the functions' LoggingConfig sets SystemLogLevel WARN (read from template.yaml at run time).
TEXT_PLATFORM_LOG_BYTES, TEXT_PLATFORM_LOG_LINES = 330, 3
# How long AWS takes to answer, in region (moto's time is taken out of the measurement; Lambda bills these).
AWS_LATENCY_MS = {"dynamodb": 5.0, "sqs": 10.0, "secretsmanager": 15.0, "sns": 20.0}
# One new execution environment per this many invocations (its INIT is billed since 2025-08-01).
INVOCATIONS_PER_COLD_START = 1_000
# A warm container refreshes its cached secrets every SECRET_CACHE_SECONDS (300 s); at the reference rate
# of 10 webhooks/s on one container that is once per 3,000 invocations.
INVOCATIONS_PER_SECRET_REFRESH = 3_000
SECRET_CALLS_PER_INVOCATION = 1 / INVOCATIONS_PER_COLD_START + 1 / INVOCATIONS_PER_SECRET_REFRESH
# Events per scorer invocation: single webhooks trickle in (the 2 s batching window gathers about 10 at
# 10 events/s); a SendGrid batch of 100 fills BatchSize (25).
SCORER_BATCH_SINGLE, SCORER_BATCH_BULK = 10, 25
# The floor: what any design that verifies the webhook, queues it and writes one score must pay.
FLOOR_SCORER_BATCH = 25
PER_MILLION = 1_000_000


@dataclass
class Line:
    item: str
    dollars: float  # per event
    basis: str


def _median(values: Iterable[float]) -> float:
    listed = list(values)
    return statistics.median(listed) if listed else 0.0


def _requests(invocation: Invocation, service: str) -> list[Any]:
    return [request for request in invocation.requests if request.service == service]


def cpu_factor(memory_mb: int) -> float:
    """Milliseconds of billed time per millisecond of CPU work (one vCPU at 1,769 MB; Python uses one)."""
    return max(1.0, LAMBDA_MB_PER_VCPU / memory_mb)


def _billed_ms(invocation: Invocation, memory_mb: int) -> float:
    """The handler's CPU time at the function's CPU share (elapsed time on a shared box would bill its
    neighbours' work) plus AWS's answers (waiting: the same at any memory size)."""
    latency = sum(AWS_LATENCY_MS.get(request.service, 10.0) for request in invocation.requests)
    return math.ceil(invocation.cpu_ms * cpu_factor(memory_mb) + latency)


def duration_dollars(invocations: list[Invocation], cold_cpu_ms: float, memory_mb: int, events: int) -> float:
    """Lambda duration per event: the median invocation, plus its share of a billed INIT (cold start)."""
    gb = memory_mb / 1024
    warm = _median(_billed_ms(i, memory_mb) for i in invocations) * gb / 1000 * LAMBDA_PER_GB_SECOND
    init = cold_cpu_ms * cpu_factor(memory_mb) * gb / 1000 * LAMBDA_PER_GB_SECOND / INVOCATIONS_PER_COLD_START
    return (warm + init) / events


def _sqs_requests(invocation: Invocation) -> float:
    sends = _requests(invocation, "sqs")
    return float(sum(max(1, math.ceil(r.payload_bytes / SQS_CHUNK_BYTES)) for r in sends))


def platform_log(template: dict[str, Any]) -> tuple[int, int]:
    """Bytes and lines Lambda itself logs per invocation, under the functions' LoggingConfig."""
    config = template.get("Globals", {}).get("Function", {}).get("LoggingConfig", {})
    if config.get("LogFormat") == "JSON" and config.get("SystemLogLevel") == "WARN":
        return 0, 0
    return TEXT_PLATFORM_LOG_BYTES, TEXT_PLATFORM_LOG_LINES


def _log_dollars(
    invocations: Iterable[Invocation], platform: tuple[int, int], events: Callable[[Invocation], int]
) -> float:
    """Log dollars per event: each invocation's bytes, Lambda's lines and CloudWatch's per-line metadata."""
    platform_bytes, platform_lines = platform
    return _median(
        (i.log_bytes + platform_bytes + LOGS_EVENT_OVERHEAD_BYTES * (i.log_lines + platform_lines))
        * LOGS_PER_BYTE
        / events(i)
        for i in invocations
    )


def _write_units(invocation: Invocation) -> int:
    return sum(r.write_units for r in _requests(invocation, "dynamodb"))


def scenario(
    ingest: list[Invocation],
    events_per_request: int,
    *,
    ingest_figures: HandlerFigures,
    scorer_figures: HandlerFigures,
    memory_mb: dict[str, int],
    score_units: tuple[float, float],
    scorer_batch: int,
    platform: tuple[int, int],
    gateway: bool = True,
) -> list[Line]:
    """Dollars per event of one traffic shape: webhooks of `events_per_request` events each, through the HTTP
    API (`gateway`) or through the function URL (no request fee; Lambda bills the invocation the same way)."""
    n = events_per_request
    ingest_mb, scorer_mb = memory_mb["IngestWebhookFunction"], memory_mb["ScoreEventsFunction"]
    scorer_gb = scorer_mb / 1024
    scorer_warm = [run.invocations[1] for run in scorer_figures.runs if len(run.invocations) > 1]
    scorer_ms_per_event = _median(_billed_ms(i, scorer_mb) / max(1, _events(i)) for i in scorer_warm)
    secrets_cold = _median(len(_requests(run.invocations[0], "secretsmanager")) for run in ingest_figures.runs)
    cold_ms = {
        "ingest": _median(run.cold_cpu_ms for run in ingest_figures.runs),
        "scorer": _median(run.cold_cpu_ms for run in scorer_figures.runs),
    }
    lines = [
        Line("API Gateway HTTP API", HTTP_API_PER_REQUEST / n, f"1 request per {n} event(s)")
        if gateway
        else Line("API Gateway HTTP API", 0.0, "none: the function URL has no request fee"),
        Line("Lambda ingest: requests", LAMBDA_PER_REQUEST / n, f"1 invocation per {n} event(s)"),
        Line(
            "Lambda ingest: duration",
            duration_dollars(ingest, cold_ms["ingest"], ingest_mb, n),
            f"{_median(_billed_ms(i, ingest_mb) for i in ingest):.0f} ms x {ingest_mb} MB per request "
            f"({_median(i.cpu_ms for i in ingest):.1f} ms CPU x {cpu_factor(ingest_mb):.2f} + AWS's answers)",
        ),
        Line("Lambda scorer: requests", LAMBDA_PER_REQUEST / scorer_batch, f"1 invocation per {scorer_batch} events"),
        Line(
            "Lambda scorer: duration",
            scorer_ms_per_event * scorer_gb / 1000 * LAMBDA_PER_GB_SECOND
            + cold_ms["scorer"]
            * cpu_factor(scorer_mb)
            * scorer_gb
            / 1000
            * LAMBDA_PER_GB_SECOND
            / INVOCATIONS_PER_COLD_START
            / scorer_batch,
            f"{scorer_ms_per_event:.1f} ms x {scorer_mb} MB per event",
        ),
        Line(
            "SQS",
            (_median(_sqs_requests(i) for i in ingest) / n + 2 / scorer_batch) * SQS_PER_REQUEST,
            f"{_median(_sqs_requests(i) for i in ingest):.0f} send(s) per request (64 KB chunks), receive+delete/batch",
        ),
        Line(
            "DynamoDB: webhook dedup",
            _median(_write_units(i) for i in ingest) / n * DYNAMODB_PER_WRITE_UNIT,
            f"{_median(_write_units(i) for i in ingest):.0f} write unit(s) per request (counted on the ingest path)",
        ),
        Line(
            "DynamoDB: scores and profiles",
            score_units[0] * DYNAMODB_PER_WRITE_UNIT + score_units[1] * DYNAMODB_PER_READ_UNIT,
            f"{score_units[0]:.2f} WCU + {score_units[1]:.2f} RCU per event",
        ),
        Line(
            "Secrets Manager",
            secrets_cold * SECRETS_MANAGER_PER_CALL / n * SECRET_CALLS_PER_INVOCATION,
            f"{secrets_cold:.0f} call(s) per cold start and per 300 s refresh",
        ),
        Line(
            "CloudWatch Logs (INFO)",
            _log_dollars(ingest, platform, lambda _: n) + _log_dollars(scorer_warm, platform, _events),
            f"{_median(i.log_bytes for i in ingest):.0f} B per request + Lambda's {platform[0]} B; scorer "
            f"{_median(i.log_bytes / _events(i) for i in scorer_warm):.0f} B per event",
        ),
        Line(
            "X-Ray",
            XRAY_FIXED_RATE * XRAY_PER_TRACE * (1 / n + 1 / scorer_batch),
            f"{XRAY_FIXED_RATE:.0%} of invocations sampled (ingest and scorer traces)",
        ),
    ]
    return lines


def _events(invocation: Invocation) -> int:
    return max(1, invocation.records)


def floor_per_event() -> list[Line]:
    return [
        Line("API Gateway HTTP API", HTTP_API_PER_REQUEST, "the request"),
        Line("DynamoDB", DYNAMODB_PER_WRITE_UNIT, "one write unit"),
        Line("SQS", SQS_PER_REQUEST * (1 + 2 / FLOOR_SCORER_BATCH), "one send, receive/delete per full batch"),
        Line("Lambda", LAMBDA_PER_REQUEST / FLOOR_SCORER_BATCH, "the scorer's invocation shared by a full batch"),
    ]


def main(
    figures: dict[str, HandlerFigures],
    template: dict[str, Any],
    memory_mb: dict[str, int],
    dynamodb: dict[str, float] | None = None,
    say: Callable[[str], None] = print,
) -> dict[str, float]:
    ingest = figures["IngestWebhookFunction"]
    scorer = figures["ScoreEventsFunction"]
    singles = [i for run in ingest.runs for i in run.invocations[1:4]]
    batches = [run.invocations[4] for run in ingest.runs if len(run.invocations) > 4]
    url_singles = [i for run in ingest.runs for i in run.invocations[5:8]]  # the same webhooks, function URL events
    if dynamodb:
        units = (dynamodb["all events WCU per event"], dynamodb["all events RCU per event"])
        source = "bench_dynamodb's realistic month"
    else:
        units, source = (1.0, 0.0), "the hot path (run bench_dynamodb for the realistic month)"
    # Every shape priced with the same measured figures; only the traffic and the door differ.
    priced = partial(
        scenario,
        ingest_figures=ingest,
        scorer_figures=scorer,
        memory_mb=memory_mb,
        score_units=units,
        platform=platform_log(template),
    )
    shapes = {
        "single-event webhooks": priced(singles, 1, scorer_batch=SCORER_BATCH_SINGLE),
        "SendGrid batches of 100": priced(batches, 100, scorer_batch=SCORER_BATCH_BULK),
    }
    # The second door (WebhookFunctionUrl): the same single-event webhooks, measured the same way.
    url_door = priced(url_singles or singles, 1, scorer_batch=SCORER_BATCH_SINGLE, gateway=False)
    floor = sum(line.dollars for line in floor_per_event()) * PER_MILLION
    say(f"  $ per million events, AWS list prices us-east-1 (2026-12); score units from {source}")
    say(f"  {'item':<32} {'single-event':>13} {'same, fn URL':>13} {'batches of 100':>15}   basis (single-event)")
    rows = zip(shapes["single-event webhooks"], url_door, shapes["SendGrid batches of 100"], strict=True)
    for single, url, bulk in rows:
        single_cost, url_cost, bulk_cost = (line.dollars * PER_MILLION for line in (single, url, bulk))
        say(f"  {single.item:<32} {single_cost:13.3f} {url_cost:13.3f} {bulk_cost:15.3f}   {single.basis}")
    totals = {name: sum(line.dollars for line in lines) * PER_MILLION for name, lines in shapes.items()}
    url_total = sum(line.dollars for line in url_door) * PER_MILLION
    say(f"  {'total':<32} {totals['single-event webhooks']:13.3f} {url_total:13.3f} "
        f"{totals['SendGrid batches of 100']:15.3f}")  # fmt: skip
    say(
        f"  floor (HTTP API request + 1 write unit + SQS + the scorer's invocation share): ${floor:.2f} per million; "
        f"single-event webhooks cost {totals['single-event webhooks'] / floor:.2f}x the floor (target 1.2x)"
    )
    gatewayless = floor - HTTP_API_PER_REQUEST * PER_MILLION
    door = "measured on function URL events" if url_singles else "no function URL runs: the route's runs reused"
    say(
        f"  through the function URL (WebhookFunctionUrl, {door}): ${url_total:.2f} per million single-event "
        f"webhooks = {url_total / floor:.2f}x the floor above (which keeps the HTTP API's $1.00); "
        f"{url_total / gatewayless:.2f}x a floor without the gateway fee (${gatewayless:.2f})"
    )
    say(
        "    the two doors' webhook invocations, medians: CPU "
        f"{_median(i.cpu_ms for i in singles):.2f} ms (route) vs {_median(i.cpu_ms for i in url_singles):.2f} ms "
        f"(URL), log {_median(i.log_bytes for i in singles):.0f} vs {_median(i.log_bytes for i in url_singles):.0f} B, "
        f"AWS requests {_median(len(i.requests) for i in singles):.0f} vs "
        f"{_median(len(i.requests) for i in url_singles):.0f}, over {len(singles)} and {len(url_singles)} requests"
    )
    fixed = floor + (LAMBDA_PER_REQUEST + XRAY_FIXED_RATE * XRAY_PER_TRACE) * PER_MILLION
    say(
        f"  floor + what no change of ours removes (the webhook's invocation fee, Lambda's X-Ray sampling): "
        f"${fixed:.2f} = {fixed / floor:.2f}x the floor, before any duration, log, SQS or secrets cost"
    )
    memory_sweep(singles, ingest, memory_mb["IngestWebhookFunction"], say)
    return {
        "cost per million single-event webhooks ($)": totals["single-event webhooks"],
        "cost per million events in SendGrid batches of 100 ($)": totals["SendGrid batches of 100"],
        "floor per million ($)": floor,
        "ratio to floor (single-event)": totals["single-event webhooks"] / floor,
        "cost per million single-event webhooks via the function URL ($)": url_total,
        "function URL ratio to floor (single-event)": url_total / floor,
        "function URL ratio to the floor without the gateway fee (single-event)": url_total / gatewayless,
    }


def memory_sweep(
    singles: list[Invocation], ingest: HandlerFigures, current_mb: int, say: Callable[[str], None]
) -> None:
    """What another memory size would do to the webhook: its duration cost and its cold start on Lambda."""
    cold_cpu = _median(run.cold_cpu_ms for run in ingest.runs)
    say(f"  webhook memory (now {current_mb} MB): duration $ per million single-event webhooks | cold start "
        f"(import + first event) at that CPU share, from {cold_cpu:.0f} ms of CPU here")  # fmt: skip
    for memory in MEMORY_SWEEP_MB:
        dollars = duration_dollars(singles, cold_cpu, memory, 1) * PER_MILLION
        billed = _median(_billed_ms(i, memory) for i in singles)
        cold = cold_cpu * cpu_factor(memory)
        say(f"    {memory:5d} MB: {dollars:6.3f} ({billed:.0f} ms per request) | {cold:6.0f} ms")


# --- SnapStart (template parameter SnapStart; bench_snapstart.py measures the restores) -------------------
# https://aws.amazon.com/lambda/pricing/  SnapStart for Python and .NET, us-east-1 (checked 2026-12-02):
# cache $0.0000015046 per GB-second for as long as the version is active (at least 3 hours for each version
# published), restore $0.0001397998 per GB restored. Same figures for arm64 and x86_64.
SNAPSTART_CACHE_PER_GB_SECOND = 0.0000015046
SNAPSTART_RESTORE_PER_GB = 0.0001397998
SNAPSTART_CACHE_MINIMUM_SECONDS = 3 * 3600
SECONDS_PER_MONTH = 730 * 3600  # AWS's pricing month
# The reference rate the fixed cache is spread over (as the secrets refresh above): 10 webhooks a second.
REFERENCE_WEBHOOKS_PER_MONTH = 10 * SECONDS_PER_MONTH


def gb_second_dollars(cpu_ms: float, memory_mb: int) -> float:
    """Duration dollars of `cpu_ms` of this box's CPU at the function's CPU share (as the table bills CPU)."""
    return cpu_ms * cpu_factor(memory_mb) * (memory_mb / 1024) / 1000 * LAMBDA_PER_GB_SECOND


def snapstart_cold_start(restore_cpu_ms: float, first_event_cpu_ms: float, memory_mb: int) -> float:
    """One SnapStart cold start: the restore fee per GB, the billed restore duration (the after-restore hooks;
    the runtime's own loading is AWS's and not measured) and the first event's CPU, billed like the classic
    table bills INIT (import + first event)."""
    return (memory_mb / 1024) * SNAPSTART_RESTORE_PER_GB + gb_second_dollars(
        restore_cpu_ms + first_event_cpu_ms, memory_mb
    )


def snapstart_cache_per_month(memory_mb: int) -> float:
    return (memory_mb / 1024) * SNAPSTART_CACHE_PER_GB_SECOND * SECONDS_PER_MONTH


def snapstart_main(
    classic: dict[str, HandlerFigures],
    snapstart: dict[str, Any],
    memory_mb: dict[str, int],
    snapstart_functions: list[str],
    say: Callable[[str], None] = print,
) -> dict[str, float]:
    """Cold starts per million single-event webhooks, classic vs SnapStart, and SnapStart's fixed cache."""
    shares = {"IngestWebhookFunction": 1.0, "ScoreEventsFunction": 1 / SCORER_BATCH_SINGLE}  # invocations per webhook
    say(f"  $ per million single-event webhooks, 1 cold start per {INVOCATIONS_PER_COLD_START:,} invocations:")
    say(f"  {'cold starts of':<24} {'classic (INIT billed)':>22} {'SnapStart':>10}   basis (SnapStart)")
    totals = [0.0, 0.0]
    for name, share in shares.items():
        memory = memory_mb[name]
        cold_starts = PER_MILLION * share / INVOCATIONS_PER_COLD_START
        classic_cpu = _median(run.cold_cpu_ms for run in classic[name].runs)
        figures = snapstart[name]
        hooks, first = figures.median(lambda r: r.restore_cpu_ms), figures.median(lambda r: r.event_cpu_ms)
        before, after = (
            cold_starts * gb_second_dollars(classic_cpu, memory),
            cold_starts * snapstart_cold_start(hooks, first, memory),
        )
        totals[0] += before
        totals[1] += after
        say(f"  {name:<24} {before:22.3f} {after:10.3f}   {cold_starts:,.0f} restores x ({memory / 1024:g} GB x "
            f"${SNAPSTART_RESTORE_PER_GB:.7f} + {hooks + first:.0f} ms CPU x {cpu_factor(memory):.2f}); classic "
            f"{classic_cpu:.0f} ms CPU")  # fmt: skip
    say(
        f"  {'total':<24} {totals[0]:22.3f} {totals[1]:10.3f}   SnapStart adds ${totals[1] - totals[0]:.3f} per million"
    )
    monthly = {name: snapstart_cache_per_month(memory_mb[name]) for name in snapstart_functions}
    fixed = sum(monthly.values())
    say("  SnapStart's snapshot cache, fixed, per function while its version is active (billed from publication, "
        f"at least {SNAPSTART_CACHE_MINIMUM_SECONDS // 3600} h per version):")  # fmt: skip
    for name, dollars in monthly.items():
        say(f"    {name:<24} {memory_mb[name]:5d} MB: ${dollars:.2f} a month")
    per_million = fixed / (REFERENCE_WEBHOOKS_PER_MONTH / PER_MILLION)
    say(f"    all {len(monthly)}: ${fixed:.2f} a month = ${per_million:.3f} per million webhooks at 10 a second "
        f"({REFERENCE_WEBHOOKS_PER_MONTH / 1e6:.1f} M a month); ${fixed:.2f} per million at 1 M a month")  # fmt: skip
    return {
        "snapstart cold starts per million single-event webhooks ($)": totals[1],
        "classic cold starts per million single-event webhooks ($)": totals[0],
        "snapstart cache per month, all functions ($)": fixed,
    }
