"""webhook_signing_secret: deliveries are signed with a secret of each subscription

Subscriptions that already have a webhook get a secret here (generated in Python: PostgreSQL's
random() is not a cryptographic source); their owners read it by rotating it
(POST /api/v1/subscriptions/{id}/webhook-secret). Each one is audited.

Revision ID: 794dc76cefc3
Revises: ae4e3dec91c4
Create Date: 2026-12-01 01:56:52.899746
"""

import base64
import json
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "794dc76cefc3"
down_revision: str | None = "ae4e3dec91c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("webhook_secret", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    with_webhook = connection.execute(sa.text("SELECT id FROM subscriptions WHERE webhook_url IS NOT NULL"))
    for (subscription_id,) in with_webhook.all():
        connection.execute(
            sa.text("UPDATE subscriptions SET webhook_secret = :secret WHERE id = :id"),
            {"secret": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(), "id": subscription_id},
        )
        connection.execute(
            sa.text(
                "INSERT INTO audit_log (object_type, object_id, action, changes) "
                "VALUES ('subscription', :id, 'webhook_secret_rotated', CAST(:changes AS jsonb))"
            ),
            {"id": str(subscription_id), "changes": json.dumps({"reason": "signed deliveries introduced"})},
        )


def downgrade() -> None:
    op.drop_column("subscriptions", "webhook_secret")
