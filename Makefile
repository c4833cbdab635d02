# Farley: `make run` serves the app on SQLite, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/farley/web/static/vendor
PG_URL ?= postgres://postgres@127.0.0.1:5432/farley_test
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install pdf-libraries run test test-sqlite test-postgres test-e2e lint format bench messages clean

install: $(STAMP) $(VENDOR)/.installed src/farley/locale/de/LC_MESSAGES/django.mo pdf-libraries

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/bootstrap $(VENDOR)/bootstrap-icons $(VENDOR)/htmx
	cp node_modules/bootstrap/dist/css/bootstrap.min.css $(VENDOR)/bootstrap/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/
	cp -r node_modules/bootstrap-icons/font/. $(VENDOR)/bootstrap-icons/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	mkdir -p $(VENDOR)/sortablejs $(VENDOR)/chartjs
	cp node_modules/sortablejs/Sortable.min.js $(VENDOR)/sortablejs/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chartjs/
	# FullCalendar v7: the bundle with every view and dragging (its own Temporal shim, so no
	# polyfill), the classic theme, the German locale; styles come as CSS files (strict CSP).
	mkdir -p $(VENDOR)/fullcalendar/themes/classic $(VENDOR)/fullcalendar/locales
	cp node_modules/fullcalendar/all/global.js $(VENDOR)/fullcalendar/fullcalendar.js
	cp node_modules/fullcalendar/skeleton.css node_modules/fullcalendar/LICENSE.md $(VENDOR)/fullcalendar/
	cp node_modules/fullcalendar/themes/classic/global.js $(VENDOR)/fullcalendar/themes/classic/theme.js
	cp node_modules/fullcalendar/themes/classic/theme.css node_modules/fullcalendar/themes/classic/palette.css \
	  $(VENDOR)/fullcalendar/themes/classic/
	cp node_modules/fullcalendar/locales/de/global.js $(VENDOR)/fullcalendar/locales/de.js
	touch $@

# WeasyPrint (quote PDFs) needs Pango, HarfBuzz and a font from Debian's packages.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
pdf-libraries:
	@dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES); }

src/farley/locale/de/LC_MESSAGES/django.mo: src/farley/locale/de/LC_MESSAGES/django.po
	msgfmt --check -o $@ $<

run: install
	$(BIN)/farley migrate
	$(BIN)/farley first-start
	$(BIN)/farley serve --host 127.0.0.1 --port 8000

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: install /usr/bin/chromium
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	$(BIN)/pytest -n 2 -q

test-postgres:
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 -q -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	cd src/farley && ../../$(BIN)/django-admin makemessages -l de --no-obsolete --settings=farley.settings
	msgfmt --check -o src/farley/locale/de/LC_MESSAGES/django.mo src/farley/locale/de/LC_MESSAGES/django.po

bench: install
	$(BIN)/python bench/run.py; status=$$?; $(BIN)/python bench/sales.py || status=1; \
	$(BIN)/python bench/activities.py || status=1; exit $$status

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
