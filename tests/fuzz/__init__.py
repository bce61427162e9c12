"""A seeded fuzzer for what users hand the harness: scenario files, replay request files, the
host side of goal states, results.json.  ``python -m tests.fuzz --iterations N --seed S``."""
