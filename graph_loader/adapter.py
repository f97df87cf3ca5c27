"""What a source adapter is: a named, versioned generator of rows.

An adapter parses one source (one module per source), normalises identifiers to the
schema's CURIEs and yields rows. It never talks to a store and never validates
against the schema itself: the pipeline does that for every adapter alike. What it
cannot resolve (an unknown drug name, say) it yields as an
:class:`~graph_loader.report.UnmappedReference`, so nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow

Row = NodeRow | EdgeRow | UnmappedReference


class SourceAdapter(Protocol):
    @property
    def name(self) -> str:
        """Stable short name, e.g. ``onc_high_priority``."""
        ...

    @property
    def version(self) -> str:
        """Source release, e.g. ``2012`` or ``2025-11-03``."""
        ...

    def rows(self) -> Iterator[Row]: ...


def source_tag(adapter: SourceAdapter) -> str:
    """The ``source`` property value edges carry: ``name@version``."""
    return f"{adapter.name}@{adapter.version}"
