"""The base of the engine's records (:mod:`rules.findings`, :mod:`rules.patient`): equal, hashed and shown
by the values each lists, as frozen msgspec structs were.

Compiled with mypyc (:mod:`kgcds.native`), as the records are: a native class can only derive from one.
"""

from __future__ import annotations


class ValueRecord:
    """A record compared (with its own class only), hashed and shown by the values :meth:`_values` lists."""

    def _values(self) -> tuple[object, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return self is other or (
            type(other) is type(self) and isinstance(other, ValueRecord) and self._values() == other._values()
        )

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._values()!r}"
