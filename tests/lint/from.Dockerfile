ARG BASE=alpine:3.19
ARG VERSION
FROM $BASE
FROM ${BASE} AS second
FROM busybox
FROM busybox:latest
FROM registry.example.com/team/app:latest
FROM registry.example.com:5000/team/app
FROM localhost:5000/app
FROM busybox@sha256:8fd8df4de8f0d3e1e1b4b5f4cb4c0b4ae2e2d2d2b4bb7b7b7b7b7b7b7b7b7b7b
FROM busybox:latest@sha256:8fd8df4de8f0d3e1e1b4b5f4cb4c0b4ae2e2d2d2b4bb7b7b7b7b7b7b7b7b7b7b
FROM second
FROM debian:bookworm-slim AS debian
FROM debian
FROM library/busybox:1.36 AS x
FROM python AS python
