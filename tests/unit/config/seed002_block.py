"""Seed 002's environment block, copied verbatim from its README (seeds/002_...)."""

SEED_002_ENV_BLOCK = """\
# Order Manager Service Configuration
ORDERMANAGER_PORT=4600
ORDERMANAGER_API_KEY=your-api-key-here
ORDERMANAGER_LOG_LEVEL=INFO
ORDERMANAGER_SERVICE_NAME=order-manager

# WebSocket Gateway Configuration (shared with other services)
WS_GATEWAY_HOST=ws-gateway
WS_GATEWAY_PORT=4400
WS_GATEWAY_API_KEY=your-ws-gateway-api-key

# Order Execution Configuration
ORDERMANAGER_ENABLE_DRY_RUN=false
ORDERMANAGER_MAX_SINGLE_ORDER_SIZE=10000.0
ORDERMANAGER_ENABLE_ORDER_SPLITTING=false
ORDERMANAGER_ORDER_EXECUTION_TIMEOUT=30

# Risk Limits Configuration
ORDERMANAGER_MAX_POSITION_SIZE=1.0
ORDERMANAGER_MAX_EXPOSURE=50000.0
ORDERMANAGER_MAX_ORDER_SIZE_RATIO=0.1

# Bybit API Retry Configuration
ORDERMANAGER_BYBIT_API_RETRY_MAX_ATTEMPTS=3
ORDERMANAGER_BYBIT_API_RETRY_BASE_DELAY=1.0
ORDERMANAGER_BYBIT_API_RETRY_MAX_DELAY=30.0
ORDERMANAGER_BYBIT_API_RETRY_MULTIPLIER=2.0

# Order Type Selection Configuration
ORDERMANAGER_MARKET_ORDER_CONFIDENCE_THRESHOLD=0.9
ORDERMANAGER_MARKET_ORDER_SPREAD_THRESHOLD=0.1
ORDERMANAGER_LIMIT_ORDER_PRICE_OFFSET_RATIO=0.5

# Position Management Configuration
ORDERMANAGER_POSITION_SNAPSHOT_INTERVAL=300
ORDERMANAGER_POSITION_VALIDATION_INTERVAL=3600

# Order Cancellation Configuration
ORDERMANAGER_CANCEL_OPPOSITE_ORDERS_ONLY=false
ORDERMANAGER_CANCEL_STALE_ORDER_TIMEOUT=3600

# Risk Management Configuration
ORDERMANAGER_UNREALIZED_LOSS_WARNING_THRESHOLD=10.0
"""


def seed_002_variables() -> dict[str, str]:
    """The block's variables, name to value."""
    lines = SEED_002_ENV_BLOCK.splitlines()
    return {
        name: value
        for name, _, value in (line.partition("=") for line in lines)
        if value and not name.startswith("#")
    }
