"""The order services' hot path compiled to C with mypyc, and the check that a build matches its sources.

The modules below screen every order-select/order-sign call (patient context, the checks, the cards).
Compiled with mypyc they run the same code with about a quarter fewer instructions per call (README,
"Benchmarks"); everything else stays interpreted. The compiled extensions sit beside their sources
(``rules/context.cpython-311-x86_64-linux-gnu.so`` next to ``rules/context.py``), where Python's import
system prefers them, so a source edited after a build would silently not run. A build therefore records a
fingerprint of every source it depended on, and :func:`mismatch` compares it with the files on disk:
``kgcds serve`` and the test session refuse to start on a stale build rather than run other code than
the source says.

    python -m kgcds.native build [--if-stale]   # compile in place (make does this)
    python -m kgcds.native check                # exit 2 and say why if the build is stale
    python -m kgcds.native clean                # remove the compiled extensions: pure Python again

Without a build (no C compiler, or after ``clean``) everything runs interpreted, with the same results.

Two rules for the modules listed here, both checked by the tests:
- no msgspec ``Struct`` is defined in them: mypyc drops class keywords (python/mypy#21938), so a struct's
  ``frozen=True`` or ``omit_defaults=True`` would be lost. The card structs live in
  :mod:`cds_api.card_models`, which stays interpreted; the engine's records (:mod:`rules.findings`,
  :mod:`rules.patient`) are compiled native classes with written-out constructors instead;
- their classes are native: no monkeypatching or subclassing from interpreted code.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import sys
import sysconfig
from collections.abc import Iterable
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The checkout (the directory holding the packages)."""

COMPILED_MODULES: tuple[str, ...] = (
    "cds_api.card_ids",
    "cds_api.cards",
    "cds_api.fhir_context",
    "cds_api.index_terminology",
    "cds_api.memo",
    "cds_api.prefetch",
    "knowledge_index.allergy",
    "knowledge_index.indications",
    "knowledge_index.pgx",
    "rules.checks",
    "rules.checks.allergy",
    "rules.checks.conditional",
    "rules.checks.drug_drug",
    "rules.checks.duplicate",
    "rules.checks.pgx",
    "rules.context",
    "rules.engine",
    "rules.findings",
    "rules.graph_knowledge",
    "rules.labs",
    "rules.patient",
    "rules.records",
)
GROUP = "kgcds_native"
"""mypyc's shared library for the group, ``kgcds_native__mypyc...so`` at the top of the checkout (the
Makefile's editable install puts the checkout on ``sys.path``). Not inside a package: mypyc then derives
the modules' ``__file__`` and a compiled package's ``__path__`` from the wrong directory."""
FIRST_PARTY = ("cds_api", "graph_loader", "graph_store", "kgcds", "knowledge_index", "ontology", "rules", "ddx_ranker")
RECORD_NAME = "native_build.json"


class NativeBuildError(RuntimeError):
    """The compiled modules do not match their sources (or only some of them are present)."""


def source_file(module: str, root: Path = ROOT) -> Path:
    path = root.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def extension_files(module: str, root: Path = ROOT) -> list[Path]:
    """The module's compiled extension files on disk (none when it runs interpreted)."""
    source = source_file(module, root)
    candidates = (source.with_name(source.stem + suffix) for suffix in EXTENSION_SUFFIXES)
    return [path for path in candidates if path.exists()]


def stray_extensions(root: Path = ROOT, modules: tuple[str, ...] = COMPILED_MODULES) -> list[Path]:
    """Compiled extensions in our packages that belong to no listed module (left by an older build)."""
    listed = {path for module in modules for path in extension_files(module, root)}
    found = (
        path
        for package in FIRST_PARTY
        if (root / package).is_dir()
        for suffix in EXTENSION_SUFFIXES
        for path in (root / package).rglob(f"*{suffix}")
    )
    return sorted({path for path in found if path not in listed})


