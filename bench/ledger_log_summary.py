#!/usr/bin/env python3
"""ledger_log_summary: what RocksDB's flushes and compactions cost, per column family.

    bench/ledger_log_summary.py DATA_DIR/ledger/LOG [...]

Reads the EVENT_LOG_v1 lines of a ledger's RocksDB info LOG (issuer_load --keep-data
prints where it is) and prints, per column family: MB flushed, compactions, MB they
wrote and CPU seconds they took, and MB moved to a lower level without a rewrite.
"""
import json
import sys


def summarize(path):
    events = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            at = line.find("EVENT_LOG_v1 ")
            if at >= 0:
                events.append(json.loads(line[at + len("EVENT_LOG_v1 "):]))
    family_of_job = {}
    for e in events:
        if "cf_name" in e and "job" in e:
            family_of_job.setdefault(e["job"], e["cf_name"])
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


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        summarize(arg)
