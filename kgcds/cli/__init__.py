"""The ``kgcds`` command-line tool. Each capability adds its subcommands in its own module.

Subcommands are imported only when invoked: the diagnosis ranker pulls in scikit-learn and
the API pulls in Litestar, and ``kgcds stats`` should not pay for either.
"""

from __future__ import annotations

import importlib

import click

# name -> (module, attribute, one-line help shown by ``kgcds --help``)
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "load": ("kgcds.cli.graph_commands", "load_command", "Build the knowledge graph from every source."),
    "stats": ("kgcds.cli.graph_commands", "stats_command", "Count nodes per label and relationships per type."),
    "export": ("kgcds.cli.export_commands", "export_command", "Write the graph as RDF (Turtle or N-Triples)."),
    "normalize": ("kgcds.cli.normalize_commands", "normalize_group", "Map drug or condition codes/text to concepts."),
    "rules": ("kgcds.cli.rules_commands", "rules_group", "Validate, test and report on the medication rules."),
    "serve": ("kgcds.cli.serve_commands", "serve_command", "Serve the CDS Hooks API."),
    "evaluate": ("kgcds.cli.evaluate_commands", "evaluate_group", "Evaluate the differential-diagnosis ranker."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = SUBCOMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attr, _ = entry
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUBCOMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kgcds: knowledge-graph clinical decision support.

    Build the disease-symptom-drug-gene graph, inspect it, map codes, and serve
    CDS Hooks. Settings come from flags and KGCDS_* environment variables.
    """
