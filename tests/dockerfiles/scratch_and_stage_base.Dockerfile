FROM scratch AS files
COPY a /a

FROM busybox:latest AS base
RUN echo base > /base

FROM base AS final
WORKDIR /
COPY --from=files /a /a
RUN cat /a /base
