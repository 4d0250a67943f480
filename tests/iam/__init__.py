"""Tests of objstore.iam (a package so the shared case tables import relatively)."""
