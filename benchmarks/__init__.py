"""corsware's benchmarks: ``make bench`` (or ``python -m benchmarks``).

In-process per-request overhead of corsware and its peers, each measured against its own
bare app with the subjects interleaved within every trial; real servers (uvicorn, gunicorn)
driven by ``wrk`` on loopback; results as ratios, written to ``docs/performance.md`` and
one chart per family with a peer, ``docs/img/benchmarks-<family>.png`` (redrawn from the
tables by ``python -m benchmarks.report --charts``). See ``docs/performance.md`` for how to
read them.
"""
