"""The account, its positions and phoenix's unified account, as Robinhood answers them.

Keys as robin_stocks documents them for `load_account_profile`,
`get_open_stock_positions` and `load_phoenix_account`. The account is a cash account:
`buying_power` is the cash less what open buys hold (`cash_held_for_orders`), no
margin. Account money carries 4 decimals; phoenix writes each amount as an object
(`amount`, `currency_code`, `currency_id`); position quantities carry 8 decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from ordergate.domain.values import ZERO
from ordergate.simulators.robinhood.broker import Broker
from ordergate.simulators.robinhood.ledger import Holding
from ordergate.simulators.robinhood.stocks import StockSpec
from ordergate.simulators.robinhood.wire import (
    MONEY_PLACES,
    ORDER_PLACES,
    JsonObject,
    Urls,
    fixed,
    timestamp,
)

USD_CURRENCY_ID: Final = "1072fc76-1862-41ab-82c2-485837590762"
_MONEY_ZERO: Final = fixed(ZERO, MONEY_PLACES)
_SHARES_ZERO: Final = fixed(ZERO, ORDER_PLACES)


def _money(value: Decimal) -> str:
    return fixed(value, MONEY_PLACES)


def account_payload(
    broker: Broker, account_number: str, urls: Urls, *, opened_ns: int, locked: bool
) -> JsonObject:
    cash = broker.ledger.cash
    held = broker.cash_held_for_orders()
    buying_power = _money(cash - held)
    opened = timestamp(opened_ns)
    return {
        "url": urls.account(),
        "portfolio_cash": _money(cash),
        "can_downgrade_to_cash": f"{urls.account()}can_downgrade_to_cash/",
        "user": urls.user(),
        "account_number": account_number,
        "type": "cash",
        "brokerage_account_type": "individual",
        "created_at": opened,
        "updated_at": opened,
        "deactivated": False,
        "deposit_halted": False,
        "withdrawal_halted": False,
        "only_position_closing_trades": False,
        "buying_power": buying_power,
        "onbp": buying_power,
        "cash_available_for_withdrawal": _money(cash),
        "cash": _money(cash),
        "cash_held_for_orders": _money(held),
        "uncleared_deposits": _MONEY_ZERO,
        "sma": None,
        "sma_held_for_orders": None,
        "unsettled_funds": _MONEY_ZERO,
        "unsettled_debit": _MONEY_ZERO,
        "crypto_buying_power": buying_power,
        "max_ach_early_access_amount": _MONEY_ZERO,
        "cash_balances": {
            "cash": _money(cash),
            "buying_power": buying_power,
            "cash_held_for_orders": _money(held),
            "cash_available_for_withdrawal": _money(cash),
            "uncleared_deposits": _MONEY_ZERO,
            "unsettled_funds": _MONEY_ZERO,
            "created_at": opened,
            "updated_at": opened,
        },
        "margin_balances": None,
        "sweep_enabled": False,
        "instant_eligibility": {"state": "ok", "reason": "", "reinstatement_date": None},
        "option_level": None,
        "is_pinnacle_account": True,
        "rhs_account_number": int("".join(ch for ch in account_number if ch.isdigit()) or 0),
        "state": "active",
        "active_subscription_id": None,
        "locked": locked,
        "permanently_deactivated": False,
        "received_ach_debit_locked": False,
        "drip_enabled": False,
        "eligible_for_fractionals": True,
        "eligible_for_drip": False,
        "eligible_for_cash_management": None,
        "cash_management_enabled": False,
        "option_trading_on_expiration_enabled": False,
        "cash_held_for_options_collateral": _MONEY_ZERO,
        "fractional_position_closing_only": False,
        "user_id": account_number,
        "rhs_stock_loan_consent_status": "unknown",
    }


def position_payload(
    broker: Broker, spec: StockSpec, holding: Holding, account_number: str, urls: Urls
) -> JsonObject:
    average = _money(holding.average_buy_price)
    return {
        "url": urls.position(spec.instrument_id),
        "instrument": urls.instrument(spec.instrument_id),
        "instrument_id": spec.instrument_id,
        "symbol": spec.symbol,
        "account": urls.account(),
        "account_number": account_number,
        "average_buy_price": average,
        "pending_average_buy_price": average,
        "quantity": fixed(holding.quantity, ORDER_PLACES),
        "intraday_average_buy_price": _MONEY_ZERO,
        "intraday_quantity": _SHARES_ZERO,
        "shares_held_for_buys": fixed(broker.shares_held(spec.symbol, "buy"), ORDER_PLACES),
        "shares_held_for_sells": fixed(broker.shares_held(spec.symbol, "sell"), ORDER_PLACES),
        "shares_held_for_stock_grants": _SHARES_ZERO,
        "shares_held_for_options_collateral": _SHARES_ZERO,
        "shares_held_for_options_events": _SHARES_ZERO,
        "shares_pending_from_options_events": _SHARES_ZERO,
        "shares_available_for_exercise": fixed(holding.quantity, ORDER_PLACES),
        "created_at": timestamp(holding.created_ns),
        "updated_at": timestamp(holding.updated_ns),
    }


def phoenix_payload(broker: Broker) -> JsonObject:
    """`phoenix.robinhood.com/accounts/unified`: the account's totals, each an amount."""
    cash = broker.ledger.cash
    held = broker.cash_held_for_orders()
    market_value = sum(
        (
            holding.quantity * broker.quote(symbol).touch.last
            for symbol, holding in broker.ledger.holdings().items()
        ),
        ZERO,
    )
    previous = sum(
        (
            holding.quantity * broker.previous_close[symbol]
            for symbol, holding in broker.ledger.holdings().items()
        ),
        ZERO,
    )
    equity = cash + market_value

    def amount(value: Decimal) -> JsonObject:
        return {
            "amount": fixed(value, 2),
            "currency_code": "USD",
            "currency_id": USD_CURRENCY_ID,
        }

    return {
        "account_buying_power": amount(cash - held),
        "cash_available_from_instant_deposits": amount(ZERO),
        "cash_held_for_currency_orders": amount(ZERO),
        "cash_held_for_dividends": amount(ZERO),
        "cash_held_for_equity_orders": amount(held),
        "cash_held_for_options_collateral": amount(ZERO),
        "cash_held_for_orders": amount(held),
        "crypto": {"equity": amount(ZERO), "market_value": amount(ZERO)},
        "crypto_buying_power": amount(cash - held),
        "equities": {"equity": amount(market_value), "market_value": amount(market_value)},
        "extended_hours_portfolio_equity": amount(equity),
        "instant_allocated": amount(ZERO),
        "levered_amount": amount(ZERO),
        "near_margin_call": False,
        "options_buying_power": amount(cash - held),
        "portfolio_equity": amount(equity),
        "portfolio_previous_close": amount(cash + previous),
        "previous_close": amount(cash + previous),
        "regular_hours_portfolio_equity": amount(equity),
        "total_equity": amount(equity),
        "total_extended_hours_equity": amount(equity),
        "total_extended_hours_market_value": amount(market_value),
        "total_market_value": amount(market_value),
        "total_regular_hours_equity": amount(equity),
        "total_regular_hours_market_value": amount(market_value),
        "uninvested_cash": amount(cash),
        "withdrawable_cash": amount(cash),
    }
