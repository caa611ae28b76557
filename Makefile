# One virtual environment for everything; the targets install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1

.PHONY: install demo test lint

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned, so that nothing pulls a multi-GB CUDA build; bring your own for a GPU.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The browser code (frontend/src and its folders, TypeScript) is built by Vite into static files, one
# bundle per entry of vite.config.ts; rebuilt when a source changes or a bundle is missing. Unit tests
# (*.test.ts) are not part of any bundle.
FRONTEND_BUNDLES := $(patsubst %,frontend/static/frontend/dist/%.js,annotator review models gallery jobs imports)
FRONTEND_SOURCES := $(shell find frontend/src -type f ! -name '*.test.ts') frontend/package.json frontend/vite.config.ts frontend/tsconfig.json

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund

$(FRONTEND_BUNDLES) &: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	npm run build --prefix frontend

install: $(VENV)/.installed $(FRONTEND_BUNDLES)

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py serve

# The TypeScript unit tests (vitest), then everything in Python. The fault tests (tests/faults) stop
# and cut services, so each module runs in a process of its own, after the rest.
test: install
	npm test --prefix frontend
	$(PY) -m pytest --ignore=tests/faults --durations=25
	for module in tests/faults/test_*.py; do $(PY) -m pytest "$$module" || exit 1; done

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	npm run typecheck --prefix frontend
