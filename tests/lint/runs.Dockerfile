FROM busybox:1.36
RUN a
RUN b
# a comment does not break the run
RUN c

RUN d && e
RUN f
RUN --mount=type=cache,target=/x g
RUN --mount=type=cache,target=/x h
RUN i
ENV X=1
RUN j
RUN k; l
RUN m
RUN n | o
RUN p
RUN "$(q)"
RUN r
RUN if [ -f x ]; then cd /y; fi
RUN s
RUN [[ -d /x ]] || exit 1
RUN t
RUN test -d /x || exit 1
RUN u
