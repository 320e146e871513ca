"""YAML parsing for the files a cold start reads (scoring models, source field maps).

libyaml's safe loader (PyYAML's C extension, in the wheels the layer ships) resolves exactly what PyYAML's
pure-Python `safe_load` resolves, about eight times faster: parsing scoring/*.yaml is part of the scorer's
first event. The pure-Python loader remains the fallback where PyYAML was built without libyaml.
"""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """Like `yaml.safe_load`; raises `yaml.YAMLError` the same way."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader (libyaml's or PyYAML's)
