"""Clinical knowledge the project authors itself (YAML), loaded by the adapters next to the source adapters."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def read_curated(name: str, path: Path | None = None) -> Any:
    """The packaged curated file ``name`` parsed, or the file at ``path`` instead when one is given (tests and
    site copies); the caller validates it against its own schema."""
    source = path if path is not None else resources.files(__name__).joinpath(name)
    return yaml.safe_load(source.read_text(encoding="utf-8"))
