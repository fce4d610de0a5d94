"""ordergate: an order management system for trading bots."""
