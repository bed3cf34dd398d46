"""knowledge base

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 23:10:22.460775
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("review_due", hotline.kernel.runtime.db.Moment(), nullable=True),
        sa.Column("review_reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["categories.code"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_articles_category_code"), ["category_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_articles_review_due"), ["review_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_articles_unit_code"), ["unit_code"], unique=False)

    op.create_table(
        "kb_versions",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("source_document", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=60), nullable=False),
        sa.Column("created_at", hotline.kernel.runtime.db.Moment(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
        ),
        sa.PrimaryKeyConstraint("article_id", "version"),
    )
    # Full-text search over jieba's words: an FTS5 table on SQLite, an expression index on PostgreSQL.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE kb_fts USING fts5(words, content='kb_articles', content_rowid='id')")
    else:
        op.execute(
            "CREATE INDEX ix_kb_articles_words ON kb_articles USING gin (to_tsvector('simple', words))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE kb_fts")
    else:
        op.execute("DROP INDEX ix_kb_articles_words")
    op.drop_table("kb_versions")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_articles_unit_code"))
        batch_op.drop_index(batch_op.f("ix_kb_articles_review_due"))
        batch_op.drop_index(batch_op.f("ix_kb_articles_category_code"))

    op.drop_table("kb_articles")
