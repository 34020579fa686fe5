FROM --platform=linux/amd64 busybox AS build
RUN --mount=type=cache,target=/root/.cache \
    --mount=type=tmpfs,target=/tmp \
    --network=none \
    echo cached
RUN --security=insecure echo insecure
COPY --chown=1000:1000 --chmod=0644 --link a /a

FROM busybox
COPY --from=build -- --weird-name /b
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/x.tar.gz /x
ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /buildkit
HEALTHCHECK --interval=5s --timeout=3s --start-period=1s --retries=3 CMD wget -q -O- http://localhost/
