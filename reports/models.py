"""Reporting periods and liaison reports arrive with the reporting issue."""
