# Redis from Debian's package, for a machine with no registry to pull redis:7-alpine from: compose.test.yaml
# builds it from the same local Debian base as the agent image (scripts/podman-stack.sh).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
# The append-only file goes to the working directory (Redis's default `dir ./`): the redis-data volume.
WORKDIR /data
EXPOSE 6379
# Debian's Redis keeps protected mode on, which refuses the other containers (no password, not loopback).
# Off, as in the official image, whatever command compose gives (compose.yaml's has its own options).
ENTRYPOINT ["sh", "-c", "if [ \"$1\" = redis-server ]; then set -- \"$@\" --protected-mode no; fi; exec \"$@\"", "sh"]
CMD ["redis-server"]
