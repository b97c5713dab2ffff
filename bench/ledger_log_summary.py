#!/usr/bin/env python3
"""ledger_log_summary: what RocksDB's flushes and compactions cost, per column family.

    bench/ledger_log_summary.py [--slow SLOW_LOG] DATA_DIR/ledger/LOG [...]

Reads the EVENT_LOG_v1 lines of a ledger's RocksDB info LOG (issuer_load --keep-data
prints where it is) and prints, per column family: MB flushed, compactions, MB they
wrote and CPU seconds they took, and MB moved to a lower level without a rewrite.

With --slow (the file issuer_load --slow-log wrote in the same run; give every LOG file
of the run, LOG.old.* too), it also says how many of the slow open-loop requests were
outstanding while a flush or a compaction ran, per column family, next to the share of the
phases' time those windows covered: a kind of background work that holds far more of the
slow requests than of the time is where the tail comes from. The rows overlap (a request
can be outstanding during several windows), and a request counts when any part of its
wait touches a window, so a fair share is a little above the time share.
"""
import json
import re
import sys

# "[db/flush_job.cc:861] [index] [JOB 5] Flushing memtable ...": RocksDB's text lines
# name a job's column family; of its EVENT_LOG_v1 lines, only table_file_creation does.
# Lines without a family ("[db/db_impl/db_impl_files.cc:364] [JOB 5] Delete ...") have
# the source location there instead.
JOB_LINE = re.compile(r"\[([^\]]+)\] \[JOB (\d+)\]")
SOURCE_LOCATION = re.compile(r"\.(cc|h):\d+$")


def open_or_exit(path, **kwargs):
    try:
        return open(path, encoding="utf-8", **kwargs)
    except OSError as e:
        sys.exit("cannot read %s: %s" % (path, e.strerror))


def read_events(path):
    """The EVENT_LOG_v1 events of a LOG, each with "cf_name" added from the job's text
    lines when the event has none (RocksDB 7.8's flush and compaction events do not)."""
    events = []
    family_of_job = {}
    with open_or_exit(path, errors="replace") as log:
        for n, line in enumerate(log, 1):
            at = line.find("EVENT_LOG_v1 ")
            if at >= 0:
                try:
                    events.append(json.loads(line[at + len("EVENT_LOG_v1 "):]))
                except ValueError as e:
                    sys.exit("%s:%d: an EVENT_LOG_v1 line that is not JSON (%s)" % (path, n, e))
                continue
            job = JOB_LINE.search(line)
            if job and not SOURCE_LOCATION.search(job.group(1)):
                family_of_job.setdefault(int(job.group(2)), job.group(1))
    for e in events:
        if "cf_name" not in e and e.get("job") in family_of_job:
            e["cf_name"] = family_of_job[e["job"]]
    return events


def families_of_jobs(events):
    family_of_job = {}
    for e in events:
        if "cf_name" in e and "job" in e:
            family_of_job.setdefault(e["job"], e["cf_name"])
    return family_of_job


def summarize(path, events):
    family_of_job = families_of_jobs(events)
    flush_jobs = {e["job"] for e in events if e["event"] == "flush_started"}
    totals = {}

    def add(family, key, value):
        totals.setdefault(family, {}).setdefault(key, 0)
        totals[family][key] += value

    for e in events:
        family = family_of_job.get(e.get("job"), "default")
        if e["event"] == "table_file_creation" and e["job"] in flush_jobs:
            add(family, "flushed MB", e["file_size"] / 1e6)
        elif e["event"] == "compaction_finished":
            add(family, "compactions", 1)
            add(family, "compaction wrote MB", e["total_output_size"] / 1e6)
            add(family, "compaction CPU s", e["compaction_time_cpu_micros"] / 1e6)
        elif e["event"] == "trivial_move":
            add(family, "moved without rewrite MB", e["total_files_size"] / 1e6)
    print(path)
    for family, values in sorted(totals.items()):
        print("  %-8s %s" % (family, ", ".join(
            "%s %.2f" % (k, v) if isinstance(v, float) else "%s %d" % (k, v)
            for k, v in values.items())))


def windows(events):
    """(family, "flush" | "compaction", start us, end us) for each finished flush or
    compaction; "?" for a family no line of the job names. A job that starts twice (an
    atomic flush of several families) pairs its starts and finishes in order."""
    family_of_job = families_of_jobs(events)
    started = {}
    out = []
    for e in events:
        kind = e["event"].split("_")[0]
        if e["event"] in ("flush_started", "compaction_started"):
            started.setdefault((kind, e["job"]), []).append(e["time_micros"])
        elif e["event"] in ("flush_finished", "compaction_finished"):
            begins = started.get((kind, e["job"]))
            if begins:
                out.append((family_of_job.get(e["job"], "?"), kind, begins.pop(0),
                            e["time_micros"]))
    return out


