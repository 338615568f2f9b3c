"""The external programs ingest runs: one runner, one typed error family, one module each.

All real: real processes, killed for real, and the programs installed on this machine.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from foiarchive.ingest.errors import IngestError, OcrUnavailable
from foiarchive.ingest.programs import (
    Program,
    ProgramError,
    ProgramFailed,
    ProgramMissing,
    ProgramTimedOut,
    ghostscript,
    qpdf,
    run,
    soffice,
    tesseract,
)
from foiarchive.ingest.sample import write_text_pdf

VERSION = re.compile(r"^\d+(\.\d+)+")


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, dead but not yet reaped by its parent, is not alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _gone(pids: list[int], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def _wait_for_pids(path: Path, count: int, within: float = 10.0) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists():
            pids = [int(line) for line in path.read_text().split()]
            if len(pids) >= count:
                return pids
        time.sleep(0.02)
    raise AssertionError(f"the program did not write {count} pids to {path}")


# A shell that starts a child, notes its own pid and the child's, and waits forever.
FAMILY = 'sleep 60 & echo $! > "$1.tmp"; echo $$ >> "$1.tmp"; mv "$1.tmp" "$1"; sleep 60'


# -- the runner -----------------------------------------------------------------------------
def test_output_and_exit_code_are_captured() -> None:
    done = run(["sh", "-c", "cat; echo oops >&2"], timeout=10, input=b"hello\n")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"hello\n", b"oops\n")
    done = run(["sh", "-c", "exit 3"], timeout=10, check=False)
    assert done.returncode == 3


def test_a_program_past_its_timeout_is_killed_with_its_children(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(ProgramTimedOut) as error:
        run(["sh", "-c", FAMILY, "sh", str(pids_file)], timeout=1.5)
    assert time.monotonic() - started < 10
    pids = _wait_for_pids(pids_file, 2)
    assert _gone(pids), f"still running: {[p for p in pids if _alive(p)]}"
    assert str(error.value) == "sh did not finish within 1.5 s and was stopped"
    assert isinstance(error.value, IngestError) and error.value.timeout == 1.5


def test_nothing_a_program_started_outlives_it(tmp_path: Path) -> None:
    """A program that exits leaving a child behind: the child is killed, and we do not wait
    for it (it holds the program's stdout open)."""
    pids_file = tmp_path / "pids"
    script = 'sleep 60 & echo $! > "$1"; echo done'
    started = time.monotonic()
    done = run(["sh", "-c", script, "sh", str(pids_file)], timeout=30)
    assert time.monotonic() - started < 10
    assert done.stdout == b"done\n"
    assert _gone(_wait_for_pids(pids_file, 1))


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    """A Python process that imports the runner from this checkout."""
    root = Path(__file__).resolve().parents[1]
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_kills_the_program_and_its_children(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    caller = _python(
        """
        import sys
        from foiarchive.ingest.programs import run
        try:
            run(["sh", "-c", sys.argv[1], "sh", sys.argv[2]], timeout=60)
        except KeyboardInterrupt:
            print("interrupted")
        """,
        FAMILY,
        str(pids_file),
    )
    pids = _wait_for_pids(pids_file, 2)
    caller.send_signal(signal.SIGINT)
    out, err = caller.communicate(timeout=20)
    assert out.strip() == "interrupted", err
    assert _gone(pids)


def test_a_missing_program_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ProgramMissing) as error:
        run([str(tmp_path / "no-such-program"), "--version"], timeout=10)
    missing = tmp_path / "no-such-program"
    assert str(error.value) == f"no-such-program is not installed ({missing} not found)"
    absent = Program("Frobnicator", ("no-such-frobnicator",), "apt-get install frobnicator")
    with pytest.raises(ProgramMissing) as error:
        absent.run(["--version"], timeout=10)
    message = str(error.value)
    assert message == "Frobnicator is not installed (Debian: apt-get install frobnicator)"
    assert isinstance(error.value, IngestError) and "\n" not in message


def test_a_failing_program_reports_its_exit_code_and_the_last_line_of_stderr() -> None:
    script = "echo 'reading page 1' >&2; echo 'Error: bad  xref\n  table' >&2; echo >&2; exit 7"
    with pytest.raises(ProgramFailed) as error:
        run(["sh", "-c", script], timeout=10, name="Frobnicator")
    assert error.value.returncode == 7
    assert error.value.stderr_line == "table"
    assert str(error.value) == "Frobnicator failed with exit code 7: table"
    with pytest.raises(ProgramFailed) as error:
        run(["sh", "-c", "exit 1"], timeout=10)
    assert str(error.value) == "sh failed with exit code 1"
    with pytest.raises(ProgramFailed) as error:
        run(["sh", "-c", "printf 'x%.0s' $(seq 2000) >&2; kill -9 $$"], timeout=10)
    assert error.value.returncode == -signal.SIGKILL
    assert str(error.value).startswith("sh was stopped by SIGKILL: xxx")
    assert len(str(error.value)) < 400


def test_errors_cross_from_pool_workers_intact() -> None:
    """A worker's error reaches the parent pickled: it must come back whole."""
    errors = [
        ProgramMissing("Frobnicator", "Frobnicator is not installed"),
        ProgramTimedOut("Frobnicator", 2.5),
        ProgramFailed("Frobnicator", 7, "bad xref"),
        tesseract.TesseractMissing("Tesseract", "Tesseract is not installed"),
    ]
    with ProcessPoolExecutor(1) as pool:
        for error in errors:
            with pytest.raises(type(error)) as raised:
                pool.submit(_raise, error).result(timeout=60)
            assert str(raised.value) == str(error)
            assert vars(raised.value) == vars(error)


def _raise(error: Exception) -> None:
    raise error


# -- the programs ---------------------------------------------------------------------------
def test_tesseract() -> None:
    assert VERSION.match(tesseract.version())
    assert "eng" in tesseract.languages()
    # the OCR cache key and the pipeline take the version from here
    from foiarchive.ingest.ocr import tesseract_version

    assert tesseract_version() == tesseract.version()


def test_tesseract_missing_is_ocr_unavailable() -> None:
    """Without Tesseract the ingest says how to install it (and how to do without)."""
    code = """
        import os
        os.environ["PATH"] = "/nonexistent"
        from foiarchive.ingest.errors import OcrUnavailable
        from foiarchive.ingest.programs import tesseract
        try:
            tesseract.version()
        except OcrUnavailable as error:
            print(error)
        """
    caller = _python(code)
    out, err = caller.communicate(timeout=60)
    assert out.strip() == (
        "Tesseract is not installed (Debian: apt-get install tesseract-ocr); "
        "install it or ingest with --ocr never"
    ), err
    assert issubclass(tesseract.TesseractMissing, OcrUnavailable)


def test_tesseract_reads_a_page(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1200, 300), 255)
    font = ImageFont.load_default(size=72)
    ImageDraw.Draw(page).text((40, 100), "Judicial warrant", fill=0, font=font)
    path = tmp_path / "line.png"
    page.save(path)
    data = tesseract.image_to_data(path, languages="eng", psm=7, dpi=300, timeout=60)
    words = [w for w, c in zip(data["text"], data["conf"], strict=True) if c >= 0 and w.strip()]
    assert words == ["Judicial", "warrant"]
    assert all(isinstance(c, int) for c in data["conf"])  # whole numbers, as pytesseract gave
    text = tesseract.image_to_string(path, languages="eng", psm=7, dpi=300, timeout=60)
    assert text.strip() == "Judicial warrant"
    with pytest.raises(ProgramFailed) as error:  # too few characters to tell the orientation
        tesseract.orientation(path, min_characters=1000, timeout=60)
    assert error.value.stderr_line and "\n" not in str(error.value)


