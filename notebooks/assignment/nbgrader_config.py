"""nbgrader settings for the example assignment (run nbgrader from this folder, or copy it)."""
c = get_config()  # noqa: F821 - nbgrader provides it

c.CourseDirectory.course_id = "docker-101"
# Builds take longer than nbgrader's 30 s default; past the timeout the kernel is interrupted
# (nbdocker then cancels the build engine-side) and grading goes on with the next cell.
c.ExecutePreprocessor.timeout = 300
c.ExecutePreprocessor.interrupt_on_timeout = True
