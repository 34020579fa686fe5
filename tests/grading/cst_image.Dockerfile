FROM busybox:latest
RUN mkdir -p /app /data && echo "hello, grader" > /app/greeting && chmod 640 /app/greeting \
 && printf '#!/bin/sh\necho run\n' > /app/run.sh && chmod 755 /app/run.sh \
 && chown 1000:2000 /app/run.sh && ln -s greeting /app/link && ln -s /app/greeting /app/abslink \
 && chmod 4755 /app/run.sh && mkdir /app/tmp && chmod 1777 /app/tmp \
 && echo secret=1 > /app/config.ini
ENV APP_HOME=/app GREETING="hello there"
LABEL maintainer="<b>teacher</b>" course=docker-101
EXPOSE 8080 9090/udp
VOLUME /data
WORKDIR /app
USER 1000
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/greeting"]
