"""A claim at the expert-review threshold (5,000,000元), shared by several tests."""

LARGE = {
    "contract_amount": "6000000.00",
    "claimed_technology_amount": "5000000.00",
    "deductions": {"equipment": "1000000.00"},
}
