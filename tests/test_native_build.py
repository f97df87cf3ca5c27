"""The mypyc build of the hot path (:mod:`kgcds.native`): what may be compiled, and the staleness check.

The fake checkout used below::

    rules/
      a.py   imports rules.b       (the compiled module)
      b.py   imports nothing       (a dependency: its types shape a's build)
      c.py   imported by nobody
"""

from __future__ import annotations

import importlib
import json
import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import msgspec
import pytest

from cds_api.card_models import Card, Source
from kgcds import native

FAKE = ("rules.a",)


@pytest.mark.parametrize("module_name", native.COMPILED_MODULES)
def test_compiled_modules_define_no_msgspec_struct(module_name: str) -> None:
    # mypyc drops class keywords (frozen=, omit_defaults=): a struct defined here would change the wire.
    module = importlib.import_module(module_name)
    own = [obj for obj in vars(module).values() if isinstance(obj, type) and obj.__module__ == module_name]
    structs = [cls.__name__ for cls in own if issubclass(cls, msgspec.Struct)]
    assert structs == [], f"{module_name} defines msgspec structs {structs}: move them to an interpreted module"


def test_card_struct_keeps_its_class_keywords() -> None:
    card = Card(uuid="u", summary="s", indicator="info", source=Source(label="kgcds"))
    assert Card.__struct_config__.frozen and Card.__struct_config__.omit_defaults
    assert msgspec.json.decode(msgspec.json.encode(card)) == {
        "uuid": "u",
        "summary": "s",
        "indicator": "info",
        "source": {"label": "kgcds"},
    }


def test_session_runs_the_build_it_was_asked_for() -> None:
    expected = os.environ.get("KGCDS_EXPECT_NATIVE")
    if expected not in ("0", "1"):
        pytest.skip("KGCDS_EXPECT_NATIVE not set (make unit sets it)")
    import cds_api.cards
    import rules.context

    suffixes = tuple(EXTENSION_SUFFIXES)
    assert rules.context.__file__.endswith(suffixes) is (expected == "1")
    assert (cds_api.cards.__file__ or "").endswith(suffixes) is (expected == "1")
    for name in native.COMPILED_MODULES:
        # Each beside its source: mypyc derives __file__ (and a package's __path__) from its shared library.
        module = importlib.import_module(name)
        assert Path(module.__file__ or "").parent == native.source_file(name).parent, name


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "kgcds").mkdir()
    (tmp_path / "rules" / "__init__.py").write_text("")
    (tmp_path / "rules" / "a.py").write_text("from rules.b import twice\n\n\ndef f() -> int:\n    return twice(2)\n")
    (tmp_path / "rules" / "b.py").write_text("def twice(x: int) -> int:\n    return 2 * x\n")
    (tmp_path / "rules" / "c.py").write_text("X = 1\n")
    return tmp_path


def _fake_build(root: Path) -> None:
    (root / "rules" / f"a{EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    files = native.dependencies(FAKE, root)
    native.record_path(root).write_text(json.dumps({"files": native.fingerprint(files, root)}))


def test_dependencies_follow_first_party_imports(fake_root: Path) -> None:
    found = {path.relative_to(fake_root).as_posix() for path in native.dependencies(FAKE, fake_root)}
    assert found == {"rules/a.py", "rules/b.py"}


def test_no_build_is_not_stale(fake_root: Path) -> None:
    assert native.mismatch(fake_root, FAKE) is None
    assert not native.is_compiled(fake_root, FAKE)


def test_current_build_passes_and_an_edited_dependency_is_stale(fake_root: Path) -> None:
    _fake_build(fake_root)
    assert native.is_compiled(fake_root, FAKE)
    assert native.mismatch(fake_root, FAKE) is None
    (fake_root / "rules" / "c.py").write_text("X = 2\n")  # not a dependency: still current
    assert native.mismatch(fake_root, FAKE) is None
    (fake_root / "rules" / "b.py").write_text("def twice(x: int) -> float:\n    return 2.0 * x\n")
    reason = native.mismatch(fake_root, FAKE)
    assert reason is not None and "rules/b.py" in reason
    with pytest.raises(native.NativeBuildError, match="make native"):
        native.require_current(fake_root, FAKE)


def test_missing_record_and_partial_build_are_stale(fake_root: Path) -> None:
    _fake_build(fake_root)
    native.record_path(fake_root).unlink()
    assert "build record" in (native.mismatch(fake_root, FAKE) or "")
    _fake_build(fake_root)
    reason = native.mismatch(fake_root, ("rules.a", "rules.b"))
    assert reason is not None and "rules.b" in reason


def test_an_extension_left_by_an_older_build_is_stale_and_cleaned(fake_root: Path) -> None:
    _fake_build(fake_root)
    leftover = fake_root / "rules" / f"c{EXTENSION_SUFFIXES[0]}"  # c was compiled once, no longer listed
    leftover.write_bytes(b"")
    reason = native.mismatch(fake_root, FAKE)
    assert reason is not None and "rules/c" in reason
    assert leftover in native.clean(fake_root, FAKE) and not leftover.exists()


def test_clean_removes_the_extensions_and_the_record(fake_root: Path) -> None:
    _fake_build(fake_root)
    removed = native.clean(fake_root, FAKE)
    assert {path.name for path in removed} >= {f"a{EXTENSION_SUFFIXES[0]}", native.RECORD_NAME}
    assert native.mismatch(fake_root, FAKE) is None and not native.is_compiled(fake_root, FAKE)
