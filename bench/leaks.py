"""Leak detection against x-ray, unmasker and before-you-send on the same planted corpus.

    python -m bench.leaks [--peers-venv bench/out/peers-venv]

Builds every planted file and clean control (foiarchive.ingest.leaks.planted) in
bench/out/leaks/, installs the peers (pinned) into a venv of their own - they are never a
dependency of foiarchive - and runs each tool's command line on every file in the same run.
A tool detects a plant when it reports anything on the file; for foiarchive the finding must
also be of the planted kind and carry the planted text. A finding on a control is a false
positive. Pages per second: files (one page each) over wall time, process start included for
every tool alike.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import FOIARCHIVE, ROOT
from foiarchive.ingest.leaks import planted

PEERS = {"x-ray": "0.4.0", "unmasker": "0.7.0", "before-you-send": "0.4.0"}
OUT = ROOT / "bench" / "out" / "leaks"


def peers_venv(folder: Path) -> Path:
    python = folder / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        pins = [f"{name}=={version}" for name, version in PEERS.items()]
        subprocess.run([str(python), "-m", "pip", "install", "-q", *pins], check=True)
    return folder / "bin"


def _count(output: str, parse: Callable[[object], int]) -> int:
    try:
        return parse(json.loads(output))
    except (ValueError, KeyError, TypeError):
        return 0


def _unmasker(data: object) -> int:
    assert isinstance(data, dict)
    return len(data.get("findings", []))


def _bys(data: object) -> int:
    assert isinstance(data, dict)
    return len(data.get("findings", []))


def _xray(data: object) -> int:
    assert isinstance(data, dict)
    return sum(len(v) for v in data.values())


def tools(bin_dir: Path) -> dict[str, tuple[list[str], Callable[[object], int], set[str]]]:
    """name -> (command before the file, output counter, file suffixes it reads)."""
    return {
        "foiarchive": (
            [*FOIARCHIVE, "audit", "--format", "json"],
            lambda d: len(d) if isinstance(d, list) else 0,
            {".pdf", ".docx", ".pptx", ".xlsx"},
        ),
        "x-ray": ([str(bin_dir / "xray")], _xray, {".pdf"}),
        "unmasker": (
            [str(bin_dir / "unmasker"), "--json"],
            _unmasker,
            {".pdf", ".docx", ".pptx", ".xlsx"},
        ),
        "before-you-send": (
            [
                str(bin_dir / "before-you-send"),
                "--format",
                "json",
                "--show-content",
                "--fail-on",
                "never",
            ],
            _bys,
            {".pdf"},
        ),
    }


def build() -> tuple[dict[Path, tuple[str, str]], list[Path]]:
    OUT.mkdir(parents=True, exist_ok=True)
    plants = {OUT / name: make(OUT / name) for name, make in planted.PLANTS.items()}
    controls = []
    for name, make in planted.CONTROLS.items():
        make(OUT / name)
        controls.append(OUT / name)
    return plants, controls


def run(command: list[str], path: Path) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run([*command, str(path)], capture_output=True, text=True, cwd=ROOT)
    return done.stdout, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers-venv", type=Path, default=ROOT / "bench" / "out" / "peers-venv")
    args = parser.parse_args()
    plants, controls = build()
    table = tools(peers_venv(args.peers_venv))
    kinds = sorted({kind for kind, _ in plants.values()})
    print(f"{'kind':18}" + "".join(f"{name:>17}" for name in table))
    recall: dict[str, dict[str, str]] = {k: {} for k in kinds}
    false_positives: dict[str, list[str]] = {name: [] for name in table}
    speed: dict[str, tuple[int, float]] = {}
    for name, (command, count, suffixes) in table.items():
        files, seconds = 0, 0.0
        for path, (kind, secret) in plants.items():
            if path.suffix not in suffixes:
                recall[kind][name] = "n/a"
                continue
            output, took = run(command, path)
            files, seconds = files + 1, seconds + took
            if name == "foiarchive":
                found = [f for f in json.loads(output or "[]") if f["kind"] == kind]
                hit = any(secret in f["text"] for f in found)
            else:
                hit = _count(output, count) > 0
            recall[kind][name] = "1.00" if hit else "0.00"
        for path in controls:
            if path.suffix not in suffixes:
                continue
            output, took = run(command, path)
            files, seconds = files + 1, seconds + took
            if _count(output, count) > 0:
                false_positives[name].append(path.name)
        speed[name] = (files, seconds)
    for kind in kinds:
        print(f"{kind:18}" + "".join(f"{recall[kind].get(n, '-'):>17}" for n in table))
    print("controls flagged (false positives):")
    for name, flagged in false_positives.items():
        print(f"  {name}: {len(flagged)} {', '.join(flagged)}")
    print("files per second (one page each, one process per file):")
    for name, (files, seconds) in speed.items():
        print(f"  {name}: {files / seconds:.2f} ({files} files, {seconds:.1f} s)")


if __name__ == "__main__":
    main()
