"""The deal confirmation (成交确认书) and the transaction certificate (交易凭证)."""
