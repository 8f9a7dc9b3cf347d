"""Bytewax side of `deno task bench:bytewax` (bench/bytewax.ts drives it).

Usage: python flows.py <workload> <input file> <batch size>

Loads the input file once into batches (untimed), prints `ready <ms>`, then for each `run` line
on stdin builds the flow, times `cli_main(flow, workers_per_process=1)` with `perf_counter`,
and prints one JSON line: the run's milliseconds, the number of output lines and the SHA-256 of
the sorted output lines (computed after the timing). `quit` or end of input exits.

Each workload is the flow a Bytewax user writes; the input partition hands out the same
pre-built batches as the weir side's source.
"""

import gc
import hashlib
import json
import sys
import time
from datetime import datetime, timedelta, timezone

import bytewax.operators as op
from bytewax._bytewax import cli_main
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.operators.windowing import (
    EventClock,
    SessionWindower,
    TumblingWindower,
    count_window,
    fold_window,
)
from bytewax.testing import TestingSink

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Must match bench/bytewax/data.ts.
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
SESSION_GAP = timedelta(minutes=5)
# The frozen "system" time of the window workloads (weir's side uses a TestClock at T0).
FROZEN = T0


class _BatchesPartition(StatefulSourcePartition):
    def __init__(self, batches, resume):
        self._batches = batches
        self._i = resume or 0

    def next_batch(self):
        if self._i >= len(self._batches):
            raise StopIteration()
        b = self._batches[self._i]
        self._i += 1
        return b

    def snapshot(self):
        return self._i


class BatchesSource(FixedPartitionedSource):
    """One partition handing out pre-built batches."""

    def __init__(self, batches):
        self._batches = batches

    def list_parts(self):
        return ["mem"]

    def build_part(self, step_id, for_part, resume_state):
        return _BatchesPartition(self._batches, resume_state)


def ms_to_dt(ms):
    return EPOCH + timedelta(milliseconds=ms)


def load(workload, path):
    items = []
    with open(path, encoding="ascii") as f:
        if workload == "wordcount":
            items = f.read().split("\n")
            items.pop()  # the text ends with a newline
        elif workload == "running_sum":
            for line in f:
                k, v = line.split("\t")
                items.append((k, int(v)))
        elif workload == "tumbling":
            for line in f:
                k, t, v = line.split("\t")
                items.append((k, (ms_to_dt(int(t)), int(v))))
        elif workload == "session":
            for line in f:
                k, t = line.split("\t")
                items.append((k, ms_to_dt(int(t))))
        else:
            raise ValueError(f"Unknown workload {workload!r}")
    return items


def frozen_now():
    return FROZEN


def no_wake_up(_close_time):
    # The "system" clock is frozen, so waking up at a window's close time changes nothing:
    # windows close on items and at EOF, as on the weir side.
    return None


def add(total, v):
    total = (total or 0) + v
    return (total, total)


def build(workload, batches, out):
    flow = Dataflow(workload)
    inp = op.input("inp", flow, BatchesSource(batches))
    if workload == "wordcount":
        words = op.flat_map("split", inp, lambda line: line.split(" "))
        down = op.count_final("count", words, lambda w: w)
    elif workload == "running_sum":
        down = op.stateful_map("sum", inp, add)
    elif workload == "tumbling":
        clock = EventClock(
            lambda e: e[0],
            wait_for_system_duration=timedelta(0),
            now_getter=frozen_now,
            to_system_utc=no_wake_up,
        )
        windower = TumblingWindower(length=MINUTE, align_to=T0)
        down = fold_window(
            "sum",
            inp,
            clock,
            windower,
            builder=lambda: 0,
            folder=lambda acc, e: acc + e[1],
            merger=lambda a, b: a + b,
        ).down
    else:
        clock = EventClock(
            lambda e: e[1],
            wait_for_system_duration=timedelta(0),
            now_getter=frozen_now,
            to_system_utc=no_wake_up,
        )
        down = count_window(
            "count", inp, clock, SessionWindower(gap=SESSION_GAP), lambda e: e[0]
        ).down
    op.output("out", down, TestingSink(out))
    return flow


def line_of(workload, x):
    k, v = x
    if workload in ("wordcount", "running_sum"):
        return f"{k}\t{v}"
    wid, n = v
    return f"{k}\t{wid}\t{n}"


def digest(workload, out):
    lines = sorted(line_of(workload, x) for x in out)
    h = hashlib.sha256()
    h.update(("\n".join(lines) + "\n").encode("ascii") if lines else b"")
    return len(lines), h.hexdigest()


def main():
    workload, path, batch_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t = time.perf_counter()
    items = load(workload, path)
    batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    del items
    print(f"ready {(time.perf_counter() - t) * 1000:.1f}", flush=True)
    for cmd in sys.stdin:
        if cmd.strip() != "run":
            break
        out = []
        flow = build(workload, batches, out)
        gc.collect()
        t = time.perf_counter()
        cli_main(flow, workers_per_process=1)
        ms = (time.perf_counter() - t) * 1000
        n, d = digest(workload, out)
        del out
        print(json.dumps({"ms": ms, "lines": n, "digest": d}), flush=True)


if __name__ == "__main__":
    main()
