FROM busybox
RUN <<EOF
echo "a heredoc runs as a script"
echo second line
EOF
CMD ["sh"]
