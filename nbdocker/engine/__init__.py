"""The engine layer: the only code that talks to the docker SDK (client), and the status panel."""