def test_tesseract_on_a_file_that_is_no_image(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    path.write_bytes(b"not an image at all")
    with pytest.raises(ProgramFailed) as error:
        tesseract.image_to_data(path, languages="eng", psm=3, dpi=300, timeout=60)
    assert str(error.value).startswith("Tesseract failed with exit code")
    assert "\n" not in str(error.value)


def test_libreoffice() -> None:
    assert VERSION.match(soffice.version())
    assert soffice.agent() == f"LibreOffice {soffice.version()}"
    from foiarchive.ingest import office

    assert office.version() == soffice.agent()  # what the PREMIS migration events name


def test_libreoffice_gives_up_on_time_and_leaves_nothing_running(tmp_path: Path) -> None:
    """A conversion stopped on its timeout takes soffice.bin (the real worker) with it."""
    source = tmp_path / "long.rtf"  # some 2,500 pages: far more than the timeout allows
    paragraph = r"Paragraph {} of the platypus letter and its many judicial warrants.\par "
    source.write_text(r"{\rtf1\ansi " + "".join(map(paragraph.format, range(100_000))) + "}")
    profile = tmp_path / "profile"
    seen: dict[int, bytes] = {}  # pid -> its command line
    stop = threading.Event()

    def watch() -> None:  # every process running with our profile: oosplash, soffice.bin
        while not stop.is_set():
            seen.update(_processes_mentioning(profile.as_uri().encode()))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(ProgramTimedOut) as error:
            soffice.convert(source, "pdf", tmp_path / "out", profile=profile, timeout=4)
    finally:
        stop.set()
        watcher.join()
    assert str(error.value) == "LibreOffice did not finish within 4 s and was stopped"
    assert any(b"soffice.bin" in command for command in seen.values()), seen
    assert _gone(list(seen)), {pid: seen[pid] for pid in seen if _alive(pid)}
    assert not (tmp_path / "out" / "long.pdf").exists()


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _processes_mentioning(needle: bytes) -> dict[int, bytes]:
    commands = {
        int(entry.name): _command(int(entry.name))
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit()
    }
    return {pid: command for pid, command in commands.items() if needle in command}


def test_ghostscript(tmp_path: Path) -> None:
    assert VERSION.match(ghostscript.version())
    assert ghostscript.agent() == f"Ghostscript {ghostscript.version()}"
    source = tmp_path / "letter.pdf"
    write_text_pdf(source, [["A letter about warrants."]])
    ghostscript.rewrite_pdf(source, tmp_path / "copy.pdf", timeout=120)
    assert (tmp_path / "copy.pdf").read_bytes().startswith(b"%PDF")
    (tmp_path / "junk.pdf").write_bytes(b"nothing like a PDF")
    with pytest.raises(ProgramFailed) as error:
        ghostscript.rewrite_pdf(tmp_path / "junk.pdf", tmp_path / "junk-copy.pdf", timeout=120)
    assert error.value.returncode == 1
    assert "Unrecoverable error" in error.value.stderr_line
    assert str(error.value).startswith("Ghostscript failed with exit code 1: ")


def test_qpdf(tmp_path: Path) -> None:
    import pikepdf

    assert VERSION.match(qpdf.version())
    assert qpdf.agent() == f"qpdf {pikepdf.__libqpdf_version__} (pikepdf {pikepdf.__version__})"
    source = tmp_path / "letter.pdf"
    write_text_pdf(source, [["A letter about warrants."]])
    qpdf.rewrite_pdf(source, tmp_path / "copy.pdf")
    with pikepdf.open(tmp_path / "copy.pdf") as pdf:
        assert len(pdf.pages) == 1
    (tmp_path / "junk.pdf").write_bytes(b"nothing like a PDF")
    with pytest.raises(ProgramError) as error:
        qpdf.rewrite_pdf(tmp_path / "junk.pdf", tmp_path / "junk-copy.pdf")
    assert str(error.value).startswith("qpdf could not repair it: ")
    assert "\n" not in str(error.value)
