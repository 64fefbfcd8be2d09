"""The trading routes' enumerations (DOMAIN.md: pricing routes, transaction certificate), each with
its Chinese label."""

from app.core.vocabulary import Labelled


class PricingRoute(Labelled):
    """How a deal's price is set; a university or research institute seller must use one (art. 18)."""

    agreed_publicity = "agreed_publicity"
    listing = "listing"
    auction = "auction"


class PublicityStatus(Labelled):
    running = "running"
    # An objection is pending: the period's clock stands still (docs/trading.md).
    suspended = "suspended"
    # The period ran out with no objection upheld: the deal may be signed at the published price.
    completed = "completed"
    # An objection was upheld: the deal went back to negotiation.
    objection_upheld = "objection_upheld"
    withdrawn = "withdrawn"


class ObjectionStatus(Labelled):
    pending = "pending"
    upheld = "upheld"
    dismissed = "dismissed"


class AnnouncementStatus(Labelled):
    running = "running"
    # The period ended with no qualified buyer and no extension left.
    closed_no_buyer = "closed_no_buyer"
    # One qualified buyer: the deal was agreed at its offer.
    agreed = "agreed"
    # Two or more qualified buyers: an auction among them decides.
    to_auction = "to_auction"
    withdrawn = "withdrawn"


class IntentionStatus(Labelled):
    filed = "filed"
    qualified = "qualified"
    rejected = "rejected"
    withdrawn = "withdrawn"


class AuctionStatus(Labelled):
    scheduled = "scheduled"
    running = "running"
    sold = "sold"
    # No bid, or the best bid below the secret reserve.
    no_sale = "no_sale"
    cancelled = "cancelled"


class DepositStatus(Labelled):
    # Required and not yet received: the bidder may not bid.
    awaiting = "awaiting"
    # An administrator confirmed receipt.
    received = "received"
    # The winner's: counted toward the price.
    applied = "applied"
    # Returned to a bidder who did not win.
    released = "released"
    # The winner did not sign within the set working days.
    forfeited = "forfeited"


class CertificateStatus(Labelled):
    valid = "valid"
    revoked = "revoked"


class RevocationGround(Labelled):
    """Why a transaction certificate is revoked (DOMAIN.md: the only three grounds)."""

    party_unqualified = "party_unqualified"
    procedure_broken = "procedure_broken"
    documents_false = "documents_false"


AUCTION_CLOSED = frozenset({AuctionStatus.sold, AuctionStatus.no_sale, AuctionStatus.cancelled})

LABELS: dict[tuple[str, str], str] = {
    ("PricingRoute", "agreed_publicity"): "协议定价（公示）",
    ("PricingRoute", "listing"): "挂牌交易",
    ("PricingRoute", "auction"): "拍卖（网络竞价）",
    ("PublicityStatus", "running"): "公示中",
    ("PublicityStatus", "suspended"): "异议处理中",
    ("PublicityStatus", "completed"): "公示期满",
    ("PublicityStatus", "objection_upheld"): "异议成立",
    ("PublicityStatus", "withdrawn"): "已撤回",
    ("ObjectionStatus", "pending"): "待处理",
    ("ObjectionStatus", "upheld"): "异议成立",
    ("ObjectionStatus", "dismissed"): "异议不成立",
    ("AnnouncementStatus", "running"): "挂牌中",
    ("AnnouncementStatus", "closed_no_buyer"): "挂牌期满未成交",
    ("AnnouncementStatus", "agreed"): "协议成交",
    ("AnnouncementStatus", "to_auction"): "转入网络竞价",
    ("AnnouncementStatus", "withdrawn"): "已撤牌",
    ("IntentionStatus", "filed"): "待资格确认",
    ("IntentionStatus", "qualified"): "资格确认通过",
    ("IntentionStatus", "rejected"): "资格确认未通过",
    ("IntentionStatus", "withdrawn"): "已撤回",
    ("AuctionStatus", "scheduled"): "待开始",
    ("AuctionStatus", "running"): "竞价中",
    ("AuctionStatus", "sold"): "已成交",
    ("AuctionStatus", "no_sale"): "流拍",
    ("AuctionStatus", "cancelled"): "已取消",
    ("DepositStatus", "awaiting"): "待缴纳",
    ("DepositStatus", "received"): "已到账",
    ("DepositStatus", "applied"): "已抵作价款",
    ("DepositStatus", "released"): "已退还",
    ("DepositStatus", "forfeited"): "已没收",
    ("CertificateStatus", "valid"): "有效",
    ("CertificateStatus", "revoked"): "已撤销",
    ("RevocationGround", "party_unqualified"): "交易当事人不具备资格",
    ("RevocationGround", "procedure_broken"): "交易程序违规",
    ("RevocationGround", "documents_false"): "交易文件虚假",
}
