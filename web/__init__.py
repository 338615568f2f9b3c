"""The web app behind `foiarchive serve`: search, the page viewer, production reports and diffs,
batch search and watches for people, and the same data as JSON under /api/.

    from pathlib import Path
    from foiarchive import Archive, web

    web.serve(web.Serving(Path("foiarchive-archive")), port=8000, workers=2)

    # or the ASGI app alone, to mount or test:
    app = web.create_app(web.Served(Archive("foiarchive-archive")))
"""

from foiarchive.web.access import AccessPolicy, CredentialError
from foiarchive.web.app import create_app
from foiarchive.web.reader import Reader, Served
from foiarchive.web.server import Serving, serve

__all__ = [
    "AccessPolicy",
    "CredentialError",
    "Reader",
    "Served",
    "Serving",
    "create_app",
    "serve",
]
