"""What ordergate's Robinhood venue and its simulator share of Robinhood's side: the
authenticator-app codes (`totp`)."""
