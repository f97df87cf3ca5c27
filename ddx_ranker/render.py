"""Plain-text (CommonMark) renderings of a ranked disease, for CDS Hooks card details and notebooks."""

from __future__ import annotations

from ddx_ranker.models import Differential, RankedDisease

DISEASE_URLS = {
    "OMIM": "https://omim.org/entry/{}",
    "ORPHA": "https://www.orpha.net/en/disease/detail/{}",
    "DECIPHER": "https://www.deciphergenomics.org/syndrome/{}",
}


def disease_url(disease_id: str) -> str | None:
    prefix, _, local = disease_id.partition(":")
    template = DISEASE_URLS.get(prefix)
    return template.format(local) if template else None


def summary(result: RankedDisease) -> str:
    """One line: rank, name and the post-test probability where calibrated."""
    probability = f" (post-test probability {result.probability:.0%})" if result.probability is not None else ""
    return f"#{result.rank} {result.name}{probability}"


def detail_markdown(result: RankedDisease) -> str:
    """Why the disease is on the list: matches, unexplained findings, expected-but-absent and contradicting ones."""
    lines = [f"**{result.name}** ({result.disease_id})"]
    explanation = result.explanation
    if explanation is None:
        return lines[0]
    if explanation.matched:
        lines.append("\nFindings that fit:")
        for m in explanation.matched:
            how = "" if m.match == "exact" else f" ~ {m.annotation_name} ({m.match})"
            lines.append(f"- {m.finding_name}{how}")
    if explanation.unexplained:
        lines.append("\nFindings this disease does not explain:")
        lines += [f"- {m.finding_name}" for m in explanation.unexplained]
    if explanation.excluded_against:
        lines.append("\nExcluded findings that argue against it:")
        lines += [f"- {e.name} (seen in {e.frequency:.0%} of patients)" for e in explanation.excluded_against]
    if explanation.expected_absent:
        lines.append("\nTypical findings not recorded:")
        lines += [f"- {e.name} ({e.frequency:.0%})" for e in explanation.expected_absent]
    return "\n".join(lines)


def next_findings_markdown(differential: Differential) -> str:
    if not differential.next_findings:
        return ""
    lines = ["Findings worth checking to separate the leading candidates:"]
    for f in differential.next_findings:
        spread = ", ".join(f"{d} {p:.0%}" for d, p in f.frequencies.items())
        lines.append(f"- {f.name} ({spread})")
    return "\n".join(lines)
