"""Typed names for the schema's node labels and relationship types.

These mirror ``kgcds_schema.ttl``; :func:`ontology.schema.load_schema` refuses to
load a schema file whose labels differ from these, so code and ontology cannot drift.
"""

from enum import StrEnum


class Label(StrEnum):
    DISEASE = "Disease"
    PHENOTYPE = "Phenotype"
    DRUG = "Drug"
    DRUG_PRODUCT = "DrugProduct"
    DRUG_CLASS = "DrugClass"
    GENE = "Gene"
    LAB_TEST = "LabTest"
    CASE = "Case"


class RelType(StrEnum):
    IS_A = "IS_A"
    HAS_PHENOTYPE = "HAS_PHENOTYPE"
    ASSOCIATED_WITH_GENE = "ASSOCIATED_WITH_GENE"
    HAS_INGREDIENT = "HAS_INGREDIENT"
    MEMBER_OF_CLASS = "MEMBER_OF_CLASS"
    HAS_ACTIVE_MOIETY = "HAS_ACTIVE_MOIETY"
    INTERACTS_WITH = "INTERACTS_WITH"
    TREATS = "TREATS"
    CONTRAINDICATED_IN = "CONTRAINDICATED_IN"
    PGX_AFFECTS = "PGX_AFFECTS"
    CROSS_REACTS_WITH = "CROSS_REACTS_WITH"
    HAS_FINDING = "HAS_FINDING"
    DIAGNOSED_WITH = "DIAGNOSED_WITH"


class Severity(StrEnum):
    """Interaction / contraindication severity tiers, most severe first."""

    CONTRAINDICATED = "contraindicated"
    MAJOR = "major"
    MODERATE = "moderate"
    MINOR = "minor"

    @property
    def rank(self) -> int:
        """0 for the most severe tier; lets callers pick the worst of several."""
        return list(Severity).index(self)


class ClassType(StrEnum):
    EPC = "EPC"
    MOA = "MoA"
    PE = "PE"
    PA = "PA"
    CS = "CS"
    CHEMICAL = "chemical"
    ATC = "atc"
    ANSM_CLASS = "ansm_class"
    ONC_DDI_CLASS = "onc_ddi_class"
    ALLERGY_GROUP = "allergy_group"
