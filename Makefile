# mmfasternet: `make demo` and `make test` are the two-command quick start.
# Two stacks are tested: the current one (.venv/, `make setup`, `make test`) and the older end
# of the supported range (.venv-compat/, `make setup-compat`, `make test-compat`).
VENV ?= .venv
PY := $(VENV)/bin/python
COMPAT_VENV ?= .venv-compat
COMPAT_PY := $(COMPAT_VENV)/bin/python
SETUP_INPUTS := .dev_scripts/setup_env.sh .dev_scripts/mmcv_wheel.sh .dev_scripts/pch_ninja.sh setup.py
# What both tested stacks install beside their pins: test tools, deploy runtimes, pose and
# tracking, mmyolo.
EXTRAS := requirements/tests.txt requirements/deploy.txt requirements/pose_track.txt \
	requirements/yolo.txt
# The suite runs in TEST_WORKERS processes (pytest-xdist; 0: in pytest's own process). Most
# of its time is one-core work (starting tools, importing mmdet, mmcv's CPU ops), so two
# workers keep both cores of a 2-core machine busy.
TEST_WORKERS ?= 2
PYTEST = -m pytest tests -n $(TEST_WORKERS) --durations=15

.PHONY: setup setup-compat demo demo-seg lint test test-compat test-long test-install clean

setup: $(VENV)/.mmfasternet-setup
setup-compat: $(COMPAT_VENV)/.mmfasternet-setup

# Rerun the setup script whenever what it installs changes; it is idempotent and reuses
# the cached mmcv wheel, so a rerun takes seconds once the first one has built mmcv.
$(VENV)/.mmfasternet-setup: $(SETUP_INPUTS) requirements.txt $(EXTRAS) requirements/lint.txt
	bash .dev_scripts/setup_env.sh $(VENV) python3.11 requirements.txt $(EXTRAS) requirements/lint.txt
	touch $@

$(COMPAT_VENV)/.mmfasternet-setup: $(SETUP_INPUTS) requirements/compat.txt $(EXTRAS)
	bash .dev_scripts/setup_env.sh $(COMPAT_VENV) python3.10 requirements/compat.txt $(EXTRAS)
	touch $@

demo: setup
	$(PY) tools/demo.py det

demo-seg: setup
	$(PY) tools/demo.py seg

# Style and import order (setup.cfg), and imports pointing one way without cycles
# (setup.cfg's import-linter contracts).
LINTED := mmfasternet tools benchmarks tests setup.py mmfasternet_config_lookup.py
lint: setup
	$(PY) -m flake8 $(LINTED)
	$(PY) -m isort --check-only --diff $(LINTED)
	$(VENV)/bin/lint-imports

test: setup lint
	$(PY) $(PYTEST)

# The lab (benchmarks/) runs on the current stack only (benchmarks/README.md): its tests run
# once, in `make test`.
test-compat: setup-compat
	$(COMPAT_PY) $(PYTEST) --ignore=tests/benchmarks

# The end-to-end runs marked `long`, kept out of `make test`: train both toy demos, export,
# quantise and evaluate them like checkpoints; the tools' other whole train/export/test runs.
test-long: demo demo-seg
	$(PY) $(PYTEST) -m long -rP

# A new user's install on Python 3.12, the newest that mmcv 2.1 installs on (docs/install.md),
# the README's way (a fresh venv, PyPI's torch, the wheel of this checkout with [deploy], not
# editable): every config builds, ONNX exports.
test-install:
	bash .dev_scripts/check_user_install.sh python3.12 .venv-user

clean:
	rm -rf work_dirs .pytest_cache
