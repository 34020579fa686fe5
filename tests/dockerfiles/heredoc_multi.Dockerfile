# syntax=docker/dockerfile:1.4
FROM busybox
RUN cat <<FIRST <<-"SECOND" > /combined && \
    wc -l /combined
first $HOME
FIRST
		second, tabs stripped
	SECOND
COPY <<EOT /etc/greeting
hello
EOT
COPY <<-'CONF' /etc/app.conf
	key=value
	CONF
RUN echo "<<NOT a heredoc, it is quoted"
RUN ["echo", "<<NOT_IN_EXEC_FORM"]
CMD <<NOT_FOR_CMD