def read_slow_log(path):
    """{transport: (phases, slow)}: phases as (start us, end us, requests, slow ms), slow
    requests as (due us, answered us)."""
    by_transport = {}
    with open_or_exit(path) as f:
        for n, line in enumerate(f, 1):
            fields = line.split()
            try:
                if fields[:2] == ["#", "phase"]:
                    by_transport.setdefault(fields[2], ([], []))[0].append(
                        (int(fields[4]), int(fields[5]), int(fields[6]), float(fields[7])))
                elif fields:
                    answered, latency_ms = int(fields[1]), float(fields[2])
                    by_transport.setdefault(fields[0], ([], []))[1].append(
                        (answered - round(latency_ms * 1000), answered))
            except (IndexError, ValueError):
                sys.exit("%s:%d: not an issuer_load --slow-log line: %r" % (path, n, line))
    return by_transport


def covered_us(spans, phases):
    """Microseconds of the phases that the union of `spans` covers."""
    total = 0
    for p_start, p_end, _, _ in phases:
        clipped = sorted((max(s, p_start), min(e, p_end)) for s, e in spans
                         if e > p_start and s < p_end)
        at = p_start
        for s, e in clipped:
            s = max(s, at)
            if e > s:
                total += e - s
                at = e
    return total


def attribute(events, phases, slow):
    """Rows (label, windows, covered us, slow requests) for each family and kind of
    work that ran during the phases, then "any of these" and "none"; and the phases'
    total length in us."""
    spans_of = {}
    for family, kind, start, end in windows(events):
        if any(end > p_start and start < p_end for p_start, p_end, _, _ in phases):
            spans_of.setdefault((family, kind), []).append((start, end))

    def overlapping(spans):
        return sum(1 for s, e in slow if any(s <= w_end and w_start <= e
                                             for w_start, w_end in spans))

    rows = []
    all_spans = []
    for (family, kind), spans in sorted(spans_of.items()):
        rows.append(("%s %s" % (family, kind), len(spans), covered_us(spans, phases),
                     overlapping(spans)))
        all_spans += spans
    length = sum(end - start for start, end, _, _ in phases)
    any_covered = covered_us(all_spans, phases)
    any_slow = overlapping(all_spans)
    rows.append(("any of these", len(all_spans), any_covered, any_slow))
    rows.append(("none", 0, length - any_covered, len(slow) - any_slow))
    return rows, length


def print_attribution(slow_path, events, log_paths):
    by_transport = read_slow_log(slow_path)
    for transport, (phases, slow) in sorted(by_transport.items()):
        if not phases:
            sys.exit("%s: %s requests but no phase line (was it written by issuer_load "
                     "--slow-log?)" % (slow_path, transport))
    if not by_transport:
        sys.exit("%s: no phase in it (was it written by issuer_load --slow-log?)" % slow_path)
    first = min(p[0] for phases, _ in by_transport.values() for p in phases)
    last = max(p[1] for phases, _ in by_transport.values() for p in phases)
    if not any(first <= e.get("time_micros", 0) <= last for e in events):
        print("  note: no event of %s falls within the phases of %s: a LOG of another run?"
              % (" ".join(log_paths), slow_path))
    for transport, (phases, slow) in sorted(by_transport.items()):
        rows, length = attribute(events, phases, slow)
        print("  %s: %d of %d open-loop requests slower than %g ms (%s), %d phase(s), %.1f s"
              % (transport, len(slow), sum(p[2] for p in phases), phases[0][3], slow_path,
                 len(phases), length / 1e6))
        print("    %-22s %7s %16s %15s" % ("while", "windows", "time covered", "slow requests"))
        for label, n, covered, count in rows:
            print("    %-22s %7s %8.1f s %4.0f%% %8d %4.0f%%" % (
                label, n if n else "", covered / 1e6, 100.0 * covered / max(length, 1), count,
                100.0 * count / max(len(slow), 1)))


def main(argv):
    slow_path = None
    paths = []
    i = 0
    while i < len(argv):
        if argv[i] == "--slow":
            if i + 1 >= len(argv):
                sys.exit("--slow needs the file issuer_load --slow-log wrote")
            slow_path = argv[i + 1]
            i += 2
        else:
            paths.append(argv[i])
            i += 1
    if not paths:
        sys.exit(__doc__)
    # A LOG rolls over (LOG.old.*): its files are summed up one by one, and the slow
    # requests laid against the events of all of them.
    events = []
    for path in paths:
        events_of_path = read_events(path)
        summarize(path, events_of_path)
        events += events_of_path
    if slow_path:
        events.sort(key=lambda e: e.get("time_micros", 0))
        print_attribution(slow_path, events, paths)


if __name__ == "__main__":
    main(sys.argv[1:])
