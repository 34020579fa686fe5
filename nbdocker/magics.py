"""The IPython glue: `%docker` and `%%dockerfile` parse their line and call one function below."""
from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display
from traitlets import Bool, Enum, Float, Unicode, observe

from nbdocker import cli
from nbdocker.build.memory import ImageMemory
from nbdocker.commands.table import COMMAND_MODULES
from nbdocker.engine.client import Engine
from nbdocker.engine.endpoint import TLSFiles, endpoint_settings
from nbdocker.errors import BuildFailed, CommandFailed
from nbdocker.views.display import DISPLAY_MODES, Display
from nbdocker.views.results import Result


@magics_class
class DockerMagics(Magics):
    """Docker image commands and Dockerfile builds in the notebook."""

    base_url = Unicode(
        None, allow_none=True,
        help="Engine endpoint (unix:///…, tcp://host:port). Default: DOCKER_HOST, the current "
             "docker context, or the local socket.",
    ).tag(config=True)
    tls_ca_cert = Unicode("", help="TLS: the engine's CA certificate (PEM file) for base_url.").tag(config=True)
    tls_client_cert = Unicode("", help="TLS: our client certificate (PEM file) for base_url.").tag(config=True)
    tls_client_key = Unicode("", help="TLS: our client key (PEM file) for base_url.").tag(config=True)
    tls_verify = Bool(True, help="TLS: verify the engine's certificate against tls_ca_cert.").tag(config=True)
    timeout = Float(5.0, help="Seconds to wait for the engine on metadata calls.").tag(config=True)
    display = Enum(DISPLAY_MODES, "auto",
                   help="How results show: auto (widget where possible), widget, html or text.").tag(config=True)
    builder = Enum(("auto", "buildkit", "classic"), "auto",
                   help="Default builder for %%dockerfile and %docker build.").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self._engine: Engine | None = None
        self.built = ImageMemory()  # what this kernel's builds made: layers tied to their lines
        Display.mode = self.display

    @observe("base_url", "timeout", "tls_ca_cert", "tls_client_cert", "tls_client_key", "tls_verify")
    def _endpoint_changed(self, change: Any) -> None:
        if self._engine is not None:
            self._engine.close()
        self._engine = None

    @observe("display")
    def _display_changed(self, change: Any) -> None:
        Display.mode = change["new"]

    @property
    def session(self) -> cli.Session:
        """The engine is made here on first use, never at load time (it only reads settings)."""
        if self._engine is not None and self._engine.env_host != endpoint_settings():
            self._engine.close()  # the user pointed DOCKER_HOST elsewhere (`%env DOCKER_HOST=…`)
            self._engine = None
        if self._engine is None:
            tls = TLSFiles(self.tls_ca_cert, self.tls_client_cert, self.tls_client_key, self.tls_verify)
            self._engine = Engine(self.base_url, self.timeout, tls)
        return cli.Session(self._engine, builder=self.builder,
                           user_ns=self.shell.user_ns if self.shell else {}, show=display,
                           built=self.built)

    @line_magic
    def docker(self, line: str) -> Any:
        session = self.session
        return _stamped(_shown_on_failure(lambda: COMMANDS.run_line(session, line)), session)

    @cell_magic
    def dockerfile(self, line: str, cell: str) -> Any:
        from nbdocker.build import command as build  # the build machinery, when a cell first builds

        session = self.session
        return _stamped(_shown_on_failure(lambda: build.run_dockerfile_cell(session, line, cell)), session)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


def _stamped(result: Any, session: cli.Session) -> Any:
    """A result says which engine it came from (its widget's header line), unless it says
    otherwise already (the layers of an archive came from a file)."""
    if isinstance(result, Result) and result.where is None:
        result.where = f"engine: {session.engine.describe()}"
    return result


def _shown_on_failure(run: Any) -> Any:
    """A failure that carries a partial result (rmi, inspect, build) shows it before failing."""
    try:
        return run()
    except (CommandFailed, BuildFailed) as err:
        if err.result is not None:
            display(err.result)
        raise


# The `%docker` tree, assembled from the command table on first use.
COMMANDS = cli.CommandTree(COMMAND_MODULES)


class HelpOnDemand:
    """A registered magic whose `?` help (the real parser help) is made when first asked for.

    Building it assembles every command's parser, which imports every command module: at
    `%load_ext` that was most of the load's time. IPython's inspector asks `getdoc()`.
    """

    def __init__(self, run: Any, make_help: Any) -> None:
        self._run, self._make_help, self._help = run, make_help, None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # the bound method's own attributes (__self__ …)
        return getattr(self.__dict__["_run"], name)

    def getdoc(self) -> str:
        if self._help is None:
            self._help = self._make_help()
        return self._help

    __doc__ = property(getdoc)  # type: ignore[assignment]


def dockerfile_help() -> str:
    """`%%dockerfile?`: the cell magic's options."""
    from nbdocker.build import command as build

    return build.dockerfile_parser().format_help()


def with_help_on_demand(manager: Any) -> None:
    """Wrap the registered `%docker` and `%%dockerfile` so their help is built when asked."""
    manager.magics["line"]["docker"] = HelpOnDemand(manager.magics["line"]["docker"], COMMANDS.help_text)
    manager.magics["cell"]["dockerfile"] = HelpOnDemand(manager.magics["cell"]["dockerfile"], dockerfile_help)
