"""`ordergate parity` end to end: the paper venue and NautilusTrader's real matching
engine over the bundled BTC bars, every difference explained by a rule; a difference
without one fails the command; bad input is refused before anything runs."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner

from ordergate.app.parity.compare import compare
from ordergate.app.parity.orders import read_orders
from ordergate.cli.main import main

BARS = Path(
    str(files("ordergate.matching").joinpath("data/btcusdt-perp-1m-20220103-20220105.csv.gz"))
)


def command(orders: Path) -> list[str]:
    return ["parity", "--bars", str(BARS), "--orders", str(orders)]


async def test_every_difference_on_the_bundled_btc_bars_has_a_rule(tmp_path: Path):
    orders = tmp_path / "orders.jsonl"

    outcome = await compare(
        BARS,
        orders,
        symbol="BTCUSDT",
        market_file=None,
        quote_size=Decimal(1),
        balance=Decimal(1_000_000),
        generate=300,
        seed=11,
        command="test",
    )

    report = outcome.report
    assert (report.orders, report.unexplained) == (300, 0)
    assert report.same > 200
    # The top of book of 1 BTC, the continuous bar walk and the fee arithmetic all show.
    assert {"book-depth-taker", "book-depth-passive", "stop-limit-maker", "fee-precision"} <= set(
        report.explained
    )
    assert report.same + sum(report.explained.values()) == 300
    assert len(read_orders(orders)) == 300
    # Each venue's reported position is the sum of the fills the run recorded for it.
    for venue, position in (
        ("paper", report.paper_position),
        ("nautilus", report.nautilus_position),
    ):
        signed = Decimal(0)
        for row in report.rows:
            side = 1 if " BUY " in f" {row.order} " else -1
            cell = row.paper if venue == "paper" else row.nautilus
            signed += side * sum(
                (Decimal(part.split("@")[0]) for part in cell.split(", ") if "@" in part),
                Decimal(0),
            )
        assert signed == position, venue


def test_the_command_prints_the_report_keeps_it_and_speaks_json(tmp_path: Path):
    orders, kept = tmp_path / "orders.jsonl", tmp_path / "report.md"
    args = [*command(orders), "--quote-size", "1"]

    made = CliRunner().invoke(
        main, [*args, "--generate", "60", "--seed", "5", "--report", str(kept)]
    )
    as_json = CliRunner().invoke(main, [*args, "--json"])

    assert made.exit_code == 0, made.output
    assert made.stdout == kept.read_text(encoding="utf-8") + "\n"
    assert "| **unexplained** | **0** |" in made.stdout
    assert made.stdout.count("\n| p000") == 60
    report = json.loads(as_json.stdout)
    assert (as_json.exit_code, report["orders"], report["unexplained"]) == (0, 60, 0)
    assert [row["id"] for row in report["rows"]] == [f"p{n:05d}" for n in range(1, 61)]


def test_a_difference_without_a_rule_fails_the_command(tmp_path: Path):
    # The paper venue slips market and stop fills by a tick (a market file's rule):
    # NautilusTrader has no such rule, so those fills differ with nothing to explain them.
    market = tmp_path / "market.toml"
    market.write_text(
        f"""
[instruments.BTCUSDT]
base_currency = "BTC"
quote_currency = "USDT"
tick_size = "0.1"
lot_step = "0.001"
min_qty = "0.001"
slippage_ticks = 1
bars = "{BARS}"
""",
        encoding="utf-8",
    )
    orders = tmp_path / "orders.jsonl"

    result = CliRunner().invoke(
        main,
        [*command(orders), "--market", str(market), "--generate", "40", "--seed", "2"],
    )

    assert result.exit_code == 1
    assert "**UNEXPLAINED**" in result.stdout
    assert "differ without a rule" in result.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        pytest.param('{"id": "x"}\n', "orders.jsonl:1", id="malformed-order"),
        pytest.param(
            '{"id": "x", "at": "2019-01-01T00:00:00Z", "side": "BUY", "type": "MARKET", '
            '"qty": "1"}\n',
            "outside the bars",
            id="before-the-bars",
        ),
    ],
)
def test_bad_orders_are_refused_with_exit_2(tmp_path: Path, content: str, says: str):
    orders = tmp_path / "orders.jsonl"
    orders.write_text(content, encoding="utf-8")

    result = CliRunner().invoke(main, command(orders))

    assert result.exit_code == 2
    assert says in result.stderr
    assert result.stdout == ""


def test_an_unknown_symbol_is_refused(tmp_path: Path):
    orders = tmp_path / "orders.jsonl"
    result = CliRunner().invoke(
        main,
        [*command(orders), "--symbol", "DOGEUSDT", "--generate", "5"],
    )
    assert result.exit_code == 2
    assert "no instrument 'DOGEUSDT'" in result.stderr
