"""`ordergate config`: the configuration reference, and a check of the configuration."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from ordergate.config.reference import docs_page, env_example, generated
from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError

console = Console(stderr=True)


@click.group()
def config() -> None:
    """The configuration: its reference, and a check of what is set."""


@config.command()
@click.option("--markdown", is_flag=True, help="the docs page instead of env.example")
@click.option(
    "--write",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="write env.example and docs/configuration.md under this repository root",
)
def reference(markdown: bool, root: Path | None) -> None:
    """Print env.example (every setting and its default), or write both generated files."""
    if root is None:
        click.echo(docs_page() if markdown else env_example(), nl=False)
        return
    for path, text in generated(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        console.print(f"wrote {escape(str(path))}")


@config.command()
def check() -> None:
    """Read the settings as `ordergate serve` would, and say whether it would start."""
    load_settings({}, None)
    console.print("the configuration is usable")


def load_settings(overrides: dict[str, object], bars_per_second: float | None) -> Settings:
    """The settings, or exit non-zero saying plainly which variable is wrong (an unknown
    or conflicting name, a value out of range): never a traceback, never a silent default."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        if bars_per_second is not None:
            on_sim = settings.venue == "bybit-sim"
            pace = "sim_bars_per_second" if on_sim else "paper_bars_per_second"
            settings = Settings(**overrides, **{pace: bars_per_second})  # type: ignore[arg-type]
    except ConfigurationError as exc:
        console.print(f"[red]cannot start ({exc.code}):[/] {escape(exc.message)}")
        sys.exit(2)
    except ValidationError as exc:
        console.print(f"[red]cannot start (INVALID_CONFIGURATION):[/] {escape(str(exc))}")
        sys.exit(2)
    if settings.api_key is not None and settings.api_key_is_placeholder:
        console.print(
            "[yellow]warning:[/] the configured API key (ORDERGATE_API_KEY / "
            "ORDERMANAGER_API_KEY) is a placeholder; set a secret of your own"
        )
    return settings
