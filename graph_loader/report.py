"""The load report: what each source contributed and every row that was refused, with the reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RejectedRow:
    origin: str
    kind: str  # "node" or "edge"
    ident: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.kind} {self.ident}: {self.reason}"


@dataclass(frozen=True, slots=True)
class UnmappedReference:
    """A source row that names something we could not resolve (e.g. an unknown drug name)."""

    origin: str
    value: str
    reason: str


@dataclass
class SourceReport:
    name: str
    version: str
    nodes: int = 0
    edges: int = 0
    seconds: float = 0.0


@dataclass
class LoadReport:
    sources: dict[str, SourceReport] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)
    unmapped: list[UnmappedReference] = field(default_factory=list)
    merged_duplicates: int = 0

    def reject(self, origin: str, kind: str, ident: str, reason: str) -> None:
        self.rejected.append(RejectedRow(origin, kind, ident, reason))

    def unmapped_ref(self, origin: str, value: str, reason: str) -> None:
        self.unmapped.append(UnmappedReference(origin, value, reason))

    def rejected_by_reason(self) -> Counter[str]:
        return Counter(r.reason.split(":")[0] for r in self.rejected)

    def to_json(self, max_rows: int = 200) -> dict[str, Any]:
        return {
            "sources": {
                k: {"version": s.version, "nodes": s.nodes, "edges": s.edges, "seconds": round(s.seconds, 2)}
                for k, s in self.sources.items()
            },
            "rejected_count": len(self.rejected),
            "rejected": [str(r) for r in self.rejected[:max_rows]],
            "unmapped_count": len(self.unmapped),
            "unmapped": [f"{u.origin}: {u.value}: {u.reason}" for u in self.unmapped[:max_rows]],
            "merged_duplicates": self.merged_duplicates,
        }
