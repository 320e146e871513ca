"""The one Logger, Tracer and Metrics instance every handler and adapter shares (Powertools)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Patch only botocore (what we call): patch_all would import and wrap every library X-Ray knows of.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()

# Powertools prints the ColdStart metric through `single_metric`, which ignores POWERTOOLS_METRICS_DISABLED;
# honour the switch ourselves (the local runner sets it, as nothing ships metrics there).
CAPTURE_COLD_START = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() not in {"1", "true"}
