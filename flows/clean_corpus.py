"""Run the cleaning pipeline once as a Prefect flow and print the version id.

    python flows/clean_corpus.py RAW_DIR OUT_DIR [--workers N | --dask-address tcp://HOST:PORT]

Same input and configuration give the same version and the same documents as
``cleancorpus clean``. A thin wrapper: the flow lives in the installed package
``cleancorpus_flows`` (so ``cleancorpus serve`` and Dask workers can import it), the cleaning
logic in ``cleancorpus``. This file is also the entrypoint ``prefect.yaml`` names.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

from cleancorpus_flows.env import apply_defaults  # noqa: E402  (imports no Prefect)

apply_defaults(PROJECT)  # project-local, quiet, offline; before Prefect is imported

from cleancorpus.config import Config, InputConfig  # noqa: E402
from cleancorpus.stages.base import ConfigError  # noqa: E402
from cleancorpus.store import StoreError  # noqa: E402
from cleancorpus_flows.flow import clean_corpus, task_runner  # noqa: E402

__all__ = ["clean_corpus"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw_dir", help="directory (or s3:// prefix) of raw documents (.txt, .html, .jsonl[.gz|.zst|.bz2], "
                                    ".warc[.gz], WET, .parquet)")
    ap.add_argument("out_dir", help="store holding the versions: a directory or an s3:// prefix")
    ap.add_argument("--config", help="JSON configuration file (as for `cleancorpus clean`)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="start a local Dask cluster of N worker processes")
    where.add_argument("--dask-address", help="run the tasks on an existing Dask scheduler, tcp://HOST:PORT")
    ap.add_argument("--shard-mb", type=float, default=8.0, help="input megabytes per shard task (default 8)")
    ap.add_argument("--text-field", help="JSONL/Parquet field holding the text (default 'text')")
    ap.add_argument("--id-field", help="JSONL/Parquet field holding the input's own id (default 'id')")
    ap.add_argument("--scratch-dir", help="directory or s3:// prefix for the run's scratch files, reached by every "
                                          "worker (default: inside a local store, else the system's temporary directory)")
    args = ap.parse_args(argv)
    if "://" not in args.raw_dir and not Path(args.raw_dir).is_dir():
        ap.error(f"input directory {args.raw_dir} does not exist")
    if args.workers is not None and args.workers < 1:
        ap.error("--workers must be at least 1")
    try:  # fail before a Prefect server is started for nothing
        cfg = Config.load(args.config) if args.config else Config()
        InputConfig(args.text_field or cfg.input.text_field, args.id_field or cfg.input.id_field)
    except ConfigError as exc:
        ap.error(str(exc))
    runner = task_runner(args.workers, args.dask_address, PROJECT / ".dask")
    try:
        version = clean_corpus.with_options(task_runner=runner)(
            raw_dir=args.raw_dir, out_dir=args.out_dir, config_path=args.config, shard_mb=args.shard_mb,
            text_field=args.text_field, id_field=args.id_field, scratch_dir=args.scratch_dir)
    except (ConfigError, StoreError, OSError) as exc:  # the flow run failed; Prefect logged it
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
