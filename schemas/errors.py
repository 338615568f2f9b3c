"""One family for the errors a user can cause: each says what went wrong in one line and carries
the exit code the command line ends with, so the front ends map errors by kind, not by a list."""

from __future__ import annotations

EXIT_ERROR = 1


class FoiarchiveError(Exception):
    """Something a user can cause or mend (a bad query, a missing archive, a server that is
    down, a corrupt file): shown as one line, never as a traceback."""

    exit_code: int = EXIT_ERROR
