"""The docker CLI's commands with its flags and meanings: images, containers, registry, system."""
