from busybox:1.36 as base
run cd /tmp && echo hi | grep h
workdir app
cmd echo hi
FROM base AS Final
ENV SECRET_TOKEN=abc
ENV LEGACY value
label version 1
ARG DB_PASSWORD
ARG PUBLIC_KEY=x
copy $UNDEFINED /x
EXPOSE 80/TCP
entrypoint ["/bin/sh"]
entrypoint ["/bin/true"]
