"""Keep botocore's data for the services we call only (run by the Makefile on the built layer; stdlib only).

    python trim_botocore.py <site-packages> <services file>

A cold start pays for botocore's data twice over: the first client lists every service directory (~420) to
find its own, and the endpoint resolver parses endpoints.json (1.2 MB, ~25 ms of CPU) for every service of
every partition. This removes the other services' directories and their entries in endpoints.json; what
botocore reads for the services we keep (their directories, their endpoint entries, the partitions, the
retry and default configuration) is left exactly as shipped.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path


def listed(services_file: Path) -> set[str]:
    lines = (line.strip() for line in services_file.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def trim(site: Path, keep: set[str]) -> None:
    data = site / "botocore" / "data"
    missing = {service for service in keep if not (data / service).is_dir()}
    if missing:
        raise SystemExit(f"not botocore services: {sorted(missing)}")
    for directory in data.iterdir():
        if directory.is_dir() and directory.name not in keep:
            shutil.rmtree(directory)
    endpoints_file = data / "endpoints.json"
    endpoints = json.loads(endpoints_file.read_text(encoding="utf-8"))
    for partition in endpoints["partitions"]:
        partition["services"] = {name: entry for name, entry in partition["services"].items() if name in keep}
    endpoints_file.write_text(json.dumps(endpoints, separators=(",", ":")), encoding="utf-8")


if __name__ == "__main__":
    trim(Path(sys.argv[1]), listed(Path(sys.argv[2])))
