# Push Center: `make demo` runs the product, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install demo serve test e2e lint migrations bench constraints clean

# The versions in constraints.txt are the ones the suite passed with, so a fresh machine gets
# what was tested; `make constraints` records new ones (see the README's Installing).
$(VENV)/installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/installed

demo: install
	$(PY) manage.py demo --port $(PORT)

# The production shape on one machine, against DATABASE_URL and CELERY_BROKER_URL: DEBUG is off
# unless set, and `manage.py serve` refuses development keys and a cache that is not Redis
# before it migrates, collects static files and starts gunicorn, two workers and Beat.
serve: install
	$(PY) manage.py serve --port $(PORT)

# pytest exits 5 when it collects nothing: for a suite that has tests that is a failure, said plainly.
pytest = $(PY) -m pytest $(1) $(PYTEST_ARGS); status=$$?; \
	[ $$status -ne 5 ] || echo "pytest collected no tests in $(1)"; exit $$status

test: install
	@$(call pytest,tests --ignore=tests/e2e)

e2e: install
	@$(call pytest,tests/e2e)

# Benchmarks need PostgreSQL (DATABASE_URL, default the local server) and wrk from Debian;
# bench/delivery.py also needs Redis (database 7) and makes its own database, bench_delivery;
# bench/events_api.py uses Redis database 8 as its broker; bench/webhooks.py database 9 as its cache.
bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	@command -v h2load >/dev/null && test -x /usr/sbin/nginx || (apt-get update -qq && apt-get install -y -qq nginx nghttp2-client >/dev/null)
	$(PY) bench/registration.py
	$(PY) bench/segment_evaluation.py
	$(PY) bench/payload_rendering.py
	$(PY) bench/providers.py
	$(PY) bench/delivery.py
	$(PY) bench/metrics_pages.py
	$(PY) bench/engagement.py
	$(PY) bench/events_api.py
	$(PY) bench/webhooks.py

lint: install
	$(VENV)/bin/ruff check .

# Fails when a model changed without its migration.
migrations: install
	$(PY) manage.py makemigrations --check --dry-run

# Record the versions installed in .venv now as the ones to install everywhere.
constraints: install
	{ sed -n '/^#/p' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache
