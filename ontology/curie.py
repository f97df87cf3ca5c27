"""CURIEs and their two-way mapping to FHIR ``system`` URIs and RDF IRIs."""

from __future__ import annotations

from dataclasses import dataclass

from ontology.schema import CodeSystem, GraphSchema


class CurieError(ValueError):
    """A string that should be a CURIE is not one, or uses an unknown prefix."""


def split_curie(curie: str) -> tuple[str, str]:
    prefix, sep, local = curie.partition(":")
    if not sep or not prefix or not local or local != local.strip():
        raise CurieError(f"{curie!r} is not a CURIE of the form PREFIX:LOCAL")
    return prefix, local


@dataclass(frozen=True, slots=True)
class CodeSystemMap:
    """Bidirectional CURIE prefix <-> FHIR system map built from the schema."""

    by_prefix: dict[str, CodeSystem]
    by_system: dict[str, CodeSystem]

    @classmethod
    def from_schema(cls, schema: GraphSchema) -> CodeSystemMap:
        by_prefix = dict(schema.code_systems)
        by_system = {cs.fhir_system.rstrip("/"): cs for cs in by_prefix.values()}
        return cls(by_prefix=by_prefix, by_system=by_system)

    def to_fhir(self, curie: str) -> tuple[str, str]:
        """``RXNORM:11289`` -> (``http://www.nlm.nih.gov/research/umls/rxnorm``, ``11289``)."""
        prefix, local = split_curie(curie)
        cs = self.by_prefix.get(prefix)
        if cs is None:
            raise CurieError(f"unknown CURIE prefix {prefix!r} in {curie!r}")
        if prefix == "HP":
            # FHIR carries HPO codes with their prefix (HP:0001250), unlike other systems.
            return cs.fhir_system, curie
        return cs.fhir_system, local

    def from_fhir(self, system: str, code: str) -> str | None:
        """A FHIR coding to a CURIE; None when the system is not one we know."""
        cs = self.by_system.get(system.strip().rstrip("/"))
        if cs is None:
            return None
        code = code.strip()
        if cs.prefix == "HP" and code.upper().startswith("HP:"):
            return "HP:" + code[3:]
        return f"{cs.prefix}:{code}"

    def to_iri(self, curie: str) -> str:
        prefix, local = split_curie(curie)
        cs = self.by_prefix.get(prefix)
        if cs is None:
            raise CurieError(f"unknown CURIE prefix {prefix!r} in {curie!r}")
        return cs.iri_prefix + local
