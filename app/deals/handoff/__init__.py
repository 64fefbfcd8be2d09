"""The hand-off of a signed deal to 技术合同认定登记 and the registration's outcome flowing back
(docs/deals.md)."""
