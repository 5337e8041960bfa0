"""Hybrid retrieval over the knowledge base: normalise, BM25 + e5/FAISS, fuse, calibrate, decide."""
