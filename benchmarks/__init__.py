"""Benchmarks of issue 6 ("Stay interactive at scale"): `python -m benchmarks`.

Prints one table of every goal (measured, goal, pass/fail) and the machine it ran on. Timings
are medians of a few repeats; the machine may be shared, so run it when it is quiet.
The class-sized load test runs on its own: `python -m benchmarks.load --help`.
"""
