"""The release diff as HTML: one rendering for the web page and for `diff --format html`.

The templates live beside this module (disclosure/templates); the web app adds them to its
own loader and wraps the same body in its layout, with links to the viewer.
"""

from __future__ import annotations

from typing import Any

import jinja2

from foiarchive.disclosure.charts import diff_charts
from foiarchive.disclosure.diff import Diff, percent, summarize
from foiarchive.disclosure.page_images import RegionChange
from foiarchive.schemas.exemptions import exemption_label


def template_loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader("foiarchive.disclosure", "templates")


def add_helpers(environment: jinja2.Environment) -> None:
    """The names the templates use, for any environment that renders them."""
    environment.globals.update(
        exemption_label=exemption_label, percent=percent, region_label=region_label
    )
    environment.filters["exemption_label"] = exemption_label


_REGION_LABELS = {
    "released": "Newly released",
    "withheld": "Newly withheld",
    "box_added": "Redaction box added",
    "box_lifted": "Redaction box lifted",
    "marking": "Stamp or marking changed",
}


def region_label(region: RegionChange) -> str:
    """What a changed region is, in words: its direction if text moved, else its kind."""
    label = _REGION_LABELS[region.direction or region.kind]
    if region.direction and region.kind in ("box_added", "box_lifted"):
        label += f" ({_REGION_LABELS[region.kind].lower()})"
    return label


def diff_context(diff: Diff) -> dict[str, Any]:
    """What the diff templates need besides `links`."""
    return {"diff": diff, "summary": summarize(diff), "charts": diff_charts(diff)}


def diff_html(diff: Diff) -> str:
    """A single self-contained page (no outside resources, no links): summary, charts,
    every changed document page by page, and the documents found in one release only."""
    environment = jinja2.Environment(loader=template_loader(), autoescape=True)
    add_helpers(environment)
    page = environment.get_template("diff_page.html")
    return page.render(**diff_context(diff), links=False)
