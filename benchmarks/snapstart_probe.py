"""Runs inside a fresh interpreter laid out like a SnapStart execution environment (see bench_snapstart.py).

What Lambda does with SnapStart, step by step, in one process and its forks:
1. INIT at publish time: import the handler (timed, as the classic cold start's import).
2. The before-snapshot hooks, as Lambda's runtime runs them (snapshot_restore_py's registry, popped: the
   last registered runs first). Timed; this is paid once per published version, not by a cold start.
3. The snapshot: here `os.fork()`. A child starts with a copy of the initialised memory, as a microVM
   restored from the snapshot does (pages copied on first write, where Firecracker loads them on first
   touch). One child per cold start, one after the other (never two at once, so they do not contend).
4. In each child: the after-restore hooks (in registration order) and the first event, timed (CPU time of
   the child alone, and elapsed); the child prints one JSON line and exits.

Reads a JSON plan on stdin: the handler and one first event per child. Prints one JSON line per child, then
one for the parent (INIT and hook times). Run with `python -S -c <this file's text>`.
"""

from __future__ import annotations

import sys
import time


class CountingStdout:
    """Stands for sys.stdout: counts the bytes written (the log output), keeps none of them."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Context:
    """The attributes of Lambda's context object that Powertools reads."""

    def __init__(self, name: str, memory: str, request: int) -> None:
        self.function_name = name
        self.function_version = "1"
        self.memory_limit_in_mb = int(memory)
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}:live"
        self.aws_request_id = f"00000000-0000-4000-8000-{request:012d}"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "2026/12/01/[1]snapstart"
        self._deadline = time.monotonic() + 20

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main() -> None:
    import json  # noqa: PLC0415 - stdlib
    import os  # noqa: PLC0415

    plan = json.loads(sys.stdin.read())
    real_stdout, counter = sys.stdout, CountingStdout()
    sys.stdout = counter
    module_name, function_name = plan["handler"].rsplit(".", 1)

    started, cpu = time.perf_counter(), time.process_time()
    module = __import__(module_name)
    import_ms, import_cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    handler = getattr(module, function_name)

    # Lambda's runtime: the hooks live in snapshot_restore_py (on the path as in the runtime's own directory).
    import snapshot_restore_py  # type: ignore[import-untyped]  # noqa: PLC0415

    before = snapshot_restore_py.get_before_snapshot()
    hooks_before = len(before)
    started, cpu = time.perf_counter(), time.process_time()
    while before:
        hook, args, kwargs = before.pop()
        hook(*args, **kwargs)
    hooks_ms, hooks_cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    after = list(snapshot_restore_py.get_after_restore())

    real_stdout.flush()
    for number, event in enumerate(plan["events"]):
        child = os.fork()
        if child == 0:  # the restored environment
            try:
                began, cpu = time.perf_counter(), time.process_time()
                for hook, args, kwargs in after:
                    hook(*args, **kwargs)
                restore_ms, restore_cpu_ms = (time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000
                os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-674c9a00-{number:024x};Parent=53995c3f42cd8ad8;Sampled=1"
                context = Context(
                    os.environ["AWS_LAMBDA_FUNCTION_NAME"], os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], number
                )
                logged, wall = counter.bytes, time.time()
                began, cpu = time.perf_counter(), time.process_time()
                response = handler(event, context)
                event_ms, event_cpu_ms = (time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000
                report = {"child": number, "restore_ms": restore_ms, "restore_cpu_ms": restore_cpu_ms,
                          "event_ms": event_ms, "event_cpu_ms": event_cpu_ms, "wall": [wall, time.time()],
                          "log_bytes": counter.bytes - logged,
                          "response": response if isinstance(response, dict) else None}  # fmt: skip
                real_stdout.write(json.dumps(report, default=str) + "\n")
                real_stdout.flush()
            finally:
                os._exit(0)
        os.waitpid(child, 0)
    parent = {"import_ms": import_ms, "import_cpu_ms": import_cpu_ms, "hooks_ms": hooks_ms,
              "hooks_cpu_ms": hooks_cpu_ms, "hooks_before": hooks_before, "hooks_after": len(after)}  # fmt: skip
    real_stdout.write(json.dumps(parent) + "\n")


main()
