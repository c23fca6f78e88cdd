# genlab: `make run` starts the dashboard, `make test` runs the whole test suite.
# Both build .venv on first use; installs are skipped while the requirements files are unchanged.

SHELL       := /bin/bash
PYTHON3     ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip
STAMP_RUN   := $(VENV)/.installed-requirements
STAMP_DEV   := $(VENV)/.installed-requirements-dev
CHROMIUM    := /usr/bin/chromium
ADDRESS     ?= 127.0.0.1
PORT        ?= 8501
PYTEST_ARGS ?=
# Two pytest workers (pytest-xdist), one test file per worker at a time: the browser tests spend
# most of their time waiting for pages, so the other worker's CPU-bound tests fill those gaps.
TEST_WORKERS ?= 2

REPLICAS    ?= 2
CLASS_PORT  ?= 8500
HAPROXY     := /usr/sbin/haproxy

.PHONY: run serve-class test test-load bench demos venv chromium haproxy clean

run: $(STAMP_RUN)
	$(PY) -m streamlit run dashboard/serve.py --server.address $(ADDRESS) --server.port $(PORT)

# REPLICAS servers behind HAProxy on ADDRESS:CLASS_PORT, one run store and cookie secret (deploy/).
serve-class: $(STAMP_RUN) haproxy
	$(PY) -m deploy.serve_class --replicas $(REPLICAS) --address $(ADDRESS) --port $(CLASS_PORT)

test: $(STAMP_DEV) chromium haproxy
	$(PY) -m pytest -m "not load" -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

test-load: $(STAMP_DEV) chromium haproxy
	$(PY) -m pytest -m load $(PYTEST_ARGS)

# The benchmarks drive a real browser too (live page vs headless): Playwright and chromium.
bench: $(STAMP_DEV) chromium
	$(PY) -m bench

demos: $(STAMP_RUN)
	$(PY) -m genlab demos

venv: $(STAMP_DEV)

$(PY):
	$(PYTHON3) -m venv $(VENV)

# pip's own config (find-links / extra index) provides the pinned torch wheels from local disk.
$(STAMP_RUN): requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

$(STAMP_DEV): requirements-dev.txt $(STAMP_RUN)
	$(PIP) install -r requirements-dev.txt
	touch $@

# Browser tests drive Debian's chromium; install it when we can (root), else they skip.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else \
	    echo "note: $(CHROMIUM) missing and not root: browser tests will be skipped"; \
	  fi; \
	fi

# The class load balancer (make serve-class, the two-replica load test): Debian's haproxy, as chromium.
haproxy:
	@if [ ! -x $(HAPROXY) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy; \
	  else \
	    echo "note: $(HAPROXY) missing and not root: install haproxy (the two-replica load test skips)"; \
	  fi; \
	fi

clean:
	rm -rf tests/screenshots .pytest_cache
