# syntax=docker/dockerfile:1
# A Dockerfile the shared rules have nothing to say about.
FROM debian:12.5 AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends make=4.3-4.1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make | tee build.log && test -s build.log

FROM busybox:1.36
COPY --from=build /src/out /app
USER 1000:1000
ENTRYPOINT ["/app/server"]
CMD ["--port", "8080"]
