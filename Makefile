# civictwin: `make run` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
SYS_STAMP  := .venv/.system-stamp
CITY_OUT   := build/helsinki

# Debian packages: Mesa's EGL and software OpenGL, for offscreen rendering with no GPU;
# Chromium, the real browser the phone page's tests drive (Playwright uses it; it downloads none);
# DejaVu, the kiosk's font (it has every letter of the kiosk's languages).
DEBS := libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri libgles2 chromium fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test bench lint clean

setup: $(STAMP) $(NODE_STAMP) $(SYS_STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "civictwin needs Python 3.11 or newer; $(PYTHON) is older." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18 or newer." >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(SYS_STAMP): $(STAMP)
	@if ! ldconfig -p | grep -q 'libEGL_mesa.so' || ! ldconfig -p | grep -q 'libGL.so.1' \
	    || ! command -v chromium >/dev/null || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
	  echo "Installing Mesa EGL (offscreen rendering), Chromium (page tests) and the DejaVu font: $(DEBS)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(DEBS) >/dev/null; \
	fi
	@touch $@

# With a display: a workshop ready to run (server, the wall with its join QR, a kiosk), then its report.
# Without one: the same workshop headless (scripted phones, the kiosk's attract tour and a visit
# offscreen, the wall rendered offscreen), ending with the report; it prints where everything is.
run: setup
	$(VENV)/bin/civictwin build-city content/cities/helsinki --out $(CITY_OUT)
	$(VENV)/bin/civictwin inspect $(CITY_OUT)
	$(VENV)/bin/civictwin snapshot $(CITY_OUT) --out $(CITY_OUT).png
	$(VENV)/bin/civictwin sim $(CITY_OUT) --apply content/scenarios/helsinki-centre.example.json --png build/sim
	rm -rf build/workshop-demo* build/workshop-live* build/workshop-report build/kiosk build/wall
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  $(VENV)/bin/civictwin workshop live --db build/workshop-live.db --city $(CITY_OUT) --report build/workshop-report; \
	else \
	  $(VENV)/bin/civictwin workshop demo --db build/workshop-demo.db --out build/workshop-report --city $(CITY_OUT) \
	    --kiosk-script content/kiosk/attract.json --kiosk-script content/kiosk/visit.json \
	    --kiosk-screenshots build/kiosk --wall build/wall --report build/workshop-report; \
	fi

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/run.py

lint: setup
	$(VENV)/bin/ruff check world sims multiplayer game content tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
