# ARG before the first FROM belongs to no stage; it can parametrise FROM.
ARG BASE=busybox
ARG TAG=latest

FROM ${BASE}:${TAG} AS base
ARG TAG
RUN echo "tag is $TAG"

FROM base
ARG VERSION=1.0
RUN echo "version $VERSION"
