"""The evidence report (PDF, Korean or English).

Pure library code: :mod:`stopspread.report.model` holds plain dataclasses that the services
fill from the database; :func:`stopspread.report.pdf.render_report` turns them into PDF bytes.
"""
