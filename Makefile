# The two commands of the README: `make serve` (embedded default) and `make test` (everything CI runs).
# uv is the only tool needed beyond python3; it is installed into .tools/ when missing.

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: serve test lint sync system

serve: sync
	$(UV) run --frozen minigroups serve

test: sync system lint
	$(UV) run --frozen pytest

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports

# The programs the tests run; each is installed from Debian's packages when missing.
SYSTEM_PROGRAMS := mosquitto=/usr/sbin/mosquitto chromium=/usr/bin/chromium prometheus=/usr/bin/promtool \
	redis-server=/usr/bin/redis-server

system:
	scripts/ensure-system-programs $(SYSTEM_PROGRAMS)

sync: $(UV)
	$(UV) sync --frozen --quiet

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)
