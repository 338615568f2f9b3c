"""LibreOffice (`soffice`), headless: version, and converting one file to another format.

Each conversion runs with a throwaway profile of its own (parallel conversions would collide
over a shared one) and, where the system allows a private network namespace (`unshare -rn`),
cannot reach the network. Its process group is killed on a timeout: `soffice` starts
`soffice.bin`, which would otherwise go on converting after we gave up.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

from foiarchive.ingest.programs.runner import Program, ProgramError, run

PROBE_TIMEOUT = 60
OFFLINE_PROBE_TIMEOUT = 30

SOFFICE = Program(
    "LibreOffice",
    ("soffice", "libreoffice"),
    "apt-get install libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui",
    needed_for="; it is needed to read Office documents",
)


def path() -> str:
    """The soffice command, or ProgramMissing saying how to install it."""
    return SOFFICE.path()


@functools.cache
def offline_prefix() -> tuple[str, ...]:
    """A command prefix that runs a program without network access, when the system allows."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    try:
        probe = run([unshare, "-rn", "true"], timeout=OFFLINE_PROBE_TIMEOUT, check=False)
    except ProgramError:
        return ()
    return (unshare, "-rn") if probe.returncode == 0 else ()


@functools.cache
def _identity() -> str:
    done = SOFFICE.run(["--version"], timeout=PROBE_TIMEOUT, check=False)
    return done.stdout.decode("utf-8", "replace")


def version() -> str:
    """'7.4.7.2', from `soffice --version`; ProgramError when it cannot be asked."""
    found = re.search(r"\b\d+(?:\.\d+)+\b", _identity())
    if found is None:
        raise ProgramError(SOFFICE.name, "LibreOffice did not say its version")
    return found.group()


@functools.cache
def agent() -> str:
    """'LibreOffice 7.4.7.2' (what the PREMIS events name), or 'LibreOffice' when unknown."""
    try:
        return " ".join(_identity().split()[:2]) or "LibreOffice"
    except ProgramError:
        return "LibreOffice"


def convert(source: Path, fmt: str, outdir: Path, *, profile: Path, timeout: float) -> None:
    """`soffice --convert-to fmt`: the result is `outdir/<source's stem>.<fmt>`, if any.

    LibreOffice exits 0 whether or not it converted anything: look for the output. Raises
    ProgramMissing or ProgramTimedOut; other failures leave no output.
    """
    SOFFICE.run(
        [
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(source),
        ],
        prefix=offline_prefix(),
        timeout=timeout,
        cwd=source.parent,
        check=False,
    )
