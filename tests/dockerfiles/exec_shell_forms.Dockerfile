FROM busybox
RUN ["echo", "exec form"]
RUN echo shell form
RUN [ -d / ] && echo "invalid JSON: shell form"
RUN ["echo", "first array counts"] trailing text is ignored
ENTRYPOINT ["/bin/sh", "-c"]
CMD echo shell-form cmd
SHELL ["/bin/sh", "-c"]
VOLUME ["/data", "/logs"]
VOLUME /cache /tmp/x
COPY ["a", "/dst dir/"]
HEALTHCHECK --interval=30s CMD ["true"]
