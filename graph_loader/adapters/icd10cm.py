"""ICD-10-CM conditions and their hierarchy, from the ``simple-icd-10-cm`` package.

Every item becomes a Disease node ``ICD10CM:<code>``: codes keep their dot
(``ICD10CM:E11.9``), blocks keep their range (``ICD10CM:E08-E13``) and chapters, which
the package numbers 1-22, take the code range their title ends with
(``ICD10CM:E00-E89`` for chapter 4). Ranges cannot clash with codes (codes have no
hyphen), and chapter ranges never equal a block range in this release; the adapter
refuses to run if a future release makes them collide. IS_A edges go child -> parent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from importlib import resources

import simple_icd_10_cm as cm

from graph_loader.adapter import Row
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import Label, RelType

NAME = "icd10cm"
PREFIX = "ICD10CM"
_TABULAR_FILE = re.compile(r"^icd10c-tabular-([A-Za-z]+)-(\d+)-(\d{4})\.xml$")
_CHAPTER_RANGE = re.compile(r"\(([A-Z][0-9A-Z]{2}-[A-Z][0-9A-Z]{2})\)\s*$")


def chapter_ids(codes: list[str]) -> dict[str, str]:
    """The package's chapter numbers ("4") -> the range that identifies them ("E00-E89")."""
    blocks = {c for c in codes if cm.is_block(c)}
    out: dict[str, str] = {}
    for code in codes:
        if not cm.is_chapter(code):
            continue
        found = _CHAPTER_RANGE.search(cm.get_description(code))
        if found is None:
            raise ValueError(f"ICD-10-CM chapter {code}: title {cm.get_description(code)!r} names no code range")
        if found.group(1) in blocks:
            raise ValueError(f"ICD-10-CM chapter {code}: range {found.group(1)} is also a block id")
        out[code] = found.group(1)
    return out


def installed_release() -> str:
    """``2026-04-01`` from the package's ``icd10c-tabular-April-1-2026.xml``."""
    data = resources.files("simple_icd_10_cm").joinpath("data")
    for entry in data.iterdir():
        found = _TABULAR_FILE.match(entry.name)
        if found:
            month = datetime.strptime(found.group(1), "%B").month
            return f"{found.group(3)}-{month:02d}-{int(found.group(2)):02d}"
    raise ValueError(f"simple-icd-10-cm: no icd10c-tabular-<Month>-<day>-<year>.xml in {data}, release unknown")


def _code_range(item: str, chapters: dict[str, str]) -> tuple[str, str]:
    first, _, last = chapters.get(item, item).partition("-")
    return first, last or first


def _container_of(codes: list[str], index: int, chapters: dict[str, str]) -> str:
    """The chapter or block enclosing ``codes[index]``, the nearest one listed before it.

    39 blocks consist of one category with the block's own name (B10, C7A, E36 ...);
    simple-icd-10-cm lists the name twice and gives it itself as parent. Tabular order
    puts every container before its contents, and ICD codes sort the way they are listed.
    Hence B10 -> A00-B99 (its chapter), C7A -> C00-D49, like its sibling blocks.
    """
    code = codes[index]
    for earlier in reversed(codes[:index]):
        # Headings without children (C00-C96 "Malignant neoplasms") are not containers in the package's tree.
        if earlier != code and (cm.is_chapter(earlier) or cm.is_block(earlier)) and cm.get_children(earlier):
            first, last = _code_range(earlier, chapters)
            if first <= code <= last:
                return earlier
    raise ValueError(f"ICD-10-CM {code}: no enclosing block or chapter")


class Icd10CmAdapter:
    """The whole ICD-10-CM tabular list (~98.5k items) as Disease nodes with IS_A edges."""

    name = NAME

    def __init__(self, version: str) -> None:
        self._version = version

    @property
    def version(self) -> str:
        return self._version

    @classmethod
    def installed(cls) -> Icd10CmAdapter:
        """The release packaged with simple-icd-10-cm, read from its tabular file's name."""
        return cls(installed_release())

    def rows(self) -> Iterator[Row]:
        tag = f"{self.name}@{self.version}"
        codes: list[str] = cm.get_all_codes(True)
        chapters = chapter_ids(codes)

        def curie(code: str) -> str:
            return f"{PREFIX}:{chapters.get(code, code)}"

        seen: set[str] = set()
        for position, code in enumerate(codes, start=1):
            if code in seen:
                continue  # the second listing of a block that is also a category (see _container_of)
            seen.add(code)
            origin = f"{NAME}:{position}"
            node_id = curie(code)
            yield NodeRow(Label.DISEASE, node_id, {"name": cm.get_description(code)}, origin)
            parent = cm.get_parent(code)
            if parent == code:
                parent = _container_of(codes, position - 1, chapters)
            if parent:
                yield EdgeRow(RelType.IS_A, node_id, curie(parent), {"source": tag}, origin)
