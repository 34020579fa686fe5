FROM busybox
# Comment lines inside a continued instruction are skipped, as Docker does.
RUN echo one \
# this comment is not part of the command
    two \
    # an indented comment is skipped too
    three
  # an indented comment between instructions
	RUN echo indented with a tab
RUN echo escaped \\
RUN echo end
