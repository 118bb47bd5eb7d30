"""The `praetor` command."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable

import typer

app = typer.Typer(help="Praetor, an automation controller for Ansible.", no_args_is_help=True, add_completion=False)


def reports_configuration_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Print a ConfigurationError as one line on stderr and exit with status 2, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        from praetor.infra.settings import ConfigurationError

        try:
            command(*args, **kwargs)
        except ConfigurationError as error:
            typer.echo(f"praetor: {error}", err=True)
            raise typer.Exit(2) from error

    return wrapper


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The Kafka clients log every connection at INFO; their warnings and errors still show.
    for noisy in ("kafka", "aiokafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


@app.command()
@reports_configuration_errors
def init(log_level: str = typer.Option("info", help="Logging level: debug, info, warning or error.")) -> None:
    """Create the data directory, the databases and the admin user, then exit."""
    from praetor.infra.bootstrap import build_container, ensure_admin
    from praetor.infra.settings import load_settings

    configure_logging(log_level)
    settings = load_settings()
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
@reports_configuration_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="TCP port to listen on."),
    scheduler: bool = typer.Option(True, help="Also schedule pending jobs and start their executors."),
    all_in_one: bool = typer.Option(
        False, "--all-in-one", help="Distributed mode: also run a relay and a stream worker in this process."
    ),
    log_level: str = typer.Option("info", help="Logging level: debug, info, warning or error."),
) -> None:
    """Initialise what is missing, then serve /api/v1 until interrupted."""
    import uvicorn

    from praetor.api.app import create_app
    from praetor.infra.bootstrap import build_container, ensure_admin
    from praetor.infra.settings import load_settings

    configure_logging(log_level)
    logger = logging.getLogger("praetor.serve")
    settings = load_settings()
    container = build_container(settings)
    generated = ensure_admin(container)
    if generated:
        typer.echo(f"Created user 'admin' with the generated password: {generated}")

    def start() -> None:
        container.start(api_url=f"http://{host}:{port}", scheduler=scheduler, all_in_one=all_in_one)
        logger.info("Serving /api/v1 on http://%s:%s with data in %s", host, port, settings.resolved_home)

    def stop() -> None:
        container.stop()
        logger.info("Stopped")

    application = create_app(container, on_startup=start, on_shutdown=stop)
    uvicorn.run(application, host=host, port=port, log_level=log_level, access_log=log_level == "debug")


@app.command()
@reports_configuration_errors
def relay(log_level: str = typer.Option("info", help="Logging level: debug, info, warning or error.")) -> None:
    """Distributed mode: publish the event store's notifications to Kafka until interrupted."""
    import signal

    from praetor.infra.event_store import open_postgres_event_store
    from praetor.infra.relay import Relay, run_until_stopped
    from praetor.infra.settings import load_settings

    configure_logging(log_level)
    settings = load_settings()
    database_url, brokers = settings.require_distributed()
    relay = Relay(
        open_postgres_event_store(database_url),
        database_url,
        brokers,
        topic_prefix=settings.kafka_topic_prefix,
        topic_partitions=settings.kafka_topic_partitions,
    )
    signal.signal(signal.SIGTERM, lambda *_: relay.stop())
    try:
        run_until_stopped(relay)
    except KeyboardInterrupt:
        relay.stop()


@app.command()
@reports_configuration_errors
def worker(log_level: str = typer.Option("info", help="Logging level: debug, info, warning or error.")) -> None:
    """Distributed mode: build the read models from Kafka until interrupted."""
    from praetor.infra.settings import load_settings
    from praetor.infra.stream.faust_worker import run_worker

    configure_logging(log_level)
    settings = load_settings()
    database_url, brokers = settings.require_distributed()
    run_worker(
        kafka_bootstrap=brokers,
        database_url=database_url,
        read_model_schema=settings.read_model_schema,
        group_id=settings.worker_group_id,
        topic_prefix=settings.kafka_topic_prefix,
        topic_partitions=settings.kafka_topic_partitions,
        data_dir=settings.resolved_home / "worker",
    )


@app.command("scheduler")
@reports_configuration_errors
def scheduler_command(log_level: str = typer.Option("info", help="Logging level: debug, info, warning or error.")) -> None:
    """Schedule pending jobs and start their executors until interrupted (needs PRAETOR_API_URL)."""
    import signal
    import threading

    from praetor.infra.bootstrap import build_container
    from praetor.infra.settings import load_settings

    configure_logging(log_level)
    settings = load_settings()
    if not settings.api_url:
        raise typer.BadParameter("set PRAETOR_API_URL to the URL executors use to reach the API")
    container = build_container(settings)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    container.start(scheduler=True)
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        container.stop()


@app.command()
@reports_configuration_errors
def replay(
    swap: bool = typer.Option(True, help="Put the rebuilt read models in place of the live ones when done."),
    log_level: str = typer.Option("warning", help="Logging level: debug, info, warning or error."),
) -> None:
    """Rebuild every read model from the event store and the job-event log, then swap them in.

    Stop `praetor serve` (and, in the distributed mode, `praetor worker`) first, because
    changes made to the live read models during a replay are not carried over.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from praetor.infra.replay import replay as run_replay
    from praetor.infra.settings import load_settings

    configure_logging(log_level)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        summary = run_replay(load_settings(), report, swap=swap)
    counted = ", ".join(f"{count:,} {name}" for name, count in summary.counts.items())
    typer.echo(f"Replayed {counted} in {summary.seconds:.1f} s{'; the rebuilt read models are live' if swap else ''}.")


events_app = typer.Typer(help="Read Praetor's Kafka topics, as an integration would.", no_args_is_help=True)
app.add_typer(events_app, name="events")


@events_app.command("tail")
@reports_configuration_errors
def events_tail(
    topic: list[str] = typer.Option(
        ["praetor.job-events"],
        "--topic",
        help="Topic to read, such as praetor.domain-events or praetor.run-state; repeat for several. "
        "PRAETOR_KAFKA_TOPIC_PREFIX is prepended.",
    ),
    from_beginning: bool = typer.Option(False, "--from-beginning", help="Start at the oldest message instead of new ones."),
    max_messages: int = typer.Option(0, help="Stop after this many messages; 0 reads until interrupted."),
) -> None:
    """Print messages of Praetor's topics as JSON lines: topic, partition, offset, key, value."""
    from praetor.cli.events import tail_events
    from praetor.infra.settings import load_settings

    settings = load_settings()
    if not settings.kafka_bootstrap_servers:
        raise typer.BadParameter("set PRAETOR_KAFKA_BOOTSTRAP_SERVERS to the Kafka brokers (host:port)")
    tail_events(
        settings.kafka_bootstrap_servers,
        [settings.kafka_topic_prefix + name for name in topic],
        from_beginning=from_beginning,
        max_messages=max_messages,
    )


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