def _imported_modules(source: Path) -> set[str]:
    """First-party modules ``source`` imports (any import statement, at any depth of the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_bytes(), str(source))):
        names: Iterable[str] = ()
        if isinstance(node, ast.Import):
            names = (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = (node.module, *(f"{node.module}.{alias.name}" for alias in node.names))
        found.update(name for name in names if name.split(".")[0] in FIRST_PARTY)
    return found


def dependencies(modules: Iterable[str] = COMPILED_MODULES, root: Path = ROOT) -> list[Path]:
    """The compiled modules' sources and every first-party source they import, transitively: mypyc compiles
    against the types these declare, so an edit to any of them can change what the build should be."""
    seen: set[Path] = set()
    pending = list(modules)
    while pending:
        module = pending.pop()
        source = source_file(module, root)
        if not source.exists() or source in seen:
            continue  # ``from pkg import name`` also yields pkg.name, which is often not a module
        seen.add(source)
        pending.extend(_imported_modules(source))
    return sorted(seen)


def fingerprint(files: Iterable[Path], root: Path = ROOT) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def record_path(root: Path = ROOT) -> Path:
    return root / "kgcds" / RECORD_NAME


def mismatch(root: Path = ROOT, modules: tuple[str, ...] = COMPILED_MODULES) -> str | None:
    """Why the compiled modules cannot be trusted, or None (a complete, current build, or none at all)."""
    stray = stray_extensions(root, modules)
    if stray:
        return (
            f"compiled extensions of modules no longer compiled: {', '.join(str(p.relative_to(root)) for p in stray)}"
        )
    compiled = [module for module in modules if extension_files(module, root)]
    if not compiled:
        return None
    if len(compiled) < len(modules):
        missing = sorted(set(modules) - set(compiled))
        return f"only some modules are compiled (not {', '.join(missing)})"
    try:
        recorded = json.loads(record_path(root).read_text())["files"]
        if not isinstance(recorded, dict):
            raise TypeError("files is not an object")
    except (OSError, ValueError, KeyError, TypeError):
        return f"the build record {record_path(root)} is missing or unreadable"
    current = fingerprint((root / name for name in recorded if (root / name).exists()), root)
    changed = sorted(name for name in recorded if current.get(name) != recorded[name])
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        return f"sources changed since the build: {shown}"
    added = sorted(set(fingerprint(dependencies(modules, root), root)) - set(recorded))
    if added:
        return f"sources the compiled modules now import were not part of the build: {', '.join(added)}"
    return None


def is_compiled(root: Path = ROOT, modules: tuple[str, ...] = COMPILED_MODULES) -> bool:
    return all(extension_files(module, root) for module in modules)


def require_current(root: Path = ROOT, modules: tuple[str, ...] = COMPILED_MODULES) -> None:
    """Raise :class:`NativeBuildError` when :func:`mismatch` finds a reason; the message says what to run."""
    reason = mismatch(root, modules)
    if reason is not None:
        raise NativeBuildError(
            f"compiled modules are stale: {reason}. Rebuild them (make native, or python -m kgcds.native build) "
            "or remove them to run interpreted (python -m kgcds.native clean)."
        )


def clean(root: Path = ROOT, modules: tuple[str, ...] = COMPILED_MODULES) -> list[Path]:
    removed = [path for module in modules for path in extension_files(module, root)]
    removed += stray_extensions(root, modules)
    removed += [path for path in root.glob(f"{GROUP}__mypyc.*") if path.suffix == ".so"]
    removed += [record_path(root)] if record_path(root).exists() else []
    for path in removed:
        path.unlink()
    return removed


def build(root: Path = ROOT) -> None:
    """Compile :data:`COMPILED_MODULES` in place with mypyc and record the fingerprint of their sources."""
    from mypyc.build import mypycify
    from setuptools import Distribution

    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.exists():
        raise NativeBuildError(
            f"no Python headers ({headers}) for {sys.executable}: install them (Debian: python3-dev) "
            "or run interpreted (make NATIVE=0 ...)"
        )
    compiler = sysconfig.get_config_var("CC") or "cc"
    if shutil.which(compiler.split()[0]) is None:
        raise NativeBuildError(f"no C compiler ({compiler}): install gcc or run interpreted (make NATIVE=0 ...)")
    clean(root)
    files = dependencies(root=root)
    previous = Path.cwd()
    os.chdir(root)  # mypyc resolves the sources and reads [tool.mypy] from the working directory
    try:
        extensions = mypycify(
            [str(source_file(module, root).relative_to(root)) for module in COMPILED_MODULES],
            group_name=GROUP,
            multi_file=True,  # several C files, so the compiler's jobs run on both cores
            target_dir="build/mypyc",
        )
        distribution = Distribution({"name": "kgcds-native", "ext_modules": extensions})
        command = distribution.get_command_obj("build_ext")
        command.inplace = True  # type: ignore[attr-defined]
        command.build_temp = "build/mypyc-temp"  # type: ignore[attr-defined]
        command.parallel = os.cpu_count() or 1  # type: ignore[attr-defined]
        distribution.run_command("build_ext")
    finally:
        os.chdir(previous)
    record_path(root).write_text(json.dumps({"files": fingerprint(files, root)}, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    action = args[0] if args else ""
    if action == "build":
        if "--if-stale" in args and is_compiled() and mismatch() is None:
            print("compiled modules are current")
            return 0
        try:
            build()
        except NativeBuildError as exc:
            print(f"kgcds.native: {exc}", file=sys.stderr)
            return 2
        print(f"compiled {len(COMPILED_MODULES)} modules with mypyc")
        return 0
    if action == "check":
        reason = mismatch()
        if reason is not None:
            print(f"kgcds.native: compiled modules are stale: {reason}", file=sys.stderr)
            return 2
        print("compiled modules are current" if is_compiled() else "no compiled modules: running interpreted")
        return 0
    if action == "clean":
        print(f"removed {len(clean())} files")
        return 0
    print("usage: python -m kgcds.native build [--if-stale] | check | clean", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
