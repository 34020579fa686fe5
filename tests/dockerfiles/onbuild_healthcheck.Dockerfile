FROM busybox
LABEL org.example.version="1.0" description="with spaces"
ENV A=1 B="two words"
ENV OLD_STYLE value with spaces
EXPOSE 8080/tcp 9090
USER nobody
STOPSIGNAL SIGTERM
HEALTHCHECK NONE
ONBUILD RUN echo later
ONBUILD COPY <<EOF /onbuild.txt
from a heredoc
EOF
MAINTAINER someone@example.com
