"""Configuration: settings from the environment, `.env` and flags (`settings`), and the
risk limits file (`risk_file`). Read once at start-up; a setting that makes no sense is
refused there, never silently ignored."""
