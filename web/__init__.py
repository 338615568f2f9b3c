"""The read-only web app behind `foiarchive serve`: search, the page viewer, production
reports and diffs for people, and the same data as JSON under /api/.

    from pathlib import Path
    import uvicorn
    from web import Archive, create_app

    app = create_app(Archive(Path("foiarchive-archive")))
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from web.access import AccessPolicy, CredentialError
from web.app import create_app
from web.reader import Archive, Reader
from web.server import serve

__all__ = ["AccessPolicy", "Archive", "CredentialError", "Reader", "create_app", "serve"]
