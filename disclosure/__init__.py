"""What was withheld and what changed: a production's disclosure report, and the diff of two
releases of the same records (documents matched by content, pages, redactions, exemptions,
text and tables compared).

    from foiarchive import Archive
    from foiarchive.disclosure import diff_productions, disclosure_report

    with Archive("foiarchive-archive").catalog() as catalog:
        report = disclosure_report(catalog, "ice-2017-r1")
        changes = diff_productions(catalog, "ice-2016-r1", "ice-2017-r1")
"""

from foiarchive.disclosure.diff import Diff, diff_productions, summarize
from foiarchive.disclosure.report import Report, disclosure_report

__all__ = ["Diff", "Report", "diff_productions", "disclosure_report", "summarize"]
