"""Which search backends an archive uses, from the command line, the environment or config.toml.

The embedded Tantivy index is always there. Elasticsearch is used when a URL is configured,
first found in: the `--es-url` option, `FOIARCHIVE_ES_URL`, then `ARCHIVE/config.toml`
(`foiarchive.Archive` resolves them once, in that order):

    [elasticsearch]
    url = "https://search.example.org:9200"
    index = "foiarchive-pages"      # the alias searched; one per archive
    api_key = "..."                 # or FOIARCHIVE_ES_API_KEY
    ca_certs = "/etc/ssl/certs/cluster-ca.pem"
    timeout = 30                    # seconds per request
    shards = 1
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from foiarchive.index.backend import BackendError

DEFAULT_ES_INDEX = "foiarchive-pages"

_ENVIRONMENT = {
    "url": "FOIARCHIVE_ES_URL",
    "index": "FOIARCHIVE_ES_INDEX",
    "api_key": "FOIARCHIVE_ES_API_KEY",
}


@dataclass(frozen=True)
class ElasticsearchSettings:
    url: str
    index: str = DEFAULT_ES_INDEX
    api_key: str | None = None
    ca_certs: str | None = None
    timeout: float = 30.0
    shards: int = 1


def elasticsearch_settings(
    config_file: Path, *, url: str | None = None
) -> ElasticsearchSettings | None:
    """The configured cluster, or None when the archive searches only its embedded index."""
    values = _config_file(config_file)
    for key, variable in _ENVIRONMENT.items():
        if os.environ.get(variable):
            values[key] = os.environ[variable]
    if url:
        values["url"] = url
    if not values.get("url"):
        return None
    settings = ElasticsearchSettings(**values)
    _check_url(settings.url)
    if not settings.index or settings.index != settings.index.lower() or "," in settings.index:
        raise BackendError(f"Elasticsearch index name {settings.index!r}: use lowercase, no commas")
    return replace(settings, timeout=float(settings.timeout), shards=int(settings.shards))


def watch_webhook(config_file: Path) -> str:
    """[watches] webhook in config.toml: a URL that receives the watches' news as JSON."""
    if not config_file.exists():
        return ""
    try:
        document = tomllib.loads(config_file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BackendError(f"{config_file}: cannot read the configuration: {exc}") from None
    section = document.get("watches", {})
    url = section.get("webhook", "") if isinstance(section, dict) else ""
    if not isinstance(url, str) or (url and urlsplit(url).scheme not in ("http", "https")):
        raise BackendError(f"{config_file}: watches.webhook must be an http(s) URL")
    return url


def _check_url(url: str) -> None:
    """The client wants scheme, host and port; say so in one line rather than a traceback."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port, parts = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port:
        raise BackendError(
            f"Elasticsearch URL {url!r}: give scheme, host and port, such as http://localhost:9200"
        )


def _config_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BackendError(f"{path}: cannot read the configuration: {exc}") from None
    section = document.get("elasticsearch", {})
    if not isinstance(section, dict):
        raise BackendError(f"{path}: [elasticsearch] must be a table")
    known = {f.name for f in fields(ElasticsearchSettings)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise BackendError(
            f"{path}: unknown setting elasticsearch.{unknown[0]} "
            f"(known: {', '.join(sorted(known))})"
        )
    for key in ("timeout", "shards"):
        if key in section and (
            not isinstance(section[key], int | float) or isinstance(section[key], bool)
        ):
            raise BackendError(f"{path}: elasticsearch.{key} must be a number")
    for key in ("url", "index", "api_key", "ca_certs"):
        if key in section and not isinstance(section[key], str):
            raise BackendError(f"{path}: elasticsearch.{key} must be text (in quotes)")
    return dict(section)
