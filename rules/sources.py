"""Human labels and links for the dataset tags findings cite."""

from __future__ import annotations

from functools import lru_cache

_KNOWN: tuple[tuple[str, str, str | None], ...] = (
    (
        "onc_non_interruptive",
        "ONC non-interruptive DDI list (Phansalkar et al. 2013)",
        "https://doi.org/10.1136/amiajnl-2012-001089",
    ),
    ("onc", "ONC High-Priority DDI list (Phansalkar et al. 2012)", "https://doi.org/10.1136/amiajnl-2011-000612"),
    (
        "ansm",
        "ANSM Thésaurus des interactions médicamenteuses",
        "https://ansm.sante.fr/documents/reference/thesaurus-des-interactions-medicamenteuses-1",
    ),
    ("worldvista", "ANSM thesaurus, WorldVistA English subset", None),
    ("cpic", "CPIC guideline", "https://cpicpgx.org/guidelines/"),
    ("stopp", "STOPP/START v2 (O'Mahony et al. 2015; Huibers et al. 2018)", "https://doi.org/10.1093/ageing/afu145"),
    ("drugcentral", "DrugCentral", "https://drugcentral.org"),
    ("allergy", "kgcds allergy groups (seeded from DrugCentral)", None),
)


def dataset_name(tag: str) -> str:
    return tag.split("@", 1)[0]


def dataset_version(tag: str) -> str:
    return tag.split("@", 1)[1] if "@" in tag else ""


@lru_cache(maxsize=256)
def label_for(tag: str) -> tuple[str, str | None]:
    name = dataset_name(tag).lower()
    for prefix, label, url in _KNOWN:
        if name.startswith(prefix):
            return label, url
    return name, None
