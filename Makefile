# Two commands for a newcomer: `make demo` and `make test`. Both create .venv and install on first use;
# both can be run again at will.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test install clean benchmark spark-cluster

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "mediarecon needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,demo,spark]' -c constraints.txt
	$(BIN)/python -c 'from mediarecon.ingest.storage import install_httpfs; install_httpfs()'
	touch $@

install: $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/mediarecon-demo run

# the dashboard's browser tests drive Debian's Chromium (Playwright cannot download its own here)
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq chromium

# the printed reports' tests render them with LibreOffice headless and read the PDF with poppler-utils
SOFFICE := /usr/bin/soffice
$(SOFFICE):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		libreoffice-calc-nogui poppler-utils

test: $(INSTALLED) | $(CHROMIUM) $(SOFFICE)
	$(BIN)/pytest -n 2 --dist loadfile

benchmark: $(INSTALLED)
	$(BIN)/python benchmarks/nightly_at_scale.py

# a Spark standalone master and one worker on 127.0.0.1 until Ctrl-C (docs/scale_out.md)
spark-cluster: $(INSTALLED)
	$(BIN)/mediarecon spark-cluster

clean:
	rm -rf var mediarecon/dbt_project/target mediarecon/dbt_project/logs .pytest_cache
