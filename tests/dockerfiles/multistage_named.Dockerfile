FROM busybox AS Builder
RUN echo built > /artifact
WORKDIR /src
COPY a .

FROM busybox AS tester
COPY --from=builder /artifact /artifact
RUN test -f /artifact

FROM busybox
COPY --from=0 /artifact /from-index
COPY --from=tester /artifact /from-tester
CMD ["cat", "/from-index"]
