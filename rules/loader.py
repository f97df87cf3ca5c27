"""Read rule and override YAML files, reporting every problem with its file and line.

PyYAML's node tree keeps line marks; pydantic's error locations are walked down that
tree so each message points at the offending key, not just the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rules.schema import OverrideFile, Rule

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class RuleProblem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class RuleSetError(ValueError):
    """A rule set that must not be used; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:5]) + (" ..." if len(self.problems) > 5 else ""))


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int:
    """1-based line of the deepest node ``loc`` reaches (pydantic's error location)."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    node = value
                    # Point at the key: for a missing or wrong value that is where the pharmacist looks.
                    line = key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# libyaml is ~15x faster than the pure-Python parser; fall back when PyYAML was built without it.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _duplicate_keys(node: yaml.Node | None, path: Path) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[object] = set()
            for key, value in current.value:
                if key.value in seen:
                    problems.append(RuleProblem(path, key.start_mark.line + 1, f"{key.value}: key given twice"))
                seen.add(key.value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return sorted(problems, key=lambda p: p.line)


def load_model(path: Path, model: type[M]) -> tuple[M | None, list[RuleProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_FAST_LOADER)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        return None, [RuleProblem(path, line, f"YAML syntax: {exc.problem or exc}")]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [RuleProblem(path, 1, f"cannot read: {exc}")]
    if not isinstance(data, dict):
        return None, [RuleProblem(path, 1, f"expected a mapping at the top, found {type(data).__name__}")]
    # YAML keeps the last of two equal keys without a word; a pharmacist would never see the first vanish.
    duplicates = _duplicate_keys(yaml.compose(text, Loader=_FAST_LOADER), path)
    if duplicates:
        return None, duplicates
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        # Only a failing file pays for the node tree that carries line numbers.
        node = yaml.compose(text, Loader=_FAST_LOADER)
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            where = ".".join(str(p) for p in loc) or "(top)"
            problems.append(RuleProblem(path, _line_of(node, loc), f"{where}: {error['msg']}"))
        return None, problems


def load_rule(path: Path) -> tuple[Rule | None, list[RuleProblem]]:
    return load_model(path, Rule)


def load_overrides(path: Path) -> tuple[OverrideFile | None, list[RuleProblem]]:
    return load_model(path, OverrideFile)


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
