"""The numbers behind the bar charts, worked out here so templates only draw them."""

from __future__ import annotations

from dataclasses import dataclass

from foiarchive.disclosure.diff import Diff, percent
from foiarchive.disclosure.report import Report
from foiarchive.schemas.exemptions import exemption_label

#: Documents in a per-document chart: the most redacted (or most changed) first.
CHART_DOCUMENTS = 30
#: Characters of a label that fit beside a bar; longer ones keep their end (the file name).
LABEL_CHARACTERS = 30


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1 of the longest bar
    shown: str  # the figure written beside it
    second: float | None = None  # a paired bar (the other release), 0..1

    @property
    def short_label(self) -> str:
        if len(self.label) <= LABEL_CHARACTERS:
            return self.label
        return "…" + self.label[-(LABEL_CHARACTERS - 1) :]


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    legend: tuple[str, str] | None = None  # names of the paired bars


def report_charts(report: Report) -> list[Chart]:
    charts = []
    if report.exemptions_by_code:
        top = max(report.exemptions_by_code.values())
        charts.append(
            Chart(
                "Pages citing each exemption",
                [
                    Bar(exemption_label(code), count / top, f"{count:,}")
                    for code, count in report.exemptions_by_code.items()
                ],
            )
        )
    if report.exemption_cells_by_code:
        top = max(report.exemption_cells_by_code.values())
        charts.append(
            Chart(
                "Spreadsheet cells citing each exemption",
                [
                    Bar(exemption_label(code), count / top, f"{count:,}")
                    for code, count in report.exemption_cells_by_code.items()
                ],
            )
        )
    shares = sorted(report.redacted_share_by_document.items(), key=lambda kv: (-kv[1], kv[0]))
    if shares:
        largest = shares[0][1]
        title = "Redacted share of each document's page area"
        if len(shares) > CHART_DOCUMENTS:
            title += f" ({CHART_DOCUMENTS} most redacted of {len(shares)})"
        charts.append(
            Chart(
                title,
                [
                    Bar(path, share / largest, percent(share))
                    for path, share in shares[:CHART_DOCUMENTS]
                ],
            )
        )
    return charts


def diff_charts(diff: Diff) -> list[Chart]:
    charts = []
    changes = diff.largest_redaction_changes(CHART_DOCUMENTS)
    top = max((max(c.old.redacted_share, c.new.redacted_share) for c in changes), default=0)
    if top > 0:
        charts.append(
            Chart(
                "Redacted share of each document, old and new (largest changes first)",
                [
                    Bar(
                        c.new.path,
                        c.old.redacted_share / top,
                        f"{percent(c.old.redacted_share)} → {percent(c.new.redacted_share)}",
                        c.new.redacted_share / top,
                    )
                    for c in changes
                ],
                (diff.old.production, diff.new.production),
            )
        )
    old, new = diff.old.exemptions, diff.new.exemptions
    top = max([*old.values(), *new.values(), 0])
    if top:
        charts.append(
            Chart(
                "Pages citing each exemption, old and new",
                [
                    Bar(
                        exemption_label(code),
                        old.get(code, 0) / top,
                        f"{old.get(code, 0):,} → {new.get(code, 0):,}",
                        new.get(code, 0) / top,
                    )
                    for code in sorted(set(old) | set(new))
                ],
                (diff.old.production, diff.new.production),
            )
        )
    return charts
