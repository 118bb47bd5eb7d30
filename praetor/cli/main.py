"""The `praetor` command."""

from __future__ import annotations

import logging
import sys

import typer

app = typer.Typer(help="Praetor, an automation controller for Ansible.", no_args_is_help=True, add_completion=False)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def init(log_level: str = typer.Option("info", help="Logging level: debug, info, warning or error.")) -> None:
    """Create the data directory, the databases and the admin user, then exit."""
    from praetor.infra.bootstrap import build_container, ensure_admin
    from praetor.infra.settings import Settings

    configure_logging(log_level)
    settings = Settings()
    container = build_container(settings)
    try:
        generated = ensure_admin(container)
    finally:
        container.engine.dispose()
    typer.echo(f"Praetor data directory: {settings.resolved_home}")
    if generated:
        typer.echo(f"Created user 'admin' with the generated password: {generated}")
        typer.echo("It is shown only this once; set PRAETOR_ADMIN_PASSWORD to choose one.")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="TCP port to listen on."),
    scheduler: bool = typer.Option(True, help="Also schedule pending jobs and start their executors."),
    log_level: str = typer.Option("info", help="Logging level: debug, info, warning or error."),
) -> None:
    """Initialise what is missing, then serve /api/v1 until interrupted."""
    import uvicorn

    from praetor.api.app import create_app
    from praetor.infra.bootstrap import build_container, ensure_admin
    from praetor.infra.settings import Settings

    configure_logging(log_level)
    logger = logging.getLogger("praetor.serve")
    settings = Settings()
    container = build_container(settings)
    generated = ensure_admin(container)
    if generated:
        typer.echo(f"Created user 'admin' with the generated password: {generated}")
    container.start(api_url=f"http://{host}:{port}", scheduler=scheduler)
    logger.info("Serving /api/v1 on http://%s:%s with data in %s", host, port, settings.resolved_home)
    try:
        uvicorn.run(create_app(container), host=host, port=port, log_level=log_level, access_log=log_level == "debug")
    finally:
        container.stop()
        logger.info("Stopped")


@app.command()
def executor() -> None:
    """Carry out one run (RUN_ID, PRAETOR_API_URL, PRAETOR_RUN_TOKEN from the environment)."""
    from praetor.executor.program import main

    raise typer.Exit(main())


@app.command()
def demo(
    port: int = typer.Option(8765, help="TCP port for the demo server on 127.0.0.1."),
    home: str = typer.Option(".demo", help="Data directory for the demo; emptied first."),
) -> None:
    """Start a server, launch a real playbook through the API, print its output and host summary."""
    from praetor.cli.demo import run_demo

    raise typer.Exit(run_demo(port=port, home=home))


if __name__ == "__main__":
    app()
