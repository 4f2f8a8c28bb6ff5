"""The lifecycle as a Mermaid flowchart: stages in funnel order, each with its owner."""

from __future__ import annotations

from ..agreement.describe import party_label, short_label
from ..agreement.models import AgreementSpec, Stage
from .markdown import Md, mermaid_label

# Fill and stroke per party, in the order the agreement lists its parties.
_PALETTE = (("#e3f2fd", "#1e88e5"), ("#fff3e0", "#fb8c00"), ("#e8f5e9", "#43a047"),
            ("#f3e5f5", "#8e24aa"))


def lifecycle_flowchart(spec: AgreementSpec) -> Md:
    """`flowchart LR`: the funnel as a chain; stages a lead only reaches with a disposition
    code (nurture, disqualified) grouped apart, since they are exits, not the next step.
    Terminal stages are drawn round."""
    ids = {stage.id: f"s{i}" for i, stage in enumerate(spec.stages)}
    funnel = [s for s in spec.stages if not s.requires_disposition]
    exits = [s for s in spec.stages if s.requires_disposition]

    def node(stage: Stage) -> str:
        owner = party_label(spec, stage.owner) if stage.owner else "no owner"
        # Short names (`MQL` for "Marketing-qualified lead") keep the chain readable at the
        # page's width; the table under the diagram gives the full titles.
        name = short_label(stage.id, stage.title)
        label = f"{mermaid_label(name)}<br/>{mermaid_label(owner)}"
        return f'{ids[stage.id]}(["{label}"])' if stage.terminal else f'{ids[stage.id]}["{label}"]'

    def group(stages: list[Stage], indent: str) -> list[str]:
        lines = [indent + node(s) for s in stages]
        if len(stages) > 1:
            lines.append(indent + " --> ".join(ids[s.id] for s in stages))
        return lines

    lines = ["flowchart LR", *group(funnel or exits, "    ")]
    if funnel and exits:
        # An invisible link from the first stage puts the exits under the chain, not after
        # its end, so the diagram stays as wide as the funnel.
        lines += ['    subgraph exits["With a disposition code"]', "        direction LR",
                  *[f"        {node(s)}" for s in exits], "    end",
                  f"    {ids[funnel[0].id]} ~~~ exits"]
    for i, party in enumerate(spec.parties):
        members = [ids[s.id] for s in spec.stages if s.owner == party]
        if members:
            fill, stroke = _PALETTE[i % len(_PALETTE)]
            lines += [f"    classDef party{i} fill:{fill},stroke:{stroke}",
                      f"    class {','.join(members)} party{i}"]
    return Md("\n".join(lines))


__all__ = ["lifecycle_flowchart"]
