"""Robinhood's authenticator-app codes: RFC 6238 TOTP, 6 digits, 30 seconds, SHA-1.

Robinhood hands out 16-character base32 secrets (80 bits). pyotp 2.12 refuses secrets
under 112 bits (NIST SP 800-63B) unless a subclass lowers `min_secret_length_bits`, as
this one does; a client computing Robinhood's codes with pyotp needs the same.
"""

from __future__ import annotations

from typing import ClassVar

import pyotp

from ordergate.domain.errors import InvalidRequest


class RobinhoodTotp(pyotp.TOTP):
    """pyotp's TOTP, accepting secrets of 80 bits and more."""

    min_secret_length_bits: ClassVar[int] = 80


def totp_for(secret: str) -> RobinhoodTotp:
    """The TOTP of `secret`; a secret that is not base32 of 80 bits or more is refused."""
    try:
        return RobinhoodTotp(secret)
    except ValueError as exc:  # binascii.Error (bad base32) is a ValueError too
        raise InvalidRequest(f"totp_secret must be base32 of at least 80 bits: {exc}") from exc
