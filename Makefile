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
$(STAMP): setup.py pyproject.toml requirements.txt dev-requirements.txt constraints.txt
	@$(BIN)/python -c "import sys; assert sys.version_info[:2] >= (3, 11)" 2>/dev/null \
	  || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
	  -c constraints.txt -r requirements.txt -r dev-requirements.txt -e .
	@touch $(STAMP)

portal: $(STAMP)
	$(BIN)/vernetztestadt-runtime up --port $(PORT)
	$(BIN)/vernetztestadt-runtime serve --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

down:
	@if [ -x $(BIN)/vernetztestadt-runtime ]; then $(BIN)/vernetztestadt-runtime down; \
	 else echo "nothing to stop (no $(VENV))"; fi

status: $(STAMP)
	$(BIN)/vernetztestadt-runtime status

lint: $(STAMP)
	$(BIN)/ruff check ckanext tests bench

# Regenerate the full pin list from the current environment.
constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --exclude ckanext-vernetztestadt \
	  | grep -v '^-e ' > constraints.txt
