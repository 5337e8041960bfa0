"""channels: WeChat identities, de-duplication and outbox

Revision ID: 0004_channels
Revises: 0003_kb_revisions
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_channels'
down_revision = '0003_kb_revisions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_identities',
                    sa.Column('sender_id', sa.String(length=120), nullable=False),
                    sa.Column('channel', sa.String(length=20), nullable=False),
                    sa.Column('external_id', sa.String(length=64), nullable=False),
                    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('last_inbound_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('offered', sa.JSON(), nullable=False),
                    sa.PrimaryKeyConstraint('sender_id'),
                    sa.UniqueConstraint('channel', 'external_id'))
    op.create_table('channel_seen_messages',
                    sa.Column('key', sa.String(length=160), nullable=False),
                    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    op.create_table('channel_outbox',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('channel', sa.String(length=20), nullable=False),
                    sa.Column('sender_id', sa.String(length=120), nullable=False),
                    sa.Column('question', sa.Text(), nullable=False),
                    sa.Column('text', sa.Text(), nullable=False),
                    sa.Column('status', sa.String(length=10), nullable=False),
                    sa.Column('errcode', sa.Integer(), nullable=False),
                    sa.Column('error', sa.String(length=200), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('channel_outbox') as batch_op:
        batch_op.create_index('ix_channel_outbox_sender_id', ['sender_id'], unique=False)
        batch_op.create_index('ix_channel_outbox_status', ['status'], unique=False)
    op.create_table('channel_access_tokens',
                    sa.Column('appid', sa.String(length=64), nullable=False),
                    sa.Column('token', sa.String(length=600), nullable=False),
                    sa.Column('expires_at', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('appid'))
    op.create_table('miniprogram_sessions',
                    sa.Column('token_sha256', sa.String(length=64), nullable=False),
                    sa.Column('openid', sa.String(length=64), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('expires_at', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('token_sha256'))
    with op.batch_alter_table('miniprogram_sessions') as batch_op:
        batch_op.create_index('ix_miniprogram_sessions_openid', ['openid'], unique=False)
        batch_op.create_index('ix_miniprogram_sessions_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    for table in ('miniprogram_sessions', 'channel_access_tokens', 'channel_outbox', 'channel_seen_messages',
                  'channel_identities'):
        op.drop_table(table)
