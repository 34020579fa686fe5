"""Builds: the command (command), its arguments (args) and context (context), the engine's
event streams decoded (events), the on-disk log (log) and the live progress model (progress)."""
