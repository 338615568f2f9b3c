"""foiarchive workers on a SLURM cluster through dask-jobqueue, then one ingest through them.

    pip install 'foiarchive[cluster]' dask-jobqueue      # in a virtualenv every node can read
    python deploy/slurm/workers.py --jobs 16 -- --archive A ingest ./release-1 --id ice-2017-r1

Each SLURM job is one node's worth of foiarchive workers, one thread each (OCR gets one core
per page). The scheduler runs in this process, on the login or submit node; the ingest (the
coordinator: the only writer of the catalog, bags and index) runs beside it. Adapt the queue,
account, walltime and the prologue to your site. An example: not run in foiarchive's CI.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from dask_jobqueue import SLURMCluster
from distributed import Client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4, help="SLURM jobs (nodes) to start")
    parser.add_argument("--cores", type=int, default=32, help="cores per job = workers per job")
    parser.add_argument("--memory", default="64GB", help="memory per job")
    parser.add_argument("--queue", default="normal")
    parser.add_argument("--walltime", default="08:00:00")
    parser.add_argument("--venv", default=sys.prefix, help="the virtualenv the nodes activate")
    parser.add_argument("ingest", nargs=argparse.REMAINDER, help="-- then foiarchive's arguments")
    args = parser.parse_args()
    cluster = SLURMCluster(
        queue=args.queue,
        cores=args.cores,
        processes=args.cores,  # one worker process per core: one thread each
        memory=args.memory,
        walltime=args.walltime,
        job_script_prologue=[
            f"source {args.venv}/bin/activate",
            "export OMP_THREAD_LIMIT=1",  # one Tesseract thread per page
        ],
        worker_extra_args=["--nthreads", "1"],
    )
    cluster.scale(jobs=args.jobs)
    print(f"scheduler at {cluster.scheduler_address}; {args.jobs} SLURM jobs submitted")
    try:
        with Client(cluster) as client:
            client.wait_for_workers(1, timeout=3600)  # the queue may take a while
        command = [f"{args.venv}/bin/foiarchive", *[a for a in args.ingest if a != "--"]]
        ingest = subprocess.run([*command, "--cluster", cluster.scheduler_address], check=False)
        sys.exit(ingest.returncode)
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
