"""``python -m workers.worker QUEUE [QUEUE ...]``: an RQ worker on our Redis.

A non-forking SimpleWorker: ~2.5 ms per job instead of ~13-27 ms for a fork, and it keeps
what a job loads (the active model) warm between jobs (see STACK.md)."""
from __future__ import annotations

import argparse
import logging

from rq import SimpleWorker

from backend.queues import QueueName
from backend.runtime import get_runtime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("queues", nargs="+", choices=[q.value for q in QueueName])
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runtime = get_runtime()
    worker = SimpleWorker([runtime.queues[QueueName(name)] for name in args.queues],
                          connection=runtime.redis)
    worker.work(with_scheduler=True, burst=args.burst)


if __name__ == "__main__":
    main()
