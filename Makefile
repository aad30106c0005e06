# One entry point per task. `make dev` and `make test` work on a fresh machine: they install what they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/shared/requirements.txt | sha1sum | cut -c1-12)

VENV312 := .venv-py312
STAMP312 := $(VENV312)/.installed-$(shell cat requirements-dev.txt layers/shared/requirements.txt | sha1sum | cut -c1-12)

.PHONY: dev test install check lint typecheck sam-validate sam-build bench bench-long reliability migrate db-up db-down db-status clean \
	invoke invoke-all sam-local-invoke sam-local-api test-py312

$(STAMP):
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -U pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

## install: the virtualenv and the local PostgreSQL + pgBouncer packages (idempotent)
install: $(STAMP)
	dev/stack.sh install

## dev: PostgreSQL + pgBouncer, migrations, local chain, API on :3000 and the monitor; Ctrl-C stops all
dev: install
	$(PY) dev/run.py

## test: every test (unit, integration against real PostgreSQL through pgBouncer, local chain)
test: install
	$(PY) -m pytest

## check: what CI runs besides the tests
check: lint typecheck sam-validate

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy layers/shared functions dev tests bench migrations

sam-validate:
	dev/sam.sh validate

sam-build:
	dev/sam.sh build

## invoke: the built function (make sam-build) on python3.12 as `sam local invoke` runs it, without Docker:
##   make invoke FN=ApiFunction EVENT=events/api_get_health.json   (the database: the local stack, make db-up)
invoke: $(STAMP)
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<logical id> EVENT=events/<file>" >&2; exit 2; }
	$(PY) dev/invoke.py $(FN) $(EVENT)

## invoke-all: every event in events/ against its built function, the answers checked
invoke-all: $(STAMP)
	$(PY) dev/invoke.py --check-all

## sam-local-invoke / sam-local-api: the real `sam local` in a Lambda container (needs Docker or Finch)
sam-local-invoke:
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make sam-local-invoke FN=<logical id> EVENT=events/<file>" >&2; exit 2; }
	dev/sam.sh sam local invoke $(FN) --event $(EVENT) --env-vars events/env.local.json

sam-local-api:
	dev/sam.sh sam local start-api --env-vars events/env.local.json

## test-py312: the tests again on python3.12 (the Lambda runtime), in .venv-py312 from the same pins
$(STAMP312):
	test -x $(VENV312)/bin/python || "$$(dev/python312.sh)" -m venv $(VENV312)
	$(VENV312)/bin/pip install -q -U pip
	$(VENV312)/bin/pip install -q -r requirements-dev.txt
	rm -f $(VENV312)/.installed-* && touch $@

test-py312: install $(STAMP312)
	$(VENV312)/bin/python -m pytest

## bench: every figure in one table (bench/results/latest.json, docs/PERFORMANCE.md); never part of the tests.
## The SAM build is remade when missing or older than its sources, so the python3.12 figures time this code.
bench: install
	dev/stack.sh start
	test -f .aws-sam/build/template.yaml -a -d .aws-sam/build/SharedLayer \
		-a -z "$$(find layers/shared functions template.yaml -newer .aws-sam/build/template.yaml -print -quit)" \
		|| dev/sam.sh build \
		|| echo "bench: no python3.12 build; its cold start is listed as not measurable"
	$(PY) -m bench.run

## bench-long: the figures too slow for make bench (the monitor over 1,000 pools, three runs: 7-20 min here), merged into
## bench/results/latest.json and the docs; make bench shows the last such figure, dated
bench-long: install
	dev/stack.sh start
	$(PY) -m bench.run --long

## reliability: faults injected under load (quick and long parts), then the fault table and docs/RELIABILITY.md
reliability: install
	MISSOUT_RELIABILITY_LONG=1 MISSOUT_RELIABILITY_REPORT=bench/results/reliability.json $(PY) -m pytest tests/reliability -p no:cacheprovider
	$(PY) -m bench.report --print-faults

migrate: install
	eval "$$(dev/stack.sh env)" && $(VENV)/bin/alembic upgrade head

db-up: install
	dev/stack.sh start
db-down:
	dev/stack.sh stop
db-status:
	dev/stack.sh status

clean:
	dev/stack.sh stop || true
	rm -rf "$$(dev/stack.sh dir)" .local .aws-sam .mypy_cache .ruff_cache .pytest_cache
