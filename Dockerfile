# syntax=docker/dockerfile:1
#
# One image with both binaries: the gateway (`tenantgraph`, the default command) and the Auth0
# emulator (`tenant-emulator`, for demos and docker-compose.yml).
#
#   docker build -t tenantgraph .
#   docker run --rm -p 127.0.0.1:4000:4000 \
#     -v "$PWD/tenantgraph.toml:/etc/tenantgraph/tenantgraph.toml:ro" \
#     -e TENANTGRAPH_SECRET_ACME_EU=... tenantgraph
#   docker run --rm tenantgraph tenant-emulator --listen 0.0.0.0 --port 8080 --tenant acme-eu
#
# The config must set `[server] listen = "0.0.0.0:4000"` (the default listens on loopback only);
# TENANTGRAPH__SERVER__LISTEN=0.0.0.0:4000 does the same from the environment.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /src

# Dependencies first, in their own layer: only the manifests, the lock file and empty targets,
# so this layer is rebuilt when Cargo.toml or Cargo.lock change, not when the code does.
# Targets are found by convention, except the emulator's example, which its manifest names with a
# path: cargo reads every target's file, so it needs an empty one too.
COPY Cargo.toml Cargo.lock ./
COPY crates/search-query/Cargo.toml crates/search-query/
COPY crates/tenant-emulator/Cargo.toml crates/tenant-emulator/
RUN mkdir -p src crates/search-query/src crates/tenant-emulator/src crates/tenant-emulator/examples \
    && echo 'fn main() {}' > src/main.rs \
    && echo 'fn main() {}' > crates/tenant-emulator/examples/bench.rs \
    && touch src/lib.rs crates/search-query/src/lib.rs crates/tenant-emulator/src/lib.rs \
    && echo 'fn main() {}' > crates/tenant-emulator/src/main.rs \
    && cargo build --release --locked --bins \
    && rm -rf src crates/search-query/src crates/tenant-emulator/src

# The code. COPY keeps the files' own modification times, which can be older than the empty
# targets built above: touch them so cargo rebuilds the workspace's crates for certain.
COPY src src
COPY crates crates
RUN find src crates -name '*.rs' -exec touch {} + \
    && cargo build --release --locked --bins \
    && mkdir -p /out \
    && cp target/release/tenantgraph target/release/tenant-emulator /out/

# ---------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

# CA certificates: tenantgraph verifies Auth0's TLS certificates against the system store.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 tenantgraph \
    && useradd --system --uid 10001 --gid tenantgraph --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin tenantgraph \
    && mkdir -p /etc/tenantgraph /var/log/tenantgraph \
    && chown tenantgraph:tenantgraph /var/log/tenantgraph

COPY --from=builder /out/tenantgraph /out/tenant-emulator /usr/local/bin/
# Every configuration key, documented; mount the real file at /etc/tenantgraph/tenantgraph.toml.
COPY examples/tenantgraph.toml /usr/share/doc/tenantgraph/tenantgraph.example.toml

USER 10001:10001
EXPOSE 4000

# GET /healthz answers 200 while the process serves. The image has no curl: bash's /dev/tcp
# does the request. Containers running tenant-emulator override this (docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/4000 && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r _ status _ <&3 && [ \"$status\" = 200 ]"]

# tenantgraph stops gracefully on SIGTERM (docker stop's default signal).
CMD ["tenantgraph", "serve", "--config", "/etc/tenantgraph/tenantgraph.toml"]
