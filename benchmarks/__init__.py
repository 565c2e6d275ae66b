"""`make bench`: how fast Larkspur's loaders and dbt build run, against bare baselines.

`python -m benchmarks.run --scale SF --days N --out DIR` simulates a fresh data folder, runs every
step in its own subprocess (so each step's peak memory is its own) and writes
`bench_sf<SF>_<N>d.json` and `.md` below DIR (default `benchmarks/results/`).
See docs/benchmarks.md.
"""
