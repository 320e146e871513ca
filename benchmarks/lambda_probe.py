"""Runs inside a fresh interpreter laid out like a Lambda execution environment (see bench_cold_start.py).

Reads a JSON plan on stdin: the handler (`module.function`) and the events to invoke it with, the first
being the cold start's. Prints one JSON line: the import time, each invocation's time, stdout bytes (what
CloudWatch Logs would ingest) and wall-clock window, and every source file Python compiled (an audit hook
on "compile" events: with valid .pyc, nothing under the artefact is compiled).

Run with `python -S -c <this file's text>`: no site-packages, sys.path from PYTHONPATH as Lambda sets it.
"""

from __future__ import annotations

import sys
import time

COMPILED: list[str] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "compile" and len(args) > 1 and isinstance(args[1], str) and args[1].endswith(".py"):
        COMPILED.append(args[1])


class CountingStdout:
    """Stands for sys.stdout: counts the bytes written (the log output), keeps none of them."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Context:
    """The attributes of Lambda's context object that Powertools reads."""

    def __init__(self, name: str, memory: str, request: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(memory)
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.aws_request_id = f"00000000-0000-4000-8000-{request:012d}"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "2026/12/01/[$LATEST]probe"
        self._deadline = time.monotonic() + 20

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main() -> None:
    import json  # noqa: PLC0415 - stdlib, frozen or already loaded by the interpreter
    import os  # noqa: PLC0415

    plan = json.loads(sys.stdin.read())
    sys.addaudithook(_audit)
    real_stdout, counter = sys.stdout, CountingStdout()
    sys.stdout = counter  # before the import: the handlers' loggers write to the stdout they find
    module_name, function_name = plan["handler"].rsplit(".", 1)

    started, cpu = time.perf_counter(), time.process_time()
    module = __import__(module_name)
    import_ms, import_cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    handler = getattr(module, function_name)

    invocations = []
    for number, event in enumerate(plan["events"]):
        os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-674c9a00-{number:024x};Parent=53995c3f42cd8ad8;Sampled=1"
        context = Context(os.environ["AWS_LAMBDA_FUNCTION_NAME"], os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], number)
        logged, lines, wall = counter.bytes, counter.lines, time.time()
        began, cpu = time.perf_counter(), time.process_time()
        profiled = int(os.environ.get("PROBE_PROFILE_EVENT", "0"))  # which invocation; the first by default
        if number == profiled and os.environ.get("PROBE_PROFILE"):  # where that event's time goes (cProfile)
            import cProfile  # noqa: PLC0415

            profiler = cProfile.Profile()
            response = profiler.runcall(handler, event, context)
            profiler.dump_stats(os.environ["PROBE_PROFILE"])
        else:
            response = handler(event, context)
        milliseconds, cpu_ms = (time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000
        invocations.append(
            {"ms": milliseconds, "cpu_ms": cpu_ms, "log_bytes": counter.bytes - logged,
             "log_lines": counter.lines - lines, "wall": [wall, time.time()],
             "response": response if isinstance(response, dict) else None}
        )  # fmt: skip
    # Modules loaded from the artefact (task root and /opt) and, of those, any whose .pyc is missing.
    roots = tuple(path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path)
    loaded = [m for m in list(sys.modules.values()) if (getattr(m, "__file__", None) or "").startswith(roots)]
    uncached = [m.__name__ for m in loaded if (m.__file__ or "").endswith(".py")
                and not os.path.exists(getattr(m, "__cached__", None) or "")]  # fmt: skip
    report = {"import_ms": import_ms, "import_cpu_ms": import_cpu_ms, "invocations": invocations, "compiled": COMPILED,
              "modules": len(loaded), "uncached": uncached}  # fmt: skip
    real_stdout.write(json.dumps(report, default=str) + "\n")


main()
