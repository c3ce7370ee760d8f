# k0s-tui — the two Quick start commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages the test suite drives for real (sshd, containerd, registry, image tools, pssh,
# tmux for what the terminal receives, chromium for the browser console).
DEB_PACKAGES := openssh-server openssh-client containerd runc docker-registry busybox-static umoci skopeo iproute2 pssh sudo tmux chromium chromium-driver

.PHONY: demo test venv debs lint bench clean bytecode

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Byte-compile the sources (a no-op when up to date), as installing a wheel does: with
# PYTHONDONTWRITEBYTECODE set, every start would compile ~100 modules again (~0.3 s).
bytecode: $(STAMP)
	$(PY) -m compileall -q backends tui widgets

demo: bytecode
	$(VENV)/bin/k0s-tui --demo

debs:
	@bash .ci/install-debs.sh $(DEB_PACKAGES)

test: $(STAMP) debs
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Regenerate backends/images/containerd/gen/*_pb2.py (committed) from backends/images/containerd/protos/.
.PHONY: protos
protos: $(STAMP)
	PY=$(PY) bash scripts/gen_protos.sh
