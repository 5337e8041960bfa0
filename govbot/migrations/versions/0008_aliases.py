"""knowledge base: the alias / typo dictionary as data (kb_aliases), managed by editors

An instance that loaded the sample knowledge base had the sample's dictionary file in use: it is copied
into the table, so its answers do not change on upgrade. Other instances start with an empty dictionary.

Revision ID: 0008_aliases
Revises: 0007_handoff
"""
from alembic import op
import sqlalchemy as sa

from knowledge_base.sample_data import SAMPLE_LOADER, load_synonyms

revision = '0008_aliases'
down_revision = '0007_handoff'
branch_labels = None
depends_on = None


def upgrade() -> None:
    aliases = op.create_table('kb_aliases',
    sa.Column('term', sa.String(length=80), nullable=False),
    sa.Column('canonical', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('term')
    )
    versions = sa.table('kb_guide_versions', sa.column('published_by', sa.String))
    had_sample = op.get_bind().execute(
        sa.select(versions.c.published_by).where(versions.c.published_by == SAMPLE_LOADER).limit(1)).first()
    if had_sample:
        from core.clock import utcnow

        alias_map, typo_map = load_synonyms()
        now = utcnow()
        op.bulk_insert(aliases, [
            {"term": term, "canonical": canonical, "kind": kind, "created_by": SAMPLE_LOADER, "created_at": now}
            for kind, mapping in (("alias", alias_map), ("typo", typo_map)) for term, canonical in mapping.items()])


def downgrade() -> None:
    op.drop_table('kb_aliases')
