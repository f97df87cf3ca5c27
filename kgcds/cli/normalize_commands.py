"""``kgcds normalize drug``: map what an EHR sends for a drug to the graph's ingredients."""

from __future__ import annotations

import json

import click

from graph_store.contract import StoreError
from kgcds.cli.common import CliError, build_settings, open_store, store_option
from knowledge_index.drug_lexicon import load_or_build_drug_lexicon
from ontology.drug_normalizer import DrugMatch, normalize_drug
from ontology.schema import load_schema
from ontology.vocab import Label


@click.group("normalize")
def normalize_group() -> None:
    """Map EHR codes and names to the graph's canonical concepts."""


@normalize_group.command("drug")
@click.argument("text", required=False)
@click.option(
    "--code", default=None, metavar="CODE", help="An RxCUI (bare or with --system) or a CURIE such as RXNORM:855332."
)
@click.option(
    "--system",
    default=None,
    metavar="URI",
    help="FHIR system of --code, e.g. http://www.nlm.nih.gov/research/umls/rxnorm.",
)
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print the match as one JSON object.")
def normalize_drug_command(
    text: str | None, code: str | None, system: str | None, store: str | None, as_json: bool
) -> None:
    """Resolve a drug display text, brand, synonym or RxNorm code to its ingredient(s).

    \b
    Examples:
      kgcds normalize drug "Warfarin Sodium 5 MG Oral Tablet"
      kgcds normalize drug COUMADIN --json
      kgcds normalize drug "Amoxicillin 500 MG Oral Capsule" --code 308191

    Unmapped input is an answer (match type "unmapped", with the reason), not an error.
    The lexicon compiled from the store is cached under <home>/index-cache/ until the
    store changes.
    """
    if text is None and code is None:
        raise CliError("give a drug TEXT argument, --code, or both")
    if system is not None and code is None:
        raise CliError("--system: needs --code (it names the code's system)")
    settings = build_settings(store=store)
    schema = load_schema()
    target = open_store(settings, schema)
    try:
        if target.node_counts().get(Label.DRUG.value, 0) == 0:
            raise CliError(f"{target.description} holds no drugs: run `kgcds load` first")
        lexicon, _cached = load_or_build_drug_lexicon(target, settings.home / "index-cache", schema)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    finally:
        target.close()
    match = normalize_drug(lexicon, text=text, code=code, system=system)
    click.echo(json.dumps(match.as_dict(), ensure_ascii=False) if as_json else _describe(match))


def _describe(match: DrugMatch) -> str:
    lines = [f"{ref.name}  ({ref.id})" for ref in match.ingredients] or ["no ingredient found"]
    lines.append(f"match: {match.match_type.value}, confidence {match.confidence:.2f}")
    if match.reason:
        lines.append(f"note: {match.reason}")
    return "\n".join(lines)
