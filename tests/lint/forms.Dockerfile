FROM busybox:1.36
MAINTAINER Someone <someone@example.com>
ADD app.tar.gz /opt/
ADD https://example.com/file.txt /file.txt
ADD local.txt /local.txt
ADD --chown=1000 "bundle.tgz" /srv/
ADD ["a.tar", "b.txt", "/dest/"]
ADD ["c.tar.xz", "/dest/"]
ADD one.tar two.txt /multi/
COPY local.txt /copied.txt
HEALTHCHECK CMD wget -q -O- http://localhost/
HEALTHCHECK --interval=5s CMD ["wget", "-q", "-O-", "http://localhost/"]
HEALTHCHECK NONE
ENTRYPOINT /bin/server --port 80
CMD ["--verbose"]
CMD echo done
