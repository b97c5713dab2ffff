#!/usr/bin/env python3
"""Tests of ledger_log_summary.py: windows of background work from a RocksDB LOG, and
which slow requests of an issuer_load --slow-log they hold."""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ledger_log_summary as summary  # noqa: E402


def event(**fields):
    return fields


# Two families. Job 1 flushes "index" over [1000, 3000] us; job 2 compacts "default" over
# [2500, 4000]; job 3 flushes "default" over [8000, 9000]; job 4 starts and never ends.
EVENTS = [
    event(time_micros=1000, job=1, event="flush_started"),
    event(time_micros=2900, job=1, event="table_file_creation", cf_name="index",
          file_size=2_000_000),
    event(time_micros=3000, job=1, event="flush_finished"),
    event(time_micros=2500, job=2, event="compaction_started"),
    event(time_micros=3900, job=2, event="table_file_creation", cf_name="default",
          file_size=5_000_000),
    event(time_micros=4000, job=2, event="compaction_finished", total_output_size=5_000_000,
          compaction_time_cpu_micros=700_000),
    event(time_micros=8000, job=3, event="flush_started"),
    event(time_micros=8900, job=3, event="table_file_creation", cf_name="default",
          file_size=1_000_000),
    event(time_micros=9000, job=3, event="flush_finished"),
    event(time_micros=9500, job=4, event="compaction_started"),
]
# One phase over [0, 10000] us with 100 requests; slow requests as (sent, answered) us.
PHASES = [(0, 10_000, 100, 5.0)]
SLOW = [
    (500, 1100),    # overlaps the index flush only
    (2600, 2700),   # inside both the index flush and the default compaction
    (5000, 5600),   # nothing runs then
    (3900, 8100),   # spans the end of the compaction and the start of the default flush
]


class WindowsTest(unittest.TestCase):
    def test_pairs_start_and_finish_per_job_and_names_the_family(self):
        self.assertEqual(summary.windows(EVENTS), [
            ("index", "flush", 1000, 3000),
            ("default", "compaction", 2500, 4000),
            ("default", "flush", 8000, 9000),
        ])

    def test_a_job_that_never_finished_has_no_window(self):
        self.assertEqual(summary.windows(EVENTS[-1:]), [])

    def test_a_job_no_line_names_has_an_unknown_family(self):
        events = [event(time_micros=10, job=9, event="compaction_started"),
                  event(time_micros=20, job=9, event="compaction_finished")]
        self.assertEqual(summary.windows(events), [("?", "compaction", 10, 20)])

    def test_a_job_that_starts_twice_pairs_starts_and_finishes_in_order(self):
        events = [event(time_micros=t, job=7, event=e, cf_name="index")
                  for t, e in ((10, "flush_started"), (12, "flush_started"),
                               (30, "flush_finished"), (40, "flush_finished"))]
        self.assertEqual(summary.windows(events),
                         [("index", "flush", 10, 30), ("index", "flush", 12, 40)])


class CoveredTest(unittest.TestCase):
    def test_overlapping_windows_count_once(self):
        self.assertEqual(summary.covered_us([(1000, 3000), (2500, 4000)], PHASES), 3000)

    def test_windows_are_clipped_to_the_phases(self):
        phases = [(2000, 3000, 1, 5.0), (8500, 12_000, 1, 5.0)]
        self.assertEqual(summary.covered_us([(1000, 4000), (8000, 9000)], phases), 1500)

    def test_nothing_outside_the_phases(self):
        self.assertEqual(summary.covered_us([(20_000, 30_000)], PHASES), 0)


class AttributeTest(unittest.TestCase):
    def test_counts_each_slow_request_in_every_window_it_overlaps(self):
        rows, length = summary.attribute(EVENTS, PHASES, SLOW)
        self.assertEqual(length, 10_000)
        self.assertEqual(rows, [
            ("default compaction", 1, 1500, 2),
            ("default flush", 1, 1000, 1),
            ("index flush", 1, 2000, 2),
            ("any of these", 3, 4000, 3),
            ("none", 0, 6000, 1),
        ])

    def test_work_outside_the_phases_has_no_row(self):
        rows, length = summary.attribute(EVENTS, [(0, 5000, 100, 5.0)], SLOW[:3])
        self.assertEqual(length, 5000)
        self.assertEqual([row[0] for row in rows],
                         ["default compaction", "index flush", "any of these", "none"])

    def test_no_background_work_leaves_every_slow_request_unexplained(self):
        rows, _ = summary.attribute([], PHASES, SLOW)
        self.assertEqual(rows, [("any of these", 0, 0, 0), ("none", 0, 10_000, 4)])


def log_text(events, job_lines=""):
    return job_lines + "".join("2026/12/07-16:30:03.281894 19662 EVENT_LOG_v1 %s\n"
                               % json.dumps(e) for e in events)


