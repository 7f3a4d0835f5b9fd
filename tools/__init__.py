"""Maintenance tools of the series: the student edition (`editions`) and its test run."""
