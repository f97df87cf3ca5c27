"""Settings, read from flags and ``KGCDS_*`` environment variables at start-up (never at import)."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph_loader.config import SourcePaths

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """``../shared/data`` beside the checkout in development; ``./data`` otherwise."""
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else Path.cwd() / "data"


def default_hpo_dir() -> Path | None:
    """The raw HPO release files ``make install`` unpacks into the virtual environment, if present."""
    candidate = Path(sys.prefix) / "share" / "kgcds" / "hpo"
    return candidate if (candidate / "phenotype.hpoa").is_file() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KGCDS_", extra="forbid")

    home: Path = Field(default_factory=lambda: Path.cwd() / ".kgcds")
    """Where the embedded store, compiled index cache and feedback database live."""
    data_dir: Path = Field(default_factory=default_data_dir)
    store: str = "embedded"
    """``embedded`` (default), a directory path, or a Bolt/Neo4j URI such as ``bolt://127.0.0.1:7687``."""
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str | None = None
    neo4j_batch_size: int = 10_000
    atc_file: Path | None = None
    """WHO ATC CSV; user-supplied (non-commercial licence), so off unless given."""
    hpo_dir: Path | None = Field(default_factory=default_hpo_dir)
    """Raw HPO release (hp.obo, phenotype.hpoa, genes_to_phenotype.txt); None loads only the hpo3 package data."""

    @field_validator("hpo_dir", "atc_file", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        # KGCDS_HPO_DIR= (empty) switches the optional source off rather than naming the cwd.
        return None if value == "" else value

    def source_paths(self) -> SourcePaths:
        return SourcePaths(data_dir=self.data_dir, atc=self.atc_file, hpo_dir=self.hpo_dir)

    @property
    def embedded_path(self) -> Path:
        if self.store == "embedded":
            return self.home / "graph"
        return Path(self.store)

    @property
    def is_bolt(self) -> bool:
        return self.store.split("://", 1)[0] in {"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"}
