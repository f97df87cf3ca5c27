"""Where each source file is. Built once at start-up from the data directory, overridable per file."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class SourcePaths(BaseModel):
    """Paths to the source files, relative names resolved against ``data_dir``.

    ``None`` means "not supplied": the adapter for that source is skipped and the
    load report says so (ATC is user-supplied terminology and off unless given).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path
    rxnorm_products: Path | None = Path("rxnorm/rxnorm_prescribe_20251006_product_ingredient_noA.csv")
    rxnorm_ingredients: Path | None = Path("rxnorm/rxnorm_prescribe_20251006_ingredients_noA.csv")
    rxnorm_products_2016: Path | None = Path("rxnorm/rxnorm2016_product_to_ingredient_ehrlink_dhimmel.tsv")
    drugbank_vocabulary: Path | None = Path("drugs/drugbank_vocabulary.csv")
    drugcentral_identifiers: Path | None = Path("drugs/drugcentral2016_identifiers.tsv")
    drugcentral_pharm_class: Path | None = Path("drugs/drugcentral2016_pharm_class.tsv")
    drugcentral_indications: Path | None = Path("drugs/drugcentral2016_drug_indication.tsv")
    pharmacotherapydb_indications: Path | None = Path("drugs/pharmacotherapydb_v1_indications_dhimmel.tsv")
    allergy_seed: Path | None = Path("drugs/allergy_class_seed.csv")
    onc_high_priority: Path | None = Path("ddi/onc_high_priority_mapped.csv")
    onc_non_interruptive: Path | None = Path("ddi/onc_non_interruptive_mapped.csv")
    onc_class_pairs: Path | None = Path("ddi/onc_high_priority_class_pairs.xls")
    ansm_english_subset: Path | None = Path("ddi/worldvista_ansm_english_subset.tsv")
    ansm_thesaurus: Path | None = Path(
        "ddi/ansm/thesaurus-referentiel-national-des-interactions-medicamenteuses-20102020.json"
    )
    ansm_substances: Path | None = Path("ddi/ansm/index-des-substances-20102020.json")
    ansm_rxnorm: Path | None = Path("ddi/ansm/rxnorm_mappings.tsv")
    cpic_pairs: Path | None = Path("pgx/cpic-table.csv")
    cpic_recommendations: Path | None = Path("pgx/recommendation-table.csv")
    atc: Path | None = None
    hpo_dir: Path | None = None
    """A directory with hp.obo / phenotype.hpoa / genes_to_phenotype.txt; None uses the installed hpo3 data."""

    def resolve(self, name: str) -> Path | None:
        """The absolute path of a source, or None when it is not supplied."""
        value = getattr(self, name)
        if value is None:
            return None
        path = Path(value)
        return path if path.is_absolute() else self.data_dir / path
