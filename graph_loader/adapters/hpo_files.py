"""Parsers for the three raw HPO release files: ``hp.obo``, ``phenotype.hpoa``, ``genes_to_phenotype.txt``.

Kept apart from :mod:`graph_loader.adapters.hpo` so the row-building code reads the
same whether the data came from these files or from the compiled ``hpo3`` package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from graph_loader.adapters.hpo_frequency import EXCLUDED, FrequencyError, parse_frequency

OBO_FILE = "hp.obo"
HPOA_FILE = "phenotype.hpoa"
GENES_FILE = "genes_to_phenotype.txt"

_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"')
# hp.obo writes other vocabularies' prefixes its own way; the schema's code systems use these.
_XREF_PREFIXES = {"SNOMEDCT_US": "SNOMEDCT", "MSH": "MESH", "UMLS": "UMLS", "NCIT": "NCIT", "ORPHA": "ORPHA"}


@dataclass(slots=True)
class OboTerm:
    id: str
    line_no: int
    name: str = ""
    definition: str = ""
    synonyms: list[str] = field(default_factory=list)
    xrefs: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    obsolete: bool = False


def _unquote(value: str) -> str:
    found = _QUOTED.match(value)
    return found.group(1).replace('\\"', '"') if found else value


def _xref_curie(value: str) -> str | None:
    prefix, sep, local = value.split(" ", 1)[0].partition(":")
    mapped = _XREF_PREFIXES.get(prefix)
    return f"{mapped}:{local}" if sep and mapped and local else None


def obo_release(path: Path) -> str:
    """The release date from ``data-version: hp/releases/2025-01-16`` (or the file's ``owl:versionInfo``)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("data-version:"):
                return line.split(":", 1)[1].strip().rsplit("/", 1)[-1]
            if line.startswith("[Term]"):
                break
    raise ValueError(f"{path}: no data-version header, so the HPO release is unknown")


def parse_obo(path: Path) -> Iterator[OboTerm]:
    """Every ``[Term]`` stanza of an OBO file, obsolete ones flagged."""
    term: OboTerm | None = None
    in_term = False
    with path.open(encoding="utf-8") as lines:
        for line_no, raw in enumerate(lines, start=1):
            line = raw.rstrip("\n")
            if line.startswith("["):
                if term is not None:
                    yield term
                term, in_term = None, line == "[Term]"
                continue
            if not in_term or not line or ":" not in line:
                continue
            tag, value = (part.strip() for part in line.split(":", 1))
            if tag == "id":
                term = OboTerm(id=value, line_no=line_no)
            elif term is None:
                continue
            elif tag == "name":
                term.name = value
            elif tag == "def":
                term.definition = _unquote(value)
            elif tag == "synonym":
                term.synonyms.append(_unquote(value))
            elif tag == "xref":
                curie = _xref_curie(value)
                if curie:
                    term.xrefs.append(curie)
            elif tag == "is_a":
                term.parents.append(value.split("!", 1)[0].strip())
            elif tag == "is_obsolete":
                term.obsolete = value == "true"
    if term is not None:
        yield term


@dataclass(frozen=True, slots=True)
class Annotation:
    """One disease-phenotype pair, the hpoa rows that assert it already merged."""

    disease_id: str
    hpo_id: str
    line_no: int
    frequency: float | None
    frequency_term: str
    onset: str
    evidence: str
    references: list[str]
    excluded: bool


def _leading_comment_lines(path: Path) -> int:
    count = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#"):
                break
            count += 1
    return count


def read_hpoa(path: Path) -> pl.DataFrame:
    """phenotype.hpoa as strings, with ``line_no`` (1-based, counting the header lines)."""
    skipped = _leading_comment_lines(path)
    frame = pl.read_csv(
        path,
        separator="\t",
        skip_rows=skipped,
        infer_schema=False,
        quote_char=None,
    ).fill_null("")
    expected = {
        "database_id",
        "disease_name",
        "qualifier",
        "hpo_id",
        "reference",
        "evidence",
        "onset",
        "frequency",
        "aspect",
    }
    missing = expected - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    # +2: one for the header line, one because line numbers start at 1.
    return frame.with_row_index("line_no", offset=skipped + 2).with_columns(pl.col("line_no").cast(pl.Int64))


def hpoa_release(path: Path) -> str | None:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#"):
                return None
            if line.startswith("#version:"):
                return line.split(":", 1)[1].strip()
    return None


def frequency_values(texts: list[str]) -> tuple[dict[str, float | None], list[str]]:
    """Each distinct frequency text's value, and the reasons for those that could not be read."""
    values: dict[str, float | None] = {}
    problems: list[str] = []
    for text in texts:
        try:
            values[text] = parse_frequency(text)
        except FrequencyError as exc:
            values[text] = None
            problems.append(str(exc))
    return values, problems


def _joined(column: str) -> pl.Expr:
    return pl.col(column).filter(pl.col(column) != "").unique(maintain_order=True).str.join(";")


def merge_annotations(hpoa: pl.DataFrame, frequencies: dict[str, float | None]) -> Iterator[Annotation]:
    """Phenotypic-abnormality (aspect P) rows grouped per disease-phenotype pair.

    Several rows per pair are common (one per publication). Counts ``n/m`` are pooled
    (sum n / sum m) because they are observations of patients; without counts the
    highest stated frequency wins. NOT rows (the disease is known to lack the feature)
    only decide the edge when no row asserts the feature: then the edge is an explicit
    exclusion with frequency 0.0.
    """
    readable = pl.col("value").is_not_null()  # an unreadable n/m (say 9/4) must not be pooled
    rows = (
        hpoa.filter(pl.col("aspect") == "P")
        .with_columns(
            excluded=pl.col("qualifier") == "NOT",
            value=pl.col("frequency").replace_strict(frequencies, default=None, return_dtype=pl.Float64),
        )
        .with_columns(
            n=pl.when(readable).then(pl.col("frequency").str.extract(r"^\s*(\d+)\s*/\s*\d+\s*$").cast(pl.Int64)),
            m=pl.when(readable).then(pl.col("frequency").str.extract(r"^\s*\d+\s*/\s*(\d+)\s*$").cast(pl.Int64)),
        )
    )
    pair = ["database_id", "hpo_id"]
    rows = rows.filter(pl.col("excluded") == (pl.col("excluded").all().over(pair)))
    merged = rows.group_by(pair, maintain_order=True).agg(
        pl.col("line_no").min(),
        pl.col("excluded").first(),
        pl.col("n").sum().alias("n_sum"),
        pl.col("m").sum().alias("m_sum"),
        pl.col("value").max().alias("value_max"),
        _joined("frequency").alias("frequency_term"),
        _joined("onset").alias("onset"),
        _joined("evidence").alias("evidence"),
        pl.col("reference")
        .str.split(";")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .str.strip_chars()
        .unique(maintain_order=True)
        .alias("refs"),
    )
    for rec in merged.iter_rows(named=True):
        excluded = bool(rec["excluded"])
        if excluded:
            frequency: float | None = 0.0
        elif rec["m_sum"]:
            frequency = min(1.0, rec["n_sum"] / rec["m_sum"])
        else:
            frequency = rec["value_max"]
        evidence = rec["evidence"] or ""
        yield Annotation(
            disease_id=rec["database_id"],
            hpo_id=rec["hpo_id"],
            line_no=rec["line_no"],
            frequency=frequency,
            frequency_term=EXCLUDED if excluded else rec["frequency_term"] or "",
            onset=rec["onset"] or "",
            evidence=f"NOT {evidence}".strip() if excluded else evidence,
            references=[r for r in rec["refs"] if r],
            excluded=excluded,
        )


def read_genes(path: Path) -> pl.DataFrame:
    """Distinct (gene, disease) pairs of genes_to_phenotype.txt, with the first line each appears on."""
    frame = pl.read_csv(path, separator="\t", infer_schema=False, quote_char=None).fill_null("")
    missing = {"ncbi_gene_id", "gene_symbol", "disease_id"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    return (
        frame.with_row_index("line_no", offset=2)
        .with_columns(pl.col("line_no").cast(pl.Int64))
        .group_by(["ncbi_gene_id", "gene_symbol", "disease_id"], maintain_order=True)
        .agg(pl.col("line_no").min())
    )
