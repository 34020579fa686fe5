"""The command table: the modules whose `register(sub, image_sub)` make up the `%docker` tree.

Listed by name, so the parser framework (`nbdocker.cli`) imports none of them and a module is
imported only when the tree is first assembled. Add a command module here, one line.
"""
from __future__ import annotations

COMMAND_MODULES: tuple[str, ...] = (
    "nbdocker.commands.images",
    "nbdocker.build.command",
    "nbdocker.commands.containers",
    "nbdocker.commands.registry",
    "nbdocker.commands.system",
    "nbdocker.commands.contexts",
    "nbdocker.commands.lint",
    "nbdocker.layers.command",
)
