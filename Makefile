# Developer shortcuts. The benchmark suite against the peers is described in
# bench/README.md; `make bench` takes about 18 minutes on 2 cores, `make bench-quick`
# (a 1,000-message smoke run) about a minute. Extra options: make bench BENCH_ARGS="--reps 3".

.PHONY: bench bench-quick

bench:
	bash bench/run $(BENCH_ARGS)

bench-quick:
	bash bench/run --quick $(BENCH_ARGS)
