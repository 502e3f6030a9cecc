"""The operators' console on the metrics listener: `/metrics`, and under `/console/` the backlog,
the minigroups, each minigroup's pipeline timeline, and the dead letters with a replay button.

Server-rendered (Jinja2 templates, plain CSS, SVG pictures built in `svg.py`), no JavaScript.
"""
