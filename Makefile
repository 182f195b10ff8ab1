# mmfasternet: `make demo` and `make test` are the two-command quick start.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmfasternet-setup

.PHONY: setup demo demo-seg test clean

setup: $(STAMP)

# Rerun the setup script whenever what it installs changes; it is idempotent and reuses
# the cached mmcv wheel, so a rerun takes seconds once the first one has built mmcv.
$(STAMP): tools/setup_env.sh requirements.txt requirements/tests.txt setup.py
	VENV=$(VENV) bash tools/setup_env.sh
	touch $@

demo: setup
	$(PY) tools/demo.py det

demo-seg: setup
	$(PY) tools/demo.py seg

test: setup
	$(PY) -m pytest tests

clean:
	rm -rf work_dirs .pytest_cache