class SlowLogTest(unittest.TestCase):
    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_the_text_lines_of_a_job_name_its_family(self):
        path = self.write(log_text(
            [event(time_micros=10, job=4, event="compaction_started"),
             event(time_micros=20, job=4, event="compaction_finished")],
            "2026/12/07-16:30:03.281000 19662 [db/db_impl/db_impl_files.cc:463] [JOB 4] Try\n"
            "2026/12/07-16:30:03.281000 19662 [DEBUG] [db/db_impl/db_impl_files.cc:364] [JOB 4]"
            " Delete\n"
            "2026/12/07-16:30:03.281000 19662 [db/compaction/compaction_job.cc:1994] [index]"
            " [JOB 4] Compacting 4@0 files to L1\n"))
        self.assertEqual(summary.windows(summary.read_events(path)),
                         [("index", "compaction", 10, 20)])

    def test_the_same_sample_issuer_load_writes(self):
        # slow_log_test.cc checks that AppendSlowPhase writes exactly these lines.
        path = self.write("# phase http open-loop-6000 1000 13000 72000 5\n"
                          "http 5000 2.500\n"
                          "http 9000 7.250\n")
        self.assertEqual(summary.read_slow_log(path), {
            "http": ([(1000, 13000, 72000, 5.0)], [(2500, 5000), (1750, 9000)])})

    def assert_unreadable(self, text, line):
        with self.assertRaises(SystemExit) as e:
            summary.read_slow_log(self.write(text))
        self.assertIn(":%d: not an issuer_load --slow-log line" % line, str(e.exception))

    def run_main(self, *argv):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            summary.main(list(argv))
        return out.getvalue()

    def test_a_phase_line_with_fields_missing_is_an_error(self):
        self.assert_unreadable("# phase http open-loop-6000 1000 13000\n", 1)

    def test_a_file_it_cannot_read_is_an_error_naming_it(self):
        with self.assertRaises(SystemExit) as e:
            summary.main(["/nonexistent/LOG"])
        self.assertIn("cannot read /nonexistent/LOG", str(e.exception))
        with self.assertRaises(SystemExit) as e:
            summary.read_slow_log("/nonexistent/slow.log")
        self.assertIn("cannot read /nonexistent/slow.log", str(e.exception))

    def test_an_event_line_that_is_not_json_is_an_error_naming_the_line(self):
        path = self.write("2026/12/07-16:30:03.281894 19662 [a] [JOB 1] ok\n"
                          "2026/12/07-16:30:03.281894 19662 EVENT_LOG_v1 {\"job\": \n")
        with self.assertRaises(SystemExit) as e:
            summary.read_events(path)
        self.assertIn(":2: an EVENT_LOG_v1 line that is not JSON", str(e.exception))

    def test_slow_without_a_file_is_refused(self):
        with self.assertRaises(SystemExit) as e:
            summary.main(["LOG", "--slow"])
        self.assertIn("--slow needs the file", str(e.exception))

    def test_reads_phases_and_requests_per_transport(self):
        path = self.write("# phase grpc open-loop-5000 1000 13000 60000 5\n"
                          "grpc 5000 2.5\n"
                          "# phase http open-loop-6000 20000 32000 72000 5\n"
                          "http 25000 7.25\n"
                          "http 29000 5.001\n")
        self.assertEqual(summary.read_slow_log(path), {
            "grpc": ([(1000, 13000, 60000, 5.0)], [(2500, 5000)]),
            "http": ([(20000, 32000, 72000, 5.0)], [(17750, 25000), (23999, 29000)]),
        })

    def test_a_line_it_cannot_read_is_an_error_naming_the_line(self):
        self.assert_unreadable(
            "# phase http open-loop-6000 1000 13000 72000 5\nhttp soon 2.5\n", 2)

    def test_a_file_without_a_phase_is_refused(self):
        log = self.write("")
        with self.assertRaises(SystemExit) as e:
            summary.print_attribution(self.write(""), summary.read_events(log), [log])
        self.assertIn("no phase in it", str(e.exception))
        with self.assertRaises(SystemExit) as e:
            summary.print_attribution(self.write("http 5000 6.0\n"), summary.read_events(log),
                                      [log])
        self.assertIn("http requests but no phase line", str(e.exception))

    def test_a_log_of_another_run_is_pointed_out(self):
        log = self.write(log_text(EVENTS))
        slow = self.write("# phase http open-loop-50 50000 60000 100 5\nhttp 55000 6.0\n")
        self.assertIn("falls within the phases", self.run_main("--slow", slow, log))

    def test_the_events_of_a_rolled_over_log_count_together(self):
        # The index flush starts in LOG.old and ends in LOG.
        old = self.write(log_text(EVENTS[:2]))
        new = self.write(log_text(EVENTS[2:]))
        slow = self.write("# phase http open-loop-50 0 10000 100 5\nhttp 1100 0.6\n")
        text = self.run_main("--slow", slow, old, new)
        self.assertRegex(text, r"index flush +1 +0\.0 s +20% +1 +100%")
        self.assertNotIn("note:", text)

    def test_main_prints_the_summary_and_the_attribution(self):
        log = self.write(log_text(EVENTS))
        slow = self.write("# phase http open-loop-50 0 10000 100 5\n" + "".join(
            "http %d %.3f\n" % (answered, (answered - sent) / 1000) for sent, answered in SLOW))
        text = self.run_main("--slow", slow, log)
        self.assertIn("index    flushed MB 2.00", text)
        self.assertIn("default  compactions 1, compaction wrote MB 5.00, compaction CPU s 0.70, "
                      "flushed MB 1.00", text)
        self.assertIn("http: 4 of 100 open-loop requests slower than 5 ms", text)
        self.assertRegex(text, r"index flush +1 +0\.0 s +20% +2 +50%")
        self.assertRegex(text, r"none +0\.0 s +60% +1 +25%")


if __name__ == "__main__":
    unittest.main()
