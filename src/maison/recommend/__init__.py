"""Recommendations: collaborative, content and hybrid models, their offline evaluation, and serving."""
