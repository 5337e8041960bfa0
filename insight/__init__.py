"""Demand insight: the turn log, its rollups, dashboard figures, knowledge-gap clusters, trends, reports."""
