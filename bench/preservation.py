"""Bag build and full-verify throughput against `sha256sum` over the same files, same run.

    python -m bench.preservation [--gigabytes 1.0] [--workers 2]

Generates a production of random files (a few large scans, many small letters), then times
`sha256sum` over all of them (one process: the per-core baseline), foiarchive's bag build
(copy, sha256 and sha512 in one pass, fsync, manifests) and a full verify (every file hashed
for both manifests), each with --workers threads. Throughput per core used is compared.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import print_table
from foiarchive.preservation import PayloadFile, validate_bag, write_bag

HERE = Path(__file__).resolve().parent


def generate(folder: Path, total_bytes: int) -> list[Path]:
    rng = random.Random(3)
    files, written, n = [], 0, 0
    while written < total_bytes:
        size = rng.choice([8_000_000, 4_000_000]) if n % 10 == 0 else rng.randint(20_000, 600_000)
        path = folder / f"box-{n // 100:03d}" / f"doc-{n:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        files.append(path)
        written += size
        n += 1
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="foiarchive-bench-bag-"))
    try:
        source = work / "source"
        files = generate(source, int(args.gigabytes * 1024**3))
        megabytes = sum(p.stat().st_size for p in files) / 1024**2

        started = time.perf_counter()
        for start in range(0, len(files), 500):
            subprocess.run(
                ["sha256sum", *map(str, files[start : start + 500])],
                stdout=subprocess.DEVNULL,
                check=True,
            )
        baseline = megabytes / (time.perf_counter() - started)

        payload = [PayloadFile(p.relative_to(source).as_posix(), p) for p in files]
        started = time.perf_counter()
        write_bag(
            work / "bags" / "bench",
            payload,
            {"foiarchive/x.txt": b"x"},
            [("Source-Organization", "bench")],
            staging=work / "staging",
            workers=args.workers,
        )
        build = megabytes / (time.perf_counter() - started)

        started = time.perf_counter()
        report = validate_bag(work / "bags" / "bench", workers=args.workers)
        verify = megabytes / (time.perf_counter() - started)
        assert report.valid, report.problems[:3]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\nPreservation benchmark: {len(files)} files, {megabytes:,.0f} MB, "
        f"{args.workers} workers, {os.cpu_count()} CPUs; baseline measured in this run\n"
    )
    rows = [
        ["sha256sum (1 process)", f"{baseline:.0f}", f"{baseline:.0f}", "1.00x"],
        [
            "bag build (copy + sha256 + sha512 + fsync)",
            f"{build:.0f}",
            f"{build / args.workers:.0f}",
            f"{build / args.workers / baseline:.2f}x",
        ],
        [
            "full verify (sha256 + sha512 of every file)",
            f"{verify:.0f}",
            f"{verify / args.workers:.0f}",
            f"{verify / args.workers / baseline:.2f}x",
        ],
    ]
    print_table(["step", "MB/s", "MB/s per core", "per core vs sha256sum"], rows)


if __name__ == "__main__":
    main()
