"""Human Phenotype Ontology: phenotypes, rare diseases, their phenotype annotations and genes.

Two routes give the same row shapes:

* :class:`HpoFilesAdapter` reads a release directory (``paths.hpo_dir``) with ``hp.obo``,
  ``phenotype.hpoa`` and ``genes_to_phenotype.txt``. It is the complete route: term
  definitions and synonyms, annotation frequency, onset, evidence and references
  (PMIDs), DECIPHER diseases and disease-gene links.
* :class:`Hpo3Adapter` reads the ontology compiled into the installed ``hpo3`` package
  (import name ``pyhpo``). hpo3 keeps only term names, the hierarchy, OMIM/ORPHA
  disease annotations and gene-phenotype links: no definitions, synonyms, frequencies,
  DECIPHER diseases or disease-gene pairs. It is the zero-configuration fallback.

NOT-qualified annotations (the disease is known to lack the feature) are kept as
HAS_PHENOTYPE edges with ``frequency`` 0.0, ``frequency_term`` HP:0040285 (Excluded)
and ``evidence`` starting with ``NOT``: a differential-diagnosis ranker can use a
known absence as evidence against the disease, while anything weighting by frequency
gives them no positive weight. Only phenotypic-abnormality annotations (aspect P)
become edges; inheritance, onset and clinical-course annotations describe the disease,
not a feature a patient presents with.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from graph_loader.adapter import Row, SourceAdapter
from graph_loader.adapters.hpo_files import (
    GENES_FILE,
    HPOA_FILE,
    OBO_FILE,
    frequency_values,
    merge_annotations,
    obo_release,
    parse_obo,
    read_genes,
    read_hpoa,
)
from graph_loader.config import SourcePaths
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import Label, RelType

NAME = "hpo"
PHENOTYPIC_ABNORMALITY = "HP:0000118"


class HpoFilesAdapter:
    """Rows from a raw HPO release directory."""

    name = "hpo_release_files"

    def __init__(self, directory: Path, version: str) -> None:
        self._dir = directory
        self._version = version

    @property
    def version(self) -> str:
        return self._version

    @classmethod
    def from_dir(cls, directory: Path) -> HpoFilesAdapter:
        """Read the release date from hp.obo.

        Missing files are reported when :meth:`rows` runs, where the pipeline turns the
        error into a one-line load failure, rather than while the registry is assembled.
        """
        obo = directory / OBO_FILE
        return cls(directory, obo_release(obo) if obo.is_file() else "missing")

    def _check_files(self) -> None:
        missing = [f for f in (OBO_FILE, HPOA_FILE, GENES_FILE) if not (self._dir / f).is_file()]
        if missing:
            raise FileNotFoundError(f"hpo_dir: {self._dir} lacks {', '.join(missing)}")

    def _origin(self, file: str, line_no: int) -> str:
        return f"{self.name}:{file}:{line_no}"

    def rows(self) -> Iterator[Row]:
        self._check_files()
        tag = f"{self.name}@{self.version}"
        yield from self._phenotype_rows(tag)
        yield from self._annotation_rows(tag)
        yield from self._gene_rows(tag)

    def _phenotype_rows(self, tag: str) -> Iterator[Row]:
        for term in parse_obo(self._dir / OBO_FILE):
            if term.obsolete or not term.id.startswith("HP:"):
                continue
            origin = self._origin(OBO_FILE, term.line_no)
            props = {"name": term.name, "definition": term.definition, "synonyms": term.synonyms, "xrefs": term.xrefs}
            yield NodeRow(Label.PHENOTYPE, term.id, props, origin)
            for parent in term.parents:
                yield EdgeRow(RelType.IS_A, term.id, parent, {"source": tag}, origin)

    def _annotation_rows(self, tag: str) -> Iterator[Row]:
        hpoa = read_hpoa(self._dir / HPOA_FILE)
        # Onset (aspect C) and mode of inheritance (aspect I) describe the disease, not a phenotype:
        # they become Disease properties, which the differential reads against a patient's age and sex.
        diseases = hpoa.group_by("database_id", maintain_order=True).agg(
            pl.col("disease_name").first(),
            pl.col("line_no").first(),
            _aspect_terms("C").alias("onset"),
            _aspect_terms("I").alias("inheritance"),
        )
        for disease_id, disease_name, line_no, onset, inheritance in diseases.iter_rows():
            props = {"name": disease_name}
            if onset:
                props["onset"] = onset
            if inheritance:
                props["inheritance"] = inheritance
            yield NodeRow(Label.DISEASE, disease_id, props, self._origin(HPOA_FILE, line_no))
        texts = hpoa.get_column("frequency").unique().to_list()
        frequencies, problems = frequency_values([t for t in texts if t])
        for problem in problems:
            yield UnmappedReference(self._origin(HPOA_FILE, 0), problem.split("'")[1], problem)
        for ann in merge_annotations(hpoa, frequencies):
            props = {
                "source": tag,
                "frequency": ann.frequency,
                "frequency_term": ann.frequency_term,
                "onset": ann.onset,
                "evidence": ann.evidence,
                "references": ann.references,
            }
            origin = self._origin(HPOA_FILE, ann.line_no)
            yield EdgeRow(RelType.HAS_PHENOTYPE, ann.disease_id, ann.hpo_id, props, origin)

    def _gene_rows(self, tag: str) -> Iterator[Row]:
        seen: set[str] = set()
        for gene_id, symbol, disease_id, line_no in read_genes(self._dir / GENES_FILE).iter_rows():
            origin = self._origin(GENES_FILE, line_no)
            curie = f"NCBIGene:{gene_id}"
            if curie not in seen:
                seen.add(curie)
                yield NodeRow(Label.GENE, curie, {"symbol": symbol}, origin)
            yield EdgeRow(RelType.ASSOCIATED_WITH_GENE, disease_id, curie, {"source": tag}, origin)


class Hpo3Adapter:
    """Rows from the ontology compiled into the ``hpo3`` package (see the module docstring for what it lacks)."""

    name = NAME

    def __init__(self, version: str) -> None:
        self._version = version

    @property
    def version(self) -> str:
        return self._version

    @classmethod
    def load(cls) -> Hpo3Adapter:
        from pyhpo import Ontology

        Ontology()
        return cls(str(Ontology.version()))

    def rows(self) -> Iterator[Row]:
        # load() built the process-wide hpo3 Ontology; building it again only prints a warning.
        from pyhpo import Ontology

        tag = f"{self.name}@{self.version}"
        origin = f"{NAME}:hpo3"
        root = Ontology.get_hpo_object(PHENOTYPIC_ABNORMALITY)
        phenotypic: set[int] = set()
        for term in Ontology:
            if term.is_obsolete:
                continue
            if root in term.all_parents:
                phenotypic.add(int(term))
            yield NodeRow(Label.PHENOTYPE, term.id, {"name": term.name}, origin)
            for parent in term.parents:
                yield EdgeRow(RelType.IS_A, term.id, parent.id, {"source": tag}, origin)
        for prefix, diseases in (("OMIM", Ontology.omim_diseases), ("ORPHA", Ontology.orpha_diseases)):
            for disease in diseases:
                disease_id = f"{prefix}:{disease.id}"
                yield NodeRow(Label.DISEASE, disease_id, {"name": disease.name}, origin)
                for hpo_int in sorted(disease.hpo):
                    if hpo_int in phenotypic:
                        yield EdgeRow(RelType.HAS_PHENOTYPE, disease_id, f"HP:{hpo_int:07d}", {"source": tag}, origin)
        for gene in Ontology.genes:
            yield NodeRow(Label.GENE, f"NCBIGene:{gene.id}", {"symbol": gene.name}, origin)


def _aspect_terms(aspect: str) -> pl.Expr:
    """The distinct HPO ids a disease's rows of one aspect assert (NOT rows excluded), semicolon-joined."""
    wanted = (pl.col("aspect") == aspect) & (pl.col("qualifier") != "NOT")
    return pl.col("hpo_id").filter(wanted).unique(maintain_order=True).str.join(";")


def hpo_adapters(paths: SourcePaths) -> list[SourceAdapter]:
    """The raw release files (when ``hpo_dir`` is supplied) first, then the compiled hpo3 release.

    Loading both gives the union: the raw files contribute frequencies, onsets, PMIDs,
    definitions, synonyms, DECIPHER and disease-gene links; the newer hpo3 release adds
    the diseases and annotations published since. Where both assert the same node or
    edge the first (raw-file) row keeps its values and provenance, and the validator
    fills in only what it lacks.
    """
    adapters: list[SourceAdapter] = []
    directory = paths.resolve("hpo_dir")
    if directory is not None:
        adapters.append(HpoFilesAdapter.from_dir(directory))
    adapters.append(Hpo3Adapter.load())
    return adapters
