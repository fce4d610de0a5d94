"""Positions, the wallet and account information in Bybit's JSON.

Keys and value types follow the recorded payloads (`http_get_positions`,
`ws_account_position`, `http_get_wallet_balance`, `ws_account_wallet`,
`http_get_user_query_api`, `http_get_account_info`, `http_get_fee_rate`), with one
addition: the `wallet` topic carries `accountType` ("UNIFIED"), which Bybit sends and
ccxt needs to route the update (the recordings were trimmed of it). The `wallet` topic
is also a superset of its recording: beside the recorded `totalPerpUpl` it carries
`totalPerpUPL` and, per coin, `usdValue`, `unrealisedPnl`, `cumRealisedPnl`, `bonus`,
`collateralSwitch`, `marginCollateral`, `locked` and `spotHedgingQty`, as Bybit documents
the topic and as the REST wallet recording has them; NautilusTrader's schema requires
them and drops a wallet update without them.

`/v5/asset/coin/query-info` has no recording: its keys are Bybit's documented ones
(the ones NautilusTrader's `BybitCoinInfo` schema reads), one chain per coin.
"""

from __future__ import annotations

from decimal import Decimal

from ordergate.simulators.bybit import formats
from ordergate.simulators.bybit.config import InstrumentSpec
from ordergate.simulators.bybit.formats import JsonObject
from ordergate.simulators.bybit.order_payloads import CATEGORY
from ordergate.simulators.bybit.records import CoinRecord, PositionRecord, WalletRecord

ACCOUNT_TYPE = "UNIFIED"
# UTA 2.0 (Bybit: 5), the account kind new Bybit accounts have.
UNIFIED_MARGIN_STATUS = 5
_RISK_LIMIT_VALUE = "2000000"
# The most one withdrawal may take, per coin (the simulator has no withdrawals).
_REMAIN_AMOUNT = "1000000"


def position_rest(position: PositionRecord, spec: InstrumentSpec) -> JsonObject:
    """A position as `/v5/position/list` lists it."""
    return {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": _RISK_LIMIT_VALUE,
        "symbol": position.symbol,
        "side": position.side,
        "size": formats.qty(spec, abs(position.size)),
        "avgPrice": formats.plain(position.avg_price),
        "positionValue": formats.plain(position.position_value),
        "tradeMode": 0,
        "positionStatus": "Normal",
        "autoAddMargin": 0,
        "adlRankIndicator": _adl_rank(position),
        "leverage": formats.plain(position.leverage),
        "positionBalance": formats.money(position.position_im),
        "markPrice": formats.price(spec, position.mark_price),
        "liqPrice": "",
        "bustPrice": "",
        "positionMM": formats.money(position.position_mm),
        "positionIM": formats.money(position.position_im),
        "tpslMode": "Full",
        "takeProfit": "0",
        "stopLoss": "0",
        "trailingStop": "0",
        "unrealisedPnl": formats.money(position.unrealised_pnl),
        "curRealisedPnl": formats.money(position.cur_realised_pnl),
        "cumRealisedPnl": formats.money(position.cum_realised_pnl),
        "seq": position.seq,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "createdTime": str(position.created_ms),
        "updatedTime": str(position.updated_ms),
    }


def position_ws(position: PositionRecord, spec: InstrumentSpec) -> JsonObject:
    """A position as the private `position` topic sends it."""
    return {
        "positionIdx": 0,
        "tradeMode": 0,
        "riskId": 1,
        "riskLimitValue": _RISK_LIMIT_VALUE,
        "symbol": position.symbol,
        "side": position.side,
        "size": formats.qty(spec, abs(position.size)),
        "entryPrice": formats.plain(position.avg_price),
        "sessionAvgPrice": "",
        "leverage": formats.plain(position.leverage),
        "positionValue": formats.plain(position.position_value),
        "positionBalance": formats.money(position.position_im),
        "markPrice": formats.price(spec, position.mark_price),
        "positionIM": formats.money(position.position_im),
        "positionMM": formats.money(position.position_mm),
        "positionIMByMp": formats.money(position.position_im),
        "positionMMByMp": formats.money(position.position_mm),
        "takeProfit": "0",
        "stopLoss": "0",
        "trailingStop": "0",
        "unrealisedPnl": formats.money(position.unrealised_pnl),
        "cumRealisedPnl": formats.money(position.cum_realised_pnl),
        "curRealisedPnl": formats.money(position.cur_realised_pnl),
        "createdTime": str(position.created_ms),
        "updatedTime": str(position.updated_ms),
        "tpslMode": "Full",
        "liqPrice": "",
        "bustPrice": "",
        "category": CATEGORY,
        "positionStatus": "Normal",
        "adlRankIndicator": _adl_rank(position),
        "autoAddMargin": 0,
        "leverageSysUpdatedTime": "",
        "mmrSysUpdatedTime": "",
        "seq": position.seq,
        "isReduceOnly": False,
    }


def wallet_rest(wallet: WalletRecord) -> JsonObject:
    """The unified account as `/v5/account/wallet-balance` lists it."""
    return {
        "totalEquity": formats.money(wallet.total_equity),
        "accountIMRate": _rate(wallet.account_im_rate),
        "totalMarginBalance": formats.money(wallet.total_margin_balance),
        "totalInitialMargin": formats.money(wallet.total_initial_margin),
        "accountType": ACCOUNT_TYPE,
        "totalAvailableBalance": formats.money(wallet.total_available_balance),
        "accountMMRate": _rate(wallet.account_mm_rate),
        "totalPerpUPL": formats.money(wallet.total_perp_upl),
        "totalWalletBalance": formats.money(wallet.total_wallet_balance),
        "accountLTV": "0",
        "totalMaintenanceMargin": formats.money(wallet.total_maintenance_margin),
        "coin": [_coin_rest(coin) for coin in wallet.coins],
    }


