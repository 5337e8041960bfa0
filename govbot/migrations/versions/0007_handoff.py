"""hand-off: tickets with queue, SLA and resolution fields; ticket messages; agents' presence; the
conversation's last activity and citizen session

Existing tickets are kept: `open` becomes `new`, a complaint's own category moves to `topic` and the
category becomes 投诉 / 建议 (hand-offs: 咨询).

Revision ID: 0007_handoff
Revises: 0006_operator_signin
"""
from alembic import op
import sqlalchemy as sa

revision = '0007_handoff'
down_revision = '0006_operator_signin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.add_column(sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('session_sha256', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_conversations_last_active_at', ['last_active_at'], unique=False)

    with op.batch_alter_table('tickets') as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('channel', sa.String(length=20), server_default='web', nullable=False))
        batch_op.add_column(sa.Column('topic', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('priority', sa.String(length=8), server_default='normal', nullable=False))
        batch_op.add_column(sa.Column('skill_group', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('callback', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolution', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('related_codes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('rating', sa.String(length=12), server_default='', nullable=False))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_tickets_assignee', ['assignee'], unique=False)
        batch_op.create_index('ix_tickets_status_due', ['status', 'sla_due_at'], unique=False)

    tickets = sa.table('tickets', sa.column('kind', sa.String), sa.column('status', sa.String),
                       sa.column('category', sa.String), sa.column('topic', sa.String),
                       sa.column('related_codes', sa.JSON), sa.column('reason', sa.String),
                       sa.column('priority', sa.String), sa.column('sender_id', sa.String),
                       sa.column('channel', sa.String))
    conversations = sa.table('conversations', sa.column('sender_id', sa.String), sa.column('channel', sa.String))
    op.execute(tickets.update().values(related_codes=[]))
    op.execute(tickets.update().where(tickets.c.status == 'open').values(status='new'))
    for kind, category in (('complaint', '投诉'), ('suggestion', '建议')):
        op.execute(tickets.update().where(tickets.c.kind == kind)
                   .values(topic=tickets.c.category, category=category, reason=kind))
    op.execute(tickets.update().where(tickets.c.kind == 'complaint').values(priority='high'))
    op.execute(tickets.update().where(tickets.c.kind == 'handoff').values(category='咨询', reason='asked'))
    op.execute(tickets.update().values(channel=sa.func.coalesce(
        sa.select(conversations.c.channel).where(conversations.c.sender_id == tickets.c.sender_id)
        .scalar_subquery(), 'web')))
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.alter_column('related_codes', existing_type=sa.JSON(), nullable=False)

    op.create_table('ticket_messages',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('ticket_id', sa.Integer(), nullable=False),
                    sa.Column('sender_id', sa.String(length=120), nullable=False),
                    sa.Column('author', sa.String(length=10), nullable=False),
                    sa.Column('agent', sa.String(length=80), nullable=False),
                    sa.Column('text', sa.Text(), nullable=False),
                    sa.Column('delivery', sa.String(length=12), nullable=False),
                    sa.Column('error', sa.String(length=200), nullable=False),
                    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('ticket_messages') as batch_op:
        batch_op.create_index('ix_ticket_messages_ticket_id', ['ticket_id'], unique=False)
        batch_op.create_index('ix_ticket_messages_sender_id', ['sender_id'], unique=False)

    op.create_table('handoff_agents',
                    sa.Column('name', sa.String(length=80), nullable=False),
                    sa.Column('skills', sa.JSON(), nullable=False),
                    sa.Column('online', sa.Boolean(), nullable=False),
                    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('name'))


def downgrade() -> None:
    op.drop_table('handoff_agents')
    op.drop_table('ticket_messages')
    tickets = sa.table('tickets', sa.column('status', sa.String), sa.column('category', sa.String),
                       sa.column('topic', sa.String), sa.column('kind', sa.String))
    op.execute(tickets.update().where(tickets.c.status.in_(('new', 'assigned', 'waiting'))).values(status='open'))
    op.execute(tickets.update().where(tickets.c.kind.in_(('complaint', 'suggestion'))).values(category=tickets.c.topic))
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_index('ix_tickets_status_due')
        batch_op.drop_index('ix_tickets_assignee')
        for column in ('closed_at', 'first_response_at', 'claimed_at', 'rating', 'related_codes', 'resolution',
                       'sla_due_at', 'callback', 'skill_group', 'priority', 'topic', 'channel', 'reason'):
            batch_op.drop_column(column)
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.drop_index('ix_conversations_last_active_at')
        batch_op.drop_column('session_sha256')
        batch_op.drop_column('last_active_at')
