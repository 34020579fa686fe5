# apt-get the usual ways: pinned and not, recommends, lists removed or kept
FROM debian:12.5 AS base
RUN apt-get update && apt-get install -y curl
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates=20230311 \
 && rm -rf /var/lib/apt/lists/*
RUN apt-get install -y -t bookworm-backports foo=1.0 ./local.deb vendor/pkg
RUN apt-get -y install -o APT::Install-Recommends=false qux

FROM base AS runtime
RUN apt-get update
RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y --no-install-recommends git=1:2.39
RUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt apt-get update
RUN apt update && apt install -y vim
CMD ["bash"]
