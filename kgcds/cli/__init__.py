"""The ``kgcds`` command-line tool. Each capability adds its subcommands in its own module."""

from __future__ import annotations

import click

from kgcds.cli.graph_commands import load_command, stats_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kgcds: knowledge-graph clinical decision support.

    Build the disease-symptom-drug-gene graph, inspect it, map codes, and serve
    CDS Hooks. Settings come from flags and KGCDS_* environment variables.
    """


main.add_command(load_command)
main.add_command(stats_command)
# Further subcommands register below, one line each.