def wallet_ws(wallet: WalletRecord) -> JsonObject:
    """The unified account as the private `wallet` topic sends it."""
    return {
        "accountType": ACCOUNT_TYPE,
        "accountIMRate": _rate(wallet.account_im_rate),
        "accountMMRate": _rate(wallet.account_mm_rate),
        "accountLTV": "0",
        "totalEquity": formats.money(wallet.total_equity),
        "totalWalletBalance": formats.money(wallet.total_wallet_balance),
        "totalMarginBalance": formats.money(wallet.total_margin_balance),
        "totalAvailableBalance": formats.money(wallet.total_available_balance),
        "totalPerpUpl": formats.money(wallet.total_perp_upl),
        "totalPerpUPL": formats.money(wallet.total_perp_upl),
        "totalInitialMargin": formats.money(wallet.total_initial_margin),
        "totalMaintenanceMargin": formats.money(wallet.total_maintenance_margin),
        "coin": [_coin_ws(coin) for coin in wallet.coins],
    }


def fee_rate(spec: InstrumentSpec) -> JsonObject:
    return {
        "symbol": spec.symbol,
        "takerFeeRate": formats.plain(spec.taker_fee_rate),
        "makerFeeRate": formats.plain(spec.maker_fee_rate),
        "baseCoin": "",
    }


def api_key_info(api_key: str, created_at: str) -> JsonObject:
    """`/v5/user/query-api`: a read-write key of a unified (UTA) master account."""
    return {
        "id": "1",
        "note": "ordergate simulator",
        "apiKey": api_key,
        "readOnly": 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": ["SpotTrade"],
            "Wallet": ["AccountTransfer", "SubMemberTransfer"],
            "Options": ["OptionsTrade"],
            "Derivatives": ["DerivativesTrade"],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": ["ExchangeHistory"],
            "NFT": [],
            "Affiliate": [],
            "Earn": ["Earn"],
            "FiatP2P": ["FiatP2POrder", "Advertising"],
            "FiatBybitPay": ["FaitPayOrder"],
            "FiatConvertBroker": ["FiatConvertBrokerOrder"],
            "FiatGlobalPay": [],
            "FiatBitPay": ["FaitPayOrder"],
            "BitCard": ["BitCard"],
            "ByXPost": ["ByXPost"],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "",
        "createdAt": created_at,
        "unified": 0,
        "uta": 1,
        "userID": 1,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
        "userIDInt64": "1",
        "inviterIDInt64": "0",
        "affiliateIDInt64": "0",
    }


def account_info(updated_ms: int) -> JsonObject:
    """`/v5/account/info`: cross margin on a UTA 2.0 account."""
    return {
        "marginMode": "REGULAR_MARGIN",
        "updatedTime": str(updated_ms),
        "unifiedMarginStatus": UNIFIED_MARGIN_STATUS,
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def _coin_rest(coin: CoinRecord) -> JsonObject:
    return {
        "availableToBorrow": "",
        "bonus": "0",
        "accruedInterest": "0",
        "availableToWithdraw": formats.money(coin.available_to_withdraw),
        "totalOrderIM": formats.money(coin.total_order_im),
        "equity": formats.money(coin.equity),
        "totalPositionMM": formats.money(coin.total_position_mm),
        "usdValue": formats.money(coin.usd_value),
        "unrealisedPnl": formats.money(coin.unrealised_pnl),
        "borrowAmount": "0",
        "totalPositionIM": formats.money(coin.total_position_im),
        "walletBalance": formats.money(coin.wallet_balance),
        "cumRealisedPnl": formats.money(coin.cum_realised_pnl),
        "locked": "0",
        "collateralSwitch": True,
        "marginCollateral": True,
        "coin": coin.coin,
        "spotBorrow": "0",
    }


def _coin_ws(coin: CoinRecord) -> JsonObject:
    return {
        "coin": coin.coin,
        "equity": formats.money(coin.equity),
        "walletBalance": formats.money(coin.wallet_balance),
        "availableToWithdraw": formats.money(coin.available_to_withdraw),
        "availableToBorrow": "",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "totalOrderIM": formats.money(coin.total_order_im),
        "totalPositionIM": formats.money(coin.total_position_im),
        "totalPositionMM": formats.money(coin.total_position_mm),
        "spotBorrow": "0",
        "usdValue": formats.money(coin.usd_value),
        "unrealisedPnl": formats.money(coin.unrealised_pnl),
        "cumRealisedPnl": formats.money(coin.cum_realised_pnl),
        "bonus": "0",
        "collateralSwitch": True,
        "marginCollateral": True,
        "locked": "0",
        "spotHedgingQty": "0",
    }


def coin_info(coin: str, precision: int) -> JsonObject:
    """A coin as `/v5/asset/coin/query-info` lists it: deposit and withdrawal on one
    chain of its own name, `precision` decimals."""
    return {
        "name": coin,
        "coin": coin,
        "remainAmount": _REMAIN_AMOUNT,
        "chains": [
            {
                "chainType": coin,
                "confirmation": "1",
                "withdrawFee": "0",
                "depositMin": "0",
                "withdrawMin": "0",
                "chain": coin,
                "chainDeposit": "1",
                "chainWithdraw": "1",
                "minAccuracy": str(precision),
                "withdrawPercentageFee": "0",
            }
        ],
    }


def _adl_rank(position: PositionRecord) -> int:
    """Bybit ranks an open position 1-5 for auto-deleveraging; 0 when flat."""
    return 0 if position.side == "" else 1


def _rate(value: Decimal) -> str:
    return formats.plain(value.quantize(Decimal("0.0001")))
