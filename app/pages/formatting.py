"""How the pages write amounts: the API's own Decimals, never rounded through a float."""

from datetime import datetime, timedelta
from decimal import Decimal

from app.core.types import CHINA

YI = Decimal(100_000_000)
WAN = Decimal(10_000)


def yuan(amount: Decimal | None) -> str:
    """The exact figure, as on the certificate: ¥1,234,567.89."""
    return "—" if amount is None else f"¥{amount:,.2f}"


def large(amount: Decimal | None) -> str:
    """In 亿元 or 万元 as people read targets, every digit kept (a shift of the decimal point is
    exact): 123456789012.34 → 1,234.5678901234 亿元, 1000000.00 → 100 万元."""
    if amount is None:
        return "—"
    if abs(amount) >= YI:
        value, unit = amount.scaleb(-8), "亿元"
    elif abs(amount) >= WAN:
        value, unit = amount.scaleb(-4), "万元"
    else:
        value, unit = amount, "元"
    text = f"{value.normalize():,f}" if value == value.to_integral() or unit != "元" else f"{value:,.2f}"
    return f"{text} {unit}"


def beijing(moment: datetime | None) -> str:
    """An instant in Beijing time to the minute; a period's end at midnight is written 24:00 of
    the day it closes (2027-03-16 24:00), as notices state it."""
    if moment is None:
        return "—"
    local = moment.astimezone(CHINA)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"
