# The Agent's one image: every service runs from it with a different command
# (`python -m services.<name>`); see compose/compose.yaml and compose/k8s/.
#
#   docker build -t pbx-agent .
#   docker run --rm -e SERVICE=odoo_bridge -e REDIS_URL=redis://... pbx-agent python -m services.odoo_bridge
#   docker build --build-arg TEST_PEERS=yes -t pbx-agent:test .   # with the test peers (python -m peers.*)

ARG PYTHON_VERSION=3.11
# The images the two stages start from: the public python images. A Debian bookworm image does too (give
# both, e.g. a local debootstrap one where no registry is reachable: scripts/podman-stack.sh); python3 then
# comes from Debian (3.11). Both stages must be of one kind: the venv points at the builder's python.
ARG BUILDER_IMAGE=python:${PYTHON_VERSION}
ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim

# ---- builder: the project and its dependencies installed into a venv ------------------------------------
# The full python image has gcc and headers, in case a dependency has no wheel for this platform.
FROM ${BUILDER_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# hadolint ignore=DL3008
RUN command -v python3 >/dev/null \
    || (apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
        && rm -rf /var/lib/apt/lists/*)
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Only what the package is made of (.dockerignore keeps the rest out of the context as well).
COPY pyproject.toml ./
# The dependencies in a layer of their own: a change to the source does not fetch them again.
RUN python3 -c "import tomllib; \
        deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print(*deps, sep='\n')" \
        >requirements.txt \
    && pip install -r requirements.txt
COPY services ./services
# Installed, not linked: the final stage takes the venv alone.
RUN pip install --no-deps .
# The AMI and Odoo peers, which stand in for Asterisk and Odoo in compose/compose.test.yaml: beside the
# services in the test image only (TEST_PEERS=yes). The wheel and the production image leave them out.
ARG TEST_PEERS=no
COPY peers ./peers
RUN if [ "$TEST_PEERS" = yes ]; then \
        cp -r peers "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/"; \
    fi

# ---- final: slim runtime, no compilers, non-root ----------------------------------------------------------
FROM ${BASE_IMAGE} AS final
# nftables / ipset + iptables: the guard's firewall backends (GUARD_BACKEND). They are runtime tools, not
# build tools; only the guard uses them (as root, with NET_ADMIN). Versions follow the Debian release.
# python3: only on a plain Debian base (the python image has its own).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nftables ipset iptables \
    && { command -v python3 >/dev/null || apt-get install -y --no-install-recommends python3; } \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 agent \
    && useradd --system --uid 10001 --gid agent --home-dir /var/lib/pbx-agent --shell /usr/sbin/nologin agent \
    && mkdir -p /var/lib/pbx-agent/conf-backups \
    && chown -R agent:agent /var/lib/pbx-agent
# The installed venv only: services/ as packaged by pyproject.toml (and peers/ with TEST_PEERS=yes), no
# source tree.
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SERVICE=ami_gateway
WORKDIR /var/lib/pbx-agent
# Numeric, so that Kubernetes runAsNonRoot can verify it.
USER 10001:10001
# Fresh and ready status hash in Redis (services/bus/health.py); SERVICE names the service probed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "python -m services.bus.health \"$SERVICE\" || exit 1"]
# Overridden per service: compose `command:` / Kubernetes `command:`. Keep SERVICE in step with it.
CMD ["python", "-m", "services.ami_gateway"]
