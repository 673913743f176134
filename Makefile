# Tangible — two commands on a fresh machine: `make run` and `make test`.
# Everything else (uv, the Python environment, the Kafka jars) is bootstrapped on demand.

SHELL := /bin/bash
# trust the platform certificate store (corporate proxies, CI mirrors)
export UV_SYSTEM_CERTS ?= 1
.DEFAULT_GOAL := help

UV_SYSTEM := $(shell command -v uv 2>/dev/null)
UV := $(if $(UV_SYSTEM),$(UV_SYSTEM),$(CURDIR)/.cache/tools/bin/uv)
RUN := $(UV) run --frozen
PACKAGES := -p tangible_schemas -p tangible_runtime -p tangible_devstack -p tangible_simulator -p tangible_client -p tangible_demo \
            -p tangible_ingest -p tangible_entitlements -p tangible_rewards -p tangible_notifications

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(CURDIR)/.cache/tools/bin/uv:
	python3 -m venv .cache/tools
	.cache/tools/bin/pip install --quiet uv

.venv/.synced: uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml) | $(UV)
	$(UV) sync --frozen --all-packages
	@touch $@

.PHONY: install
install: .venv/.synced ## create the Python environment (uv, one lock file)

.PHONY: kafka
kafka: install ## fetch Apache Kafka with Maven into .cache (once)
	$(RUN) python -m tangible_devstack fetch-kafka

.PHONY: run
run: install kafka ## run the whole system on embedded defaults (Ctrl-C stops it)
	$(RUN) python -m tangible_devstack run

.PHONY: demo
demo: install kafka ## provision a demo tenant, replay 8 weeks of usage in a minute, print what the services made of it and the customer's page (a system it started keeps running until Ctrl-C)
	$(RUN) python -m tangible_demo --keep-running $(DEMO_ARGS)

.PHONY: test
# pytest-xdist workers: the suite waits on brokers, databases and started processes about as
# much as it computes; on 2 cores, two workers took it from 27 min to 19 (see README, Tests).
# Each worker starts its own Kafka and PostgreSQL; every system a test starts takes free ports
TEST_WORKERS ?= 2
test: install kafka helm toxiproxy test-packages web/elements/node_modules/.package-lock.json tests/contracts/asyncapi/node_modules/.package-lock.json ## run every test (unit, integration on real Kafka + PostgreSQL, contracts, chart, short chaos run, the date-sensitive tests as if on other days)
	$(RUN) pytest -n $(TEST_WORKERS) --dist load

.PHONY: chaos
PROFILE ?= full
chaos: install kafka toxiproxy ## chaos run (PROFILE=full: 100k events under faults, ~3 min; PROFILE=million: 1M events, two replicas of every worker role, about an hour on 2 cores); writes chaos/reports/$(PROFILE)-latest.{json,md}
	$(RUN) python -m chaos --profile $(PROFILE)

.PHONY: fuzz
fuzz: install kafka ## schemathesis in process on every service, all four phases (coverage too) and 25 examples per operation (`make test` runs a bounded form)
	TANGIBLE_FUZZ_PHASES=examples,coverage,fuzzing,stateful TANGIBLE_FUZZ_EXAMPLES=$${TANGIBLE_FUZZ_EXAMPLES:-25} \
		$(RUN) pytest tests/integration/test_fuzzing.py -q -o timeout=3600

.PHONY: bench
bench: install kafka test-packages vegeta wrk ## run every benchmark; writes bench/reports/latest.{json,md} and renders docs/dashboard.png from the run's /metrics
	$(RUN) python -m bench
	$(RUN) python scripts/dashboard_png.py --samples bench/reports/metrics-latest.json --source "make bench: every service the bench started"

.PHONY: import-bench
import-bench: install ## import 1,000,000 historical events through tangible-client into `make run`'s system; prints the rate
	$(RUN) python -m bench.import_bench

.PHONY: test-packages
test-packages: ## install the Debian packages the tests use (libfaketime; Chromium and fonts for the web components; poppler-utils for the impact report PDF) when missing
	bash scripts/ensure-debian-packages.sh faketime chromium fonts-dejavu-core fonts-liberation2 poppler-utils

web/elements/node_modules/.package-lock.json: web/elements/package-lock.json
	cd web/elements && npm ci --no-audit --no-fund

