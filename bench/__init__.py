"""DebtLedger benchmarks: `make bench` (or `.venv/bin/python -m bench`) runs them all.

    python -m bench                  # every benchmark at the acceptance sizes
    python -m bench import gas       # a subset, by name: import, gas, memory
    python -m bench --quick          # smaller sizes (or BENCH_QUICK=1)

Each figure is printed and written to bench/results/<name>.json (quick mode:
<name>.quick.json) as {"name", "value", "unit", "baseline", "baseline_value", "ratio",
"goal"}; baselines are measured in the same run. Sizes can be set one by one with
BENCH_IMPORT_N, BENCH_ONE_BY_ONE_N, BENCH_GAS_BATCHES, BENCH_MEMORY_N; BENCH_KEEP=1 keeps
the temporary data folders. Every benchmark starts its own anvil (LocalNode) on a free port.
"""