# the reference AsyncAPI parser that tests/contracts/test_asyncapi_document.py runs
tests/contracts/asyncapi/node_modules/.package-lock.json: tests/contracts/asyncapi/package-lock.json
	cd tests/contracts/asyncapi && npm ci --no-audit --no-fund

.PHONY: elements
elements: web/elements/node_modules/.package-lock.json ## build the web components into notifications, type-check, unit-test, publish the SRI hash in the READMEs
	cd web/elements && npm run typecheck && npm test && npm run build && npm run sri

.PHONY: screenshots
screenshots: install kafka test-packages web/elements/node_modules/.package-lock.json ## PNG screenshots of each web component, light and dark, into docs/screenshots/
	TANGIBLE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(RUN) pytest tests/integration/test_web_elements.py -q -k screenshots

.PHONY: helm
helm: ## build helm from the Go module proxy into .cache/bin (once)
	bash scripts/ensure-go-tool.sh helm

.PHONY: toxiproxy
toxiproxy: ## build toxiproxy from the Go module proxy into .cache/bin (once; chaos runs inject faults with it)
	bash scripts/ensure-go-tool.sh toxiproxy >/dev/null

.PHONY: vegeta
vegeta: ## build vegeta from the Go module proxy into .cache/bin (once; the bench's HTTP load generator for the check path)
	bash scripts/ensure-go-tool.sh vegeta >/dev/null

.PHONY: wrk
wrk: ## install Debian's wrk (once; the bench's closed-loop generator for the check path's maximum)
	bash scripts/ensure-debian-packages.sh wrk

.PHONY: helm-lint
helm-lint: install helm ## lint, render and validate the Helm chart offline
	$(RUN) pytest deploy/helm -q -m "not integration"

IMAGE ?= ghcr.io/tangible/tangible
TAG ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: images
images: ## build the multi-role container image (needs Docker)
	docker build -t $(IMAGE):$(TAG) .

.PHONY: lint
lint: install ## ruff and mypy (strict; the tests on their relaxed profile, scripts/mypy-tests.sh)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy $(PACKAGES)
	$(RUN) mypy bench chaos
	$(RUN) bash scripts/mypy-tests.sh
	for member in libs/* services/*; do (cd $$member && $(RUN) deptry . --ignore DEP003) || exit 1; done

.PHONY: format
format: install ## apply ruff's formatting and fixes
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

.PHONY: schemas
schemas: install ## regenerate the AsyncAPI document and JSON Schemas from the models
	$(RUN) python -m tangible_schemas.asyncapi write

.PHONY: clean
clean: ## wipe local data (databases, broker log, keys); keeps the caches
	rm -rf .data

.PHONY: distclean
distclean: clean ## also wipe caches and the environment
	rm -rf .cache .venv

.PHONY: dashboard-png
dashboard-png: install kafka test-packages ## run the system with the simulator for a minute, scrape /metrics, render the Grafana dashboard's panels into docs/dashboard.png (headless Chromium; no Grafana needed)
	$(RUN) python scripts/dashboard_png.py

.PHONY: restore-drill
restore-drill: install kafka ## restore drill at 100,000 events: entitlements' database backed up while usage flows, lost, restored, caught up from Kafka exactly (docs/runbook.md)
	TANGIBLE_RESTORE_DRILL_EVENTS=$${TANGIBLE_RESTORE_DRILL_EVENTS:-100000} $(RUN) pytest tests/integration/test_restore_drill.py -q -k catches_up -o timeout=3600

.PHONY: upgrade-drill
upgrade-drill: install kafka ## rolling upgrade of entitlements from its previous release under load, each phase held 60 s (docs/upgrades.md)
	TANGIBLE_UPGRADE_PHASE_SECONDS=$${TANGIBLE_UPGRADE_PHASE_SECONDS:-60} $(RUN) pytest tests/integration/test_upgrade_while_running.py -q -o timeout=3600

.PHONY: soak
soak: install kafka ## soak run: half the sustained pipeline rate for 30 min with every role running; writes chaos/reports/soak-latest.{json,md,png} (SOAK_ARGS="--minutes M --rate N")
	$(RUN) python -m chaos.soak $(SOAK_ARGS)

.PHONY: overload
overload: install kafka ## overload run: 3 × the sustained pipeline rate offered to usage-ingest for 60 s through tangible-client; writes chaos/reports/overload-latest.{json,md} (OVERLOAD_ARGS="--rate N --seconds S")
	$(RUN) python -m chaos.overload $(OVERLOAD_ARGS)
